//! Asking a human: the `ask_human` tool and the `human_input` phase key. With a
//! [`Console`] (the CLI on a terminal) the question is asked there, and `windlass signal` can
//! answer it from anywhere; without one the session blocks (status `blocked`) until
//! `windlass signal` answers.

use crate::cascade::model::{HumanInput, HumanInputKind, HumanInputSpec, OnTimeout};
use crate::runner::console::Console;
use crate::runner::emitter::Emitter;
use crate::runner::error::RunError;
use crate::runner::event::RunEvent;
use crate::session::mailbox::{waiting_for_human, Mailbox};
use crate::tools::{Effect, Tool, ToolContext, ToolError, ToolOutput};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// Ask a human; `None` on timeout. Errors when nobody can answer.
async fn ask(
    mailbox: Option<&Arc<Mailbox>>,
    console: Option<&Arc<dyn Console>>,
    emitter: &Emitter,
    phase: &str,
    prompt: &str,
    timeout: Option<Duration>,
) -> Result<Option<String>, String> {
    let waiting = waiting_for_human(prompt);
    let answer = match (console, mailbox) {
        (Some(c), Some(mb)) => tokio::select! {
            a = c.ask(prompt, timeout) => return a,
            s = mb.wait_message(&waiting, timeout) => s,
        },
        (Some(c), None) => return c.ask(prompt, timeout).await,
        (None, Some(mb)) => mb.wait_message(&waiting, timeout).await,
        (None, None) => {
            return Err("the cascade asks a human, but stdin/stderr is not a terminal and the session has no store to receive `windlass signal` answers; run it in a terminal".into())
        }
    };
    Ok(answer.map(|s| {
        emitter.emit(RunEvent::SignalReceived {
            phase: Some(phase.to_string()),
            name: None,
            payload: json!({"signal_id": s.id, "kind": "message", "as": "answer", "message": s.text()}),
        });
        s.text()
    }))
}

/// The `ask_human(question, context, ui_hint, options)` tool, with the original's parameters.
/// The context is shown with the question, options are listed by number, and `ui_hint`
/// (`confirmation`, `choice`, `multi_choice`, `rating`, `text`) shapes the prompt and how the
/// answer is read. As in the original, the answer is also stored as `state.<phase>`.
pub struct AskHuman {
    pub emitter: Emitter,
    pub mailbox: Option<Arc<Mailbox>>,
    pub console: Option<Arc<dyn Console>>,
}

/// The kinds of question `ui_hint` names.
const UI_HINTS: &[&str] = &["confirmation", "choice", "multi_choice", "rating", "text"];

/// One `ask_human` call's arguments.
struct Question {
    question: String,
    context: Option<String>,
    ui_hint: Option<String>,
    /// (value returned when picked, label shown)
    options: Vec<(String, String)>,
}

impl Question {
    fn from_args(args: &Value) -> Result<Question, ToolError> {
        let text = |key: &str| args.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
        let question = match args {
            Value::String(s) => Some(s.trim()),
            _ => text("question").or_else(|| text("prompt")),
        }
        .ok_or_else(|| ToolError::InvalidArguments("ask_human needs a `question`".into()))?
        .to_string();
        let context = match args.get("context") {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Some(Value::Null | Value::String(_)) | None => None,
            // Structured context (a phase output) is shown as JSON.
            Some(other) => Some(serde_json::to_string_pretty(other).unwrap_or_default()),
        };
        let ui_hint = text("ui_hint").map(|h| h.to_ascii_lowercase().replace(['-', ' '], "_"));
        let options = match args.get("options") {
            Some(Value::Array(items)) => items.iter().filter_map(option).collect(),
            // A comma-separated list, as models sometimes send it.
            Some(Value::String(s)) => {
                s.split(',').map(str::trim).filter(|o| !o.is_empty()).map(|o| (o.to_string(), o.to_string())).collect()
            }
            _ => Vec::new(),
        };
        Ok(Question { question, context, ui_hint, options })
    }

    /// The prompt a person sees: the question, the context, the options, how to answer.
    fn prompt(&self) -> String {
        let mut prompt = self.question.clone();
        if let Some(context) = &self.context {
            prompt.push_str(&format!("\n\nContext:\n{context}"));
        }
        if !self.options.is_empty() {
            prompt.push_str("\n\nOptions:");
            for (i, (_, label)) in self.options.iter().enumerate() {
                prompt.push_str(&format!("\n  {}. {label}", i + 1));
            }
        }
        let how = match (self.ui_hint.as_deref(), self.options.is_empty()) {
            (Some("confirmation"), _) => Some("Answer yes or no."),
            (Some("rating"), _) => Some("Answer with a rating from 1 to 5."),
            (Some("multi_choice"), false) => Some("Answer with one or more numbers, separated by commas."),
            (_, false) => Some("Answer with a number or in your own words."),
            _ => None,
        };
        if let Some(how) = how {
            prompt.push_str(&format!("\n\n{how}"));
        }
        prompt
    }

