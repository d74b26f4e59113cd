//! `windlass logs`: print a session's log rows.

use super::data_format::DataFormat;
use super::Context;
use super::{store_access, table};
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::session::log_tail::{self, LogLine, TailError};
use crate::session_id::SessionId;
use crate::store;
use clap::Args;
use std::io::{IsTerminal, Write};

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// The session whose log to print
    #[arg(value_name = "SESSION")]
    pub session: SessionId,

    /// Keep printing new rows while the session runs, from any machine that reaches the store
    #[arg(short, long)]
    pub follow: bool,

    /// How to print the rows: one line each for people, or every row in full (`ndjson`
    /// streams while following; `json` prints one array when the log ends)
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t)]
    pub format: DataFormat,
}

impl LogsArgs {
    pub fn run(self, ctx: &Context) -> Result<ExitCode, Error> {
        let id = self.session.clone();
        let rt = store_access::runtime()?;
        rt.block_on(async {
            let store = store::open(&ctx.settings).await?;
            let terminal = std::io::stdout().is_terminal();
            let mut all = Vec::new();
            let printed = log_tail::tail(&*store, &id, self.follow, |lines| {
                let mut out = std::io::stdout().lock();
                for l in lines {
                    match self.format {
                        DataFormat::Text => writeln!(out, "{}", line(l, terminal))?,
                        DataFormat::Ndjson => writeln!(out, "{}", l.record)?,
                        DataFormat::Json => all.push(l.record.clone()),
                    }
                }
                out.flush()
            })
            .await;
            if printed.is_ok() && self.format == DataFormat::Json {
                super::data_format::write_records(DataFormat::Json, &all)?;
            }
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
/// Long summaries are cut to one screen line on a terminal only; piped, they stay whole.
fn line(l: &LogLine, terminal: bool) -> String {
    let t = table::time(l.timestamp);
    let clock = t.get(11..).unwrap_or(&t);
    let phase = if l.phase.is_empty() { String::new() } else { format!(" [{}]", l.phase) };
    let detail = if terminal { short(&l.detail) } else { l.detail.clone() };
    format!("{clock} {}{phase} {detail}", l.event).trim_end().to_string()
}

fn short(s: &str) -> String {
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(119).collect::<String>())
    } else {
        s.to_string()
    }
}
