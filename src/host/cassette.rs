//! A cassette carried by a submitted session: `submit --replay FILE` stores the cassette's
//! text (not its path: the worker may run on another machine) in the session's `options`
//! row, and the worker replays from it.

use crate::llm::cassette::{Cassette, CassetteRef, Mode};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;

/// The stored form: the path it came from (for messages) and its whole text. Only replay
/// travels: a worker must not write files named by a submitter.
pub fn to_json(cassette: &Cassette) -> Value {
    json!({ "path": cassette.path().display().to_string(), "text": cassette.text() })
}

pub fn from_json(v: &Value) -> Option<CassetteRef> {
    let text = v.get("text")?.as_str()?;
    let path = v.get("path").and_then(Value::as_str).unwrap_or("cassette");
    let cassette = Cassette::replay_text(text, Path::new(path));
    debug_assert_eq!(cassette.mode(), Mode::Replay);
    Some(CassetteRef(Arc::new(cassette)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::Limits;

    #[test]
    fn a_submitted_cassette_travels_with_the_options_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.yaml");
        std::fs::write(&path, "version: 1\nexchanges: []\n").unwrap();
        let c = Cassette::open(Mode::Replay, &path, Vec::new(), false).unwrap();
        let limits = Limits { cassette: Some(CassetteRef(Arc::new(c))), ..Limits::default() };
        let json = limits.to_json();
        std::fs::remove_file(&path).unwrap();
        let back = Limits::from_json(&json).cassette.expect("a cassette");
        assert_eq!(back.0.mode(), Mode::Replay);
        assert_eq!(back.0.text(), limits.cassette.unwrap().0.text());
        assert_eq!(Limits::from_json(&Limits::default().to_json()), Limits::default());
    }
}
