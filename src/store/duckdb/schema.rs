//! The five tables on DuckDB and the mapping between their rows and the row structs.
//!
//! Column names are the struct field names (store.md: `windlass sql` works on either backend).
//! No keys or indexes: rows are only appended, duplicates are dropped when reading, and an index
//! would slow down the inserts that carry the log stream.

use crate::session_id::SessionId;
use crate::store::rows::{CascadeSessionRow, CheckpointRow, LogRow, SessionStateRow, SessionStatus, SignalRow};
use ::duckdb::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use ::duckdb::{params, Connection, Row};

const DDL: &str = "
CREATE TABLE IF NOT EXISTS unified_logs (
    message_id VARCHAR NOT NULL, session_id VARCHAR NOT NULL, parent_session_id VARCHAR,
    cascade_id VARCHAR, phase_name VARCHAR, sounding_index INTEGER, attempt UINTEGER,
    turn UINTEGER, node_type VARCHAR, role VARCHAR, timestamp DOUBLE, model VARCHAR,
    tokens_in UBIGINT, tokens_out UBIGINT, cost DOUBLE, duration_ms UBIGINT,
    request_hash VARCHAR, content VARCHAR);
CREATE TABLE IF NOT EXISTS session_state (
    session_id VARCHAR NOT NULL, version UBIGINT NOT NULL, status VARCHAR, cascade_id VARCHAR,
    parent_session_id VARCHAR, current_phase VARCHAR, blocked_on VARCHAR, heartbeat_at DOUBLE,
    lease_seconds DOUBLE, owner VARCHAR, owner_epoch UBIGINT, cancel_requested UTINYINT,
    error_message VARCHAR, started_at DOUBLE, updated_at DOUBLE, completed_at DOUBLE,
    tokens_in UBIGINT, tokens_out UBIGINT, cost DOUBLE);
CREATE TABLE IF NOT EXISTS cascade_sessions (
    session_id VARCHAR NOT NULL, cascade_id VARCHAR, cascade_path VARCHAR, definition VARCHAR,
    definition_hash VARCHAR, input VARCHAR, parent_session_id VARCHAR, created_at DOUBLE);
CREATE TABLE IF NOT EXISTS checkpoints (
    session_id VARCHAR NOT NULL, seq UBIGINT NOT NULL, phase VARCHAR, next_phase VARCHAR,
    state VARCHAR, cascade_hash VARCHAR, owner_epoch UBIGINT, created_at DOUBLE);
CREATE TABLE IF NOT EXISTS signals (
    signal_id VARCHAR NOT NULL, session_id VARCHAR NOT NULL, kind VARCHAR, name VARCHAR,
    payload VARCHAR, created_at DOUBLE);
";

// Session ids are `VARCHAR` columns.
impl ToSql for SessionId {
    fn to_sql(&self) -> ::duckdb::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for SessionId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        String::column_result(value).map(SessionId::from)
    }
}

/// Create the tables if they are missing (idempotent, any process).
pub fn create_tables(conn: &Connection) -> ::duckdb::Result<()> {
    conn.execute_batch(DDL)
}

// Column lists in the order of the struct fields (and of the tables above).
pub const LOG_COLUMNS: &str = "message_id, session_id, parent_session_id, cascade_id, phase_name, \
    sounding_index, attempt, turn, node_type, role, timestamp, model, tokens_in, tokens_out, cost, \
    duration_ms, request_hash, content";
pub const STATE_COLUMNS: &str = "session_id, version, status, cascade_id, parent_session_id, \
    current_phase, blocked_on, heartbeat_at, lease_seconds, owner, owner_epoch, cancel_requested, \
    error_message, started_at, updated_at, completed_at, tokens_in, tokens_out, cost";
pub const CASCADE_COLUMNS: &str =
    "session_id, cascade_id, cascade_path, definition, definition_hash, input, parent_session_id, created_at";
pub const CHECKPOINT_COLUMNS: &str = "session_id, seq, phase, next_phase, state, cascade_hash, owner_epoch, created_at";
pub const SIGNAL_COLUMNS: &str = "signal_id, session_id, kind, name, payload, created_at";

pub fn log_from(r: &Row<'_>) -> ::duckdb::Result<LogRow> {
    Ok(LogRow {
        message_id: r.get(0)?,
        session_id: r.get(1)?,
        parent_session_id: text(r, 2)?,
        cascade_id: text(r, 3)?,
        phase_name: text(r, 4)?,
        sounding_index: r.get::<_, Option<i32>>(5)?.unwrap_or(-1),
        attempt: num(r, 6)?,
        turn: num(r, 7)?,
        node_type: text(r, 8)?,
        role: text(r, 9)?,
        timestamp: num(r, 10)?,
        model: text(r, 11)?,
        tokens_in: num(r, 12)?,
        tokens_out: num(r, 13)?,
        cost: num(r, 14)?,
        duration_ms: num(r, 15)?,
        request_hash: text(r, 16)?,
        content: text(r, 17)?,
    })
}

/// Append rows with DuckDB's appender: measured here, a prepared single-row INSERT costs
/// about 0.6 ms a row, which a worker ending hundreds of sessions at once pays hundreds of
/// times. The appender writes into the open transaction, so a batch still commits whole.
pub fn insert_states(conn: &Connection, rows: &[SessionStateRow]) -> ::duckdb::Result<()> {
    let mut app = conn.appender("session_state")?;
    for r in rows {
        app.append_row(params![
            r.session_id,
            r.version,
            r.status.as_str(),
            r.cascade_id,
            r.parent_session_id,
            r.current_phase,
            r.blocked_on,
            r.heartbeat_at,
            r.lease_seconds,
            r.owner,
            r.owner_epoch,
            u8::from(r.cancel_requested),
            r.error_message,
            r.started_at,
            r.updated_at,
            r.completed_at,
            r.tokens_in,
            r.tokens_out,
            r.cost
        ])?;
    }
    app.flush()
}

