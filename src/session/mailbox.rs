//! One running session's inbox: the messages, named signals and cancellation addressed to
//! it, delivered by the process's [`super::hub::Hub`], each consumed once.
//!
//! Consuming appends a `consumed` row before the signal takes effect, so a resumed session
//! never sees it again. While the session waits here (for a human answer or a named
//! signal) its row says `blocked` and what it waits on.

use super::signals::{self, kind, Signal, BROADCAST};
use super::Durable;
use crate::session_id::SessionId;
use crate::store::{SessionStatus, SignalRow, Store, StoreError};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// What the session waits on, for its row's `blocked_on`.
pub fn waiting_for_human(question: &str) -> String {
    let q: String = question.chars().take(200).collect();
    format!("human: {q}")
}

pub fn waiting_for_signal(name: &str) -> String {
    format!("signal: {name}")
}

#[derive(Default)]
struct Inbox {
    /// Ids of signals already offered (so a row read twice is queued once).
    seen: HashSet<String>,
    consumed: HashSet<String>,
    /// Messages and named signals not consumed yet, in arrival order.
    pending: Vec<Signal>,
    /// The highest epoch any claim on this session names.
    highest_claim: u64,
    /// What the session waits on right now.
    blocked_on: Option<String>,
}

/// See the module docs.
pub struct Mailbox {
    store: Arc<dyn Store>,
    session_id: SessionId,
    /// Broadcast signals created before this are not for this session.
    broadcasts_since: f64,
    durable: Mutex<Option<Arc<Durable>>>,
    inbox: Mutex<Inbox>,
    arrived: Notify,
    cancel: watch::Sender<Option<String>>,
    /// The session was stopped while a human question was open: the first message is its
    /// answer, not feedback.
    answer_owed: std::sync::atomic::AtomicBool,
}

