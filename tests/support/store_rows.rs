//! Rows for store tests and benches (`#[path]`-included: `mod store_rows;`).

#![allow(dead_code)] // each user takes a different part

use windlass::session_id::SessionId;
use windlass::store::{CascadeSessionRow, CheckpointRow, LogRow, SessionStateRow, SessionStatus, SignalRow};

/// A session id from text.
pub fn sid(id: &str) -> SessionId {
    SessionId::new(id)
}

pub fn log(session: &str, seq: u64, timestamp: f64) -> LogRow {
    // Quotes and a line break, so every backend has to carry them intact.
    let content = r#"{"event":"llm_response","text":"a short answer from the model, about one line long","quote":"it's \"fine\"\n"}"#;
    LogRow {
        cascade_id: "demo".into(),
        phase_name: "draft".into(),
        attempt: 1,
        // The sequence number again, so a test can read the order back from any row.
        turn: seq as u32,
        role: "assistant".into(),
        model: "gpt-test".into(),
        tokens_in: 120,
        tokens_out: 340,
        cost: 0.0025,
        duration_ms: 812,
        request_hash: format!("{seq:016x}"),
        ..LogRow::new(format!("{session}:0:{seq}"), session, "llm_response", timestamp, content)
    }
}

pub fn logs(session: &str, from_seq: u64, n: u64) -> Vec<LogRow> {
    (from_seq..from_seq + n).map(|seq| log(session, seq, 1_700_000_000.0 + seq as f64 / 1000.0)).collect()
}

pub fn state(session: &str, version: u64, status: SessionStatus) -> SessionStateRow {
    SessionStateRow {
        version,
        current_phase: format!("phase{version}"),
        heartbeat_at: 1_700_000_000.0 + version as f64,
        lease_seconds: 30.0,
        owner: "host:1234".into(),
        owner_epoch: 1,
        started_at: 1_700_000_000.0,
        updated_at: 1_700_000_000.0 + version as f64,
        tokens_in: 10 * version,
        tokens_out: 20 * version,
        cost: 0.5,
        ..SessionStateRow::new(session, status, "demo")
    }
}

pub fn cascade(session: &str) -> CascadeSessionRow {
    CascadeSessionRow {
        session_id: session.into(),
        cascade_id: "demo".into(),
        cascade_path: "cascades/demo.yaml".into(),
        definition: "cascade_id: demo\nphases:\n  - name: draft\n    instructions: 'It''s \"quoted\"'\n".into(),
        definition_hash: "ab".repeat(32),
        input: r#"{"topic":"rust"}"#.into(),
        parent_session_id: String::new(),
        created_at: 1_700_000_000.0,
    }
}

/// A checkpoint with a state of about `state_bytes` of JSON.
pub fn checkpoint(session: &str, seq: u64, epoch: u64, state_bytes: usize) -> CheckpointRow {
    CheckpointRow {
        session_id: session.into(),
        seq,
        phase: format!("p{seq}"),
        next_phase: format!("p{}", seq + 1),
        state: serde_json::json!({"outputs": {"text": "x".repeat(state_bytes)}}).to_string(),
        cascade_hash: "cd".repeat(32),
        owner_epoch: epoch,
        created_at: 1_700_000_000.0 + seq as f64,
    }
}

pub fn signal(session: &str, id: &str, kind: &str, created_at: f64) -> SignalRow {
    SignalRow {
        signal_id: id.to_string(),
        session_id: session.into(),
        kind: kind.to_string(),
        name: if kind == "named" { "approve".into() } else { String::new() },
        payload: r#""go ahead""#.into(),
        created_at,
    }
}
