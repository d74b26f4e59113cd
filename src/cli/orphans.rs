//! `windlass orphans`: find sessions whose worker stopped heartbeating.

use super::data_format::{self, DataFormat};
use super::{execute, store_access, table, Context};
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::host::metrics::Metrics;
use crate::host::worker::{self, WorkerEvent, WorkerOptions};
use crate::session::{claim, orphans};
use crate::store::SessionStatus;
use clap::Args;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// How many orphans `--resume` runs at once.
const RESUME_CONCURRENCY: usize = 16;

#[derive(Debug, Clone, Args)]
pub struct OrphansArgs {
    /// Claim each orphan and resume it in this process
    #[arg(long)]
    pub resume: bool,

    /// How to print the orphans: a table, or every field of each (its status when found as
    /// `was`); `--resume` progress goes to stderr either way
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t)]
    pub format: DataFormat,
}

impl OrphansArgs {
    pub fn run(self, ctx: &Context) -> Result<ExitCode, Error> {
        let client = execute::client(ctx);
        let rt = store_access::runtime()?;
        rt.block_on(async {
            let store = crate::store::open(&ctx.settings).await?;
            let now = store.now().await?;
            let found = worker::candidates(&*store, true, &crate::session::SystemClock).await?;
            let mut cells = Vec::new();
            let mut records = Vec::new();
            for (row, _) in &found {
                if row.status != SessionStatus::Orphaned {
                    claim::mark_orphaned(&*store, row, now).await?;
                }
                let record = orphans::record(row, now);
                records
                    .push(serde_json::to_value(&record).map_err(|source| Error::Json { what: "an orphan", source })?);
                cells.push(vec![
                    row.session_id.to_string(),
                    row.cascade_id.clone(),
                    row.status.to_string(),
                    row.current_phase.clone(),
                    row.owner.clone(),
                    if row.heartbeat_at > 0.0 { table::time(row.heartbeat_at) } else { "released".into() },
                ]);
            }
            if found.is_empty() {
                eprintln!("windlass: no orphaned sessions");
            }
            if !self.format.is_text() {
                data_format::write_records(self.format, &records)?;
            } else if !found.is_empty() {
                let columns: Vec<String> = ["SESSION", "CASCADE", "WAS", "PHASE", "OWNER", "LAST HEARTBEAT (UTC)"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                let mut out = std::io::stdout().lock();
                out.write_all(table::render(&columns, &cells, 48).as_bytes()).map_err(Error::Stdout)?;
            }
            if !self.resume || found.is_empty() {
                return Ok(ExitCode::Success);
            }
            let mut host = execute::host(ctx, None, store, client).await?;
            host.flushes_at_exit = true;
            let opts =
                WorkerOptions { concurrency: found.len().clamp(1, RESUME_CONCURRENCY), once: true, orphans_only: true };
            let (_stop, stopped) = watch::channel(false);
            let all_completed = Arc::new(Mutex::new(true));
            let flag = all_completed.clone();
            let report: Arc<dyn Fn(WorkerEvent) + Send + Sync> = Arc::new(move |e| {
                match &e {
                    WorkerEvent::Ended { status, .. } if status == "completed" => {}
                    WorkerEvent::Ended { .. } | WorkerEvent::Failed { .. } => *flag.lock().expect("flag") = false,
                    _ => {}
                }
                eprintln!("windlass: {}", super::worker::describe(&e));
            });
            worker::run(host, opts, Arc::new(Metrics::default()), stopped, report).await?;
            let ok = *all_completed.lock().expect("flag");
            Ok(if ok { ExitCode::Success } else { ExitCode::CascadeFailed })
        })
    }
}
