//! The live display on a terminal's stderr: one line per running phase with a spinner, its
//! turn and what it is doing; soundings and sub-cascades nested under their phase; a footer
//! with the cascade, tokens, cost and elapsed time. Finished top-level phases are printed
//! above the live area as `✓ name 1.2s`, so the live area stays as small as what is running.
//!
//! Every line ticks on its own timer, so a long wait (an LLM call, a human answer) still
//! moves.

mod line;
mod tree;

pub use line::{phase_line, totals_line, LineStatus, LineView, Paint};

use super::format::{cost, duration};
use super::plain::{route_reason, status_word};
use crate::runner::event::{Envelope, RouteReason, RunEvent, RunStatus, Subscriber};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tree::{descendants, last_descendant, Key, Line};

const TICK: Duration = Duration::from_millis(100);
const SPINNER: &[&str] = &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏", " "];

pub struct ProgressRenderer {
    paint: Paint,
    multi: MultiProgress,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    footer: Option<ProgressBar>,
    cascade_id: String,
    tokens_in: u64,
    tokens_out: u64,
    cost: f64,
    lines: HashMap<Key, Line>,
    /// A sub-cascade's session → its line, under which its phases are drawn.
    sessions: HashMap<String, Key>,
}

impl ProgressRenderer {
    /// The display on stderr; `color` is already decided from `--color` and `NO_COLOR`.
    pub fn new(color: bool) -> Self {
        Self::with_draw_target(ProgressDrawTarget::stderr(), color)
    }

    /// The display on any target (tests use [`ProgressDrawTarget::hidden`]).
    pub fn with_draw_target(target: ProgressDrawTarget, color: bool) -> Self {
        ProgressRenderer {
            paint: Paint { color },
            multi: MultiProgress::with_draw_target(target),
            state: Mutex::new(State::default()),
        }
    }

    /// Hides the display while `write` prints to the terminal (a question for the human),
    /// then draws it again.
    pub fn suspend<R>(&self, write: impl FnOnce() -> R) -> R {
        self.multi.suspend(write)
    }

