//! [`LlmClient`]: the [`Provider`] the runner gets. It sends `ollama/<m>` models to Ollama and
//! every other model to the configured endpoint, over one shared connection pool.

use super::http::Http;
use super::limits::Limits;
use super::model::{self, Route};
use super::openai::{ClientOptions, OpenAiClient};
use super::{ChatRequest, ChatResponse, LlmError, Provider, RetryPolicy};
use crate::settings::{HttpUrl, Settings};
use async_trait::async_trait;

/// Routes each request by its model string; see [`model::parse`].
#[derive(Debug, Clone)]
pub struct LlmClient {
    /// `WINDLASS_BASE_URL`, with the API key.
    default: OpenAiClient,
    /// `{OLLAMA_HOST}/v1`, never with the key: it must not leak to a local server.
    ollama: OpenAiClient,
    /// `WINDLASS_LIMITS` for each of the two endpoints, shared with every client of the process.
    default_limits: Limits,
    ollama_limits: Limits,
}

impl LlmClient {
    /// The client for these settings, answering whole (not streamed).
    pub fn from_settings(settings: &Settings, retry: RetryPolicy) -> LlmClient {
        LlmClient::with_options(settings, ClientOptions { retry, streaming: false })
    }

    pub fn with_options(settings: &Settings, options: ClientOptions) -> LlmClient {
        let http = Http::new(&options.retry);
        let ollama_url = ollama_api(&settings.ollama_host);
        LlmClient {
            default_limits: Limits::for_endpoint(settings.base_url.as_str(), &settings.limits),
            ollama_limits: Limits::for_endpoint(ollama_url.as_str(), &settings.limits),
            default: OpenAiClient::with_http(
                http.clone(),
                &settings.base_url,
                settings.api_key.clone(),
                options.clone(),
            ),
            ollama: OpenAiClient::with_http(http, &ollama_url, None, options),
        }
    }

    /// The variable to name (exit 4) when `model` would go to an endpoint that needs a key and
    /// none is set: today, OpenRouter without `OPENROUTER_API_KEY`. Lets the CLI fail before
    /// any work starts instead of at the first LLM call.
    pub fn needs_key(&self, model: &str) -> Option<&'static str> {
        match model::parse(model) {
            Ok(model) if model.route == Route::Ollama => None,
            _ => self.default.missing_key(),
        }
    }

    /// The client `model` is routed to.
    fn route(&self, route: Route) -> &OpenAiClient {
        match route {
            Route::Default => &self.default,
            Route::Ollama => &self.ollama,
        }
    }
}

#[async_trait]
impl Provider for LlmClient {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let model = model::parse(&request.model).map_err(|err| LlmError::UnknownModel {
            url: self.default.url().to_owned(),
            model: request.model.clone(),
            detail: err.to_string(),
        })?;
        let limits = match model.route {
            Route::Default => &self.default_limits,
            Route::Ollama => &self.ollama_limits,
        };
        let admitted = limits.acquire(&request.model, || request.estimated_tokens()).await;
        let answer = self.route(model.route).complete(request, &model).await;
        if let Ok(resp) = &answer {
            admitted.used(resp.usage.tokens_in + resp.usage.tokens_out);
        }
        answer
    }

    async fn embed(&self, model: &str, inputs: &[String]) -> Option<Result<Vec<Vec<f32>>, LlmError>> {
        let parsed = match model::parse(model) {
            Ok(parsed) => parsed,
            Err(err) => {
                let (url, model, detail) = (self.default.url().to_owned(), model.to_owned(), err.to_string());
                return Some(Err(LlmError::UnknownModel { url, model, detail }));
            }
        };
        Some(self.route(parsed.route).embed_with(parsed.name, inputs).await)
    }
}

/// Ollama's OpenAI-compatible API under `OLLAMA_HOST`; a host given with `/v1` already is kept.
fn ollama_api(host: &HttpUrl) -> HttpUrl {
    if host.as_str().ends_with("/v1") {
        return host.clone();
    }
    format!("{}/v1", host.as_str()).parse().unwrap_or_else(|_| host.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Overrides, Sources};
    use std::ffi::OsString;

    fn settings(vars: &[(&str, &str)]) -> Settings {
        let dir = tempfile::tempdir().unwrap();
        let env = |name: &str| vars.iter().find(|(key, _)| *key == name).map(|(_, value)| OsString::from(value));
        let sources = Sources { env: &env, cwd: dir.path(), platform_data_dir: Some(dir.path().join("data")) };
        Settings::resolve(&Overrides::default(), &sources).unwrap()
    }

    #[test]
    fn openrouter_without_a_key_names_the_variable_but_ollama_needs_none() {
        let client = LlmClient::from_settings(&settings(&[]), RetryPolicy::default());
        assert_eq!(client.needs_key("google/gemini-2.5-flash-lite"), Some("OPENROUTER_API_KEY"));
        assert_eq!(client.needs_key("ollama/llama3.2::high"), None);

        let client = LlmClient::from_settings(&settings(&[("OPENROUTER_API_KEY", "sk-x")]), RetryPolicy::default());
        assert_eq!(client.needs_key("google/gemini-2.5-flash-lite"), None);

        let local = settings(&[("WINDLASS_BASE_URL", "http://localhost:8000/v1")]);
        assert_eq!(LlmClient::from_settings(&local, RetryPolicy::default()).needs_key("m"), None);
    }

    #[test]
    fn ollama_requests_go_to_its_v1_api_without_the_key() {
        let client = LlmClient::from_settings(
            &settings(&[("OLLAMA_HOST", "gpu-box"), ("OPENROUTER_API_KEY", "sk-x")]),
            RetryPolicy::default(),
        );
        assert_eq!(client.ollama.url(), "http://gpu-box:11434/v1/chat/completions");
        assert!(format!("{:?}", client.ollama).contains("key: None"));
        let host: HttpUrl = "http://h:1/v1".parse().unwrap();
        assert_eq!(ollama_api(&host).as_str(), "http://h:1/v1");
    }
}
