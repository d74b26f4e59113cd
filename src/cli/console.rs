//! The terminal [`Console`] the engine asks human questions on: the prompt on stderr, the
//! answer from stdin.

use crate::runner::Console;
use async_trait::async_trait;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

/// stdin and stderr of this process.
pub struct Terminal;

impl Terminal {
    /// The terminal, when both stdin and stderr are one (a pipe or a file cannot answer).
    pub fn if_interactive() -> Option<Arc<dyn Console>> {
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        interactive.then(|| Arc::new(Terminal) as Arc<dyn Console>)
    }
}

#[async_trait]
impl Console for Terminal {
    async fn ask(&self, prompt: &str, timeout: Option<Duration>) -> Result<Option<String>, String> {
        let prompt = prompt.to_string();
        let read = tokio::task::spawn_blocking(move || {
            let mut err = std::io::stderr();
            let _ = writeln!(err, "\n{prompt}");
            let _ = write!(err, "> ");
            let _ = err.flush();
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map(|_| line.trim_end_matches(['\r', '\n']).to_string())
        });
        let answer = match timeout {
            Some(t) => match tokio::time::timeout(t, read).await {
                Ok(r) => r,
                Err(_) => return Ok(None),
            },
            None => read.await,
        };
        match answer {
            Ok(Ok(a)) => Ok(Some(a)),
            Ok(Err(e)) => Err(format!("reading the answer failed: {e}")),
            Err(e) => Err(format!("reading the answer failed: {e}")),
        }
    }
}
