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
use crate::tools::{Tool, ToolContext, ToolError, ToolOutput};
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

/// The `ask_human(question)` tool.
pub struct AskHuman {
    pub emitter: Emitter,
    pub mailbox: Option<Arc<Mailbox>>,
    pub console: Option<Arc<dyn Console>>,
}

#[async_trait]
impl Tool for AskHuman {
    fn name(&self) -> &str {
        "ask_human"
    }
    fn description(&self) -> &str {
        "Ask the human a question and wait for the answer: ask_human(question)"
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"question": {"type": "string"}}, "required": ["question"]})
    }
    async fn call(&self, args: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let question = args
            .get("question")
            .or_else(|| args.get("prompt"))
            .and_then(Value::as_str)
            .ok_or_else(|| ToolError::InvalidArguments("ask_human needs a `question`".into()))?;
        self.emitter.emit(RunEvent::HumanInputRequested { phase: ctx.phase.clone(), prompt: question.to_string() });
        match ask(self.mailbox.as_ref(), self.console.as_ref(), &self.emitter, &ctx.phase, question, None).await {
            Ok(Some(answer)) => Ok(ToolOutput::text(answer)),
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

    #[tokio::test]
    async fn without_a_console_or_a_store_nobody_can_answer() {
        let emitter = Emitter::new("s-test", 0, Vec::new());
        let err =
            after_phase(None, None, &emitter, "draft", &HumanInput::Enabled(true), "the draft").await.unwrap_err();
        assert!(err.to_string().contains("not a terminal"), "{err}");
    }
}
