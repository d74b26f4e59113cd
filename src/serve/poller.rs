//! The store poller of a server process: one task that, every tick, reads the rows of every
//! session that some event stream watches (one `session_states` query for all of them, and
//! one log query per watched session, however many clients watch it) and broadcasts what is
//! new to that session's clients. A server that does not run a session streams it all the
//! same, since everything comes from the store.
//!
//! Each read looks back a few seconds, so a row that became visible late (another process's
//! batch, a ClickHouse insert) is still sent; rows already sent are recognised by id.

use crate::session_id::SessionId;
use crate::store::{LogRow, SessionStateRow, SessionStatus, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// How often the store is read while any client watches, unless `serve --poll` says.
pub const POLL: Duration = Duration::from_millis(300);

/// How far back each read of a session's logs goes again, in seconds.
pub const LOOK_BACK: f64 = 10.0;

/// How many log rows one read of one session takes at most (the rest comes next tick).
const READ_LIMIT: usize = 5_000;

/// How many updates a slow client may fall behind before it catches up from the store.
const CHANNEL: usize = 4_096;

/// What a watched session's clients are sent.
#[derive(Debug, Clone)]
pub enum Update {
    Log(Arc<LogRow>),
    /// The session's row changed (status, phase, what it waits on, totals).
    Status(Arc<SessionStateRow>),
    /// The session ended and its last rows have been sent.
    End(Arc<SessionStateRow>),
}

struct Watch {
    tx: broadcast::Sender<Update>,
    /// The newest timestamp read so far (reads start `LOOK_BACK` before it).
    newest: f64,
    /// Ids of the rows sent, with their timestamps, back to `newest - 2 * LOOK_BACK`.
    sent: HashMap<String, f64>,
    /// What the last status update said.
    last: Option<(SessionStatus, String, String, u64, u64)>,
    /// Ticks since the session was first seen finished; the stream ends after one more read.
    finished_ticks: u32,
}

/// See the module docs.
pub struct Poller {
    store: Arc<dyn Store>,
    watches: Mutex<HashMap<SessionId, Watch>>,
}

impl Poller {
    /// Start polling every `every` until `stopping` turns true or the poller is dropped.
    pub fn start(store: Arc<dyn Store>, every: Duration, stopping: watch::Receiver<bool>) -> Arc<Poller> {
        let poller = Arc::new(Poller { store, watches: Mutex::new(HashMap::new()) });
        tokio::spawn(run(Arc::downgrade(&poller), every, stopping));
        poller
    }

    /// Updates of `session_id` from the next tick on: rows stored up to `LOOK_BACK` seconds
    /// before `since` (store clock) and everything after.
    pub fn subscribe(&self, session_id: &SessionId, since: f64) -> broadcast::Receiver<Update> {
        let mut watches = self.watches.lock().expect("watches");
        let w = watches.entry(session_id.clone()).or_insert_with(|| Watch {
            tx: broadcast::channel(CHANNEL).0,
            newest: since,
            sent: HashMap::new(),
            last: None,
            finished_ticks: 0,
        });
        w.tx.subscribe()
    }

    /// How many sessions are watched now.
    pub fn watched(&self) -> usize {
        self.watches.lock().expect("watches").len()
    }

    /// The watched sessions with clients, forgetting those without.
    fn live(&self) -> Vec<(SessionId, f64)> {
        let mut watches = self.watches.lock().expect("watches");
        watches.retain(|_, w| w.tx.receiver_count() > 0);
        watches.iter().map(|(id, w)| (id.clone(), w.newest)).collect()
    }

    async fn tick(&self) {
        let watched = self.live();
        if watched.is_empty() {
            return;
        }
        let ids: Vec<SessionId> = watched.iter().map(|(id, _)| id.clone()).collect();
        // Rows first, logs after: a session's final row is written after its last log rows
        // were flushed, so logs read after seeing it are complete.
        let Ok(states) = self.store.session_states(&ids).await else { return };
        let states: HashMap<SessionId, SessionStateRow> =
            states.into_iter().map(|r| (r.session_id.clone(), r)).collect();
        let reads = watched.iter().map(|(id, newest)| self.store.logs(id, Some(newest - LOOK_BACK), READ_LIMIT));
        let logs = futures::future::join_all(reads).await;
        let mut watches = self.watches.lock().expect("watches");
        for ((id, _), rows) in watched.iter().zip(logs) {
            let Some(w) = watches.get_mut(id) else { continue };
            // A store that blinks is read again next tick.
            let Ok(rows) = rows else { continue };
            w.deliver(rows, states.get(id));
        }
    }
}

impl Watch {
    fn deliver(&mut self, rows: Vec<LogRow>, state: Option<&SessionStateRow>) {
        for row in rows {
            self.newest = self.newest.max(row.timestamp);
            if self.sent.contains_key(&row.message_id) {
                continue;
            }
            self.sent.insert(row.message_id.clone(), row.timestamp);
            let _ = self.tx.send(Update::Log(Arc::new(row)));
        }
        let horizon = self.newest - 2.0 * LOOK_BACK;
        self.sent.retain(|_, ts| *ts >= horizon);
        let Some(state) = state else { return };
        let now = (
            state.status,
            state.current_phase.clone(),
            state.blocked_on.clone(),
            state.tokens_in + state.tokens_out,
            state.cost.to_bits(),
        );
        if self.last.as_ref() != Some(&now) {
            self.last = Some(now);
            let _ = self.tx.send(Update::Status(Arc::new(state.clone())));
        }
        if state.status.is_finished() {
            self.finished_ticks += 1;
            if self.finished_ticks == 2 {
                let _ = self.tx.send(Update::End(Arc::new(state.clone())));
            }
        }
    }
}

async fn run(poller: Weak<Poller>, every: Duration, mut stopping: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopping.changed() => return,
        }
        if *stopping.borrow() {
            return;
        }
        let Some(poller) = poller.upgrade() else { return };
        poller.tick().await;
    }
}
