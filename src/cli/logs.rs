//! `windlass logs`: print a session's log rows.

use super::Context;
use super::{store_access, table};
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::session_id::SessionId;
use crate::store::{self, LogRow, SessionStatus};
use clap::Args;
use serde_json::Value;
use std::collections::HashSet;
use std::io::Write;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// The session whose log to print
    #[arg(value_name = "SESSION")]
    pub session: SessionId,

    /// Keep printing new rows while the session runs, from any machine that reaches the store
    #[arg(short, long)]
    pub follow: bool,
}

impl LogsArgs {
    pub fn run(self, ctx: &Context) -> Result<ExitCode, Error> {
        let id = self.session.clone();
        let rt = store_access::runtime()?;
        rt.block_on(async {
            let store = store::open(&ctx.settings).await?;
            if store.session_state(&id).await?.is_none() && store.logs(&id, None, 1).await?.is_empty() {
                return Err(Error::UnknownSession { session: id.to_string() });
            }
            let mut seen = HashSet::new();
            let mut after: Option<f64> = None;
            loop {
                let rows = store.logs(&id, after, 10_000).await?;
                let mut out = std::io::stdout().lock();
                let mut fresh = 0;
                for r in &rows {
                    if seen.insert(r.message_id.clone()) {
                        fresh += 1;
                        writeln!(out, "{}", line(r)).map_err(Error::Stdout)?;
                    }
                    // Rows with the same timestamp as the last one are fetched again; `seen` drops them.
                    after = Some(after.map_or(r.timestamp, |a: f64| a.max(r.timestamp)) - 1e-6);
                }
                out.flush().map_err(Error::Stdout)?;
                drop(out);
                if !self.follow {
                    return Ok(ExitCode::Success);
                }
                // Stop once the session has ended and nothing new arrived since.
                let state = store.session_state(&id).await?;
                let ended = state
                    .map(|s| s.status)
                    .is_some_and(|s| !s.is_live() && !matches!(s, SessionStatus::Queued | SessionStatus::Unknown));
                if ended && fresh == 0 {
                    return Ok(ExitCode::Success);
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    }
}

/// One log row for people: time, session (children), event, phase, a summary.
fn line(r: &LogRow) -> String {
    let t = table::time(r.timestamp);
    let clock = t.get(11..).unwrap_or(&t);
    let event: Value = serde_json::from_str(&r.content).unwrap_or(Value::Null);
    let detail = match r.node_type.as_str() {
        "llm_response" => format!(
            "{} tokens in, {} out: {}",
            r.tokens_in,
            r.tokens_out,
            short(event["content"].as_str().unwrap_or(""))
        ),
        "llm_request" => format!("calling {} ({} messages)", r.model, event["messages"]),
        "tool_call" => format!("{}({})", event["tool"].as_str().unwrap_or(""), short(&event["arguments"].to_string())),
        "tool_result" => {
            format!("{}: {}", event["tool"].as_str().unwrap_or(""), short(event["result"].as_str().unwrap_or("")))
        }
        "phase_finished" => short(event["output"].as_str().unwrap_or("")),
        "cascade_finished" => format!(
            "{} ({} tokens in, {} out, ${:.4})",
            event["status"].as_str().unwrap_or(""),
            r.tokens_in,
            r.tokens_out,
            r.cost
        ),
        "signal_received" => short(&event["payload"].to_string()),
        "warning" | "phase_failed" => short(event["message"].as_str().or(event["error"].as_str()).unwrap_or("")),
        _ => String::new(),
    };
    let phase = if r.phase_name.is_empty() { String::new() } else { format!(" [{}]", r.phase_name) };
    format!("{clock} {}{phase} {detail}", r.node_type).trim_end().to_string()
}

fn short(s: &str) -> String {
    let one = s.replace('\n', " ");
    if one.chars().count() > 120 {
        format!("{}…", one.chars().take(119).collect::<String>())
    } else {
        one
    }
}
