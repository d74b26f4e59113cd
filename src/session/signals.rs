//! The rows of the `signals` table and what each kind means (store.md, "Signals and
//! cancellation"). Everything one process says to a session run by another is an appended
//! row here; nothing is updated in place.
//!
//! | kind | session_id | name | payload |
//! |---|---|---|---|
//! | `message` | the session | | the text, as a JSON string |
//! | `named` | the session, or `*` for every waiter | the signal name | any JSON |
//! | `cancel` | the session | | `{"reason": ...}` |
//! | `consumed` | the consuming session | | (the `signal_id` says which) |
//! | `claim` | the session | the claiming owner | `{"epoch": n}` |
//! | `withdrawn` | the session | the claiming owner | `{"epoch": n}`: that claim does not count |
//! | `options` | the session | | run options of `submit` (model, max_cost, timeout) |

use crate::session_id::SessionId;
use crate::store::SignalRow;
use serde_json::{json, Value};

/// Rows addressed to every session waiting on a named signal.
pub const BROADCAST: &str = "*";

/// [`BROADCAST`] as the session id of a row.
pub fn broadcast() -> SessionId {
    SessionId::new(BROADCAST)
}

/// The kinds of signal rows.
pub mod kind {
    pub const MESSAGE: &str = "message";
    pub const NAMED: &str = "named";
    pub const CANCEL: &str = "cancel";
    pub const CONSUMED: &str = "consumed";
    pub const CLAIM: &str = "claim";
    pub const WITHDRAWN: &str = "withdrawn";
    pub const OPTIONS: &str = "options";
}

/// A signal as a session sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub payload: Value,
    pub created_at: f64,
}

impl Signal {
    pub fn from_row(row: &SignalRow) -> Signal {
        Signal {
            id: row.signal_id.clone(),
            kind: row.kind.clone(),
            name: row.name.clone(),
            payload: serde_json::from_str(&row.payload).unwrap_or_else(|_| Value::String(row.payload.clone())),
            created_at: row.created_at,
        }
    }

    /// A message's text (or a payload's JSON text).
    pub fn text(&self) -> String {
        match &self.payload {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            v => v.to_string(),
        }
    }
}

/// A new signal id that sorts by when it was made: the store's clock may have whole seconds
/// only (ClickHouse), and two messages sent within one second must still arrive in order.
pub(crate) fn new_id(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    format!("{prefix}-{nanos:016x}-{:08x}{:08x}", fastrand::u32(..), std::process::id())
}

fn row(session_id: &SessionId, kind: &str, name: &str, payload: String, created_at: f64) -> SignalRow {
    SignalRow {
        signal_id: new_id("sig"),
        session_id: session_id.clone(),
        kind: kind.to_string(),
        name: name.to_string(),
        payload,
        created_at,
    }
}

/// A message for a session: the answer to its pending question, or feedback.
pub fn message(session_id: &SessionId, text: &str, now: f64) -> SignalRow {
    row(session_id, kind::MESSAGE, "", Value::String(text.to_string()).to_string(), now)
}

/// A named signal for one session, or for every waiter ([`BROADCAST`]).
pub fn named(session_id: &SessionId, name: &str, payload: &Value, now: f64) -> SignalRow {
    row(session_id, kind::NAMED, name, payload.to_string(), now)
}

pub fn cancel(session_id: &SessionId, reason: Option<&str>, now: f64) -> SignalRow {
    row(session_id, kind::CANCEL, "", json!({ "reason": reason }).to_string(), now)
}

/// The marker that `session_id` consumed `signal_id` (never delivered again).
pub fn consumed(session_id: &SessionId, signal_id: &str, now: f64) -> SignalRow {
    SignalRow {
        signal_id: signal_id.to_string(),
        session_id: session_id.clone(),
        kind: kind::CONSUMED.into(),
        name: String::new(),
        payload: String::new(),
        created_at: now,
    }
}

/// `owner` claims `session_id` for `epoch`. The id is deterministic, so a retried insert
/// is the same claim.
pub fn claim(session_id: &SessionId, owner: &str, epoch: u64, now: f64) -> SignalRow {
    SignalRow {
        signal_id: format!("claim:{epoch}:{owner}"),
        session_id: session_id.clone(),
        kind: kind::CLAIM.into(),
        name: owner.to_string(),
        payload: json!({ "epoch": epoch }).to_string(),
        created_at: now,
    }
}

/// `owner` takes back its claim for `epoch`: it was too slow to be sure it saw its rivals.
pub fn withdrawn(session_id: &SessionId, owner: &str, epoch: u64, now: f64) -> SignalRow {
    SignalRow {
        signal_id: format!("withdrawn:{epoch}:{owner}"),
        session_id: session_id.clone(),
        kind: kind::WITHDRAWN.into(),
        name: owner.to_string(),
        payload: json!({ "epoch": epoch }).to_string(),
        created_at: now,
    }
}

/// The epoch a withdrawal row is for.
pub fn withdrawn_epoch(row: &SignalRow) -> Option<u64> {
    (row.kind == kind::WITHDRAWN)
        .then(|| serde_json::from_str::<Value>(&row.payload).ok()?.get("epoch")?.as_u64())
        .flatten()
}

/// The epoch a claim row is for.
pub fn claim_epoch(row: &SignalRow) -> Option<u64> {
    (row.kind == kind::CLAIM)
        .then(|| serde_json::from_str::<Value>(&row.payload).ok()?.get("epoch")?.as_u64())
        .flatten()
}

pub fn options(session_id: &SessionId, options: &Value, now: f64) -> SignalRow {
    row(session_id, kind::OPTIONS, "", options.to_string(), now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_carry_their_epoch_and_a_deterministic_id() {
        let a = claim(&SessionId::new("s1"), "host:1", 7, 1.0);
        let b = claim(&SessionId::new("s1"), "host:1", 7, 2.0);
        assert_eq!(a.signal_id, b.signal_id);
        assert_eq!(claim_epoch(&a), Some(7));
        assert_eq!(claim_epoch(&message(&SessionId::new("s1"), "hi", 1.0)), None);
    }

    #[test]
    fn messages_read_back_as_text() {
        let m = Signal::from_row(&message(&SessionId::new("s1"), "use \"quotes\"", 1.0));
        assert_eq!(m.text(), "use \"quotes\"");
        let n = Signal::from_row(&named(&broadcast(), "go", &json!({"a": 1}), 1.0));
        assert_eq!(n.payload, json!({"a": 1}));
        assert_ne!(
            message(&SessionId::new("s"), "x", 1.0).signal_id,
            message(&SessionId::new("s"), "x", 1.0).signal_id
        );
        // Ids sort in the order they were made, for stores whose clock has whole seconds.
        let ids: Vec<String> = (0..50).map(|_| message(&SessionId::new("s"), "x", 1.0).signal_id).collect();
        assert!(ids.windows(2).all(|w| w[0][..20] <= w[1][..20]), "{ids:?}");
    }
}
