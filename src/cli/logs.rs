//! `windlass logs`: print a session's log rows.

use super::Context;
use super::{store_access, table};
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::session::log_tail::{self, LogLine, TailError};
use crate::session_id::SessionId;
use crate::store;
use clap::Args;
use std::io::Write;

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
            let printed = log_tail::tail(&*store, &id, self.follow, |lines| {
                let mut out = std::io::stdout().lock();
                for l in lines {
                    writeln!(out, "{}", line(l))?;
                }
                out.flush()
            })
            .await;
            match printed {
                Ok(()) => Ok(ExitCode::Success),
                Err(TailError::UnknownSession(id)) => Err(Error::UnknownSession { session: id.to_string() }),
                Err(TailError::Store(e)) => Err(e.into()),
                Err(TailError::Sink(e)) => Err(Error::Stdout(e)),
            }
        })
    }
}

/// One log line for people: time of day, event, phase, summary.
fn line(l: &LogLine) -> String {
    let t = table::time(l.timestamp);
    let clock = t.get(11..).unwrap_or(&t);
    let phase = if l.phase.is_empty() { String::new() } else { format!(" [{}]", l.phase) };
    format!("{clock} {}{phase} {}", l.event, l.detail).trim_end().to_string()
}
