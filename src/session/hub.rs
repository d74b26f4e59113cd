//! The process's signal poller: one query a tick for every session this process runs,
//! however many there are, routed to each session's [`Mailbox`].
//!
//! A session registering loads its whole signal history once (so a message sent while it
//! was down, or consumed before a crash, is handled right); after that the poller reads
//! only new rows, with a look-back window so a row that became visible late (another
//! machine's insert) is not missed. Mailboxes drop rows they have seen.

use super::mailbox::Mailbox;
use super::signals::{self, BROADCAST};
use crate::session_id::SessionId;
use crate::store::{SignalRow, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// How often the store is asked for new signals while any session is registered. Blocked
/// sessions see a signal within this (store.md asks for at least once a second).
pub const POLL: Duration = Duration::from_millis(250);

/// How far back each poll reads again, in seconds.
const LOOK_BACK: f64 = 10.0;

/// See the module docs.
pub struct Hub {
    store: Arc<dyn Store>,
    boxes: Mutex<HashMap<SessionId, Weak<Mailbox>>>,
}

impl Hub {
    /// Start polling on the current runtime; the poller ends when the hub is dropped.
    pub async fn start(store: Arc<dyn Store>) -> Result<Arc<Hub>, StoreError> {
        let cursor = store.now().await?;
        let hub = Arc::new(Hub { store, boxes: Mutex::new(HashMap::new()) });
        tokio::spawn(poll(Arc::downgrade(&hub), cursor));
        Ok(hub)
    }

    /// The mailbox of `session_id`, with every signal already addressed to it. Broadcast
    /// signals count from `broadcasts_since` (the session's start, store clock).
    pub async fn register(&self, session_id: &SessionId, broadcasts_since: f64) -> Result<Arc<Mailbox>, StoreError> {
        let mailbox = Arc::new(Mailbox::new(self.store.clone(), session_id, broadcasts_since));
        self.boxes.lock().expect("hub").insert(session_id.clone(), Arc::downgrade(&mailbox));
        // Both in one query when the store batches reads.
        let broadcast = signals::broadcast();
        let (mut history, broadcasts) =
            tokio::try_join!(self.store.signals(session_id), self.store.signals(&broadcast))?;
        history.extend(broadcasts.into_iter().filter(|r| r.created_at >= broadcasts_since));
        mailbox.offer(&history);
        Ok(mailbox)
    }

    /// Stop delivering to `session_id`.
    pub fn unregister(&self, session_id: &SessionId) {
        self.boxes.lock().expect("hub").remove(session_id);
    }

    fn live(&self) -> Vec<Arc<Mailbox>> {
        let mut boxes = self.boxes.lock().expect("hub");
        boxes.retain(|_, b| b.strong_count() > 0);
        boxes.values().filter_map(Weak::upgrade).collect()
    }
}

async fn poll(hub: Weak<Hub>, mut cursor: f64) {
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(hub) = hub.upgrade() else { return };
        let boxes = hub.live();
        if boxes.is_empty() {
            continue;
        }
        // A store that blinks is asked again next tick.
        let Ok(rows) = hub.store.signals_since(cursor - LOOK_BACK).await else { continue };
        cursor = rows.iter().map(|r| r.created_at).fold(cursor, f64::max);
        if rows.is_empty() {
            continue;
        }
        let mut by_session: HashMap<&str, Vec<SignalRow>> = HashMap::new();
        let mut broadcast: Vec<SignalRow> = Vec::new();
        for r in rows.iter() {
            if r.session_id == BROADCAST {
                broadcast.push(r.clone());
            } else {
                by_session.entry(r.session_id.as_str()).or_default().push(r.clone());
            }
        }
        for b in boxes {
            let mut mine = by_session.remove(b.session_id().as_str()).unwrap_or_default();
            mine.extend(broadcast.iter().cloned());
            if !mine.is_empty() {
                b.offer(&mine);
            }
        }
    }
}
