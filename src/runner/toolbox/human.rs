//! Asking a human: the `ask_human` tool and the `human_input` phase key. On a terminal the
//! question is asked on stderr and answered on stdin, or by `windlass signal` from anywhere;
//! off a terminal the session blocks (status `blocked`) until `windlass signal` answers.

use crate::cascade::model::{HumanInput, HumanInputKind, HumanInputSpec, OnTimeout};
use crate::runner::emitter::Emitter;
use crate::runner::error::RunError;
use crate::runner::event::RunEvent;
use crate::session::mailbox::{waiting_for_human, Mailbox};
use crate::tools::{Tool, ToolContext, ToolError, ToolOutput};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

/// Ask a human; `None` on timeout. Errors when nobody can answer.
async fn ask(
    mailbox: Option<&Arc<Mailbox>>,
    emitter: &Emitter,
    phase: &str,
    prompt: &str,
    timeout: Option<Duration>,
) -> Result<Option<String>, String> {
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let waiting = waiting_for_human(prompt);
    let answer = match (terminal, mailbox) {
        (true, Some(mb)) => tokio::select! {
            a = ask_terminal(prompt, timeout) => return a,
            s = mb.wait_message(&waiting, timeout) => s,
        },
        (true, None) => return ask_terminal(prompt, timeout).await,
        (false, Some(mb)) => mb.wait_message(&waiting, timeout).await,
        (false, None) => {
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

/// Ask on the terminal; `None` on timeout.
async fn ask_terminal(prompt: &str, timeout: Option<Duration>) -> Result<Option<String>, String> {
    let prompt = prompt.to_string();
    let read = tokio::task::spawn_blocking(move || {
        let mut err = std::io::stderr();
        let _ = writeln!(err, "\n{prompt}");
        let _ = write!(err, "> ");
        let _ = err.flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line.trim_end_matches(['\r', '\n']).to_string())
    });
    let answer = match timeout {
        Some(t) => match tokio::time::timeout(t, read).await {
            Ok(r) => r,
            Err(_) => return Ok(None),
        },
        None => read.await,
    };
    match answer {
        Ok(Ok(a)) => Ok(Some(a)),
        Ok(Err(e)) => Err(format!("reading the answer failed: {e}")),
        Err(e) => Err(format!("reading the answer failed: {e}")),
    }
}

/// The `ask_human(question)` tool.
pub struct AskHuman {
    pub emitter: Emitter,
    pub mailbox: Option<Arc<Mailbox>>,
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
        match ask(self.mailbox.as_ref(), &self.emitter, &ctx.phase, question, None).await {
            Ok(Some(answer)) => Ok(ToolOutput::text(answer)),
            Ok(None) => Err(ToolError::Failed("no answer".into())),
            Err(e) => Err(ToolError::Failed(e)),
        }
    }
}

/// `human_input` after a phase: returns the answer to store, or an error.
pub async fn after_phase(
    mailbox: Option<&Arc<Mailbox>>,
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
    let answer = ask(mailbox, emitter, phase, &prompt, timeout).await.map_err(|e| RunError::phase(phase, e))?;
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
