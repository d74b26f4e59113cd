//! `--format ndjson`: every event as one JSON object per line on stdout, flushed per line so
//! a program reading the pipe sees each event as it happens. The CLI writes the result document
//! last ([`NdjsonRenderer::write_result`]).

use crate::runner::event::{Envelope, RunResult, Subscriber};
use std::io::Write;
use std::sync::Mutex;

pub struct NdjsonRenderer {
    out: Mutex<Box<dyn Write + Send>>,
}

impl NdjsonRenderer {
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        NdjsonRenderer { out: Mutex::new(out) }
    }

    /// Events on this process's stdout.
    pub fn stdout() -> Self {
        Self::new(Box::new(std::io::stdout()))
    }

    /// The result document as the last line, through the same writer so it cannot interleave
    /// with an event line.
    pub fn write_result(&self, result: &RunResult) -> std::io::Result<()> {
        self.write_line(result)
    }

    fn write_line(&self, value: &impl serde::Serialize) -> std::io::Result<()> {
        // Serialise first so a line is written whole or not at all.
        let mut line = serde_json::to_vec(value).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut out = self.out.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        out.write_all(&line)?;
        out.flush()
    }
}

impl Subscriber for NdjsonRenderer {
    fn on_event(&self, envelope: &Envelope) {
        // A reader that went away (`| head`) must not stop the run; the result still lands in
        // the store.
        let _ = self.write_line(envelope);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::testing::{script, SharedBuffer};
    use crate::runner::event::RunStatus;
    use serde_json::Value;

    #[test]
    fn one_json_object_per_event_then_the_result() {
        let buffer = SharedBuffer::default();
        let renderer = NdjsonRenderer::new(Box::new(buffer.clone()));
        let events = script();
        for envelope in &events {
            renderer.on_event(envelope);
        }
        let result = RunResult {
            session_id: "s1".into(),
            cascade_id: "demo".into(),
            status: RunStatus::Error,
            output: Value::String(String::new()),
            state: Default::default(),
            lineage: Vec::new(),
            errors: vec!["model said no".into()],
            tokens_in: 1200,
            tokens_out: 300,
            cost: 0.0012,
            duration_ms: 3400,
            failure: None,
        };
        renderer.write_result(&result).unwrap();

        let text = buffer.text();
        let lines: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        assert_eq!(lines.len(), events.len() + 1);
        for (line, envelope) in lines.iter().zip(&events) {
            assert_eq!(line["event"], envelope.event.name());
            assert_eq!(line["seq"], envelope.seq);
            assert_eq!(line["session_id"], &*envelope.session_id);
        }
        assert_eq!(lines[1]["phase"], "research");
        assert_eq!(lines[1]["model"], "m/x");
        let last = lines.last().unwrap();
        assert_eq!(last["status"], "error");
        assert_eq!(last["cascade_id"], "demo");
        assert!(last.get("event").is_none());
    }
}
