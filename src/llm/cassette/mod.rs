//! Cassettes: the model exchanges of a run in a text file, recorded once and replayed with no
//! network (`--record`, `--replay`, `--replay-or-record`; cli.md, "Cassettes").
//!
//! A cassette is a [`Provider`] decorator: the runner keeps calling its provider and never
//! knows. The runner only names the call site of each call ([`site`]).
//!
//! - [`file`]: the YAML format ([`Tape`], [`Exchange`]).
//! - [`matching`]: which exchange answers a request (hash, occurrence, call site).
//! - [`diff`]: the short difference shown when `--replay` has no answer.
//! - [`site`]: the call site (phase, sounding, depth) of the call being made.

pub mod diff;
pub mod file;
pub mod matching;
pub mod site;

pub use file::{Exchange, FileError, Tape};

use super::{ChatRequest, ChatResponse, LlmError, Provider};
use async_trait::async_trait;
use matching::Reel;
use site::CallSite;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What a cassette does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Send every request and write down every answer.
    Record,
    /// Answer only from the cassette; a request it lacks is an error.
    Replay,
    /// Answer from the cassette when it can, else send the request and add the answer.
    ReplayOrRecord,
}

/// One cassette, shared by every session of a run (child sessions included).
pub struct Cassette {
    mode: Mode,
    path: PathBuf,
    reel: Mutex<Reel>,
    /// Values scrubbed from the file if they ever reach a request (API key, store password).
    secrets: Vec<String>,
    /// Why the stored text of a submitted cassette could not be read (every call then misses).
    problem: Option<String>,
}

impl Cassette {
    /// Open `path` for `mode`. `--record` starts an empty cassette unless `keep` (a resumed
    /// session adds to the cassette its first run recorded).
    pub fn open(mode: Mode, path: &Path, secrets: Vec<String>, keep: bool) -> Result<Cassette, FileError> {
        let tape = match mode {
            Mode::Replay => Tape::read(path)?,
            Mode::Record if !keep => Tape::default(),
            Mode::Record | Mode::ReplayOrRecord if !path.exists() => Tape::default(),
            Mode::Record | Mode::ReplayOrRecord => Tape::read(path)?,
        };
        let cassette = Cassette::new(mode, path, tape.exchanges, secrets, None);
        if mode == Mode::Record {
            // The file exists from the start, even for a run that makes no model call.
            cassette.save(&cassette.reel.lock().expect("reel"))?;
        }
        Ok(cassette)
    }

    /// A replay-only cassette from its text, as `submit` stored it with the session.
    pub fn replay_text(text: &str, path: &Path) -> Cassette {
        match Tape::parse(text, path) {
            Ok(tape) => Cassette::new(Mode::Replay, path, tape.exchanges, Vec::new(), None),
            Err(e) => Cassette::new(Mode::Replay, path, Vec::new(), Vec::new(), Some(e.to_string())),
        }
    }

    fn new(mode: Mode, path: &Path, exchanges: Vec<Exchange>, secrets: Vec<String>, problem: Option<String>) -> Self {
        Cassette { mode, path: path.to_path_buf(), reel: Mutex::new(Reel::new(exchanges)), secrets, problem }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cassette's text as it stands.
    pub fn text(&self) -> String {
        let reel = self.reel.lock().expect("reel");
        Tape { version: file::VERSION, exchanges: reel.exchanges.clone() }.render(&self.secrets)
    }

    /// How many exchanges it holds and how many of them this process has used or recorded.
    pub fn counts(&self) -> (usize, usize) {
        let reel = self.reel.lock().expect("reel");
        (reel.exchanges.len(), reel.used())
    }

    /// `inner`, answered through this cassette.
    pub fn provider(self: &Arc<Self>, inner: Arc<dyn Provider>) -> Arc<dyn Provider> {
        Arc::new(Player { cassette: self.clone(), inner })
    }

    fn save(&self, reel: &Reel) -> Result<(), FileError> {
        Tape { version: file::VERSION, exchanges: reel.exchanges.clone() }.write(&self.path, &self.secrets)
    }

    fn miss(&self, reel: &Reel, request: &ChatRequest, site: &CallSite, turn: u32, hash: &str) -> LlmError {
        let mut where_ = format!("phase `{}`, turn {turn}", site.phase);
        if let Some(s) = site.sounding {
            where_.push_str(&format!(", sounding {s}"));
        }
        if let Some(a) = site.attempt {
            where_.push_str(&format!(", cascade sounding {a}"));
        }
        if site.depth > 0 {
            where_.push_str(&format!(", sub-cascade depth {}", site.depth));
        }
        let closest = match (&self.problem, reel.closest(request, site, turn)) {
            (Some(problem), _) => format!("the stored cassette is unusable: {problem}"),
            (None, None) => "the cassette holds no exchanges".to_string(),
            (None, Some(e)) => format!(
                "closest recorded request (phase `{}`, turn {}):\n{}",
                e.phase,
                e.turn,
                diff::render(&e.request, request)
            ),
        };
        LlmError::CassetteMiss {
            path: self.path.display().to_string(),
            detail: format!("{where_} (request hash {hash}); {closest}"),
        }
    }
}

impl std::fmt::Debug for Cassette {
    // Not derived: the secrets must not reach a debug print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cassette").field("mode", &self.mode).field("path", &self.path).finish_non_exhaustive()
    }
}

/// A provider answered through a cassette.
struct Player {
    cassette: Arc<Cassette>,
    inner: Arc<dyn Provider>,
}

#[async_trait]
impl Provider for Player {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let c = &self.cassette;
        let site = site::current().unwrap_or_default();
        let hash = request.hash();
        let turn = {
            let mut reel = c.reel.lock().expect("reel");
            let turn = reel.next_turn(&site);
            if c.mode != Mode::Record {
                if let Some(e) = reel.take(&hash, &site) {
                    return Ok(e.response());
                }
            }
            if c.mode == Mode::Replay {
                return Err(c.miss(&reel, request, &site, turn, &hash));
            }
            turn
        };
        let response = self.inner.chat(request).await?;
        let exchange = Exchange {
            hash,
            occurrence: 0,
            phase: site.phase,
            turn,
            sounding: site.sounding,
            depth: site.depth,
            attempt: site.attempt,
            request: request.clone(),
            response: file::Answer {
                model: response.model.clone(),
                content: response.content.clone(),
                tool_calls: response.tool_calls.clone(),
                finish_reason: response.finish_reason.clone(),
            },
            usage: response.usage,
        };
        let mut reel = c.reel.lock().expect("reel");
        reel.record(exchange);
        c.save(&reel).map_err(|e| LlmError::CassetteFile { detail: e.to_string() })?;
        Ok(response)
    }
}

/// A cassette as a per-session option ([`crate::host::Limits`]): compared by identity.
#[derive(Debug, Clone)]
pub struct CassetteRef(pub Arc<Cassette>);

impl PartialEq for CassetteRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
