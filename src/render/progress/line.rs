//! The text of one line of the live display, as a pure function of what the line shows, so
//! the look is tested without a terminal.

use crate::render::format::{duration, excerpt};
use console::Style;

/// Longest activity text (a prompt, a validator reason) on a line.
const ACTIVITY: usize = 80;

/// What one line shows: a phase, a sounding or a sub-cascade.
#[derive(Debug, Clone, PartialEq)]
pub struct LineView {
    /// `research`, `sounding 2/3`, `↳ child_cascade`.
    pub label: String,
    /// The model, or the kind of a phase without one (`deterministic`).
    pub detail: Option<String>,
    /// `(turn, max_turns)`, shown when there is more than one turn.
    pub turn: Option<(u32, u32)>,
    /// `(attempt, max_attempts)`, shown when there is more than one attempt.
    pub attempt: Option<(u32, u32)>,
    /// What it is doing right now: `waiting for m/x`, `tool set_state`.
    pub activity: Option<String>,
    pub status: LineStatus,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LineStatus {
    Running,
    Done { duration_ms: u64 },
    Failed { error: String },
}

impl LineView {
    pub fn running(label: impl Into<String>, detail: Option<String>) -> Self {
        LineView { label: label.into(), detail, turn: None, attempt: None, activity: None, status: LineStatus::Running }
    }
}

/// Styles that turn into plain text when colour is off (`NO_COLOR`, `--color never`).
#[derive(Debug, Clone, Copy)]
pub struct Paint {
    pub color: bool,
}

impl Paint {
    fn apply(self, style: Style, text: &str) -> String {
        if self.color {
            // Forced: the display decided about colour once, from the flags and NO_COLOR.
            style.force_styling(true).apply_to(text).to_string()
        } else {
            text.to_string()
        }
    }
    pub fn bold(self, text: &str) -> String {
        self.apply(Style::new().bold(), text)
    }
    pub fn dim(self, text: &str) -> String {
        self.apply(Style::new().dim(), text)
    }
    pub fn green(self, text: &str) -> String {
        self.apply(Style::new().green(), text)
    }
    pub fn red(self, text: &str) -> String {
        self.apply(Style::new().red(), text)
    }
    pub fn yellow(self, text: &str) -> String {
        self.apply(Style::new().yellow(), text)
    }
    pub fn cyan(self, text: &str) -> String {
        self.apply(Style::new().cyan(), text)
    }
}

/// `research (m/x) · turn 1/3 · tool set_state` while running (the spinner is drawn before
/// it), `✓ research 1.2s` when done, `✗ research failed: ...` in red when it failed.
pub fn phase_line(view: &LineView, paint: Paint) -> String {
    match &view.status {
        LineStatus::Running => {
            let mut parts = vec![paint.bold(&view.label)];
            if let Some(detail) = &view.detail {
                parts[0].push_str(&paint.dim(&format!(" ({detail})")));
            }
            if let Some((turn, max_turns)) = view.turn {
                parts.push(paint.dim(&format!("turn {turn}/{max_turns}")));
            }
            if let Some((attempt, max_attempts)) = view.attempt {
                parts.push(paint.yellow(&format!("attempt {attempt}/{max_attempts}")));
            }
            if let Some(activity) = &view.activity {
                parts.push(paint.cyan(&excerpt(activity, ACTIVITY)));
            }
            parts.join(&paint.dim(" · "))
        }
        LineStatus::Done { duration_ms } => {
            format!("{} {} {}", paint.green("✓"), view.label, paint.dim(&duration(*duration_ms)))
        }
        LineStatus::Failed { error } => paint.red(&format!("✗ {} failed: {}", view.label, excerpt(error, ACTIVITY))),
    }
}

/// The footer: `demo · 1200 in / 300 out · $0.0012` (the elapsed time is drawn after it).
pub fn totals_line(cascade_id: &str, tokens_in: u64, tokens_out: u64, cost: f64, paint: Paint) -> String {
    format!(
        "{} {}",
        paint.bold(cascade_id),
        paint.dim(&format!("· {tokens_in} in / {tokens_out} out · {}", crate::render::format::cost(cost)))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Paint = Paint { color: false };

    #[test]
    fn a_running_phase_shows_turn_attempt_and_activity() {
        let mut view = LineView::running("research", Some("m/x".into()));
        assert_eq!(phase_line(&view, PLAIN), "research (m/x)");
        view.turn = Some((1, 3));
        view.attempt = Some((2, 2));
        view.activity = Some("tool set_state".into());
        assert_eq!(phase_line(&view, PLAIN), "research (m/x) · turn 1/3 · attempt 2/2 · tool set_state");
    }

    #[test]
    fn finished_and_failed_phases() {
        let mut view = LineView::running("research", None);
        view.status = LineStatus::Done { duration_ms: 1_200 };
        assert_eq!(phase_line(&view, PLAIN), "✓ research 1.2s");
        view.status = LineStatus::Failed { error: "the model\nrefused".into() };
        assert_eq!(phase_line(&view, PLAIN), "✗ research failed: the model refused");
    }

    #[test]
    fn colour_only_when_asked() {
        let mut view = LineView::running("research", None);
        view.status = LineStatus::Failed { error: "boom".into() };
        let coloured = phase_line(&view, Paint { color: true });
        assert!(coloured.contains("\u{1b}["), "{coloured:?}");
        assert!(!phase_line(&view, PLAIN).contains('\u{1b}'));
    }

    #[test]
    fn totals() {
        assert_eq!(totals_line("demo", 1200, 300, 0.0012, PLAIN), "demo · 1200 in / 300 out · $0.0012");
    }
}
