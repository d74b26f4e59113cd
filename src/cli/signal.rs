//! `windlass signal`: send a message to a running session, or fire a named signal.

use super::{store_access, Context};
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::session::control::{self, ControlError};
use crate::session_id::SessionId;
use clap::Args;
use serde_json::Value;

#[derive(Debug, Clone, Args)]
pub struct SignalArgs {
    /// The session to signal; with --name it may be left out to reach every session waiting on
    /// that signal
    #[arg(value_name = "SESSION", required_unless_present = "name")]
    pub session: Option<SessionId>,

    /// The message: the answer to a pending question, or feedback added to the conversation
    #[arg(value_name = "MESSAGE", required_unless_present = "name", conflicts_with = "name")]
    pub message: Option<String>,

    /// Fire the named signal that `await_signal` waits on, instead of sending a message
    #[arg(long, value_name = "SIGNAL")]
    pub name: Option<String>,

    /// JSON payload carried by the named signal
    #[arg(long, value_name = "JSON", requires = "name", value_parser = parse_json)]
    pub payload: Option<Value>,
}

fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|err| format!("not valid JSON: {err}"))
}

/// A [`ControlError`] as a command's error (`action` names the command for the message).
pub fn control_error(err: ControlError, action: &'static str) -> Error {
    match err {
        ControlError::Unknown { session } => Error::UnknownSession { session },
        ControlError::Finished { session, status } => Error::Session {
            action,
            session,
            detail: format!("it already ended with status {status}; only sessions that have not ended can take it"),
        },
        ControlError::Busy { session, detail } => Error::Session { action, session, detail },
        ControlError::Store(e) => Error::Store(e),
    }
}

impl SignalArgs {
    pub fn run(self, ctx: &Context) -> Result<ExitCode, Error> {
        let rt = store_access::runtime()?;
        rt.block_on(async {
            let store = crate::store::open(&ctx.settings).await?;
            let payload = self.payload.clone().unwrap_or(Value::Null);
            let fail = |e| control_error(e, "signal");
            let (row, said) = match (&self.session, &self.name, &self.message) {
                (Some(s), None, Some(message)) => {
                    let row = control::send_message(&*store, s, message).await.map_err(fail)?;
                    let said = format!(
                        "message sent to session {s}; it is taken at the session's next step (`windlass logs {s}` shows it arrive)"
                    );
                    (row, said)
                }
                (Some(s), Some(name), _) => {
                    let row = control::send_named(&*store, s, name, &payload).await.map_err(fail)?;
                    (row, format!("signal {name} sent to session {s}"))
                }
                (None, Some(name), _) => {
                    let (row, waiters) = control::broadcast_named(&*store, name, &payload).await?;
                    let said = format!(
                        "signal {name} fired for every session waiting on it ({waiters} waiting now; sessions that wait on it later also get it)"
                    );
                    (row, said)
                }
                _ => unreachable!("clap requires a session and a message, or --name"),
            };
            if !ctx.global.quiet {
                eprintln!("windlass: {said}");
            }
            println!("{}", row.signal_id);
            Ok(ExitCode::Success)
        })
    }
}