    /// The answer as the original returns it: `yes`/`no` for a confirmation, the option's
    /// value for a choice picked by number (comma-separated for several), else the text.
    fn interpret(&self, answer: &str) -> String {
        let answer = answer.trim();
        let pick = |a: &str| -> String {
            match a.trim().parse::<usize>() {
                Ok(n) if n >= 1 && n <= self.options.len() => self.options[n - 1].0.clone(),
                _ => a.trim().to_string(),
            }
        };
        match self.ui_hint.as_deref() {
            Some("confirmation") => match crate::cascade::lax::parse_bool(answer) {
                Some(true) => "yes".into(),
                Some(false) => "no".into(),
                None => answer.to_string(),
            },
            Some("multi_choice") if !self.options.is_empty() => {
                answer.split(',').map(pick).filter(|a| !a.is_empty()).collect::<Vec<_>>().join(",")
            }
            Some("rating" | "text") => answer.to_string(),
            _ if !self.options.is_empty() => pick(answer),
            _ => answer.to_string(),
        }
    }
}

/// An option: a string, or an object with `id`/`value` and `label`/`title`.
fn option(item: &Value) -> Option<(String, String)> {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    };
    match item {
        Value::Object(map) => {
            let value = ["id", "value", "label", "title"].iter().find_map(|k| map.get(*k).and_then(text))?;
            let label = ["label", "title", "id", "value"].iter().find_map(|k| map.get(*k).and_then(text))?;
            let label = match map.get("description").and_then(Value::as_str) {
                Some(d) if !d.is_empty() => format!("{label}: {d}"),
                _ => label,
            };
            Some((value, label))
        }
        other => text(other).map(|t| (t.clone(), t)),
    }
}

#[async_trait]
impl Tool for AskHuman {
    fn name(&self) -> &str {
        "ask_human"
    }
    fn description(&self) -> &str {
        "Pause and ask the human user a question (a clarification, an approval, more data); returns their answer. \
         ask_human(question, context, ui_hint, options)"
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "question": {"type": "string", "description": "The question to ask the human"},
                "context": {"type": "string", "description": "Optional context to show with the question (e.g. an output to review)"},
                "ui_hint": {
                    "type": "string",
                    "enum": UI_HINTS,
                    "description": "Optional kind of answer: confirmation (yes/no), choice, multi_choice, rating (1-5) or text"
                },
                "options": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Optional choices to offer; the human may answer with an option's number"
                }
            },
            "required": ["question"]
        })
    }
    async fn call(&self, args: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let question = Question::from_args(&args)?;
        let prompt = question.prompt();
        self.emitter.emit(RunEvent::HumanInputRequested { phase: ctx.phase.clone(), prompt: prompt.clone() });
        match ask(self.mailbox.as_ref(), self.console.as_ref(), &self.emitter, &ctx.phase, &prompt, None).await {
            Ok(Some(answer)) => {
                let answer = question.interpret(&answer);
                let effect = Effect::SetState { key: ctx.phase.clone(), value: Value::String(answer.clone()) };
                Ok(ToolOutput::text(answer).with_effect(effect))
            }
            Ok(None) => Err(ToolError::Failed("no answer".into())),
            Err(e) => Err(ToolError::Failed(e)),
        }
    }
}

/// `human_input` after a phase: returns the answer to store, or an error.
pub async fn after_phase(
    mailbox: Option<&Arc<Mailbox>>,
    console: Option<&Arc<dyn Console>>,
    emitter: &Emitter,
    phase: &str,
    spec: &HumanInput,
    output: &str,
) -> Result<Value, RunError> {
    let default_spec = HumanInputSpec {
        kind: HumanInputKind::Confirmation,
        prompt: None,
        options: Vec::new(),
        timeout_seconds: None,
        on_timeout: OnTimeout::Abort,
        default_value: None,
    };
    let spec = match spec {
        HumanInput::Enabled(_) => &default_spec,
        HumanInput::Spec(s) => s,
    };
    let mut prompt = format!("Phase `{phase}` produced:\n\n{output}\n\n");
    prompt.push_str(spec.prompt.as_deref().unwrap_or(match spec.kind {
        HumanInputKind::Confirmation => "Continue? [y/n]",
        HumanInputKind::Choice => "Choose one option:",
        HumanInputKind::MultiChoice => "Choose one or more options (comma-separated):",
        HumanInputKind::Rating => "Rate it from 1 to 5:",
        HumanInputKind::Text => "Your answer:",
    }));
    for (i, o) in spec.options.iter().enumerate() {
        let label = o.get("label").or_else(|| o.get("id")).cloned().unwrap_or_else(|| o.clone());
        prompt.push_str(&format!(
            "\n  {}. {}",
            i + 1,
            label.as_str().map(str::to_string).unwrap_or_else(|| label.to_string())
        ));
    }
    emitter.emit(RunEvent::HumanInputRequested { phase: phase.to_string(), prompt: prompt.clone() });
    let timeout = spec.timeout_seconds.map(|s| Duration::from_secs(u64::from(s)));
    let answer =
        ask(mailbox, console, emitter, phase, &prompt, timeout).await.map_err(|e| RunError::phase(phase, e))?;
    let Some(answer) = answer else {
        return match spec.on_timeout {
            OnTimeout::Abort => Err(RunError::phase(phase, "no human answer before the timeout (on_timeout: abort)")),
            OnTimeout::Continue => Ok(Value::Null),
            OnTimeout::Default => Ok(spec.default_value.clone().unwrap_or(Value::Null)),
        };
    };
    interpret(phase, spec, &answer)
}

