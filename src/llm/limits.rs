//! Per-endpoint limits shared by every session in the process (`WINDLASS_LIMITS`).
//!
//! Each configured model prefix gets one semaphore per endpoint, held in a process-wide
//! registry, so ten parallel soundings, or several sessions of one `worker`, together never
//! have more requests in flight to that endpoint than the cap. The longest matching prefix
//! wins; a model that matches no prefix is not limited. A permit is held for the whole call,
//! retries included.

use crate::settings::ModelLimit;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Told that a call waits for a slot: the matching prefix and its cap.
pub type WaitHook = Arc<dyn Fn(&str, u32) + Send + Sync>;

tokio::task_local! {
    static ON_WAIT: WaitHook;
}

/// Run `fut` (one provider call) so that `hook` hears when it waits on a limit: the runner
/// turns that into an event for the live display, the engine never prints.
pub async fn on_wait<F: Future>(hook: WaitHook, fut: F) -> F::Output {
    ON_WAIT.scope(hook, fut).await
}

/// The semaphores of one client: `(prefix, semaphore)`, longest prefix first.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    caps: Vec<(String, u32, Arc<Semaphore>)>,
}

impl Limits {
    /// The process-wide semaphores for `endpoint` under these limits.
    pub(crate) fn for_endpoint(endpoint: &str, limits: &[ModelLimit]) -> Limits {
        static REGISTRY: OnceLock<Mutex<HashMap<String, Arc<Semaphore>>>> = OnceLock::new();
        let mut registry = REGISTRY.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        let mut caps: Vec<(String, u32, Arc<Semaphore>)> = limits
            .iter()
            .map(|limit| {
                let key = format!("{endpoint}\n{}", limit.prefix);
                let semaphore = registry
                    .entry(key)
                    .or_insert_with(|| Arc::new(Semaphore::new(limit.max_concurrent as usize)))
                    .clone();
                (limit.prefix.clone(), limit.max_concurrent, semaphore)
            })
            .collect();
        caps.sort_by_key(|cap| std::cmp::Reverse(cap.0.len()));
        Limits { caps }
    }

    /// The cap for `model`, if a prefix matches it.
    fn cap(&self, model: &str) -> Option<&(String, u32, Arc<Semaphore>)> {
        self.caps.iter().find(|(prefix, _, _)| model.starts_with(prefix.as_str()))
    }

    #[cfg(test)]
    fn semaphore(&self, model: &str) -> Option<&Arc<Semaphore>> {
        self.cap(model).map(|(_, _, semaphore)| semaphore)
    }

    /// Wait for a slot for `model`: `None` when it is not limited. When no slot is free at
    /// once, the hook set by [`on_wait`] (if any) hears so before the wait.
    pub(crate) async fn acquire(&self, model: &str) -> Option<OwnedSemaphorePermit> {
        let (prefix, max, semaphore) = self.cap(model)?;
        if let Ok(permit) = semaphore.clone().try_acquire_owned() {
            return Some(permit);
        }
        let _ = ON_WAIT.try_with(|hook| hook(prefix, *max));
        semaphore.clone().acquire_owned().await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(prefix: &str, n: u32) -> ModelLimit {
        ModelLimit { prefix: prefix.into(), max_concurrent: n }
    }

    #[tokio::test]
    async fn the_longest_prefix_wins_and_slots_are_shared_per_endpoint() {
        let limits = [limit("", 5), limit("openai/", 1)];
        let a = Limits::for_endpoint("http://test-longest/v1", &limits);
        let b = Limits::for_endpoint("http://test-longest/v1", &limits);
        let held = a.acquire("openai/gpt-4o").await.unwrap();
        assert_eq!(b.semaphore("openai/gpt-4o").unwrap().available_permits(), 0);
        drop(held);
        let heard = Arc::new(Mutex::new(Vec::new()));
        let log = heard.clone();
        let hook: WaitHook = Arc::new(move |prefix, max| log.lock().unwrap().push(format!("{prefix}={max}")));
        let first = on_wait(hook.clone(), b.acquire("openai/gpt-4o")).await.unwrap();
        assert!(heard.lock().unwrap().is_empty(), "a free slot is taken without waiting");
        let waiter = tokio::spawn({
            let b = b.clone();
            on_wait(hook, async move { b.acquire("openai/gpt-4o").await.is_some() })
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(*heard.lock().unwrap(), ["openai/=1"]);
        drop(first);
        assert!(waiter.await.unwrap());
        assert_eq!(a.semaphore("google/gemini").unwrap().available_permits(), 5);
        assert!(Limits::for_endpoint("http://other/v1", &[limit("x/", 1)]).semaphore("y/z").is_none());
    }
}
