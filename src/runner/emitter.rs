//! Hands events to every subscriber, numbered and time-stamped.

use super::event::{Envelope, RunEvent, Subscriber};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The one way the engine reports anything. Cheap to clone (shares the counter).
#[derive(Clone)]
pub struct Emitter {
    session_id: Arc<str>,
    depth: u32,
    seq: Arc<AtomicU64>,
    subscribers: Arc<[Arc<dyn Subscriber>]>,
}

impl Emitter {
    pub fn new(session_id: &str, depth: u32, subscribers: Vec<Arc<dyn Subscriber>>) -> Self {
        Emitter {
            session_id: session_id.into(),
            depth,
            seq: Arc::new(AtomicU64::new(0)),
            subscribers: subscribers.into(),
        }
    }

    /// An emitter for a child session, delivering to the same subscribers.
    pub fn child(&self, session_id: &str) -> Self {
        Emitter {
            session_id: session_id.into(),
            depth: self.depth + 1,
            seq: Arc::new(AtomicU64::new(0)),
            subscribers: self.subscribers.clone(),
        }
    }

    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    pub fn depth(&self) -> u32 {
        self.depth
    }

    pub fn subscribers(&self) -> Vec<Arc<dyn Subscriber>> {
        self.subscribers.to_vec()
    }

    pub fn emit(&self, event: RunEvent) {
        if self.subscribers.is_empty() {
            return;
        }
        let envelope = Envelope {
            session_id: self.session_id.clone(),
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            at: now_secs(),
            depth: self.depth,
            event,
        };
        for s in self.subscribers.iter() {
            s.on_event(&envelope);
        }
    }
}

/// Seconds since the Unix epoch, as a float.
pub fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or_default()
}
