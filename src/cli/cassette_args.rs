//! `--record`, `--replay` and `--replay-or-record` of `run` and `resume` (cli.md, "Cassettes").

use super::Context;
use crate::error::Error;
use crate::llm::cassette::{Cassette, CassetteRef, Mode};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;

/// At most one of the three.
#[derive(Debug, Clone, Default, Args)]
pub struct CassetteArgs {
    /// Write every model exchange of the session (sub-cascades included) to FILE, a YAML
    /// cassette to commit and replay
    #[arg(long, value_name = "FILE", conflicts_with_all = ["replay", "replay_or_record"])]
    pub record: Option<PathBuf>,

    /// Answer every model call from the cassette FILE, with no network and no API key; a call it
    /// has no answer for stops the run (exit 7) with a diff against the closest recorded one
    #[arg(long, value_name = "FILE", conflicts_with = "replay_or_record")]
    pub replay: Option<PathBuf>,

    /// Answer from the cassette FILE what it has; send the rest and add it to FILE
    #[arg(long, value_name = "FILE")]
    pub replay_or_record: Option<PathBuf>,
}

impl CassetteArgs {
    /// The cassette asked for, if any. `keep`: `--record` adds to an existing file (resume).
    pub fn open(&self, ctx: &Context, keep: bool) -> Result<Option<CassetteRef>, Error> {
        let (mode, path) = match (&self.record, &self.replay, &self.replay_or_record) {
            (Some(p), _, _) => (Mode::Record, p),
            (_, Some(p), _) => (Mode::Replay, p),
            (_, _, Some(p)) => (Mode::ReplayOrRecord, p),
            _ => return Ok(None),
        };
        let path = if path.is_absolute() { path.clone() } else { ctx.settings.working_dir.join(path) };
        let cassette = Cassette::open(mode, &path, secrets(ctx), keep)?;
        Ok(Some(CassetteRef(Arc::new(cassette))))
    }
}

/// Values that must never be written to a cassette.
pub fn secrets(ctx: &Context) -> Vec<String> {
    let s = &ctx.settings;
    let mut out: Vec<String> = s.api_key.iter().map(|k| k.expose().to_string()).collect();
    if let crate::settings::StoreSettings::ClickHouse(ch) = &s.store {
        out.push(ch.password.expose().to_string());
    }
    out.extend(crate::env::secret_names().filter_map(|name| std::env::var(name).ok()));
    out.retain(|v| !v.is_empty());
    out
}

/// One line on stderr about what the cassette did, unless `-q`.
pub fn report(cassette: &Cassette, ctx: &Context) {
    if ctx.global.quiet {
        return;
    }
    let (held, used) = cassette.counts();
    let path = cassette.path().display();
    match cassette.mode() {
        Mode::Record => eprintln!("windlass: recorded {held} model exchange(s) to {path}"),
        Mode::Replay => eprintln!("windlass: replayed {used} of {held} model exchange(s) from {path}"),
        Mode::ReplayOrRecord => eprintln!("windlass: {path} now holds {held} model exchange(s)"),
    }
}
