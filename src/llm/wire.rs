//! The OpenAI chat-completions JSON, both ways: request bodies borrowed from a [`ChatRequest`]
//! (serialized once, no intermediate `Value`), and lenient response shapes, since every
//! "OpenAI-compatible" server leaves out or nulls something different.

use super::{ChatRequest, ChatResponse, Message, Reasoning, Role, ToolCall, ToolSpec, Usage};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;

#[derive(Serialize)]
pub(crate) struct Body<'a> {
    model: &'a str,
    messages: Vec<OutMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<OutTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<&'a Reasoning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    /// OpenRouter's usage accounting: the answer then carries `usage.cost`. Others ignore it.
    usage: Include,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    /// Standard OpenAI: a last chunk with the usage when streaming.
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
struct Include {
    include: bool,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
struct OutMessage<'a> {
    role: Role,
    /// `null` for an assistant message that only calls tools: some providers reject `""` there.
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<OutToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

#[derive(Serialize)]
struct OutToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: OutFunctionCall<'a>,
}

#[derive(Serialize)]
struct OutFunctionCall<'a> {
    name: &'a str,
    /// OpenAI sends and expects the arguments as a JSON string, not an object.
    arguments: Cow<'a, str>,
}

#[derive(Serialize)]
struct OutTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: OutFunction<'a>,
}

#[derive(Serialize)]
struct OutFunction<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a Value,
}

/// The request body for `model` (already stripped of its route and suffix).
pub(crate) fn body<'a>(
    request: &'a ChatRequest,
    model: &'a str,
    reasoning: Option<&'a Reasoning>,
    stream: bool,
) -> Body<'a> {
    Body {
        model,
        messages: request.messages.iter().map(out_message).collect(),
        tools: request.tools.iter().map(out_tool).collect(),
        reasoning,
        temperature: request.temperature,
        max_tokens: request.max_tokens,
        usage: Include { include: true },
        stream,
        stream_options: stream.then_some(StreamOptions { include_usage: true }),
    }
}

fn out_message(message: &Message) -> OutMessage<'_> {
    let calls_only = message.content.is_empty() && !message.tool_calls.is_empty();
    OutMessage {
        role: message.role,
        content: (!calls_only).then_some(message.content.as_str()),
        tool_calls: message.tool_calls.iter().map(out_tool_call).collect(),
        tool_call_id: message.tool_call_id.as_deref(),
    }
}

fn out_tool_call(call: &ToolCall) -> OutToolCall<'_> {
    let arguments = match &call.arguments {
        // Arguments that were not JSON were kept as text: send them back as they came.
        Value::String(text) => Cow::Borrowed(text.as_str()),
        other => Cow::Owned(other.to_string()),
    };
    OutToolCall { id: &call.id, kind: "function", function: OutFunctionCall { name: &call.name, arguments } }
}

fn out_tool(tool: &ToolSpec) -> OutTool<'_> {
    OutTool {
        kind: "function",
        function: OutFunction { name: &tool.name, description: &tool.description, parameters: &tool.parameters },
    }
}

