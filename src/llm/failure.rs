//! What a failed attempt means: give up now with a typed [`LlmError`], or try again. Also the
//! one place error details are made fit to show: short, one line, without the API key.

use super::LlmError;
use serde_json::Value;
use std::time::Duration;

/// About as much of a server's error body as helps, without flooding a terminal.
const DETAIL_CHARS: usize = 300;

/// The outcome of one failed attempt.
pub(crate) enum Failure {
    /// Retrying cannot help.
    Fatal(LlmError),
    /// Worth another attempt, after `retry_after` if the server asked for a wait.
    Retry { retry_after: Option<Duration>, cause: Cause },
}

/// Why a retryable attempt failed; becomes the error when attempts run out.
pub(crate) enum Cause {
    Status {
        status: u16,
        detail: String,
    },
    Timeout,
    /// The connection was reset or closed mid-answer.
    Dropped {
        detail: String,
    },
}

/// What a failure is about, for its message.
pub(crate) struct Target<'a> {
    /// The URL as shown: credentials already removed.
    pub url: &'a str,
    /// The model as the endpoint was asked for it.
    pub model: &'a str,
    /// Scrubbed from every detail, in case a server echoes it back.
    pub key: Option<&'a str>,
}

impl Target<'_> {
    /// Make `text` fit for an error message: one line, at most ~300 characters, no key.
    pub fn clean(&self, text: &str) -> String {
        let mut text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(key) = self.key.filter(|key| key.len() >= 4) {
            text = text.replace(key, "***");
        }
        match text.char_indices().nth(DETAIL_CHARS) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text,
        }
    }

    /// The error for an HTTP status that is not a success.
    pub fn status(&self, status: u16, headers: &reqwest::header::HeaderMap, body: &[u8]) -> Failure {
        let detail = self.clean(&body_detail(body));
        match status {
            300..=399 => {
                let location = headers.get("location").and_then(|value| value.to_str().ok()).unwrap_or("elsewhere");
                let detail = format!(
                    "the endpoint redirects to {}; set the base URL to where it points",
                    crate::settings::redact_credentials(location)
                );
                Failure::Fatal(self.server(status, 1, detail))
            }
            _ => self.classify(status, detail, super::retry::retry_after(headers)),
        }
    }

    /// The error for an `error` object sent in place of an answer (OpenRouter does this with a
    /// 200, and inside streams); its `code` is an HTTP status when it has one.
    pub fn error_object(&self, error: &Value) -> Failure {
        let detail = self.clean(&error_detail(error).unwrap_or_else(|| error.to_string()));
        match error.get("code").and_then(Value::as_u64).and_then(|code| u16::try_from(code).ok()) {
            Some(status) if status >= 400 => self.classify(status, detail, None),
            _ => Failure::Fatal(LlmError::BadResponse { url: self.url.to_owned(), detail }),
        }
    }

    fn classify(&self, status: u16, detail: String, retry_after: Option<Duration>) -> Failure {
        match status {
            401 | 403 => Failure::Fatal(LlmError::Rejected { url: self.url.to_owned(), status, detail }),
            404 => Failure::Fatal(self.unknown_model(format!(
                "HTTP 404: {detail}; check the model name, and that the URL is an OpenAI-compatible API (often ending in /v1)"
            ))),
            400 if mentions_unknown_model(&detail) => Failure::Fatal(self.unknown_model(format!("HTTP 400: {detail}"))),
            408 | 429 | 500 | 502 | 503 | 504 | 529 => {
                Failure::Retry { retry_after, cause: Cause::Status { status, detail } }
            }
            _ => Failure::Fatal(self.server(status, 1, detail)),
        }
    }

    /// A transport error: nothing usable came back.
    pub fn transport(&self, err: reqwest::Error) -> Failure {
        // Connect first: a connect timeout means the host is not there, not that it is slow.
        if err.is_connect() || err.is_builder() {
            return Failure::Fatal(LlmError::Unreachable { url: self.url.to_owned(), detail: self.describe(err) });
        }
        if err.is_timeout() {
            return Failure::Retry { retry_after: None, cause: Cause::Timeout };
        }
        Failure::Retry { retry_after: None, cause: Cause::Dropped { detail: self.describe(err) } }
    }

    /// The error once attempts have run out on a retryable cause.
    pub fn exhausted(&self, cause: Cause, attempts: u32, timeout: Duration) -> LlmError {
        match cause {
            Cause::Status { status, detail } => self.server(status, attempts, detail),
            Cause::Timeout => LlmError::Timeout {
                url: self.url.to_owned(),
                // Rounded up, so a sub-second test timeout does not read "within 0s".
                seconds: timeout.as_secs_f64().ceil() as u64,
                attempts,
            },
            Cause::Dropped { detail } => LlmError::Unreachable {
                url: self.url.to_owned(),
                detail: format!("the connection dropped on each of {attempts} attempts: {detail}"),
            },
        }
    }

    fn server(&self, status: u16, attempts: u32, detail: String) -> LlmError {
        LlmError::Server { url: self.url.to_owned(), status, attempts, detail }
    }

    fn unknown_model(&self, detail: String) -> LlmError {
        LlmError::UnknownModel { url: self.url.to_owned(), model: self.model.to_owned(), detail }
    }

    /// A reqwest error and its causes on one line, without the request URL (it may carry
    /// credentials; the error names the URL itself, cleaned).
    fn describe(&self, err: reqwest::Error) -> String {
        let err = err.without_url();
        let mut parts = vec![err.to_string()];
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            let text = cause.to_string();
            if parts.last() != Some(&text) {
                parts.push(text);
            }
            source = cause.source();
        }
        self.clean(&parts.join(": "))
    }
}

