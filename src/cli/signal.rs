//! `windlass signal`: send a message to a running session, or fire a named signal.

use super::{store_access, Context};
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::session::mailbox::waiting_for_signal;
use crate::session::signals;
use crate::session_id::SessionId;
use crate::store::{SessionFilter, SessionStateRow, SessionStatus, Store};
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

/// The session's row; it must exist and not have ended (`action` names the command for
/// the message).
pub async fn ensure_open(store: &dyn Store, id: &SessionId, action: &'static str) -> Result<SessionStateRow, Error> {
    let row = store.session_state(id).await?.ok_or_else(|| Error::UnknownSession { session: id.to_string() })?;
    let status = row.status;
    if status.is_finished() {
        return Err(Error::Session {
            action,
            session: id.to_string(),
            detail: format!(
                "it already ended with status {}; only sessions that have not ended can take it",
                row.status
            ),
        });
    }
    Ok(row)
}

impl SignalArgs {
    pub fn run(self, ctx: &Context) -> Result<ExitCode, Error> {
        let rt = store_access::runtime()?;
        rt.block_on(async {
            let store = crate::store::open(&ctx.settings).await?;
            let now = store.now().await?;
            let payload = self.payload.clone().unwrap_or(Value::Null);
            let (row, said) = match (&self.session, &self.name, &self.message) {
                (Some(s), None, Some(message)) => {
                    ensure_open(&*store, s, "signal").await?;
                    let said = format!(
                        "message sent to session {s}; it is taken at the session's next step (`windlass logs {s}` shows it arrive)"
                    );
                    (signals::message(s, message, now), said)
                }
                (Some(s), Some(name), _) => {
                    ensure_open(&*store, s, "signal").await?;
                    (signals::named(s, name, &payload, now), format!("signal {name} sent to session {s}"))
                }
                (None, Some(name), _) => {
                    let filter = SessionFilter { status: Some(SessionStatus::Blocked), cascade_id: None, limit: 100_000 };
                    let waiting = waiting_for_signal(name);
                    let waiters = store.list_sessions(&filter).await?.iter().filter(|r| r.blocked_on == waiting).count();
                    let said = format!(
                        "signal {name} fired for every session waiting on it ({waiters} waiting now; sessions that wait on it later also get it)"
                    );
                    (signals::named(&signals::broadcast(), name, &payload, now), said)
                }
                _ => unreachable!("clap requires a session and a message, or --name"),
            };
            store.put_signal(&row).await?;
            if !ctx.global.quiet {
                eprintln!("windlass: {said}");
            }
            println!("{}", row.signal_id);
            Ok(ExitCode::Success)
        })
    }
}
