//! `windlass signal`: send a message to a running session, or fire a named signal.

use super::not_available::{not_available, planned};
use super::session_id::SessionId;
use super::Context;
use crate::error::Error;
use crate::exit_code::ExitCode;
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

impl SignalArgs {
    pub fn run(self, _ctx: &Context) -> Result<ExitCode, Error> {
        not_available("signal", planned::SESSIONS)
    }
}
