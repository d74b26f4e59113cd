//! `GET /api/sessions` (filters `status`, `cascade`, `since`; `limit` and `cursor`) and
//! `GET /api/sessions/{id}` (the row, its cascade and input, the phase timeline, what it is
//! blocked on).

use super::error::{session_id, ApiError};
use super::timeline;
use super::ApiState;
use crate::session::claim;
use crate::settings::HumanDuration;
use crate::store::{SessionFilter, SessionStateRow, SessionStatus};
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
/// The most rows read from the store to find one page (filters and cursors are applied here).
const MAX_SCAN: usize = 200_000;
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

/// When a session sorts in the list (newest first): its start, or when it was queued.
fn sort_at(r: &SessionStateRow) -> f64 {
    if r.started_at > 0.0 {
        r.started_at
    } else {
        r.updated_at
    }
}

/// Where the previous page ended: `<sort_at>~<session_id>`.
fn after_cursor(cursor: &str, r: &SessionStateRow) -> bool {
    let Some((at, id)) = cursor.split_once('~') else { return true };
    let at: f64 = at.parse().unwrap_or(f64::INFINITY);
    let mine = sort_at(r);
    mine < at || (mine == at && r.session_id.as_str() > id)
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
            Ok(at) => at,
            Err(_) => {
                let back = s.parse::<HumanDuration>().map_err(|why| {
                    ApiError::bad_request(format!("`since` takes epoch seconds or a duration: {why}"))
                })?;
                st.store.now().await? - back.get().as_secs_f64()
            }
        }),
    };
    if let Some(c) = &q.cursor {
        if c.split_once('~').is_none_or(|(at, _)| at.parse::<f64>().is_err()) {
            return Err(ApiError::bad_request(format!(
                "`{c}` is not a cursor: use `next_cursor` of the previous page"
            )));
        }
    }
    let limit = q.limit.unwrap_or(PAGE).clamp(1, MAX_PAGE);
    let cascade_id = q.cascade.filter(|c| !c.is_empty());
    // The store lists newest first with a limit; read more until the page is full or the
    // store has no more (a cursor deep in the list, or `since`, is found by reading on).
    let mut scan = limit + 1;
    let (rows, more) = loop {
        let filter = SessionFilter { status, cascade_id: cascade_id.clone(), limit: scan };
        let read = st.store.list_sessions(&filter).await?;
        let exhausted = read.len() < scan;
        let past_since = since.is_some_and(|s| read.last().is_some_and(|r| sort_at(r) < s));
        let page: Vec<SessionStateRow> = read
            .into_iter()
            .filter(|r| q.cursor.as_deref().is_none_or(|c| after_cursor(c, r)))
            .filter(|r| since.is_none_or(|s| sort_at(r) >= s))
            .take(limit + 1)
            .collect();
        if page.len() > limit || exhausted || past_since || scan >= MAX_SCAN {
            let more = page.len() > limit;
            break (page.into_iter().take(limit).collect::<Vec<_>>(), more);
        }
        scan = (scan * 4).min(MAX_SCAN);
    };
    let now = st.store.now().await?;
    let next = more.then(|| rows.last().map(|r| format!("{}~{}", sort_at(r), r.session_id))).flatten();
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
