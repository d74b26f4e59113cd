//! Where the live display's lines sit: each line knows its parent (a sounding or sub-cascade
//! under its phase, a sub-cascade's phases under it) and its last child, so new lines go below
//! their family and a finished phase takes its family with it.

use super::line::LineView;
use indicatif::ProgressBar;
use std::collections::HashMap;
use std::time::Instant;

/// Which line an event belongs to. Sessions keep sub-cascades' phases apart from their
/// parent's phases of the same name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Key {
    Phase { session: String, phase: String },
    Sounding { session: String, phase: String, index: u32 },
    SubCascade { child_session: String },
}

pub(super) struct Line {
    pub(super) bar: ProgressBar,
    pub(super) view: LineView,
    pub(super) parent: Option<Key>,
    /// The child inserted last, so the next one goes after it (and after its own children).
    pub(super) last_child: Option<Key>,
    pub(super) indent: usize,
    pub(super) started: Instant,
}

/// The last line drawn under `key` (or `key` itself): new children go after it.
pub(super) fn last_descendant(lines: &HashMap<Key, Line>, key: &Key) -> Key {
    let mut current = key.clone();
    while let Some(child) = lines.get(&current).and_then(|line| line.last_child.clone()) {
        if !lines.contains_key(&child) {
            break;
        }
        current = child;
    }
    current
}

/// Every line nested under `key`, at any depth.
pub(super) fn descendants(lines: &HashMap<Key, Line>, key: &Key) -> Vec<Key> {
    lines
        .iter()
        .filter(|(candidate, _)| {
            let mut parent = lines.get(*candidate).and_then(|line| line.parent.clone());
            while let Some(current) = parent {
                if &current == key {
                    return true;
                }
                parent = lines.get(&current).and_then(|line| line.parent.clone());
            }
            false
        })
        .map(|(candidate, _)| candidate.clone())
        .collect()
}