fn interpret(phase: &str, spec: &HumanInputSpec, answer: &str) -> Result<Value, RunError> {
    let pick = |a: &str| -> Value {
        match a.trim().parse::<usize>() {
            Ok(n) if n >= 1 && n <= spec.options.len() => {
                let o = &spec.options[n - 1];
                o.get("id").cloned().unwrap_or_else(|| o.clone())
            }
            _ => Value::String(a.trim().to_string()),
        }
    };
    Ok(match spec.kind {
        HumanInputKind::Confirmation => match crate::cascade::lax::parse_bool(answer) {
            Some(true) => Value::Bool(true),
            Some(false) => return Err(RunError::phase(phase, "the human did not confirm")),
            None => Value::String(answer.to_string()),
        },
        HumanInputKind::Choice => pick(answer),
        HumanInputKind::MultiChoice => Value::Array(answer.split(',').map(pick).collect()),
        HumanInputKind::Rating => answer.trim().parse::<f64>().map(Value::from).unwrap_or(Value::String(answer.into())),
        HumanInputKind::Text => Value::String(answer.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A console that answers every question with one line and remembers the prompts.
    struct Scripted {
        answer: &'static str,
        asked: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl Console for Scripted {
        async fn ask(&self, prompt: &str, _timeout: Option<Duration>) -> Result<Option<String>, String> {
            self.asked.lock().unwrap().push(prompt.to_string());
            Ok(Some(self.answer.to_string()))
        }
    }

    #[tokio::test]
    async fn a_question_goes_to_the_console_the_engine_is_handed() {
        let scripted = Arc::new(Scripted { answer: "yes", asked: Mutex::new(Vec::new()) });
        let console: Arc<dyn Console> = scripted.clone();
        let emitter = Emitter::new("s-test", 0, Vec::new());
        let answer = after_phase(None, Some(&console), &emitter, "draft", &HumanInput::Enabled(true), "the draft")
            .await
            .unwrap();
        assert_eq!(answer, Value::Bool(true));
        let asked = scripted.asked.lock().unwrap();
        assert_eq!(asked.len(), 1);
        assert!(asked[0].contains("the draft") && asked[0].contains("Continue? [y/n]"), "{asked:?}");
    }

    #[test]
    fn ask_human_shows_context_and_options_and_reads_the_answer() {
        let q = Question::from_args(&json!({
            "question": "Which format?",
            "context": "The report is 40 pages.",
            "options": ["PDF", {"id": "docx", "label": "Word"}],
            "ui_hint": "choice"
        }))
        .unwrap();
        assert_eq!(
            q.prompt(),
            "Which format?\n\nContext:\nThe report is 40 pages.\n\nOptions:\n  1. PDF\n  2. Word\n\nAnswer with a number or in your own words."
        );
        assert_eq!(q.interpret(" 2 "), "docx");
        assert_eq!(q.interpret("plain text"), "plain text");
        assert_eq!(q.interpret("9"), "9", "out of range stays as typed");

        let yes_no = Question::from_args(&json!({"question": "Approve?", "ui_hint": "Confirmation"})).unwrap();
        assert!(yes_no.prompt().ends_with("Answer yes or no."));
        assert_eq!((yes_no.interpret("Y"), yes_no.interpret("no")), ("yes".into(), "no".into()));
        let many = Question::from_args(&json!({"question": "Which?", "ui_hint": "multi_choice", "options": "a, b, c"}))
            .unwrap();
        assert_eq!(many.interpret("1, 3"), "a,c");
        assert!(Question::from_args(&json!({"context": "no question"})).is_err());
    }

    #[tokio::test]
    async fn without_a_console_or_a_store_nobody_can_answer() {
        let emitter = Emitter::new("s-test", 0, Vec::new());
        let err =
            after_phase(None, None, &emitter, "draft", &HumanInput::Enabled(true), "the draft").await.unwrap_err();
        assert!(err.to_string().contains("not a terminal"), "{err}");
    }
}
