//! `windlass sessions`: list sessions, or show one (`sessions show`).

use super::data_format::{self, DataFormat};
use super::Context;
use super::{store_access, table};
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::session_id::SessionId;
use crate::store::{SessionFilter, SessionStatus};
use clap::builder::PossibleValue;
use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;

#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SessionsArgs {
    #[command(subcommand)]
    pub command: Option<SessionsCommand>,

    /// Only sessions in this state
    #[arg(long, value_enum, value_name = "STATUS")]
    pub status: Option<SessionStatus>,

    /// Only sessions of this cascade (its cascade_id)
    #[arg(long, value_name = "CASCADE_ID")]
    pub cascade: Option<String>,

    /// Show at most this many sessions, newest first
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: u32,

    /// How to print the sessions: a table, or every field of each session's row
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t)]
    pub format: DataFormat,
}

#[derive(Debug, Clone, Subcommand)]
pub enum SessionsCommand {
    /// Show one session: status, phase, heartbeat, owner, cost, tokens, error
    Show(ShowArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// The session to show
    #[arg(value_name = "SESSION")]
    pub session: SessionId,

    /// How to print the session: text, or every field of its row
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t)]
    pub format: DataFormat,
}

// `--status` takes the store's statuses by name; the help line of each lives here, with the
// rest of the command line's words.
impl ValueEnum for SessionStatus {
    fn value_variants<'a>() -> &'a [Self] {
        &SessionStatus::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            SessionStatus::Queued => "Submitted, waiting for a worker",
            SessionStatus::Starting => "Claimed by a worker, not yet running a phase",
            SessionStatus::Running => "Running a phase",
            SessionStatus::Blocked => "Waiting on a human or a signal",
            SessionStatus::Completed => "Finished successfully",
            SessionStatus::Error => "Ended by an error",
            SessionStatus::Cancelled => "Stopped by `windlass cancel`",
            SessionStatus::Orphaned => "Its worker stopped heartbeating; can be resumed",
            SessionStatus::Unknown => return None,
        };
        Some(PossibleValue::new(self.as_str()).help(help))
    }
}

impl SessionsArgs {
    pub fn run(self, ctx: &Context) -> Result<ExitCode, Error> {
        match self.command {
            Some(SessionsCommand::Show(args)) => show(ctx, &args.session, args.format),
            None => list(ctx, self),
        }
    }
}

fn list(ctx: &Context, args: SessionsArgs) -> Result<ExitCode, Error> {
    let filter = SessionFilter {
        status: args.status,
        cascade_id: args.cascade.clone(),
        limit: args.limit as usize,
        ..Default::default()
    };
    let rows = store_access::block_on(ctx, |store| async move { store.list_sessions(&filter).await })?;
    if !args.format.is_text() {
        let records: Vec<serde_json::Value> = rows.iter().map(record).collect::<Result<_, _>>()?;
        data_format::write_records(args.format, &records)?;
        return Ok(ExitCode::Success);
    }
    let columns: Vec<String> = ["SESSION", "STATUS", "CASCADE", "PHASE", "UPDATED (UTC)", "TOKENS", "COST"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.session_id.to_string(),
                r.status.to_string(),
                r.cascade_id.clone(),
                r.current_phase.clone(),
                table::time(r.updated_at),
                format!("{}/{}", r.tokens_in, r.tokens_out),
                format!("${:.4}", r.cost),
            ]
        })
        .collect();
    let mut out = std::io::stdout().lock();
    out.write_all(table::render(&columns, &cells, 48).as_bytes()).map_err(Error::Stdout)?;
    Ok(ExitCode::Success)
}

fn show(ctx: &Context, id: &SessionId, format: DataFormat) -> Result<ExitCode, Error> {
    let id_owned = id.clone();
    let row = store_access::block_on(ctx, |store| async move { store.session_state(&id_owned).await })?;
    let Some(r) = row else {
        return Err(Error::UnknownSession { session: id.to_string() });
    };
    if !format.is_text() {
        data_format::write_record(format, &record(&r)?)?;
        return Ok(ExitCode::Success);
    }
    let fields: Vec<(&str, String)> = vec![
        ("session", r.session_id.to_string()),
        ("status", r.status.to_string()),
        ("cascade", r.cascade_id.clone()),
        ("phase", r.current_phase.clone()),
        ("blocked on", r.blocked_on.clone()),
        ("parent", r.parent_session_id.clone()),
        ("owner", format!("{} (epoch {})", r.owner, r.owner_epoch)),
        ("heartbeat", format!("{} (lease {:.0}s)", table::time(r.heartbeat_at), r.lease_seconds)),
        ("started", table::time(r.started_at)),
        ("updated", table::time(r.updated_at)),
        ("completed", table::time(r.completed_at)),
        ("tokens", format!("{} in, {} out", r.tokens_in, r.tokens_out)),
        ("cost", format!("${:.4}", r.cost)),
        ("cancel requested", if r.cancel_requested { "yes".into() } else { String::new() }),
        ("error", r.error_message.clone()),
    ];
    let mut out = std::io::stdout().lock();
    for (k, v) in fields.into_iter().filter(|(_, v)| !v.is_empty()) {
        writeln!(out, "{k:<17}{v}").map_err(Error::Stdout)?;
    }
    Ok(ExitCode::Success)
}

/// A session's row with every field, as the machine formats print it.
fn record(row: &impl serde::Serialize) -> Result<serde_json::Value, Error> {
    serde_json::to_value(row).map_err(|source| Error::Json { what: "a session row", source })
}
