//! [`Console`]: how the engine asks a person at a terminal. The engine never reads stdin or
//! writes stderr itself; the CLI hands it a console when it runs on a terminal, and a worker
//! has none, so its questions wait for `windlass signal`.

use async_trait::async_trait;
use std::time::Duration;

/// A person at a terminal who can answer questions.
#[async_trait]
pub trait Console: Send + Sync {
    /// Show `prompt` and wait for one line of answer: `Ok(None)` once `timeout` has passed.
    /// The error says why no answer could be read.
    async fn ask(&self, prompt: &str, timeout: Option<Duration>) -> Result<Option<String>, String>;
}