pub fn state_from(r: &Row<'_>) -> ::duckdb::Result<SessionStateRow> {
    Ok(SessionStateRow {
        session_id: r.get(0)?,
        version: r.get(1)?,
        status: SessionStatus::from_stored(&text(r, 2)?),
        cascade_id: text(r, 3)?,
        parent_session_id: text(r, 4)?,
        current_phase: text(r, 5)?,
        blocked_on: text(r, 6)?,
        heartbeat_at: num(r, 7)?,
        lease_seconds: num(r, 8)?,
        owner: text(r, 9)?,
        owner_epoch: num(r, 10)?,
        cancel_requested: num::<u8>(r, 11)? != 0,
        error_message: text(r, 12)?,
        started_at: num(r, 13)?,
        updated_at: num(r, 14)?,
        completed_at: num(r, 15)?,
        tokens_in: num(r, 16)?,
        tokens_out: num(r, 17)?,
        cost: num(r, 18)?,
    })
}

pub fn insert_cascades(conn: &Connection, rows: &[CascadeSessionRow]) -> ::duckdb::Result<()> {
    let mut app = conn.appender("cascade_sessions")?;
    for r in rows {
        app.append_row(params![
            r.session_id,
            r.cascade_id,
            r.cascade_path,
            r.definition,
            r.definition_hash,
            r.input,
            r.parent_session_id,
            r.created_at
        ])?;
    }
    app.flush()
}

pub fn cascade_from(r: &Row<'_>) -> ::duckdb::Result<CascadeSessionRow> {
    Ok(CascadeSessionRow {
        session_id: r.get(0)?,
        cascade_id: text(r, 1)?,
        cascade_path: text(r, 2)?,
        definition: text(r, 3)?,
        definition_hash: text(r, 4)?,
        input: text(r, 5)?,
        parent_session_id: text(r, 6)?,
        created_at: num(r, 7)?,
    })
}

pub fn insert_checkpoints(conn: &Connection, rows: &[CheckpointRow]) -> ::duckdb::Result<()> {
    let mut app = conn.appender("checkpoints")?;
    for r in rows {
        app.append_row(params![
            r.session_id,
            r.seq,
            r.phase,
            r.next_phase,
            r.state,
            r.cascade_hash,
            r.owner_epoch,
            r.created_at
        ])?;
    }
    app.flush()
}

pub fn checkpoint_from(r: &Row<'_>) -> ::duckdb::Result<CheckpointRow> {
    Ok(CheckpointRow {
        session_id: r.get(0)?,
        seq: r.get(1)?,
        phase: text(r, 2)?,
        next_phase: text(r, 3)?,
        state: text(r, 4)?,
        cascade_hash: text(r, 5)?,
        owner_epoch: num(r, 6)?,
        created_at: num(r, 7)?,
    })
}

pub fn insert_signals(conn: &Connection, rows: &[SignalRow]) -> ::duckdb::Result<()> {
    let mut app = conn.appender("signals")?;
    for r in rows {
        app.append_row(params![r.signal_id, r.session_id, r.kind, r.name, r.payload, r.created_at])?;
    }
    app.flush()
}

pub fn signal_from(r: &Row<'_>) -> ::duckdb::Result<SignalRow> {
    Ok(SignalRow {
        signal_id: r.get(0)?,
        session_id: r.get(1)?,
        kind: text(r, 2)?,
        name: text(r, 3)?,
        payload: text(r, 4)?,
        created_at: num(r, 5)?,
    })
}

/// A text column; NULL (a row written by hand through `duckdb`) reads as empty.
fn text(r: &Row<'_>, i: usize) -> ::duckdb::Result<String> {
    Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
}

/// A numeric column; NULL reads as zero.
fn num<T: ::duckdb::types::FromSql + Default>(r: &Row<'_>, i: usize) -> ::duckdb::Result<T> {
    Ok(r.get::<_, Option<T>>(i)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(id: &str) -> SignalRow {
        SignalRow {
            signal_id: id.into(),
            session_id: "s".into(),
            kind: "message".into(),
            name: String::new(),
            payload: "{}".into(),
            created_at: 1.0,
        }
    }

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM signals", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn appended_rows_belong_to_the_open_transaction() {
        let conn = Connection::open_in_memory().unwrap();
        create_tables(&conn).unwrap();
        conn.execute_batch("BEGIN TRANSACTION").unwrap();
        insert_signals(&conn, &[signal("a"), signal("b")]).unwrap();
        conn.execute_batch("ROLLBACK").unwrap();
        assert_eq!(count(&conn), 0, "a rolled-back batch leaves nothing");
        conn.execute_batch("BEGIN TRANSACTION").unwrap();
        insert_signals(&conn, &[signal("a"), signal("b")]).unwrap();
        conn.execute_batch("COMMIT").unwrap();
        insert_signals(&conn, &[signal("c")]).unwrap();
        assert_eq!(count(&conn), 3);
        let read: Vec<SignalRow> = conn
            .prepare(&format!("SELECT {SIGNAL_COLUMNS} FROM signals ORDER BY signal_id"))
            .unwrap()
            .query_map([], signal_from)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(read[2], signal("c"));
    }
}
