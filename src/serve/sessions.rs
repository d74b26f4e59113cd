//! `GET /api/sessions` (filters `status`, `cascade`, `since`; `limit` and `cursor`) and
//! `GET /api/sessions/{id}` (the row, its cascade and input, the phase timeline, what it is
//! blocked on).

use super::error::{session_id, ApiError};
use super::timeline;
use super::ApiState;
use crate::session::claim;
use crate::settings::HumanDuration;
use crate::store::{ListCursor, SessionFilter, SessionStateRow, SessionStatus};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// Sessions a page has unless `limit` says.
const PAGE: usize = 50;
/// The most one page may ask for.
const MAX_PAGE: usize = 1_000;
/// The most log rows read for one session's timeline.
const MAX_LOG_ROWS: usize = 100_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    cascade: Option<String>,
    /// Epoch seconds, or a duration back from now (`2h`).
    since: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// A cursor as the API writes it: `<sort_at>~<session_id>` of the page's last row.
fn cursor_text(c: &ListCursor) -> String {
    format!("{}~{}", c.sort_at, c.session_id)
}

fn parse_cursor(text: &str) -> Result<ListCursor, ApiError> {
    let bad = || ApiError::bad_request(format!("`{text}` is not a cursor: use `next_cursor` of the previous page"));
    let (at, id) = text.split_once('~').ok_or_else(bad)?;
    let sort_at = at.parse::<f64>().ok().filter(|at| at.is_finite()).ok_or_else(bad)?;
    Ok(ListCursor { sort_at, session_id: session_id(id)? })
}

pub async fn list(
    State(st): State<Arc<ApiState>>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(SessionStatus::parse(s).ok_or_else(|| {
            let all: Vec<&str> = SessionStatus::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::bad_request(format!("`{s}` is not a status; use one of {}", all.join(", ")))
        })?),
    };
    let since = match q.since.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(match s.parse::<f64>() {
            Ok(at) if at.is_finite() => at,
            _ => {
                let back = s.parse::<HumanDuration>().map_err(|why| {
                    ApiError::bad_request(format!("`since` takes epoch seconds or a duration: {why}"))
                })?;
                st.store.now().await? - back.get().as_secs_f64()
            }
        }),
    };
    let after = q.cursor.as_deref().map(parse_cursor).transpose()?;
    let limit = q.limit.unwrap_or(PAGE).clamp(1, MAX_PAGE);
    let cascade_id = q.cascade.filter(|c| !c.is_empty());
    // The store applies every filter and the cursor, so one read of a page plus one row (to
    // know whether there is a next page) answers, however deep the page is.
    let filter = SessionFilter { status, cascade_id, since, after, limit: limit + 1 };
    let (mut rows, now) = tokio::try_join!(st.store.list_sessions(&filter), st.store.now())?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more { rows.last().map(|r| cursor_text(&ListCursor::after(r))) } else { None };
    let sessions: Vec<Value> = rows.iter().map(|r| row_json(r, now)).collect();
    Ok(Json(json!({ "sessions": sessions, "next_cursor": next })))
}

/// A session row as the API shows it: its columns, and whether its owner stopped.
pub fn row_json(r: &SessionStateRow, now: f64) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    v["orphan"] = Value::Bool(claim::is_orphan(r, now));
    v
}

pub async fn detail(State(st): State<Arc<ApiState>>, Path(raw): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = session_id(&raw)?;
    let store = &*st.store;
    let (row, cascade, logs, now) = tokio::try_join!(
        store.session_state(&id),
        store.cascade_session(&id),
        store.logs(&id, None, MAX_LOG_ROWS),
        store.now()
    )?;
    let row = row.ok_or_else(|| ApiError::unknown_session(&id))?;
    let question = timeline::question(&row, cascade.as_ref(), &logs);
    let cascade = cascade.map(|c| {
        json!({
            "cascade_id": c.cascade_id,
            "cascade_path": c.cascade_path,
            "definition_hash": c.definition_hash,
            "input": serde_json::from_str::<Value>(&c.input).unwrap_or(Value::Null),
            "created_at": c.created_at,
        })
    });
    let phases = timeline::phases(&logs);
    Ok(Json(json!({
        "session": row_json(&row, now),
        "cascade": cascade,
        "phases": phases,
        "question": question,
        "log_rows": logs.len(),
    })))
}