/// A whole answer, or one streamed chunk (which has `delta` instead of `message`).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Answer {
    pub id: Option<String>,
    pub model: Option<String>,
    pub choices: Vec<Choice>,
    pub usage: Option<WireUsage>,
    /// OpenRouter reports some upstream failures as a 200 with an `error` object.
    pub error: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Choice {
    pub message: Option<InMessage>,
    pub delta: Option<InMessage>,
    pub finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct InMessage {
    /// A string, `null`, or (some providers) a list of `{type: text, text}` parts.
    pub content: Option<Value>,
    pub tool_calls: Option<Vec<InToolCall>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct InToolCall {
    /// Which call a streamed fragment belongs to.
    pub index: Option<usize>,
    pub id: Option<String>,
    pub function: Option<InFunction>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct InFunction {
    pub name: Option<String>,
    /// A JSON string per OpenAI; a few servers send the object itself.
    pub arguments: Option<Value>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
pub(crate) struct WireUsage {
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub cost: Option<f64>,
}

impl From<WireUsage> for Usage {
    fn from(usage: WireUsage) -> Usage {
        Usage {
            tokens_in: usage.prompt_tokens.unwrap_or(0),
            tokens_out: usage.completion_tokens.unwrap_or(0),
            cost: usage.cost,
        }
    }
}

/// The text of a `content` value: a string, nothing for `null`, or the joined text parts.
pub(crate) fn content_text(content: Option<&Value>) -> Cow<'_, str> {
    match content {
        Some(Value::String(text)) => Cow::Borrowed(text),
        Some(Value::Array(parts)) => {
            Cow::Owned(parts.iter().filter_map(|part| part.get("text").and_then(Value::as_str)).collect())
        }
        _ => Cow::Borrowed(""),
    }
}

/// Decoded tool-call arguments: JSON when they parse, `{}` when empty (a call without
/// arguments), else the text as a string so nothing the model said is lost.
pub(crate) fn decode_arguments(arguments: Option<Value>) -> Value {
    match arguments {
        Some(Value::String(text)) if text.trim().is_empty() => Value::Object(Default::default()),
        Some(Value::String(text)) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        Some(Value::Null) | None => Value::Object(Default::default()),
        Some(other) => other,
    }
}

/// A tool call's id; providers that leave it out get one from its position, so the tool
/// result can still point at it.
pub(crate) fn call_id(id: Option<String>, position: usize) -> String {
    id.filter(|id| !id.is_empty()).unwrap_or_else(|| format!("call_{position}"))
}

/// A non-streamed answer as a [`ChatResponse`]; `Err` carries what is wrong with it.
pub(crate) fn response(answer: Answer, requested_model: &str) -> Result<ChatResponse, String> {
    let Some(choice) = answer.choices.into_iter().next() else {
        return Err("the answer has no choices".to_owned());
    };
    let message = choice.message.unwrap_or_default();
    let tool_calls = message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(position, call)| {
            let function = call.function.unwrap_or_default();
            ToolCall {
                id: call_id(call.id, position),
                name: function.name.unwrap_or_default(),
                arguments: decode_arguments(function.arguments),
            }
        })
        .collect();
    Ok(ChatResponse {
        content: content_text(message.content.as_ref()).into_owned(),
        tool_calls,
        model: answer.model.unwrap_or_else(|| requested_model.to_owned()),
        usage: answer.usage.map(Usage::from).unwrap_or_default(),
        finish_reason: choice.finish_reason,
        id: answer.id,
        attempts: 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tool_calls_and_results_go_out_in_openai_shape() {
        let mut assistant = Message::assistant("");
        assistant.tool_calls = vec![
            ToolCall { id: "c1".into(), name: "add".into(), arguments: json!({"a": 1}) },
            ToolCall { id: "c2".into(), name: "echo".into(), arguments: json!("not json") },
        ];
        let mut result = Message::new(Role::Tool, "2");
        result.tool_call_id = Some("c1".into());
        let request = ChatRequest {
            model: "m".into(),
            messages: vec![Message::user("hi"), assistant, result],
            tools: vec![],
            temperature: None,
            max_tokens: None,
        };
        let value = serde_json::to_value(body(&request, "m", None, false)).unwrap();
        assert_eq!(
            value,
            json!({
                "model": "m",
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{\"a\":1}"}},
                        {"id": "c2", "type": "function", "function": {"name": "echo", "arguments": "not json"}},
                    ]},
                    {"role": "tool", "content": "2", "tool_call_id": "c1"},
                ],
                "usage": {"include": true},
            })
        );
    }

    #[test]
    fn arguments_decode_leniently() {
        assert_eq!(decode_arguments(Some(json!("{\"x\": 1}"))), json!({"x": 1}));
        assert_eq!(decode_arguments(Some(json!("oops {"))), json!("oops {"));
        assert_eq!(decode_arguments(Some(json!(""))), json!({}));
        assert_eq!(decode_arguments(Some(json!({"x": 1}))), json!({"x": 1}));
        assert_eq!(decode_arguments(None), json!({}));
    }

    #[test]
    fn content_may_be_null_or_parts() {
        assert_eq!(content_text(Some(&json!(null))), "");
        assert_eq!(content_text(Some(&json!([{"type": "text", "text": "a"}, {"text": "b"}]))), "ab");
        let answer: Answer = serde_json::from_value(json!({"choices": [{"message": {"content": null}}]})).unwrap();
        let response = response(answer, "asked").unwrap();
        assert_eq!((response.content.as_str(), response.model.as_str()), ("", "asked"));
    }
}