/// The readable part of an error body: `error.message` (plus what the upstream provider said,
/// on OpenRouter) when it is JSON, else the text itself.
fn body_detail(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => value
            .get("error")
            .and_then(error_detail)
            .or_else(|| value.get("message").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| value.to_string()),
        Err(_) if body.is_empty() => "(empty body)".to_owned(),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}

fn error_detail(error: &Value) -> Option<String> {
    if let Some(text) = error.as_str() {
        return Some(text.to_owned());
    }
    let message = error.get("message").and_then(Value::as_str)?;
    let metadata = error.get("metadata");
    let raw = metadata.and_then(|m| m.get("raw")).and_then(Value::as_str);
    let provider = metadata.and_then(|m| m.get("provider_name")).and_then(Value::as_str);
    Some(match (raw, provider) {
        (Some(raw), Some(provider)) => format!("{message} ({provider}: {raw})"),
        (Some(raw), None) => format!("{message} ({raw})"),
        _ => message.to_owned(),
    })
}

/// Whether a 400 is about the model name rather than the request: servers disagree on the
/// status for an unknown model, not on saying so.
fn mentions_unknown_model(detail: &str) -> bool {
    let text = detail.to_ascii_lowercase();
    const SIGNS: &[&str] = &[
        "not found",
        "not a valid",
        "no endpoints found",
        "does not exist",
        "unknown model",
        "invalid model",
        "no such model",
    ];
    text.contains("model") && SIGNS.iter().any(|sign| text.contains(sign))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    const TARGET: Target = Target { url: "http://h/v1/chat/completions", model: "m", key: Some("sk-secret-key") };

    fn fatal(failure: Failure) -> LlmError {
        match failure {
            Failure::Fatal(err) => err,
            Failure::Retry { .. } => panic!("expected a fatal failure"),
        }
    }

    #[test]
    fn statuses_map_to_errors() {
        let headers = HeaderMap::new();
        assert!(matches!(fatal(TARGET.status(401, &headers, b"no")), LlmError::Rejected { status: 401, .. }));
        assert!(matches!(fatal(TARGET.status(404, &headers, b"")), LlmError::UnknownModel { .. }));
        let body = br#"{"error":{"message":"openai/gpt-9 is not a valid model ID"}}"#;
        assert!(matches!(fatal(TARGET.status(400, &headers, body)), LlmError::UnknownModel { .. }));
        let body = br#"{"error":{"message":"messages must not be empty"}}"#;
        assert!(matches!(fatal(TARGET.status(400, &headers, body)), LlmError::Server { status: 400, attempts: 1, .. }));
        assert!(matches!(TARGET.status(529, &headers, b""), Failure::Retry { .. }));
        assert!(matches!(fatal(TARGET.status(501, &headers, b"")), LlmError::Server { status: 501, .. }));
    }

    #[test]
    fn details_are_short_one_line_and_keyless() {
        let long = format!("line one\n  sk-secret-key {}", "x".repeat(1000));
        let clean = TARGET.clean(&long);
        assert!(clean.starts_with("line one *** x"), "{clean}");
        assert!(clean.chars().count() <= DETAIL_CHARS + 1);
    }

    #[test]
    fn error_bodies_show_the_message_and_upstream_detail() {
        let body = br#"{"error":{"message":"Provider returned error","code":429,"metadata":{"raw":"slow down","provider_name":"X"}}}"#;
        assert_eq!(body_detail(body), "Provider returned error (X: slow down)");
        assert_eq!(body_detail(b"<html>Bad Gateway</html>"), "<html>Bad Gateway</html>");
        let error = serde_json::json!({"code": 502, "message": "upstream"});
        assert!(matches!(TARGET.error_object(&error), Failure::Retry { .. }));
    }
}
