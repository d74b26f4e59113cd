//! GitHub Actions: failures and warnings become `::error` / `::warning` workflow commands, and a
//! short Markdown summary of the run is appended to `$GITHUB_STEP_SUMMARY` when it ends.

use super::format::{cost, duration, excerpt};
use super::plain::status_word;
use crate::runner::event::{Envelope, RunEvent, RunStatus, Subscriber};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

pub struct CiRenderer {
    summary_path: Option<PathBuf>,
    state: Mutex<CiState>,
}

struct CiState {
    annotations: Box<dyn Write + Send>,
    /// Messages already annotated: a phase failure usually ends the cascade with the same
    /// message, and one annotation per cause reads better.
    annotated: HashSet<String>,
    cascade_id: Option<String>,
    session_id: Option<String>,
    /// Top-level phases in the order they ran.
    phases: Vec<PhaseRow>,
}

struct PhaseRow {
    name: String,
    outcome: Outcome,
}

enum Outcome {
    Running,
    Done { duration_ms: u64 },
    Failed { error: String },
}

impl CiRenderer {
    /// `annotations` receives the workflow commands (the runner reads them from stdout and
    /// stderr alike); `summary_path` is `$GITHUB_STEP_SUMMARY` when set.
    pub fn new(annotations: Box<dyn Write + Send>, summary_path: Option<PathBuf>) -> Self {
        CiRenderer {
            summary_path,
            state: Mutex::new(CiState {
                annotations,
                annotated: HashSet::new(),
                cascade_id: None,
                session_id: None,
                phases: Vec::new(),
            }),
        }
    }
}

impl Subscriber for CiRenderer {
    fn on_event(&self, envelope: &Envelope) {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let top = envelope.depth == 0;
        match &envelope.event {
            RunEvent::CascadeStarted { cascade_id, phases: _, input: _, parent_session_id: _ } => {
                if top {
                    state.cascade_id = Some(cascade_id.clone());
                    state.session_id = Some(envelope.session_id.to_string());
                }
            }
            RunEvent::PhaseStarted { phase, kind: _, model: _, visit: _ } => {
                if top {
                    state.phases.push(PhaseRow { name: phase.clone(), outcome: Outcome::Running });
                }
            }
            RunEvent::PhaseFinished { phase, output: _, duration_ms } => {
                if top {
                    state.set_outcome(phase, Outcome::Done { duration_ms: *duration_ms });
                }
            }
            RunEvent::PhaseFailed { phase, error } => {
                if top {
                    state.set_outcome(phase, Outcome::Failed { error: error.clone() });
                }
                let title = format!("windlass: phase {phase} failed");
                state.annotate("error", &title, error);
            }
            RunEvent::Warning { phase, message } => {
                let title = match phase {
                    Some(phase) => format!("windlass: phase {phase}"),
                    None => "windlass".to_string(),
                };
                state.annotate("warning", &title, message);
            }
            RunEvent::CascadeFinished { status, output: _, error, tokens_in, tokens_out, cost, duration_ms } => {
                if !top {
                    return;
                }
                let cascade = state.cascade_id.clone().unwrap_or_else(|| "cascade".into());
                let title = format!("windlass: {cascade} {}", status_word(*status));
                let message = error.clone().unwrap_or_else(|| status_word(*status).to_string());
                match status {
                    RunStatus::Completed => {}
                    RunStatus::Error | RunStatus::Cancelled | RunStatus::Interrupted => {
                        state.annotate("error", &title, &message)
                    }
                    RunStatus::Blocked => {
                        let message = format!(
                            "{message}; resume with: windlass resume {}",
                            state.session_id.as_deref().unwrap_or("<session>")
                        );
                        state.annotate("warning", &title, &message)
                    }
                }
                if let Some(path) = &self.summary_path {
                    let totals = Totals {
                        status: *status,
                        error: error.as_deref(),
                        tokens_in: *tokens_in,
                        tokens_out: *tokens_out,
                        cost: *cost,
                        duration_ms: *duration_ms,
                    };
                    let summary = state.summary(&totals);
                    if let Err(err) = append(path, &summary) {
                        let message = format!("could not append the run summary to {}: {err}", path.display());
                        state.annotate("warning", "windlass", &message);
                    }
                }
            }
            // Everything else is progress detail: it shows in the log lines, not as annotations.
            RunEvent::TurnStarted { .. }
            | RunEvent::LlmRequest { .. }
            | RunEvent::LimitWait { .. }
            | RunEvent::LlmResponse { .. }
            | RunEvent::ToolCall { .. }
            | RunEvent::ToolResult { .. }
            | RunEvent::StateSet { .. }
            | RunEvent::Routed { .. }
            | RunEvent::ValidatorVerdict { .. }
            | RunEvent::AttemptFailed { .. }
            | RunEvent::SoundingStarted { .. }
            | RunEvent::SoundingFinished { .. }
            | RunEvent::SoundingsEvaluated { .. }
            | RunEvent::SubCascadeStarted { .. }
            | RunEvent::SubCascadeFinished { .. }
            | RunEvent::HumanInputRequested { .. }
            | RunEvent::Callout { .. }
            | RunEvent::SignalReceived { .. }
            | RunEvent::Checkpoint { .. } => {}
        }
    }
}

