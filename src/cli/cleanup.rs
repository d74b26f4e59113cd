//! `windlass cleanup`: remove what finished sessions left behind (store.md, "Cleanup").
//!
//! Which sessions go is decided (and the links between parents and children read) in
//! [`crate::session::cleanup`]; what they left on disk is
//! found and removed by [`crate::session::artifacts`]. This file asks the store, prints one
//! table row (or one [`Removal`] record, `--format json|ndjson`) per session on stdout and a
//! summary on stderr.
//!
//! Order matters when something fails: a session's files go first and its rows (`--logs`)
//! only after its files are gone, so a session that could not be removed stays listed and
//! the next `cleanup` tries again.

use super::data_format::{self, DataFormat};
use super::{store_access, table, Context};
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::session::artifacts::{self, SpoolLeftovers};
use crate::session::cleanup::{self, CleanupOptions, Doomed, Reason, Removal};
use crate::session_id::SessionId;
use crate::settings::{HumanDuration, StoreSettings};
use crate::store::{self, ClickHouseStore, SessionFilter};
use clap::Args;
use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct CleanupArgs {
    /// Only sessions that finished at least this long ago, e.g. 12h or 30d
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub older_than: HumanDuration,

    /// List what would be removed, and remove nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Also delete the sessions' rows from the store (logs, state, checkpoints, signals)
    #[arg(long)]
    pub logs: bool,

    /// Also clean up orphaned sessions, which could otherwise still be resumed
    #[arg(long)]
    pub include_orphans: bool,

    /// How to print the plan: a table, or per session its reason, folder, bytes and whether it
    /// was removed (false with --dry-run)
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t)]
    pub format: DataFormat,
}

/// One session of the plan and what it left on disk.
struct Item {
    doomed: Doomed,
    folder: Option<PathBuf>,
    bytes: u64,
}

impl CleanupArgs {
    pub fn run(self, ctx: &Context) -> Result<ExitCode, Error> {
        store_access::runtime()?.block_on(self.clean(ctx))
    }

    async fn clean(self, ctx: &Context) -> Result<ExitCode, Error> {
        let store = store::open(&ctx.settings).await?;
        let now = store.now().await?;
        let rows = store.list_sessions(&SessionFilter::default()).await?;
        let links = cleanup::child_links(&*store).await?;
        let opts = CleanupOptions { older_than: self.older_than.get(), include_orphans: self.include_orphans };
        let plan = cleanup::plan(&rows, &links, now, opts);
        if plan.sessions.is_empty() {
            self.say(ctx, &format!("nothing to clean up: no session finished {} ago or earlier", self.older_than));
            if !self.format.is_text() {
                data_format::write_records(self.format, &[])?;
            }
            return Ok(ExitCode::Success);
        }

        let data_dir = &ctx.settings.data_dir;
        let mut items = Vec::new();
        for doomed in plan.sessions {
            let folder = artifacts::session_dir(data_dir, &doomed.session_id).filter(|p| p.exists());
            let bytes = match &folder {
                Some(path) => artifacts::disk_size(path).map_err(failed("measure", path))?,
                None => 0,
            };
            items.push(Item { doomed, folder, bytes });
        }
        let spool = self.spool_leftovers(ctx, &plan_ids(&items))?;

        let mut failures = Vec::new();
        if !self.dry_run {
            items.retain(|item| match &item.folder {
                Some(path) => match artifacts::remove_dir(path) {
                    Ok(()) => true,
                    Err(e) => {
                        failures.push(failed("remove", path)(e));
                        false
                    }
                },
                None => true,
            });
            if let Err(e) = spool.remove() {
                failures.push(failed("remove spool files in", &ctx.settings.data_dir.join("spool"))(e));
            }
            if self.logs {
                let ids: Vec<SessionId> = items.iter().map(|i| i.doomed.session_id.clone()).collect();
                store.delete_sessions(&ids).await?;
            }
        }

        self.print(&items, &spool)?;
        let spool_bytes: u64 = spool.files.iter().map(|f| f.bytes).sum();
        let bytes = items.iter().map(|i| i.bytes).sum::<u64>() + spool_bytes;
        let verb = if self.dry_run { "would remove" } else { "removed" };
        let rows = if self.logs { " and their rows in the store" } else { "" };
        let n = items.len();
        let s = if n == 1 { "" } else { "s" };
        self.say(ctx, &format!("{verb} {n} session{s}, {} on disk{rows}", human_bytes(bytes)));
        // Every failure is reported; the first one decides the exit code.
        let mut failures = failures.into_iter();
        let Some(first) = failures.next() else { return Ok(ExitCode::Success) };
        for other in failures {
            if let Some(line) = other.report() {
                eprintln!("{line}");
            }
        }
        Err(first)
    }

