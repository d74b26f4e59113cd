//! `GET /api/sessions/{id}/logs?after=CURSOR&limit=N`: a session's log rows in time order, a
//! page at a time; and [`Cursor`], the position in a session's rows that pages and event
//! streams (`Last-Event-ID`) resume from.

use super::error::{session_id, ApiError};
use super::ApiState;
use crate::session_id::SessionId;
use crate::store::{LogRow, Store, StoreError};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::cmp::Ordering;
use std::sync::Arc;

/// Rows a page has unless `limit` says.
const PAGE: usize = 500;
/// The most rows one page may ask for.
const MAX_PAGE: usize = 5_000;

/// A row's place in the store's order of a session's rows (timestamp, then message id),
/// written `<timestamp>~<message_id>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub timestamp: f64,
    pub message_id: String,
}

impl Cursor {
    pub fn of(row: &LogRow) -> Cursor {
        Cursor { timestamp: row.timestamp, message_id: row.message_id.clone() }
    }

    pub fn parse(text: &str) -> Result<Cursor, ApiError> {
        let bad =
            || ApiError::bad_request(format!("`{text}` is not a cursor: use the `id` of an event or `next` of a page"));
        let (ts, id) = text.split_once('~').ok_or_else(bad)?;
        let timestamp: f64 = ts.parse().map_err(|_| bad())?;
        if !timestamp.is_finite() {
            return Err(bad());
        }
        Ok(Cursor { timestamp, message_id: id.to_string() })
    }

    /// Whether `row` comes after this cursor.
    pub fn before(&self, row: &LogRow) -> bool {
        match row.timestamp.partial_cmp(&self.timestamp) {
            Some(Ordering::Greater) => true,
            Some(Ordering::Equal) => row.message_id.as_str() > self.message_id.as_str(),
            _ => false,
        }
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}~{}", self.timestamp, self.message_id)
    }
}

/// Up to `limit` rows of the session after `after`, in order.
pub async fn read_after(
    store: &dyn Store,
    id: &SessionId,
    after: Option<&Cursor>,
    limit: usize,
) -> Result<Vec<LogRow>, StoreError> {
    // The store reads strictly after a timestamp; rows that share the cursor's are sorted out
    // here, so ask a little earlier and for a few more.
    let since = after.map(|c| c.timestamp - 0.001);
    let rows = store.logs(id, since, limit + 64).await?;
    let mut rows: Vec<LogRow> = rows.into_iter().filter(|r| after.is_none_or(|c| c.before(r))).collect();
    rows.truncate(limit);
    Ok(rows)
}

/// A log row as the API shows it: its columns, with `content` decoded when it is JSON.
pub fn row_json(row: &LogRow) -> Value {
    let mut v = serde_json::to_value(row).unwrap_or(Value::Null);
    if let Ok(content) = serde_json::from_str::<Value>(&row.content) {
        v["content"] = content;
    }
    v["cursor"] = Value::String(Cursor::of(row).to_string());
    v
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    after: Option<String>,
    limit: Option<usize>,
}

pub async fn page(
    State(st): State<Arc<ApiState>>,
    Path(raw): Path<String>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = session_id(&raw)?;
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let after = q.after.as_deref().map(Cursor::parse).transpose()?;
    let limit = q.limit.unwrap_or(PAGE).clamp(1, MAX_PAGE);
    if st.store.session_state(&id).await?.is_none() {
        return Err(ApiError::unknown_session(&id));
    }
    let rows = read_after(&*st.store, &id, after.as_ref(), limit).await?;
    let next = (rows.len() == limit).then(|| rows.last().map(|r| Cursor::of(r).to_string())).flatten();
    Ok(Json(json!({ "rows": rows.iter().map(row_json).collect::<Vec<_>>(), "next": next })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_and_order_by_time_then_id() {
        let c = Cursor { timestamp: 1764685200.123456, message_id: "s-1:1:7".into() };
        assert_eq!(Cursor::parse(&c.to_string()).unwrap(), c);
        assert!(Cursor::parse("nope").is_err());
        assert!(Cursor::parse("NaN~x").is_err());
        let row = |ts: f64, id: &str| LogRow::new(id, "s-1", "x", ts, "");
        assert!(c.before(&row(1764685200.2, "a")));
        assert!(c.before(&row(1764685200.123456, "s-1:1:8")));
        assert!(!c.before(&row(1764685200.123456, "s-1:1:7")));
        assert!(!c.before(&row(1764685200.1, "z")));
    }
}
