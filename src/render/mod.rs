//! Subscribers of run events that show a run to people and programs: the live progress
//! display, plain log lines, NDJSON events and GitHub Actions annotations. They know only
//! [`crate::runner::event`]; which of them a run gets is decided once, by [`choose`].
//!
//! stdout carries only the final output or the result document (written by the CLI), or the
//! NDJSON events; everything for people goes to stderr.

pub mod ci;
mod format;
pub mod ndjson;
pub mod plain;
pub mod progress;
#[cfg(test)]
mod testing;

pub use ci::CiRenderer;
pub use ndjson::NdjsonRenderer;
pub use plain::PlainRenderer;
pub use progress::ProgressRenderer;

use crate::runner::event::{Envelope, Subscriber};
use std::path::PathBuf;
use std::sync::Arc;

/// Hands every event to each subscriber in turn.
#[derive(Default, Clone)]
pub struct Fanout {
    subscribers: Vec<Arc<dyn Subscriber>>,
}

impl Fanout {
    pub fn new(subscribers: Vec<Arc<dyn Subscriber>>) -> Self {
        Fanout { subscribers }
    }

    pub fn push(&mut self, subscriber: Arc<dyn Subscriber>) {
        self.subscribers.push(subscriber);
    }
}

impl Subscriber for Fanout {
    fn on_event(&self, event: &Envelope) {
        for subscriber in &self.subscribers {
            subscriber.on_event(event);
        }
    }
}

/// What goes to stdout (`--format`); mirrors the CLI's flag so this module needs nothing from
/// `cli`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Ndjson,
}

/// Running under GitHub Actions (`GITHUB_ACTIONS=true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubActions {
    /// `$GITHUB_STEP_SUMMARY`, the file the run summary is appended to.
    pub step_summary: Option<PathBuf>,
}

impl GithubActions {
    /// From `GITHUB_ACTIONS` and `GITHUB_STEP_SUMMARY`; `None` outside Actions.
    pub fn from_env() -> Option<Self> {
        if std::env::var("GITHUB_ACTIONS").ok().as_deref() != Some("true") {
            return None;
        }
        let step_summary = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|path| !path.is_empty()).map(PathBuf::from);
        Some(GithubActions { step_summary })
    }
}

/// Everything that decides which renderers a run gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    pub stderr_is_terminal: bool,
    /// `-q`: nothing on stderr except errors.
    pub quiet: bool,
    /// `--no-progress`: plain lines even on a terminal.
    pub no_progress: bool,
    /// Colour decided from `--color` and `NO_COLOR` for stderr.
    pub color: bool,
    pub format: Format,
    pub github: Option<GithubActions>,
}

/// The renderers for a run (cli.md, Output):
/// - stderr: the live display on a terminal, plain lines otherwise (or with `--no-progress`),
///   nothing with `-q`;
/// - stdout: NDJSON events with `--format ndjson`; otherwise nothing from renderers;
/// - GitHub Actions: annotations on stderr (the runner reads workflow commands from both
///   streams, and stdout must stay clean for the output) and the step summary.
pub fn choose(options: &RenderOptions) -> Vec<Arc<dyn Subscriber>> {
    let mut chosen: Vec<Arc<dyn Subscriber>> = Vec::new();
    if !options.quiet {
        if options.stderr_is_terminal && !options.no_progress {
            chosen.push(Arc::new(ProgressRenderer::new(options.color)));
        } else {
            chosen.push(Arc::new(PlainRenderer::stderr()));
        }
    }
    match options.format {
        Format::Ndjson => chosen.push(Arc::new(NdjsonRenderer::stdout())),
        Format::Human | Format::Json => {}
    }
    if let Some(github) = &options.github {
        chosen.push(Arc::new(CiRenderer::new(Box::new(std::io::stderr()), github.step_summary.clone())));
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn options() -> RenderOptions {
        RenderOptions {
            stderr_is_terminal: true,
            quiet: false,
            no_progress: false,
            color: false,
            format: Format::Human,
            github: None,
        }
    }

    #[test]
    fn how_many_renderers() {
        assert_eq!(choose(&options()).len(), 1);
        assert_eq!(choose(&RenderOptions { quiet: true, ..options() }).len(), 0);
        assert_eq!(choose(&RenderOptions { quiet: true, format: Format::Ndjson, ..options() }).len(), 1);
        assert_eq!(choose(&RenderOptions { format: Format::Json, ..options() }).len(), 1);
        let github = Some(GithubActions { step_summary: None });
        assert_eq!(choose(&RenderOptions { quiet: true, github, ..options() }).len(), 1);
    }

    #[test]
    fn fanout_reaches_every_subscriber() {
        #[derive(Default)]
        struct Count(Mutex<usize>);
        impl Subscriber for Count {
            fn on_event(&self, _: &Envelope) {
                *self.0.lock().unwrap() += 1;
            }
        }
        let (a, b) = (Arc::new(Count::default()), Arc::new(Count::default()));
        let fanout = Fanout::new(vec![a.clone(), b.clone()]);
        for envelope in testing::script() {
            fanout.on_event(&envelope);
        }
        let total = testing::script().len();
        assert_eq!((*a.0.lock().unwrap(), *b.0.lock().unwrap()), (total, total));
    }
}
