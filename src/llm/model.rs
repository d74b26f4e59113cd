//! Reading a model string as a cascade writes it: which endpoint it goes to (`ollama/<m>` goes to
//! Ollama), the name the endpoint knows it by, and the reasoning suffix (`::high`, `::16000`,
//! `::high(16000)`, `::exclude`) that becomes the provider's `reasoning` field.

use super::Reasoning;
use std::fmt;

/// Where a model's requests go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The configured OpenAI-compatible endpoint (`WINDLASS_BASE_URL`), with the API key.
    Default,
    /// The local Ollama server (`OLLAMA_HOST`), without a key.
    Ollama,
}

/// A parsed model string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRef<'a> {
    pub route: Route,
    /// What the endpoint is asked for: without the `ollama/` prefix and the `::` suffix.
    pub name: &'a str,
    /// From the `::` suffix; `None` without one, so nothing is sent.
    pub reasoning: Option<Reasoning>,
}

/// Why a model string cannot be used. Displays as the detail of an
/// [`LlmError::UnknownModel`](super::LlmError::UnknownModel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError(String);

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ModelError {}

/// Effort levels OpenRouter accepts; the spec names low, medium and high, the others are passed
/// through because providers keep adding them and rejecting them here would only get in the way.
const EFFORTS: &[&str] = &["none", "minimal", "low", "medium", "high", "xhigh"];

const SUFFIX_HELP: &str =
    "a suffix after `::` is an effort (low, medium, high), a token budget (16000), both (high(16000)) or `exclude`";

/// Parse `model`, `model::high`, `ollama/llama3::16000`, `model::high(16000)::exclude`.
///
/// `::` cannot appear in a provider's model name (OpenRouter variants use a single `:`, as in
/// `:free`), so everything after the first `::` is suffix.
pub fn parse(text: &str) -> Result<ModelRef<'_>, ModelError> {
    let text = text.trim();
    let (base, suffix) = match text.split_once("::") {
        Some((base, suffix)) => (base.trim(), Some(suffix)),
        None => (text, None),
    };
    let (route, name) = match base.strip_prefix("ollama/") {
        Some(name) => (Route::Ollama, name.trim()),
        None => (Route::Default, base),
    };
    if name.is_empty() {
        return Err(ModelError(match route {
            Route::Ollama => "`ollama/` needs a model name after it, as in `ollama/llama3.2`".to_owned(),
            Route::Default => "no model name before the `::` suffix".to_owned(),
        }));
    }
    let reasoning = match suffix {
        Some(suffix) => Some(parse_suffix(suffix)?),
        None => None,
    };
    Ok(ModelRef { route, name, reasoning })
}

/// The part after `::`; several parts may be chained with `::` (`high::exclude`).
fn parse_suffix(suffix: &str) -> Result<Reasoning, ModelError> {
    let mut reasoning = Reasoning::default();
    for part in suffix.split("::").map(str::trim) {
        let part = part.to_ascii_lowercase();
        if part.is_empty() {
            return Err(ModelError(format!("nothing after `::`: {SUFFIX_HELP}")));
        }
        if part == "exclude" {
            reasoning.exclude = true;
            continue;
        }
        let (effort, budget) = match part.split_once('(') {
            Some((effort, rest)) => {
                let Some(budget) = rest.strip_suffix(')') else {
                    return Err(ModelError(format!("reasoning suffix `{part}` is missing its `)`")));
                };
                (Some(effort.trim()), Some(budget.trim()))
            }
            None if part.chars().all(|c| c.is_ascii_digit()) => (None, Some(part.as_str())),
            None => (Some(part.as_str()), None),
        };
        if let Some(effort) = effort {
            if !EFFORTS.contains(&effort) {
                return Err(ModelError(format!("unknown reasoning suffix `{effort}`: {SUFFIX_HELP}")));
            }
            set_once(&mut reasoning.effort, effort.to_owned(), "effort")?;
        }
        if let Some(budget) = budget {
            let tokens = match budget.parse::<u32>() {
                Ok(tokens) if tokens > 0 => tokens,
                _ => return Err(ModelError(format!("reasoning budget `{budget}` is not a positive token count"))),
            };
            set_once(&mut reasoning.max_tokens, tokens, "token budget")?;
        }
    }
    Ok(reasoning)
}

fn set_once<T>(slot: &mut Option<T>, value: T, what: &str) -> Result<(), ModelError> {
    if slot.is_some() {
        return Err(ModelError(format!("the reasoning suffix gives a {what} twice")));
    }
    *slot = Some(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasoning(effort: Option<&str>, max_tokens: Option<u32>, exclude: bool) -> Option<Reasoning> {
        Some(Reasoning { effort: effort.map(str::to_owned), max_tokens, exclude })
    }

    #[test]
    fn a_plain_name_goes_to_the_default_endpoint_unchanged() {
        let model = parse("openai/gpt-4o:free").unwrap();
        assert_eq!(model, ModelRef { route: Route::Default, name: "openai/gpt-4o:free", reasoning: None });
    }

    #[test]
    fn ollama_prefix_routes_to_ollama_without_the_prefix() {
        let model = parse("ollama/llama3.2:3b").unwrap();
        assert_eq!(model.route, Route::Ollama);
        assert_eq!(model.name, "llama3.2:3b");
        assert!(parse("ollama/").unwrap_err().to_string().contains("model name"));
    }

    #[test]
    fn suffixes_become_the_reasoning_field() {
        assert_eq!(parse("m::high").unwrap().reasoning, reasoning(Some("high"), None, false));
        assert_eq!(parse("m::low").unwrap().reasoning, reasoning(Some("low"), None, false));
        assert_eq!(parse("m::medium").unwrap().reasoning, reasoning(Some("medium"), None, false));
        assert_eq!(parse("m::16000").unwrap().reasoning, reasoning(None, Some(16000), false));
        assert_eq!(parse("m::high(16000)").unwrap().reasoning, reasoning(Some("high"), Some(16000), false));
        assert_eq!(parse("m::exclude").unwrap().reasoning, reasoning(None, None, true));
        assert_eq!(parse("m::HIGH::exclude").unwrap().reasoning, reasoning(Some("high"), None, true));
        let model = parse("ollama/qwen3::low").unwrap();
        assert_eq!((model.route, model.name), (Route::Ollama, "qwen3"));
        assert_eq!(model.reasoning, reasoning(Some("low"), None, false));
    }

    #[test]
    fn bad_suffixes_say_what_is_allowed() {
        assert!(parse("m::hgh").unwrap_err().to_string().contains("unknown reasoning suffix `hgh`"));
        assert!(parse("m::high(16000").unwrap_err().to_string().contains(")"));
        assert!(parse("m::0").unwrap_err().to_string().contains("positive"));
        assert!(parse("m::high(lots)").unwrap_err().to_string().contains("lots"));
        assert!(parse("m::high::low").unwrap_err().to_string().contains("twice"));
        assert!(parse("m::").unwrap_err().to_string().contains("nothing after"));
        assert!(parse("::high").is_err());
    }
}