impl Mailbox {
    pub(super) fn new(store: Arc<dyn Store>, session_id: &SessionId, broadcasts_since: f64) -> Mailbox {
        Mailbox {
            store,
            session_id: session_id.clone(),
            broadcasts_since,
            durable: Mutex::new(None),
            inbox: Mutex::new(Inbox::default()),
            arrived: Notify::new(),
            cancel: watch::channel(None).0,
            answer_owed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The session resumes where a human question was open: keep the first message for
    /// the answer (a resumed phase asks again before its next LLM call would take it).
    pub fn owe_answer(&self) {
        self.answer_owed.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn session_id(&self) -> &SessionId {
        &self.session_id
    }

    /// The session's durable side, whose row shows when it is blocked.
    pub fn attach(&self, durable: Arc<Durable>) {
        *self.durable.lock().expect("mailbox") = Some(durable);
    }

    /// Take in rows read from the store (any order; duplicates are fine).
    pub(super) fn offer(&self, rows: &[SignalRow]) {
        let mut woke = false;
        let mut cancel = None;
        {
            let mut inbox = self.inbox.lock().expect("mailbox");
            for r in rows.iter().filter(|r| r.kind == kind::CONSUMED && r.session_id == self.session_id) {
                inbox.consumed.insert(r.signal_id.clone());
                let id = &r.signal_id;
                inbox.pending.retain(|s| &s.id != id);
            }
            for r in rows {
                let mine = r.session_id == self.session_id;
                let broadcast = r.session_id == BROADCAST && r.created_at >= self.broadcasts_since;
                if !(mine || broadcast) || r.kind == kind::CONSUMED {
                    continue;
                }
                if let Some(epoch) = signals::claim_epoch(r) {
                    inbox.highest_claim = inbox.highest_claim.max(epoch);
                    continue;
                }
                if inbox.consumed.contains(&r.signal_id) || !inbox.seen.insert(r.signal_id.clone()) {
                    continue;
                }
                match r.kind.as_str() {
                    kind::CANCEL if mine => {
                        let s = Signal::from_row(r);
                        let reason = s.payload.get("reason").and_then(Value::as_str).unwrap_or("").to_string();
                        cancel = Some(reason);
                    }
                    kind::MESSAGE if mine => {
                        inbox.pending.push(Signal::from_row(r));
                        woke = true;
                    }
                    kind::NAMED => {
                        inbox.pending.push(Signal::from_row(r));
                        woke = true;
                    }
                    _ => {}
                }
            }
        }
        if let Some(reason) = cancel {
            self.cancel.send_replace(Some(reason));
        }
        if woke {
            self.arrived.notify_waiters();
        }
    }

    /// Whether a claim for a later epoch than `epoch` has been seen (the session was taken
    /// over; the owner of `epoch` must stop writing).
    pub fn fenced(&self, epoch: u64) -> Option<u64> {
        let highest = self.inbox.lock().expect("mailbox").highest_claim;
        (highest > epoch).then_some(highest)
    }

    /// The reason, once `windlass cancel` reached this session.
    pub fn cancel_requested(&self) -> Option<String> {
        self.cancel.borrow().clone()
    }

    /// Resolves with the reason when the session is cancelled.
    pub async fn cancelled(&self) -> String {
        let mut rx = self.cancel.subscribe();
        loop {
            if let Some(reason) = rx.borrow_and_update().clone() {
                return reason;
            }
            if rx.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }

    /// What the session waits on, if it is blocked.
    pub fn blocked_on(&self) -> Option<String> {
        self.inbox.lock().expect("mailbox").blocked_on.clone()
    }

    /// Pending messages, oldest first, at most `limit` of them (`None`: all), consumed
    /// (feedback for the next LLM call). The others stay for later.
    pub async fn take_messages(&self, limit: Option<usize>) -> Vec<Signal> {
        let taken: Vec<Signal> = {
            let mut inbox = self.inbox.lock().expect("mailbox");
            let (mut msgs, mut rest): (Vec<Signal>, Vec<Signal>) =
                std::mem::take(&mut inbox.pending).into_iter().partition(|s| s.kind == kind::MESSAGE);
            if self.answer_owed.load(std::sync::atomic::Ordering::Relaxed) && !msgs.is_empty() {
                rest.insert(0, msgs.remove(0));
            }
            if let Some(n) = limit.filter(|n| *n < msgs.len()) {
                rest.extend(msgs.split_off(n));
            }
            inbox.pending = rest;
            msgs
        };
        for s in &taken {
            self.mark_consumed(s).await;
        }
        taken
    }

    /// Wait for the next message (a human's answer), blocked on `what`; `None` on timeout.
    pub async fn wait_message(&self, what: &str, timeout: Option<Duration>) -> Option<Signal> {
        self.wait(what, timeout, |s| s.kind == kind::MESSAGE).await
    }

    /// Wait for the named signal; `None` on timeout.
    pub async fn wait_named(&self, name: &str, timeout: Option<Duration>) -> Option<Signal> {
        self.wait(&waiting_for_signal(name), timeout, |s| s.kind == kind::NAMED && s.name == name).await
    }

    async fn wait(&self, what: &str, timeout: Option<Duration>, wanted: impl Fn(&Signal) -> bool) -> Option<Signal> {
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let mut blocked = false;
        let found = loop {
            let notified = self.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let hit = {
                let mut inbox = self.inbox.lock().expect("mailbox");
                let pos = inbox.pending.iter().position(&wanted);
                pos.map(|i| inbox.pending.remove(i))
            };
            if let Some(s) = hit {
                break Some(s);
            }
            if !blocked {
                blocked = true;
                self.set_blocked(Some(what)).await;
            }
            match deadline {
                Some(d) => {
                    if tokio::time::timeout_at(d, notified).await.is_err() {
                        break None;
                    }
                }
                None => notified.await,
            }
        };
        if blocked {
            self.set_blocked(None).await;
        }
        if let Some(s) = &found {
            if s.kind == kind::MESSAGE {
                self.answer_owed.store(false, std::sync::atomic::Ordering::Relaxed);
            }
            self.mark_consumed(s).await;
        }
        found
    }

    async fn set_blocked(&self, what: Option<&str>) {
        self.inbox.lock().expect("mailbox").blocked_on = what.map(str::to_string);
        let durable = self.durable.lock().expect("mailbox").clone();
        if let Some(d) = durable {
            let (status, on) = match what {
                Some(w) => (SessionStatus::Blocked, w.to_string()),
                None => (SessionStatus::Running, String::new()),
            };
            // The heartbeat re-sends the row, so a failed write here heals itself.
            let _ = d
                .update(|r| {
                    r.status = status;
                    r.blocked_on = on;
                })
                .await;
        }
    }

    /// Record that this session consumed `s`, before it takes effect.
    async fn mark_consumed(&self, s: &Signal) {
        self.inbox.lock().expect("mailbox").consumed.insert(s.id.clone());
        let now = crate::session::durable::now();
        let row = signals::consumed(&self.session_id, &s.id, now);
        for attempt in 0..5u32 {
            match self.store.put_signal(&row).await {
                Ok(()) => return,
                Err(StoreError::Unavailable { .. }) if attempt < 4 => {
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await
                }
                Err(_) => return,
            }
        }
    }

    /// Fire a named signal for every session waiting on it (`fire_signal`).
    pub async fn fire(&self, name: &str, payload: &Value) -> Result<(), StoreError> {
        let now = self.store.now().await?;
        self.store.put_signal(&signals::named(&signals::broadcast(), name, payload, now)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DuckStore;

    fn mailbox() -> (tempfile::TempDir, Mailbox) {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(DuckStore::open(dir.path()).unwrap());
        (dir, Mailbox::new(store, &SessionId::new("s1"), 100.0))
    }

    #[tokio::test]
    async fn each_signal_is_delivered_once_and_broadcasts_only_when_recent() {
        let (_dir, mb) = mailbox();
        let m = signals::message(&SessionId::new("s1"), "hello", 101.0);
        let old = signals::named(&signals::broadcast(), "go", &Value::Null, 50.0);
        let other = signals::message(&SessionId::new("s2"), "not mine", 101.0);
        mb.offer(&[m.clone(), m.clone(), old, other]);
        let got = mb.take_messages(None).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].text(), "hello");
        mb.offer(std::slice::from_ref(&m));
        assert!(mb.take_messages(None).await.is_empty());
        assert!(mb.wait_named("go", Some(Duration::from_millis(20))).await.is_none());
        mb.offer(&[signals::named(&signals::broadcast(), "go", &serde_json::json!({"n": 1}), 102.0)]);
        let s = mb.wait_named("go", Some(Duration::from_secs(1))).await.unwrap();
        assert_eq!(s.payload["n"], 1);
    }

    #[tokio::test]
    async fn messages_past_a_limit_wait_their_turn() {
        let (_dir, mb) = mailbox();
        let rows: Vec<SignalRow> =
            (0..3).map(|i| signals::message(&SessionId::new("s1"), &format!("m{i}"), 101.0 + i as f64)).collect();
        mb.offer(&rows);
        assert!(mb.take_messages(Some(0)).await.is_empty());
        let first: Vec<String> = mb.take_messages(Some(2)).await.iter().map(|s| s.text()).collect();
        assert_eq!(first, ["m0", "m1"]);
        let rest: Vec<String> = mb.take_messages(None).await.iter().map(|s| s.text()).collect();
        assert_eq!(rest, ["m2"]);
    }

    #[tokio::test]
    async fn consumed_markers_from_an_earlier_run_hide_signals() {
        let (_dir, mb) = mailbox();
        let m = signals::message(&SessionId::new("s1"), "answered before the crash", 101.0);
        mb.offer(&[m.clone(), signals::consumed(&SessionId::new("s1"), &m.signal_id, 102.0)]);
        assert!(mb.take_messages(None).await.is_empty());
    }

    #[tokio::test]
    async fn a_waiter_wakes_when_its_signal_arrives_and_cancel_is_seen() {
        let (_dir, mb) = mailbox();
        let mb = Arc::new(mb);
        let waiter = {
            let mb = mb.clone();
            tokio::spawn(async move { mb.wait_message("human: ok?", None).await })
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(mb.blocked_on().as_deref(), Some("human: ok?"));
        mb.offer(&[signals::message(&SessionId::new("s1"), "yes", 101.0)]);
        assert_eq!(waiter.await.unwrap().unwrap().text(), "yes");
        assert_eq!(mb.blocked_on(), None);
        assert_eq!(mb.cancel_requested(), None);
        mb.offer(&[
            signals::cancel(&SessionId::new("s1"), Some("enough"), 103.0),
            signals::claim(&SessionId::new("s1"), "w:1", 4, 103.0),
        ]);
        assert_eq!(mb.cancelled().await, "enough");
        assert_eq!(mb.fenced(3), Some(4));
        assert_eq!(mb.fenced(4), None);
    }
}
