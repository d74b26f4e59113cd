//! Embeddings (`POST {base}/embeddings`, OpenAI-compatible): one vector per input text, for
//! `context` selection `strategy: semantic`. One attempt, no retries: the caller falls back to
//! another strategy when it fails.

use super::failure::{Failure, Target};
use super::openai::OpenAiClient;
use super::LlmError;
use crate::settings::redact_credentials;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::Deserialize;

#[derive(Deserialize)]
struct Answer {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    index: Option<usize>,
    embedding: Vec<f32>,
}

impl OpenAiClient {
    /// The embeddings of `inputs` with `model` (the model name as the endpoint knows it), in
    /// input order.
    pub(crate) async fn embed_with(&self, model: &str, inputs: &[String]) -> Result<Vec<Vec<f32>>, LlmError> {
        let real_url = format!("{}/embeddings", self.chat_url.trim_end_matches("/chat/completions"));
        let url = redact_credentials(&real_url);
        if let Some(variable) = self.missing_key() {
            return Err(LlmError::MissingKey { url, variable });
        }
        let Some(client) = self.http.client.as_ref() else {
            let detail = self.http.tls_problem.clone().unwrap_or_else(|| "no HTTP client could be built".to_owned());
            return Err(LlmError::Unreachable { url, detail });
        };
        let target = Target { url: &url, model, key: self.key.as_ref().map(|k| k.expose()) };
        let fatal = |failure: Failure| match failure {
            Failure::Fatal(err) => err,
            Failure::Retry { cause, .. } => target.exhausted(cause, 1, self.options.retry.timeout),
        };
        let body = serde_json::json!({ "model": model, "input": inputs });
        let mut request = client
            .post(&real_url)
            .header(CONTENT_TYPE, "application/json")
            .timeout(self.options.retry.timeout)
            .body(body.to_string());
        match &self.authorization {
            Some(Ok(value)) => request = request.header(AUTHORIZATION, value.clone()),
            Some(Err(())) => return Err(LlmError::InvalidKey { url: url.clone() }),
            None => {}
        }
        let response = request.send().await.map_err(|err| fatal(target.transport(err)))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|err| fatal(target.transport(err)))?;
        if !status.is_success() {
            return Err(fatal(target.status(status.as_u16(), &headers, &bytes)));
        }
        let bad = |detail: String| LlmError::BadResponse { url: url.clone(), detail: target.clean(&detail) };
        let answer: Answer = serde_json::from_slice(&bytes)
            .map_err(|err| bad(format!("the answer is not an embeddings list ({err})")))?;
        let mut items = answer.data;
        if items.len() != inputs.len() {
            return Err(bad(format!("{} embeddings for {} inputs", items.len(), inputs.len())));
        }
        items.sort_by_key(|item| item.index.unwrap_or(usize::MAX));
        Ok(items.into_iter().map(|item| item.embedding).collect())
    }
}