    /// Removes every live line, for example before printing an error after an interrupt.
    pub fn clear(&self) {
        let mut state = self.lock();
        let keys: Vec<Key> = state.lines.keys().cloned().collect();
        for key in keys {
            self.remove_line(&mut state, &key);
        }
        if let Some(footer) = state.footer.take() {
            footer.finish_and_clear();
            self.multi.remove(&footer);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn running_style(&self) -> ProgressStyle {
        let template = if self.paint.color {
            "{prefix}{spinner:.cyan} {wide_msg} {elapsed:.dim}"
        } else {
            "{prefix}{spinner} {wide_msg} {elapsed}"
        };
        ProgressStyle::with_template(template).expect("a valid template").tick_strings(SPINNER)
    }

    fn finished_style(&self) -> ProgressStyle {
        ProgressStyle::with_template("{prefix}{wide_msg}").expect("a valid template")
    }

    /// A line above the live area; it stays in the scrollback.
    fn print(&self, text: String) {
        // Hidden or gone terminals drop the line; nothing else to do.
        let _ = self.multi.println(text);
    }

    fn footer(&self, state: &mut State) -> ProgressBar {
        if let Some(footer) = &state.footer {
            return footer.clone();
        }
        let footer = unattached();
        footer.set_style(self.running_style());
        let footer = self.multi.add(footer);
        footer.enable_steady_tick(TICK);
        state.footer = Some(footer.clone());
        self.update_footer(state);
        footer
    }

    fn update_footer(&self, state: &State) {
        if let Some(footer) = &state.footer {
            footer.set_message(totals_line(
                &state.cascade_id,
                state.tokens_in,
                state.tokens_out,
                state.cost,
                self.paint,
            ));
        }
    }

    /// A new running line under `parent`, or above the footer when it has none (or its parent
    /// is already gone, as for an async sub-cascade that outlives its phase).
    fn add_line(&self, state: &mut State, key: Key, parent: Option<Key>, view: LineView) {
        if state.lines.contains_key(&key) {
            // A revisited phase starts a fresh line.
            self.remove_line(state, &key);
        }
        let parent = parent.filter(|parent| state.lines.contains_key(parent));
        let indent = parent.as_ref().map_or(0, |parent| state.lines[parent].indent + 1);
        // Dressed before it joins the display, so it never shows up blank.
        let bar = unattached();
        bar.set_style(self.running_style());
        bar.set_prefix("  ".repeat(indent));
        bar.set_message(phase_line(&view, self.paint));
        let bar = match &parent {
            Some(parent_key) => {
                let anchor = last_descendant(&state.lines, parent_key);
                let bar = self.multi.insert_after(&state.lines[&anchor].bar, bar);
                if let Some(parent_line) = state.lines.get_mut(parent_key) {
                    parent_line.last_child = Some(key.clone());
                }
                bar
            }
            None => {
                let footer = self.footer(state);
                self.multi.insert_before(&footer, bar)
            }
        };
        bar.enable_steady_tick(TICK);
        state.lines.insert(key, Line { bar, view, parent, last_child: None, indent, started: Instant::now() });
    }

    /// Changes what a line shows; events for lines already gone are dropped.
    fn update(&self, state: &mut State, key: &Key, change: impl FnOnce(&mut LineView)) {
        if let Some(line) = state.lines.get_mut(key) {
            change(&mut line.view);
            line.bar.set_message(phase_line(&line.view, self.paint));
        }
    }

    /// Ends a line. A top-level phase leaves the live area and is printed above it; nested
    /// lines stay in place, marked, until their phase ends.
    fn finish(&self, state: &mut State, key: &Key, status: LineStatus) {
        let Some(line) = state.lines.get_mut(key) else { return };
        line.view.status = status;
        let text = phase_line(&line.view, self.paint);
        if line.parent.is_none() {
            self.remove_line(state, key);
            self.print(text);
        } else {
            let children: Vec<Key> = descendants(&state.lines, key);
            for child in children {
                self.remove_line(state, &child);
            }
            let line = &state.lines[key];
            line.bar.set_style(self.finished_style());
            line.bar.finish_with_message(text);
        }
    }

    /// Removes a line and everything nested under it.
    fn remove_line(&self, state: &mut State, key: &Key) {
        let mut doomed = descendants(&state.lines, key);
        doomed.push(key.clone());
        for key in doomed {
            if let Some(line) = state.lines.remove(&key) {
                line.bar.finish_and_clear();
                self.multi.remove(&line.bar);
            }
            state.sessions.retain(|_, sub| *sub != key);
        }
    }

    fn indent_of(&self, state: &State, key: &Key) -> String {
        state.lines.get(key).map(|line| "  ".repeat(line.indent + 1)).unwrap_or_default()
    }
}

impl Subscriber for ProgressRenderer {
    fn on_event(&self, envelope: &Envelope) {
        let mut state = self.lock();
        let state = &mut *state;
        let session = envelope.session_id.to_string();
        let top = envelope.depth == 0;
        let phase_key = |phase: &str| Key::Phase { session: session.clone(), phase: phase.to_string() };
        match &envelope.event {
            RunEvent::CascadeStarted { cascade_id, phases: _, input: _, parent_session_id: _ } => {
                if top {
                    state.cascade_id = cascade_id.clone();
                    self.footer(state);
                    self.update_footer(state);
                }
            }
            RunEvent::PhaseStarted { phase, kind, model, visit } => {
                let detail = model.clone().or_else(|| (*kind != "llm").then(|| (*kind).to_string()));
                let mut view = LineView::running(phase.clone(), detail);
                if *visit > 1 {
                    view.activity = Some(format!("visit {visit}"));
                }
                let parent = state.sessions.get(&session).cloned();
                self.add_line(state, phase_key(phase), parent, view);
            }
            RunEvent::TurnStarted { phase, turn, max_turns, attempt, max_attempts } => {
                self.update(state, &phase_key(phase), |view| {
                    view.turn = (*max_turns > 1).then_some((*turn, *max_turns));
                    view.attempt = (*max_attempts > 1).then_some((*attempt, *max_attempts));
                    view.activity = None;
                });
            }
            RunEvent::LlmRequest { phase, model, messages: _, request_hash: _, sounding_index } => {
                let key = sounding_or_phase(state, &session, phase, *sounding_index);
                self.update(state, &key, |view| view.activity = Some(format!("waiting for {model}")));
            }
            RunEvent::LimitWait { phase, model, limit, sounding_index, .. } => {
                let key = sounding_or_phase(state, &session, phase, *sounding_index);
                self.update(state, &key, |view| view.activity = Some(format!("waiting on limit {limit} for {model}")));
            }
            RunEvent::LlmResponse {
                phase,
                model_requested: _,
                model: _,
                tokens_in,
                tokens_out,
                cost: price,
                duration_ms: _,
                request_hash: _,
                content: _,
                tool_calls: _,
                native_tool_calls: _,
                replayed: _,
                sounding_index,
            } => {
                state.tokens_in += tokens_in;
                state.tokens_out += tokens_out;
                state.cost += price.unwrap_or(0.0);
                self.update_footer(state);
                let key = sounding_or_phase(state, &session, phase, *sounding_index);
                self.update(state, &key, |view| view.activity = None);
            }
            RunEvent::ToolCall { phase, tool, arguments: _ } => {
                self.update(state, &phase_key(phase), |view| view.activity = Some(format!("tool {tool}")));
            }
            RunEvent::ToolResult { phase, tool, ok, result: _, duration_ms: _ } => {
                let activity = (!ok).then(|| format!("tool {tool} failed"));
                self.update(state, &phase_key(phase), |view| view.activity = activity);
            }
            // The state itself is in the result; the display shows what is running.
            RunEvent::StateSet { .. } => {}
            RunEvent::Routed { from, to, reason } => {
                // Only chosen routes are news; the next phase in the file or the first handoff
                // is what a reader expects anyway.
                let chosen = matches!(reason, RouteReason::RouteTo | RouteReason::Routing | RouteReason::OnError);
                if top && chosen {
                    self.print(self.paint.dim(&format!("  ↪ {from} → {to} ({})", route_reason(*reason))));
                }
            }
            RunEvent::ValidatorVerdict { phase, role, validator, valid, reason: _, mode: _ } => {
                let verdict = if *valid { "passed" } else { "failed" };
                let activity = format!("{role} {validator} {verdict}");
                self.update(state, &phase_key(phase), |view| view.activity = Some(activity));
            }
            RunEvent::AttemptFailed { phase, attempt, max_attempts, reason } => {
                let key = phase_key(phase);
                let indent = self.indent_of(state, &key);
                let text = format!("{indent}⟳ {phase} attempt {attempt}/{max_attempts} failed: {reason}");
                self.print(self.paint.yellow(&super::format::excerpt(&text, 200)));
                self.update(state, &key, |view| view.activity = Some("retrying".into()));
            }
            RunEvent::SoundingStarted { phase, index, factor, model, mutation: _ } => {
                let key = Key::Sounding { session: session.clone(), phase: phase.clone(), index: *index };
                let view = LineView::running(format!("sounding {}/{factor}", index + 1), model.clone());
                self.add_line(state, key, Some(phase_key(phase)), view);
            }
            RunEvent::SoundingFinished { phase, index, ok, output: _ } => {
                let key = Key::Sounding { session: session.clone(), phase: phase.clone(), index: *index };
                let elapsed = state.lines.get(&key).map(|line| line.started.elapsed().as_millis() as u64);
                let status = if *ok {
                    LineStatus::Done { duration_ms: elapsed.unwrap_or(0) }
                } else {
                    LineStatus::Failed { error: "no usable output".into() }
                };
                self.finish(state, &key, status);
            }
            RunEvent::SoundingsEvaluated { phase, winner, reply: _, mode: _ } => {
                let activity = match winner {
                    Some(winner) => format!("sounding {} wins", winner + 1),
                    None => "soundings combined".into(),
                };
                self.update(state, &phase_key(phase), |view| view.activity = Some(activity));
            }
            RunEvent::SubCascadeStarted { phase, child_session_id, cascade_id, r#async } => {
                let key = Key::SubCascade { child_session: child_session_id.clone() };
                let detail = r#async.then(|| "async".to_string());
                self.add_line(
                    state,
                    key.clone(),
                    Some(phase_key(phase)),
                    LineView::running(format!("↳ {cascade_id}"), detail),
                );
                if state.lines.contains_key(&key) {
                    state.sessions.insert(child_session_id.clone(), key);
                }
            }
            RunEvent::SubCascadeFinished { phase: _, child_session_id, status } => {
                let key = Key::SubCascade { child_session: child_session_id.clone() };
                let elapsed = state.lines.get(&key).map(|line| line.started.elapsed().as_millis() as u64);
                let status = match status {
                    RunStatus::Completed => LineStatus::Done { duration_ms: elapsed.unwrap_or(0) },
                    other => LineStatus::Failed { error: status_word(*other).to_string() },
                };
                self.finish(state, &key, status);
            }
            RunEvent::HumanInputRequested { phase, prompt } => {
                let activity = format!("waiting for your answer: {prompt}");
                self.update(state, &phase_key(phase), |view| view.activity = Some(activity));
            }
            RunEvent::SignalReceived { phase, name, payload: _ } => {
                if let Some(phase) = phase {
                    let activity = match name {
                        Some(name) => format!("signal {name} received"),
                        None => "signal received".to_string(),
                    };
                    self.update(state, &phase_key(phase), |view| view.activity = Some(activity));
                }
            }
            RunEvent::PhaseFinished { phase, output: _, duration_ms } => {
                self.finish(state, &phase_key(phase), LineStatus::Done { duration_ms: *duration_ms });
            }
            RunEvent::Checkpoint { .. } => {}
            RunEvent::Callout { phase, label, content: _ } => {
                let indent = self.indent_of(state, &phase_key(phase));
                self.print(format!("{indent}{}", self.paint.dim(&format!("📌 {phase}: {label}"))));
            }
            RunEvent::Warning { phase, message } => {
                let (indent, text) = match phase {
                    Some(phase) => (self.indent_of(state, &phase_key(phase)), format!("⚠ {phase}: {message}")),
                    None => (String::new(), format!("⚠ {message}")),
                };
                self.print(format!("{indent}{}", self.paint.yellow(&text)));
            }
            RunEvent::PhaseFailed { phase, error } => {
                self.finish(state, &phase_key(phase), LineStatus::Failed { error: error.clone() });
            }
            RunEvent::CascadeFinished { status, output: _, error, tokens_in, tokens_out, cost: price, duration_ms } => {
                if !top {
                    return;
                }
                // Whatever is still drawn is stale now (async children keep their own logs).
                let keys: Vec<Key> = state.lines.keys().cloned().collect();
                for key in keys {
                    self.remove_line(state, &key);
                }
                let summary = format!(
                    "{} {} in {} · {tokens_in} in / {tokens_out} out · {}",
                    state.cascade_id,
                    status_word(*status),
                    duration(*duration_ms),
                    cost(*price)
                );
                let text = match (status, error) {
                    (RunStatus::Completed, _) => format!("{} {summary}", self.paint.green("✓")),
                    (RunStatus::Blocked, _) => self.paint.yellow(&format!("⏸ {summary}")),
                    (_, Some(error)) => self.paint.red(&format!("✗ {summary}: {error}")),
                    (_, None) => self.paint.red(&format!("✗ {summary}")),
                };
                // Printed rather than left as the footer's last frame, so the cursor ends on a
                // fresh line for whatever the shell prints next.
                if let Some(footer) = state.footer.take() {
                    footer.finish_and_clear();
                    self.multi.remove(&footer);
                }
                self.print(text);
            }
        }
    }
}

/// A spinner that draws nowhere until the display takes it in.
fn unattached() -> ProgressBar {
    ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
}

fn sounding_or_phase(state: &State, session: &str, phase: &str, sounding_index: Option<u32>) -> Key {
    if let Some(index) = sounding_index {
        let key = Key::Sounding { session: session.to_string(), phase: phase.to_string(), index };
        if state.lines.contains_key(&key) {
            return key;
        }
    }
    Key::Phase { session: session.to_string(), phase: phase.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::testing::script;

    fn renderer() -> ProgressRenderer {
        ProgressRenderer::with_draw_target(ProgressDrawTarget::hidden(), false)
    }

    #[test]
    fn a_scripted_run_leaves_only_the_footer() {
        let renderer = renderer();
        let events = script();
        for (index, envelope) in events[..10].iter().enumerate() {
            renderer.on_event(envelope);
            if index == 5 {
                let state = renderer.lock();
                let research = &state.lines[&Key::Phase { session: "s1".into(), phase: "research".into() }];
                assert_eq!(research.view.activity.as_deref(), Some("tool set_state"));
            }
        }
        {
            let state = renderer.lock();
            let research = Key::Phase { session: "s1".into(), phase: "research".into() };
            let sounding = Key::Sounding { session: "s1".into(), phase: "research".into(), index: 1 };
            assert_eq!(state.lines[&research].view.turn, Some((1, 2)));
            assert_eq!(state.lines[&research].view.activity, None);
            assert!(matches!(state.lines[&sounding].view.status, LineStatus::Done { .. }));
            assert_eq!(state.lines[&sounding].parent, Some(research));
            assert_eq!((state.tokens_in, state.tokens_out), (1000, 200));
        }
        for envelope in &events[10..] {
            renderer.on_event(envelope);
        }
        let state = renderer.lock();
        assert!(state.lines.is_empty(), "finished phases leave the live area");
        assert!(state.footer.is_none(), "the summary is printed, the footer gone");
    }

    #[test]
    fn a_call_waiting_on_a_limit_says_which_on_its_line() {
        let renderer = renderer();
        let events = script();
        renderer.on_event(&events[0]);
        renderer.on_event(&events[1]);
        let wait = Envelope {
            session_id: events[1].session_id.clone(),
            seq: 9,
            at: 0.0,
            depth: 0,
            event: RunEvent::LimitWait {
                phase: "research".into(),
                model: "m/x".into(),
                prefix: "m/".into(),
                limit: "m/=rpm:60".into(),
                max_concurrent: None,
                sounding_index: None,
            },
        };
        renderer.on_event(&wait);
        let state = renderer.lock();
        let research = &state.lines[&Key::Phase { session: "s1".into(), phase: "research".into() }];
        assert_eq!(research.view.activity.as_deref(), Some("waiting on limit m/=rpm:60 for m/x"));
    }

    #[test]
    fn sub_cascade_phases_nest_under_their_line() {
        let renderer = renderer();
        let events = script();
        // Up to the sub-cascade start inside `write`.
        for envelope in &events[..16] {
            renderer.on_event(envelope);
        }
        let child_phase = Envelope {
            session_id: "s2".into(),
            seq: 1,
            at: 0.0,
            depth: 1,
            event: RunEvent::PhaseStarted { phase: "inner".into(), kind: "llm", model: None, visit: 1 },
        };
        renderer.on_event(&child_phase);
        let state = renderer.lock();
        let inner = &state.lines[&Key::Phase { session: "s2".into(), phase: "inner".into() }];
        assert_eq!(inner.parent, Some(Key::SubCascade { child_session: "s2".into() }));
        assert_eq!(inner.indent, 2);
    }

    #[test]
    fn events_from_many_threads() {
        let renderer = std::sync::Arc::new(renderer());
        let events = script();
        renderer.on_event(&events[0]);
        let handles: Vec<_> = (0..4)
            .map(|index| {
                let renderer = renderer.clone();
                std::thread::spawn(move || {
                    let phase = format!("p{index}");
                    for event in [
                        RunEvent::PhaseStarted { phase: phase.clone(), kind: "llm", model: None, visit: 1 },
                        RunEvent::PhaseFinished { phase, output: String::new(), duration_ms: 5 },
                    ] {
                        renderer.on_event(&Envelope { session_id: "s1".into(), seq: 0, at: 0.0, depth: 0, event });
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        assert!(renderer.lock().lines.is_empty());
    }
}
