//! The validators windlass provides by name.
//!
//! Parameters come from the inline form's `inputs` (`{tool: length_check, inputs: {...}}`),
//! else the session state, else the cascade input, else the defaults below.
//!
//! | name | passes when | parameters (default) |
//! |---|---|---|
//! | `simple_validator` | the trimmed output has at least `min_length` characters | `min_length` (1) |
//! | `keyword_validator` | the output contains every keyword (case-insensitive) | `keywords`: list or comma-separated (none: passes and says so) |
//! | `length_check` | `min_length` <= characters <= `max_length` | `min_length` (1), `max_length` (unbounded) |
//! | `grammar_check` | an LLM judge finds no spelling or grammar errors | `model` (the phase's) |
//! | `content_safety` | an LLM judge finds the content safe and appropriate | `model` |
//! | `satisfied` | an LLM judge finds the task fully done | `model` |
//! | `code_execution_validator` | every fenced code block runs and exits 0 (needs `--allow-shell`) | – |

use super::scripts::{self, Language};
use crate::llm::Message;
use crate::runner::llm_call::{self, Caller};
use crate::runner::phase_env::PhaseEnv;
use crate::runner::state::RunState;
use crate::runner::validation::validators::{from_text, Verdict};
use serde_json::{Map, Value};

pub async fn run(
    env: &PhaseEnv<'_>,
    name: &str,
    params: &Map<String, Value>,
    content: &str,
    state: &mut RunState,
    phase: &str,
) -> Verdict {
    let param = |key: &str| params.get(key).or_else(|| state.state.get(key)).or_else(|| state.input.get(key)).cloned();
    match name {
        "simple_validator" => {
            let min = number(param("min_length")).unwrap_or(1);
            let len = content.trim().chars().count();
            if len >= min {
                Verdict::pass(format!("the output has {len} characters"))
            } else if len == 0 {
                Verdict::fail("the output is empty")
            } else {
                Verdict::fail(format!("the output has {len} characters; at least {min} are required"))
            }
        }
        "keyword_validator" => {
            let keywords = keywords(param("keywords").or_else(|| param("required_keywords")));
            if keywords.is_empty() {
                return Verdict::pass("no keywords configured (set `keywords` in the input or state)");
            }
            let lower = content.to_lowercase();
            let missing: Vec<&String> = keywords.iter().filter(|k| !lower.contains(&k.to_lowercase())).collect();
            if missing.is_empty() {
                Verdict::pass("every keyword is present")
            } else {
                let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                Verdict::fail(format!("missing keywords: {}", list.join(", ")))
            }
        }
        "length_check" => {
            let len = content.trim().chars().count();
            let min = number(param("min_length")).unwrap_or(1);
            let max = number(param("max_length"));
            if len < min {
                Verdict::fail(format!("the output has {len} characters, fewer than the minimum of {min}"))
            } else if max.is_some_and(|m| len > m) {
                Verdict::fail(format!("the output has {len} characters, more than the maximum of {}", max.unwrap_or(0)))
            } else {
                Verdict::pass(format!("the output has {len} characters, within bounds"))
            }
        }
        "grammar_check" => judge(env, state, phase, param("model"), GRAMMAR, content).await,
        "content_safety" => judge(env, state, phase, param("model"), SAFETY, content).await,
        "satisfied" => judge(env, state, phase, param("model"), SATISFIED, content).await,
        "code_execution_validator" => code_execution(env, content, phase).await,
        other => Verdict::fail(format!("`{other}` is not a built-in validator")),
    }
}

const GRAMMAR: &str = "You check spelling and grammar. Judge the text below. Minor stylistic choices are fine; real spelling or grammar errors are not.";
const SAFETY: &str = "You check content safety. Judge whether the text below is safe and appropriate for a general audience: no hate, harassment, violence, sexual content, self-harm or dangerous instructions.";
const SATISFIED: &str = "You check whether a task is fully done. Judge whether the text below completely and convincingly fulfils the task it answers, without placeholders, apologies or unfinished parts.";

async fn judge(
    env: &PhaseEnv<'_>,
    state: &mut RunState,
    phase: &str,
    model: Option<Value>,
    rubric: &str,
    content: &str,
) -> Verdict {
    let model = model
        .and_then(|m| m.as_str().map(str::to_string))
        .or_else(|| env.def.cascade.phase(phase).and_then(|p| p.model.clone()))
        .unwrap_or_else(|| env.runner.opts.default_model.clone());
    let messages = [
        Message::system(format!(
            "{rubric}\nReply with JSON only: {{\"valid\": true or false, \"reason\": \"one sentence\"}}."
        )),
        Message::user(format!("Text to judge:\n\n{content}")),
    ];
    let caller = Caller { phase, sounding_index: None, fallbacks: &[] };
    match llm_call::call(env.runner, env.emitter, state, caller, &model, &messages, &[]).await {
        Ok(resp) => from_text(&resp.content),
        Err(e) => Verdict::fail(format!("the judge could not answer: {e}")),
    }
}

async fn code_execution(env: &PhaseEnv<'_>, content: &str, phase: &str) -> Verdict {
    let blocks = code_blocks(content);
    if blocks.is_empty() {
        return Verdict::fail("no fenced code block found in the output");
    }
    for (lang, code) in &blocks {
        let outcome = scripts::run(env, *lang, code, "", phase).await;
        match outcome {
            Ok(out) if out.status == Some(0) => continue,
            Ok(out) => {
                return Verdict::fail(format!(
                    "the {} code exited with {}: {}",
                    lang.name(),
                    out.status.map(|s| s.to_string()).unwrap_or_else(|| "a signal".into()),
                    tail(&out.output)
                ))
            }
            Err(e) => return Verdict::fail(e),
        }
    }
    Verdict::pass(format!("{} code block(s) ran successfully", blocks.len()))
}

/// Fenced code blocks in a language windlass can run.
fn code_blocks(text: &str) -> Vec<(Language, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let Some(nl) = after.find('\n') else { break };
        let lang = after[..nl].trim().to_lowercase();
        let body = &after[nl + 1..];
        let Some(end) = body.find("```") else { break };
        let language = match lang.as_str() {
            "python" | "py" | "python3" => Some(Language::Python),
            "bash" | "sh" | "shell" => Some(Language::Bash),
            "javascript" | "js" | "node" => Some(Language::JavaScript),
            _ => None,
        };
        if let Some(l) = language {
            out.push((l, body[..end].to_string()));
        }
        rest = &body[end + 3..];
    }
    out
}

fn tail(s: &str) -> String {
    let t = s.trim();
    let start = t.char_indices().rev().nth(300).map(|(i, _)| i).unwrap_or(0);
    t[start..].to_string()
}

fn number(v: Option<Value>) -> Option<usize> {
    match v? {
        Value::Number(n) => n.as_u64().map(|n| n as usize),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn keywords(v: Option<Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
        Some(Value::String(s)) => s.split(',').map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_code_blocks() {
        let b = code_blocks("x\n```python\nprint(1)\n```\ny\n```text\nno\n```\n```sh\necho hi\n```");
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].0, Language::Python);
        assert_eq!(b[1].1, "echo hi\n");
    }

    #[test]
    fn keyword_lists() {
        assert_eq!(keywords(Some(Value::String("a, b".into()))), ["a", "b"]);
        assert_eq!(number(Some(Value::String("12".into()))), Some(12));
    }
}
