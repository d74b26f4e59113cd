//! Where a hosted session starts: a new session, or one taken over from the store (its
//! stored definition, input, last checkpoint, and the answers logged after it).

use super::drive::Limits;
use crate::cascade::{load_str, Severity};
use crate::runner::replay::Replay;
use crate::runner::{CascadeDef, RunState};
use crate::session::signals::{kind, Signal};
use crate::session_id::SessionId;
use crate::store::{CascadeSessionRow, SessionStateRow, Store, StoreError};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::Arc;

/// Where a durable run starts: a new session, or a checkpoint being resumed.
pub struct Start {
    pub def: Arc<CascadeDef>,
    pub session_id: SessionId,
    /// The fencing token this process holds.
    pub epoch: u64,
    pub next_seq: u64,
    pub state: RunState,
    /// The phase to run first (`None`: the session had already run its last phase).
    pub phase: Option<usize>,
    /// Answers logged before a crash, served again on resume.
    pub replay: Option<Arc<Replay>>,
    pub parent_session_id: String,
    /// When the session first started (store clock): broadcast signals count from here.
    pub started_at: Option<f64>,
    /// Options stored by `windlass submit`.
    pub limits: Limits,
    /// What the session waited on when it stopped (`human: ...`, `signal: ...`).
    pub blocked_on: Option<String>,
    /// Notes for the person resuming (a changed file, answers reused).
    pub notes: Vec<String>,
    /// The epoch that checkpointed the last phase, when there is no phase left to run.
    pub ended_in_epoch: Option<u64>,
}

/// Why a stored session cannot be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Unusable(String),
}

/// SHA-256 of a cascade's text, hex.
pub fn hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The `cascade_sessions` row of a new session.
pub fn cascade_row(
    def: &CascadeDef,
    session_id: &SessionId,
    input: &Map<String, Value>,
    now: f64,
) -> CascadeSessionRow {
    CascadeSessionRow {
        session_id: session_id.clone(),
        cascade_id: def.cascade.cascade_id.clone(),
        cascade_path: def.path.display().to_string(),
        definition: def.text.clone(),
        definition_hash: hash(&def.text),
        input: serde_json::to_string(input).unwrap_or_default(),
        parent_session_id: String::new(),
        created_at: now,
    }
}

/// Queue a session for any worker (`windlass submit`): its definition and input, the
/// options it runs with, then a `queued` row (last, so a worker sees it only once
/// everything it needs is stored).
pub async fn submit(
    store: &dyn Store,
    def: &CascadeDef,
    id: &SessionId,
    input: &Map<String, Value>,
    limits: &Limits,
    lease_seconds: f64,
) -> Result<(), StoreError> {
    let now = store.now().await?;
    store.put_cascade_session(&cascade_row(def, id, input, now)).await?;
    if *limits != Limits::default() {
        store.put_signal(&crate::session::signals::options(id, &limits.to_json(), now)).await?;
    }
    store.put_session_state(&queued_row(id, &def.cascade.cascade_id, now, lease_seconds)).await
}

/// The first row of a submitted session: queued, owned by nobody, epoch 0.
fn queued_row(id: &SessionId, cascade_id: &str, now: f64, lease_seconds: f64) -> SessionStateRow {
    SessionStateRow {
        lease_seconds,
        updated_at: now,
        ..SessionStateRow::new(id.clone(), crate::store::SessionStatus::Queued, cascade_id)
    }
}

/// A new session from its first phase.
pub fn new_session(def: Arc<CascadeDef>, session_id: SessionId, input: Map<String, Value>) -> Start {
    Start {
        phase: if def.cascade.phases.is_empty() { None } else { Some(0) },
        def,
        session_id,
        epoch: 1,
        next_seq: 0,
        state: RunState::new(input),
        replay: None,
        parent_session_id: String::new(),
        started_at: None,
        limits: Limits::default(),
        blocked_on: None,
        notes: Vec::new(),
        ended_in_epoch: None,
    }
}