    /// Spool files of these sessions (ClickHouse only: the embedded store has no spool).
    fn spool_leftovers(&self, ctx: &Context, ids: &HashSet<String>) -> Result<SpoolLeftovers, Error> {
        let StoreSettings::ClickHouse(ch) = &ctx.settings.store else { return Ok(SpoolLeftovers::default()) };
        // The same spool `store::open` sends from; connecting does not contact the server.
        let spool_root = ctx.settings.data_dir.join("spool");
        let store = ClickHouseStore::connect(ch, &spool_root)?;
        // Pending batches would bring deleted rows back, so they go with `--logs` only.
        artifacts::spool_leftovers(store.spool(), ids, self.logs)
            .map_err(|e| failed("read the spool", &e.path.clone())(e.source))
    }

    fn print(&self, items: &[Item], spool: &SpoolLeftovers) -> Result<(), Error> {
        if !self.format.is_text() {
            let records = items
                .iter()
                .map(|item| {
                    let spooled = spooled(spool, &item.doomed.session_id);
                    let removal = Removal::new(
                        &item.doomed,
                        item.folder.as_deref(),
                        item.bytes,
                        spooled,
                        self.logs,
                        !self.dry_run,
                    );
                    serde_json::to_value(removal).map_err(|source| Error::Json { what: "the cleanup plan", source })
                })
                .collect::<Result<Vec<_>, _>>()?;
            return data_format::write_records(self.format, &records);
        }
        let columns: Vec<String> = ["SESSION", "STATUS", "WHY", "REMOVES"].iter().map(|s| s.to_string()).collect();
        let cells: Vec<Vec<String>> = items
            .iter()
            .map(|item| {
                let id = &item.doomed.session_id;
                let mut removes = Vec::new();
                if item.folder.is_some() {
                    removes.push(format!("folder {}", human_bytes(item.bytes)));
                }
                let spooled = spooled(spool, id);
                if spooled > 0 {
                    removes.push(format!("spool {}", human_bytes(spooled)));
                }
                if self.logs {
                    removes.push("rows".to_string());
                }
                if removes.is_empty() {
                    removes.push("nothing on disk".to_string());
                }
                vec![
                    id.to_string(),
                    item.doomed.status.map(|s| s.to_string()).unwrap_or_default(),
                    why(&item.doomed.reason),
                    removes.join(", "),
                ]
            })
            .collect();
        let mut out = std::io::stdout().lock();
        out.write_all(table::render(&columns, &cells, 48).as_bytes()).map_err(Error::Stdout)
    }

    fn say(&self, ctx: &Context, line: &str) {
        if !ctx.global.quiet {
            eprintln!("{line}");
        }
    }
}

/// Bytes of the spool files that hold rows of this session.
fn spooled(spool: &SpoolLeftovers, id: &SessionId) -> u64 {
    spool.files.iter().filter(|f| f.sessions.contains(id.as_str())).map(|f| f.bytes).sum()
}

fn plan_ids(items: &[Item]) -> HashSet<String> {
    items.iter().map(|i| i.doomed.session_id.to_string()).collect()
}

fn failed(action: &'static str, path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Artifacts { action, path, source }
}

fn why(reason: &Reason) -> String {
    match reason {
        Reason::Finished { ago } => format!("finished {} ago", human_age(*ago)),
        Reason::Orphaned { ago } => format!("resumable, last seen {} ago", human_age(*ago)),
        Reason::ChildOf { parent } => format!("child of {parent}"),
    }
}

/// `45s`, `12m`, `5h 3m`, `8d 2h`: the two largest units.
fn human_age(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// Decimal units, the exact count below a kilobyte: `512 B`, `12.3 KB`, `4.0 MB`.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_sizes_read_well() {
        assert_eq!(human_age(0.4), "0s");
        assert_eq!(human_age(59.0), "59s");
        assert_eq!(human_age(125.0), "2m");
        assert_eq!(human_age(5.0 * 3600.0 + 180.0), "5h 3m");
        assert_eq!(human_age(8.0 * 86_400.0 + 7300.0), "8d 2h");
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(12_345), "12.3 KB");
        assert_eq!(human_bytes(4_000_000), "4.0 MB");
    }
}
