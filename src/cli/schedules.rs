//! `windlass schedules`: register a cascade's cron and webhook triggers in the store, list
//! them with their next fire time, and remove them (`crate::session::schedules`).

use super::data_format::{self, DataFormat};
use super::{execute, store_access, table, Context};
use crate::cascade::load_file_in;
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::session::schedules::{self, Schedule};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct SchedulesArgs {
    #[command(subcommand)]
    pub action: SchedulesAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum SchedulesAction {
    /// Register the file's `cron` and `webhook` triggers (again: replaces them); every worker
    /// sharing the store fires each cron tick once, `windlass serve` takes the webhooks
    Add {
        /// The cascade file (YAML or JSON); its text is stored with the schedule
        cascade: PathBuf,
    },
    /// List the registered triggers with the next time each cron trigger fires
    List {
        /// How to print them: a table, or every field of each
        #[arg(long, value_enum, value_name = "FORMAT", default_value_t)]
        format: DataFormat,
    },
    /// Stop a registered trigger
    Remove {
        /// `<cascade_id>.<trigger name>`, as `list` shows it
        id: String,
    },
}

impl SchedulesArgs {
    pub fn run(self, ctx: &Context) -> Result<ExitCode, Error> {
        let rt = store_access::runtime()?;
        rt.block_on(async {
            let store = crate::store::open(&ctx.settings).await?;
            match self.action {
                SchedulesAction::Add { cascade } => {
                    let loaded = load_file_in(&cascade, &ctx.settings.working_dir);
                    execute::ensure_valid(&loaded, ctx)?;
                    let model = loaded.cascade.clone().expect("a cascade without errors has a model");
                    let now = store.now().await?;
                    let found = schedules::from_cascade(&model, &loaded.text, &cascade.display().to_string(), now)
                        .map_err(|detail| Error::Triggers { action: "schedule", path: cascade.clone(), detail })?;
                    if found.is_empty() {
                        return Err(Error::Triggers {
                            action: "schedule",
                            path: cascade,
                            detail: "it has no cron or webhook trigger under `triggers:`".into(),
                        });
                    }
                    schedules::register(&*store, &found).await?;
                    for s in &found {
                        let next =
                            s.next_fire(now).map(|t| format!(", next at {} UTC", table::time(t))).unwrap_or_default();
                        eprintln!("windlass: registered {} ({}{next})", s.id, s.kind);
                    }
                    Ok(ExitCode::Success)
                }
                SchedulesAction::List { format } => {
                    let now = store.now().await?;
                    let found = schedules::list(&*store).await?;
                    print_list(&found, now, format)?;
                    Ok(ExitCode::Success)
                }
                SchedulesAction::Remove { id } => {
                    if !schedules::remove(&*store, &id).await? {
                        return Err(Error::UnknownSchedule { id });
                    }
                    eprintln!("windlass: removed {id}");
                    Ok(ExitCode::Success)
                }
            }
        })
    }
}

fn print_list(found: &[Schedule], now: f64, format: DataFormat) -> Result<(), Error> {
    if !format.is_text() {
        let records: Vec<serde_json::Value> = found
            .iter()
            .map(|s| {
                serde_json::json!({
                    "id": s.id, "kind": s.kind, "cascade_id": s.cascade_id, "path": s.path,
                    "schedule": s.schedule, "timezone": s.timezone.as_deref().unwrap_or("UTC"),
                    "next_fire_at": s.next_fire(now), "catch_up": s.catch_up, "allow_overlap": s.allow_overlap,
                    "secret_env": s.secret_env, "registered_at": s.registered_at,
                })
            })
            .collect();
        return data_format::write_records(format, &records);
    }
    if found.is_empty() {
        eprintln!("windlass: no schedules; `windlass schedules add FILE` registers a cascade's triggers");
        return Ok(());
    }
    let columns: Vec<String> =
        ["ID", "KIND", "SCHEDULE", "TIME ZONE", "NEXT (UTC)", "FILE"].iter().map(|s| s.to_string()).collect();
    let cells: Vec<Vec<String>> = found
        .iter()
        .map(|s| {
            vec![
                s.id.clone(),
                s.kind.clone(),
                s.schedule.clone().unwrap_or_else(|| "-".into()),
                s.timezone.clone().unwrap_or_else(|| "UTC".into()),
                s.next_fire(now).map(table::time).unwrap_or_else(|| "-".into()),
                s.path.clone(),
            ]
        })
        .collect();
    let mut out = std::io::stdout().lock();
    out.write_all(table::render(&columns, &cells, 48).as_bytes()).map_err(Error::Stdout)
}