/// A session this process has claimed at `epoch`, from the store. `from_phase` restarts
/// at that phase instead of the one after the last checkpoint.
pub async fn from_store(
    store: &dyn Store,
    row: &SessionStateRow,
    epoch: u64,
    from_phase: Option<&str>,
) -> Result<Start, StartError> {
    let id = &row.session_id;
    let fail = |detail: String| StartError::Unusable(detail);
    let stored =
        store.cascade_session(id).await?.ok_or_else(|| fail("the store has no cascade definition for it".into()))?;
    let mut notes = Vec::new();
    let path = PathBuf::from(&stored.cascade_path);
    if let Ok(current) = std::fs::read_to_string(&path) {
        if hash(&current) != stored.definition_hash {
            notes.push(format!(
                "{} changed since session {id} started; resuming with the stored definition",
                path.display()
            ));
        }
    }
    let def = stored_definition(&stored.definition, path)
        .ok_or_else(|| fail("the stored cascade definition does not load".into()))?;
    let def = Arc::new(def);
    // A queued session has neither checkpoints nor logs yet.
    let queued = row.status == crate::store::SessionStatus::Queued;
    let checkpoint = if queued { None } else { store.latest_checkpoint(id, 0).await? };
    let input: Map<String, Value> = serde_json::from_str(&stored.input).unwrap_or_default();
    let state: RunState = match &checkpoint {
        Some(c) => serde_json::from_str(&c.state)
            .map_err(|e| fail(format!("its checkpoint {} does not decode: {e}", c.seq)))?,
        None => RunState::new(input),
    };
    let phase = match (from_phase, &checkpoint) {
        (Some(p), _) => Some(def.cascade.phase_index(p).ok_or_else(|| fail(format!("it has no phase `{p}`")))?),
        (None, Some(c)) if c.next_phase.is_empty() => None,
        (None, Some(c)) => Some(
            def.cascade
                .phase_index(&c.next_phase)
                .ok_or_else(|| fail(format!("its next phase `{}` is not in the cascade", c.next_phase)))?,
        ),
        (None, None) => (!def.cascade.phases.is_empty()).then_some(0),
    };
    // Answers logged after the checkpoint are served again instead of paid for twice.
    let since = checkpoint.as_ref().map(|c| c.created_at);
    let logs = if queued { Vec::new() } else { store.logs(id, since, 1_000_000).await? };
    let events: Vec<Value> = logs
        .iter()
        .filter(|r| r.node_type == "llm_response")
        .filter_map(|r| serde_json::from_str(&r.content).ok())
        .collect();
    let replay = Replay::from_events(&events);
    if !replay.is_empty() {
        notes.push(format!("{} logged LLM answer(s) of the interrupted phase will be reused", replay.len()));
    }
    let limits = store
        .signals(id)
        .await?
        .iter()
        .filter(|r| r.kind == kind::OPTIONS)
        .map(|r| Limits::from_json(&Signal::from_row(r).payload))
        .next_back()
        .unwrap_or_default();
    Ok(Start {
        def,
        session_id: id.clone(),
        epoch,
        next_seq: checkpoint.as_ref().map(|c| c.seq + 1).unwrap_or(0),
        state,
        phase,
        replay: Some(Arc::new(replay)),
        parent_session_id: row.parent_session_id.clone(),
        started_at: Some(if row.started_at > 0.0 { row.started_at } else { stored.created_at }),
        limits,
        blocked_on: Some(row.blocked_on.clone()).filter(|b| !b.is_empty()),
        notes,
        ended_in_epoch: checkpoint.as_ref().filter(|_| phase.is_none()).map(|c| c.owner_epoch),
    })
}

/// A cascade stored as text (a session's definition, a registered trigger's), loaded as it
/// was then; `None` when it no longer loads without errors.
pub fn stored_definition(text: &str, path: PathBuf) -> Option<CascadeDef> {
    let loaded = load_str(text, &path);
    let cascade = loaded.cascade.filter(|_| !loaded.diagnostics.iter().any(|d| d.severity == Severity::Error))?;
    Some(CascadeDef { cascade, path, text: text.to_string() })
}
