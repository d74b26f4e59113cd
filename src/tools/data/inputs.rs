//! What a data phase's code sees as `data`: every earlier phase, a table read back from the
//! session database when the phase kept one, else its output's value.

use crate::tools::sql;
use crate::tools::{ToolContext, ToolError};
use serde_json::{Map, Value};

/// `data` for the code: phase name → rows (a table), the `result` of a data phase that
/// returned a non-table value, or the output as it is (an LLM phase's text). `kebab` names the
/// phases in kebab case (Clojure keywords: `raw_customers` → `raw-customers`).
pub async fn prior_data(ctx: &ToolContext, kebab: bool) -> Result<Map<String, Value>, ToolError> {
    let names: Vec<String> = ctx.outputs.keys().filter(|n| **n != ctx.phase).cloned().collect();
    let db = ctx.session_db.clone();
    let wanted: Vec<String> = names.iter().map(|n| format!("_{n}")).collect();
    let tables = tokio::task::spawn_blocking(move || sql::existing_tables(&db, &wanted))
        .await
        .map_err(|e| ToolError::Failed(format!("the database task stopped: {e}")))??;
    let mut out = Map::new();
    for name in names {
        let output = &ctx.outputs[&name];
        let value = match output {
            // A data phase that returned a dict, list or scalar: the value itself.
            Value::Object(m) if m.contains_key("result") && m.contains_key("type") => m["result"].clone(),
            _ => match tables.get(&format!("_{name}")) {
                Some(rows) => Value::Array(rows.clone()),
                None => match output.get("rows") {
                    Some(rows @ Value::Array(_)) => rows.clone(),
                    _ => output.clone(),
                },
            },
        };
        let key = if kebab { name.replace('_', "-") } else { name };
        out.insert(key, value);
    }
    Ok(out)
}
