//! Per-endpoint limits shared by every session in the process (`WINDLASS_LIMITS`).
//!
//! Each configured model prefix gets, per endpoint, a semaphore for the requests in flight and
//! a sliding window for requests and tokens per minute (`rate.rs`), held in a process-wide
//! registry, so ten parallel soundings, or several sessions of one `worker`, together never
//! exceed them. The longest matching prefix wins; a model that matches no prefix is not
//! limited. A slot is held for the whole call, retries included; a call waiting on a limit is
//! told to the runner through the hook of [`on_wait`].

mod rate;

use crate::settings::ModelLimit;
use rate::RateWindow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One limit a call can wait on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    Concurrency(u32),
    RequestsPerMinute(u32),
    TokensPerMinute(u32),
}

impl Cap {
    /// The cap on requests in flight, for a concurrency limit.
    pub fn max_concurrent(self) -> Option<u32> {
        match self {
            Cap::Concurrency(n) => Some(n),
            _ => None,
        }
    }
}

/// As written in `WINDLASS_LIMITS` after the `=`: `4`, `rpm:60`, `tpm:90000`.
impl fmt::Display for Cap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cap::Concurrency(n) => write!(f, "{n}"),
            Cap::RequestsPerMinute(n) => write!(f, "rpm:{n}"),
            Cap::TokensPerMinute(n) => write!(f, "tpm:{n}"),
        }
    }
}

/// Told that a call waits on a limit: the matching prefix and the limit.
pub type WaitHook = Arc<dyn Fn(&str, Cap) + Send + Sync>;

tokio::task_local! {
    static ON_WAIT: WaitHook;
}

/// Run `fut` (one provider call) so that `hook` hears when it waits on a limit: the runner
/// turns that into an event for the live display, the engine never prints.
pub async fn on_wait<F: Future>(hook: WaitHook, fut: F) -> F::Output {
    ON_WAIT.scope(hook, fut).await
}

fn tell(prefix: &str, cap: Cap) {
    let _ = ON_WAIT.try_with(|hook| hook(prefix, cap));
}

/// What one prefix of one endpoint is limited by.
#[derive(Debug, Clone)]
struct Entry {
    prefix: String,
    slots: Option<(u32, Arc<Semaphore>)>,
    rate: Option<Arc<RateWindow>>,
}

/// The limits of one client, longest prefix first.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    entries: Vec<Entry>,
}

/// A call let through: holds its slot until dropped; [`Admission::used`] corrects the tokens it
/// was charged.
#[derive(Debug, Default)]
pub struct Admission {
    _slot: Option<OwnedSemaphorePermit>,
    charged: Option<(Arc<RateWindow>, u64)>,
}

impl Admission {
    /// The call used `tokens` (prompt and completion) in the end.
    pub fn used(&self, tokens: u64) {
        if let Some((window, ticket)) = &self.charged {
            window.settle(*ticket, tokens);
        }
    }
}

impl Limits {
    /// The process-wide limits for `endpoint` under these settings.
    pub(crate) fn for_endpoint(endpoint: &str, limits: &[ModelLimit]) -> Limits {
        static REGISTRY: OnceLock<Mutex<HashMap<String, Entry>>> = OnceLock::new();
        let mut registry = REGISTRY.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        let mut entries: Vec<Entry> = limits
            .iter()
            .map(|limit| {
                let key = format!("{endpoint}\n{}", limit.prefix);
                let entry = registry.entry(key).or_insert_with(|| Entry {
                    prefix: limit.prefix.clone(),
                    slots: limit.max_concurrent.map(|n| (n, Arc::new(Semaphore::new(n as usize)))),
                    rate: (limit.requests_per_minute.is_some() || limit.tokens_per_minute.is_some())
                        .then(|| Arc::new(RateWindow::new(limit.requests_per_minute, limit.tokens_per_minute))),
                });
                entry.clone()
            })
            .collect();
        entries.sort_by_key(|entry| std::cmp::Reverse(entry.prefix.len()));
        Limits { entries }
    }

    /// The limits of `model`, if a prefix matches it.
    fn entry(&self, model: &str) -> Option<&Entry> {
        self.entries.iter().find(|entry| model.starts_with(entry.prefix.as_str()))
    }

    #[cfg(test)]
    fn semaphore(&self, model: &str) -> Option<&Arc<Semaphore>> {
        self.entry(model)?.slots.as_ref().map(|(_, semaphore)| semaphore)
    }

    /// Wait until a call to `model` of about `tokens()` fits its limits: a slot in flight, then
    /// room in the minute's window. The estimate is made only when a window counts tokens (it
    /// serialises the request). The hook set by [`on_wait`] (if any) hears of each wait.
    pub(crate) async fn acquire(&self, model: &str, tokens: impl FnOnce() -> u64) -> Admission {
        let Some(entry) = self.entry(model) else { return Admission::default() };
        let slot = match &entry.slots {
            None => None,
            Some((max, semaphore)) => match semaphore.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    tell(&entry.prefix, Cap::Concurrency(*max));
                    semaphore.clone().acquire_owned().await.ok()
                }
            },
        };
        let charged = match &entry.rate {
            None => None,
            Some(window) => {
                let ticket = window.admit(tokens(), |cap| tell(&entry.prefix, cap)).await;
                Some((window.clone(), ticket))
            }
        };
        Admission { _slot: slot, charged }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(prefix: &str, n: u32) -> ModelLimit {
        ModelLimit { prefix: prefix.into(), max_concurrent: Some(n), ..Default::default() }
    }

    #[tokio::test]
    async fn the_longest_prefix_wins_and_slots_are_shared_per_endpoint() {
        let limits = [limit("", 5), limit("openai/", 1)];
        let a = Limits::for_endpoint("http://test-longest/v1", &limits);
        let b = Limits::for_endpoint("http://test-longest/v1", &limits);
        let held = a.acquire("openai/gpt-4o", || 0).await;
        assert_eq!(b.semaphore("openai/gpt-4o").unwrap().available_permits(), 0);
        drop(held);
        let heard = Arc::new(Mutex::new(Vec::new()));
        let log = heard.clone();
        let hook: WaitHook = Arc::new(move |prefix, cap| log.lock().unwrap().push(format!("{prefix}={cap}")));
        let first = on_wait(hook.clone(), b.acquire("openai/gpt-4o", || 0)).await;
        assert!(heard.lock().unwrap().is_empty(), "a free slot is taken without waiting");
        let waiter = tokio::spawn({
            let b = b.clone();
            on_wait(hook, async move { b.acquire("openai/gpt-4o", || 0).await._slot.is_some() })
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(*heard.lock().unwrap(), ["openai/=1"]);
        drop(first);
        assert!(waiter.await.unwrap());
        assert_eq!(a.semaphore("google/gemini").unwrap().available_permits(), 5);
        assert!(Limits::for_endpoint("http://other/v1", &[limit("x/", 1)]).semaphore("y/z").is_none());
    }
}
