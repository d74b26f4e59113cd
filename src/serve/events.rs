//! `GET /api/sessions/{id}/events`: Server-Sent Events of a session. One event per log row
//! (`event:` its node type, `id:` its [`Cursor`], `data:` the row as JSON), a `status` event
//! with the session's row first and whenever it changes, and an `end` event after the final
//! row, when the stream closes.
//!
//! A client that reconnects with `Last-Event-ID` (or `?after=`) first gets, from the store,
//! every row after that cursor, then the live rows of the process's [`Poller`]; rows are
//! recognised by id, so none is sent twice and none between the two is missed (the
//! subscription starts before the store is read).
//!
//! [`Poller`]: super::poller::Poller

use super::error::{session_id, ApiError};
use super::logs::{read_after, row_json, Cursor};
use super::poller::{Update, LOOK_BACK};
use super::ApiState;
use crate::session_id::SessionId;
use crate::store::{LogRow, SessionStateRow};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Rows read from the store per query while catching up.
const CATCH_UP_PAGE: usize = 1_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// The same as `Last-Event-ID`, for clients that cannot set headers.
    after: Option<String>,
}

pub async fn stream(
    State(st): State<Arc<ApiState>>,
    Path(raw): Path<String>,
    Query(q): Query<EventsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = session_id(&raw)?;
    let resume = headers.get("last-event-id").and_then(|v| v.to_str().ok()).or(q.after.as_deref());
    let resume = resume.filter(|c| !c.is_empty()).map(Cursor::parse).transpose()?;
    let now = st.store.now().await?;
    // Subscribe before reading: whatever is stored from here on reaches the client live.
    let live = st.poller.subscribe(&id, resume.as_ref().map_or(now, |c| c.timestamp.min(now)));
    let row = st.store.session_state(&id).await?.ok_or_else(|| ApiError::unknown_session(&id))?;
    let (tx, rx) = mpsc::channel::<Event>(256);
    tokio::spawn(Feed { st: st.clone(), id, sent: Sent::new(resume), tx, last_status: None }.run(row, live));
    let events =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx)) });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response())
}

/// What one client has been sent.
struct Sent {
    /// Rows up to here were sent on an earlier connection.
    floor: Option<Cursor>,
    /// The newest row sent on this one.
    last: Option<Cursor>,
    ids: HashSet<String>,
}

impl Sent {
    fn new(floor: Option<Cursor>) -> Sent {
        Sent { last: floor.clone(), floor, ids: HashSet::new() }
    }

    /// Whether `row` is still to be sent (and now counts as sent).
    fn take(&mut self, row: &LogRow) -> bool {
        if self.floor.as_ref().is_some_and(|f| !f.before(row)) || !self.ids.insert(row.message_id.clone()) {
            return false;
        }
        if self.last.as_ref().is_none_or(|l| l.before(row)) {
            self.last = Some(Cursor::of(row));
        }
        true
    }
}

struct Feed {
    st: Arc<ApiState>,
    id: SessionId,
    sent: Sent,
    tx: mpsc::Sender<Event>,
    /// The last session row sent, so an unchanged one is not sent again (the poller's first
    /// read of a session repeats the row this stream started with).
    last_status: Option<String>,
}

/// The client went away, or the server stops.
struct Gone;

impl Feed {
    async fn run(mut self, row: SessionStateRow, mut live: broadcast::Receiver<Update>) {
        let _ = self.run_inner(row, &mut live).await;
    }

    async fn run_inner(&mut self, row: SessionStateRow, live: &mut broadcast::Receiver<Update>) -> Result<(), Gone> {
        let finished = is_finished(&row);
        let from = self.sent.floor.clone();
        self.catch_up(from).await?;
        self.send_status(&row).await?;
        if finished {
            // The row was read before the logs, so the logs just sent are all of them.
            return self.send(end(&row)).await;
        }
        let mut stopping = self.st.stopping.clone();
        loop {
            let update = tokio::select! {
                u = live.recv() => u,
                _ = stopping.changed() => return Err(Gone),
                _ = self.tx.closed() => return Err(Gone),
            };
            match update {
                Ok(Update::Log(r)) => {
                    if self.sent.take(&r) {
                        self.send(log(&r)).await?;
                    }
                }
                Ok(Update::Status(r)) => self.send_status(&r).await?,
                Ok(Update::End(r)) => return self.send(end(&r)).await,
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let from = self.sent.last.clone().map(|c| Cursor { timestamp: c.timestamp - LOOK_BACK, ..c });
                    self.catch_up(from).await?;
                }
                Err(broadcast::error::RecvError::Closed) => return Err(Gone),
            }
        }
    }

    /// Send every stored row after `from` not sent yet.
    async fn catch_up(&mut self, mut from: Option<Cursor>) -> Result<(), Gone> {
        loop {
            let rows = match read_after(&*self.st.store, &self.id, from.as_ref(), CATCH_UP_PAGE).await {
                Ok(rows) => rows,
                Err(e) => {
                    // The live rows still come; say the history is incomplete.
                    let data = serde_json::json!({ "error": e.to_string() }).to_string();
                    return self.send(Event::default().event("error").data(data)).await;
                }
            };
            let full = rows.len() == CATCH_UP_PAGE;
            for r in &rows {
                if self.sent.take(r) {
                    self.send(log(r)).await?;
                }
            }
            match rows.last() {
                Some(r) if full => from = Some(Cursor::of(r)),
                _ => return Ok(()),
            }
        }
    }

    async fn send_status(&mut self, row: &SessionStateRow) -> Result<(), Gone> {
        let key = format!(
            "{}|{}|{}|{}|{}|{}",
            row.status, row.current_phase, row.blocked_on, row.tokens_in, row.tokens_out, row.cost
        );
        if self.last_status.as_deref() == Some(key.as_str()) {
            return Ok(());
        }
        self.last_status = Some(key);
        self.send(status(row)).await
    }

    async fn send(&self, e: Event) -> Result<(), Gone> {
        self.tx.send(e).await.map_err(|_| Gone)
    }
}

fn is_finished(row: &SessionStateRow) -> bool {
    row.status.is_finished()
}

fn log(row: &LogRow) -> Event {
    Event::default().event(row.node_type.as_str()).id(Cursor::of(row).to_string()).data(row_json(row).to_string())
}

fn status(row: &SessionStateRow) -> Event {
    Event::default().event("status").data(serde_json::to_string(row).unwrap_or_default())
}

fn end(row: &SessionStateRow) -> Event {
    Event::default().event("end").data(serde_json::json!({ "status": row.status }).to_string())
}