struct Totals<'a> {
    status: RunStatus,
    error: Option<&'a str>,
    tokens_in: u64,
    tokens_out: u64,
    cost: f64,
    duration_ms: u64,
}

impl CiState {
    fn set_outcome(&mut self, phase: &str, outcome: Outcome) {
        // The latest visit of a phase is the one still running.
        if let Some(row) = self.phases.iter_mut().rev().find(|row| row.name == phase) {
            row.outcome = outcome;
        }
    }

    fn annotate(&mut self, level: &str, title: &str, message: &str) {
        if !self.annotated.insert(message.to_string()) {
            return;
        }
        let _ = writeln!(self.annotations, "::{level} title={}::{}", escape_property(title), escape_data(message));
        let _ = self.annotations.flush();
    }

    fn summary(&self, totals: &Totals) -> String {
        let mark = match totals.status {
            RunStatus::Completed => "✅",
            RunStatus::Blocked => "⏸️",
            RunStatus::Error | RunStatus::Cancelled | RunStatus::Interrupted => "❌",
        };
        let cascade = self.cascade_id.as_deref().unwrap_or("cascade");
        let mut out = String::new();
        let _ = writeln!(out, "### {mark} windlass: `{cascade}` {}\n", status_word(totals.status));
        if let Some(error) = totals.error {
            let _ = writeln!(out, "> {}\n", excerpt(error, 500));
        }
        if !self.phases.is_empty() {
            out.push_str("| phase | result |\n|---|---|\n");
            for row in &self.phases {
                let result = match &row.outcome {
                    Outcome::Running => "did not finish".to_string(),
                    Outcome::Done { duration_ms } => format!("✅ {}", duration(*duration_ms)),
                    Outcome::Failed { error } => format!("❌ {}", excerpt(error, 200)),
                };
                let _ = writeln!(out, "| {} | {} |", table_cell(&row.name), table_cell(&result));
            }
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "{} tokens in, {} out · {} · {}{}\n",
            totals.tokens_in,
            totals.tokens_out,
            cost(totals.cost),
            duration(totals.duration_ms),
            self.session_id.as_deref().map(|id| format!(" · session `{id}`")).unwrap_or_default()
        );
        out
    }
}

fn append(path: &PathBuf, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(text.as_bytes())
}

/// Workflow command data: `%`, CR and LF are escaped so a multi-line message stays one command.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Property values (`title=`) also escape the `:` and `,` that delimit properties.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A Markdown table cell: one line, and `|` would end the cell.
fn table_cell(text: &str) -> String {
    excerpt(text, 300).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::testing::{script, SharedBuffer};

    #[test]
    fn failures_become_annotations_and_a_summary() {
        let dir = tempfile::tempdir().unwrap();
        let summary_path = dir.path().join("summary.md");
        std::fs::write(&summary_path, "earlier step\n").unwrap();
        let buffer = SharedBuffer::default();
        let renderer = CiRenderer::new(Box::new(buffer.clone()), Some(summary_path.clone()));
        for envelope in script() {
            renderer.on_event(&envelope);
        }

        // The cascade fails with the phase's message: one annotation for the one cause.
        assert_eq!(
            buffer.text(),
            "::warning title=windlass%3A phase write::slow model\n\
             ::error title=windlass%3A phase write failed::model said no\n"
        );
        let summary = std::fs::read_to_string(&summary_path).unwrap();
        assert!(summary.starts_with("earlier step\n### ❌ windlass: `demo` failed\n"), "{summary}");
        assert!(summary.contains("| research | ✅ 1.2s |"), "{summary}");
        assert!(summary.contains("| write | ❌ model said no |"), "{summary}");
        assert!(summary.contains("1200 tokens in, 300 out · $0.0012 · 3.4s · session `s1`"), "{summary}");
    }

    #[test]
    fn messages_are_escaped() {
        assert_eq!(escape_data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(escape_property("a: b, c"), "a%3A b%2C c");
        assert_eq!(table_cell("a | b"), "a \\| b");
    }
}
