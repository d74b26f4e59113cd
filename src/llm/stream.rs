//! Reading a streamed answer (`stream: true`): server-sent events whose `data:` lines are
//! chunks with deltas. [`Accumulator`] takes bytes as they arrive, in pieces of any size, and
//! builds the same [`ChatResponse`] a whole answer would give.

use super::wire::{call_id, content_text, decode_arguments, Answer, WireUsage};
use super::{ChatResponse, ToolCall, Usage};
use serde_json::Value;

/// Why a stream did not give an answer.
#[derive(Debug)]
pub(crate) enum StreamError {
    /// The provider sent an `error` object in the stream.
    Provider(Value),
    /// A `data:` line that is not a chunk.
    BadChunk(String),
    /// The connection ended before `[DONE]` or a finish reason: worth another attempt.
    Truncated,
}

#[derive(Default)]
pub(crate) struct Accumulator {
    /// Bytes after the last line break, waiting for the rest of their line.
    pending: Vec<u8>,
    /// `data:` lines of the event being read (an event ends at a blank line).
    data: String,
    content: String,
    calls: Vec<PartialCall>,
    id: Option<String>,
    model: Option<String>,
    finish_reason: Option<String>,
    usage: Option<WireUsage>,
    done: bool,
}

#[derive(Default)]
struct PartialCall {
    id: Option<String>,
    name: String,
    arguments: String,
    /// Some servers send the arguments as an object in one piece.
    object: Option<Value>,
}

impl Accumulator {
    /// Take the next bytes of the body.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), StreamError> {
        self.pending.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(end) = self.pending[start..].iter().position(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(&self.pending[start..start + end]).into_owned();
            start += end + 1;
            self.line(line.strip_suffix('\r').unwrap_or(&line))?;
        }
        self.pending.drain(..start);
        Ok(())
    }

    fn line(&mut self, line: &str) -> Result<(), StreamError> {
        if line.is_empty() {
            return self.dispatch();
        }
        // Other fields (`event:`, `id:`) and comments (`: OPENROUTER PROCESSING`) carry nothing.
        if let Some(data) = line.strip_prefix("data:") {
            if !self.data.is_empty() {
                self.data.push('\n');
            }
            self.data.push_str(data.strip_prefix(' ').unwrap_or(data));
        }
        Ok(())
    }

    fn dispatch(&mut self) -> Result<(), StreamError> {
        let data = std::mem::take(&mut self.data);
        let data = data.trim();
        if data.is_empty() || self.done {
            return Ok(());
        }
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let chunk: Answer = serde_json::from_str(data).map_err(|err| StreamError::BadChunk(format!("{err}")))?;
        if let Some(error) = chunk.error {
            return Err(StreamError::Provider(error));
        }
        self.id = self.id.take().or(chunk.id);
        self.model = self.model.take().or(chunk.model);
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        for choice in chunk.choices.into_iter().take(1) {
            if choice.finish_reason.is_some() {
                self.finish_reason = choice.finish_reason;
            }
            let Some(delta) = choice.delta.or(choice.message) else { continue };
            self.content.push_str(&content_text(delta.content.as_ref()));
            for (position, fragment) in delta.tool_calls.unwrap_or_default().into_iter().enumerate() {
                let index = fragment.index.unwrap_or(position);
                if self.calls.len() <= index {
                    self.calls.resize_with(index + 1, PartialCall::default);
                }
                let call = &mut self.calls[index];
                if fragment.id.is_some() {
                    call.id = fragment.id;
                }
                let function = fragment.function.unwrap_or_default();
                // Names usually come whole in the first fragment; some servers repeat them.
                if let Some(name) = function.name.filter(|name| *name != call.name) {
                    call.name.push_str(&name);
                }
                match function.arguments {
                    Some(Value::String(piece)) => call.arguments.push_str(&piece),
                    Some(Value::Null) | None => {}
                    Some(object) => call.object = Some(object),
                }
            }
        }
        Ok(())
    }

    /// The answer, once the body has ended.
    pub fn finish(mut self, requested_model: &str) -> Result<ChatResponse, StreamError> {
        self.line("")?;
        if !self.done && self.finish_reason.is_none() {
            return Err(StreamError::Truncated);
        }
        let tool_calls = self
            .calls
            .into_iter()
            .enumerate()
            .map(|(position, call)| ToolCall {
                id: call_id(call.id, position),
                name: call.name,
                arguments: call.object.unwrap_or_else(|| decode_arguments(Some(Value::String(call.arguments)))),
            })
            .collect();
        Ok(ChatResponse {
            content: self.content,
            tool_calls,
            model: self.model.unwrap_or_else(|| requested_model.to_owned()),
            usage: self.usage.map(Usage::from).unwrap_or_default(),
            finish_reason: self.finish_reason,
            id: self.id,
            attempts: 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const STREAM: &str = concat!(
        ": OPENROUTER PROCESSING\n\n",
        "data: {\"id\":\"gen-1\",\"model\":\"m-1\",\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"lo\",\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"function\":{\"name\":\"add\",\"arguments\":\"{\\\"a\\\":\"}}]}}]}\r\n\r\n",
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"1}\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7,\"cost\":0.25}}\n\n",
        "data: [DONE]\n\n",
    );

    #[test]
    fn builds_the_answer_from_pieces_of_any_size() {
        for size in [1, 2, 7, 64, STREAM.len()] {
            let mut acc = Accumulator::default();
            for piece in STREAM.as_bytes().chunks(size) {
                acc.feed(piece).unwrap();
            }
            assert!(acc.done);
            let answer = acc.finish("asked").unwrap();
            assert_eq!(answer.content, "Hello");
            assert_eq!(answer.model, "m-1");
            assert_eq!(answer.id.as_deref(), Some("gen-1"));
            assert_eq!(answer.finish_reason.as_deref(), Some("tool_calls"));
            assert_eq!(answer.usage, Usage { tokens_in: 5, tokens_out: 7, cost: Some(0.25) });
            assert_eq!(
                answer.tool_calls,
                vec![ToolCall { id: "c1".into(), name: "add".into(), arguments: json!({"a": 1}) }]
            );
        }
    }

    #[test]
    fn a_cut_stream_and_an_error_chunk_are_errors() {
        let mut acc = Accumulator::default();
        acc.feed(b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n").unwrap();
        assert!(matches!(acc.finish("m"), Err(StreamError::Truncated)));

        let mut acc = Accumulator::default();
        let err = acc.feed(b"data: {\"error\":{\"code\":502,\"message\":\"upstream\"}}\n\n").unwrap_err();
        assert!(matches!(err, StreamError::Provider(error) if error["code"] == 502));
    }
}
