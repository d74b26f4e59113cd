//! Reading recorded chat requests in assertions.

use serde_json::Value;

/// The content of the last user message of a chat request.
pub fn last_user(body: &Value) -> String {
    body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|x| x["role"] == "user"))
        .and_then(|x| x["content"].as_str())
        .unwrap_or("")
        .to_string()
}

/// The content of every message of a chat request, joined.
pub fn all_text(body: &Value) -> String {
    body["messages"]
        .as_array()
        .map(|m| m.iter().filter_map(|x| x["content"].as_str()).collect::<Vec<_>>().join("\n---\n"))
        .unwrap_or_default()
}

/// Every message of a chat request as `(role, content)`, in order.
pub fn messages(body: &Value) -> Vec<(String, String)> {
    body["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|x| {
                    (x["role"].as_str().unwrap_or("").to_string(), x["content"].as_str().unwrap_or("").to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}
