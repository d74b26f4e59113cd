//! The state-changing routes, each the same library call as its command:
//! - `POST /api/sessions`: queue a cascade from the served folder or an inline definition
//!   (`host::start::submit`, like `windlass submit`); 201 `{"session_id"}`;
//! - `POST /api/sessions/{id}/signal`: a message (also the answer to `ask_human` and
//!   `human_input`) or a named signal (`session::control`, like `windlass signal`); 202;
//! - `POST /api/sessions/{id}/cancel` (like `windlass cancel`); 202;
//! - `POST /api/sessions/{id}/resume`: hand a stopped session to the workers; 202.

use super::error::{session_id, ApiError, JsonBody};
use super::ApiState;
use crate::cascade::check::{check_loaded, CheckOptions};
use crate::cascade::{load_file_in, load_str, Loaded, Severity};
use crate::host::{start, Limits};
use crate::runner::{ids, CascadeDef};
use crate::session::control::{self, Cancelled};
use crate::session_id::SessionId;
use crate::settings::HumanDuration;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::path::{Component, PathBuf};
use std::sync::Arc;

type Answer = Result<(StatusCode, Json<Value>), ApiError>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submit {
    /// A cascade file, relative to the served folder.
    cascade: Option<String>,
    /// Or the cascade's text (YAML or JSON).
    definition: Option<String>,
    #[serde(default)]
    input: Map<String, Value>,
    session_id: Option<String>,
    model: Option<String>,
    max_cost: Option<f64>,
    /// How long the run may take once a worker starts it, e.g. `30m`.
    timeout: Option<String>,
}

pub async fn submit(State(st): State<Arc<ApiState>>, JsonBody(body): JsonBody<Submit>) -> Answer {
    let loaded = match (&body.cascade, &body.definition) {
        (Some(path), None) => load_file_in(&served_file(&st.opts.root, path)?, &st.opts.root),
        (None, Some(text)) => load_str(text, &st.opts.root.join("(inline)")),
        _ => {
            return Err(ApiError::bad_request(
                "give either `cascade` (a file under the served folder) or `definition` (its text)",
            ))
        }
    };
    ensure_valid(&loaded, &st)?;
    let id = match &body.session_id {
        Some(raw) => session_id(raw)?,
        None => SessionId::new(ids::new_session_id()),
    };
    let limits = Limits {
        model: body.model.filter(|m| !m.is_empty()),
        max_cost: match body.max_cost {
            Some(c) if !(c.is_finite() && c > 0.0) => {
                return Err(ApiError::bad_request("`max_cost` is a positive number of US dollars"))
            }
            c => c,
        },
        timeout: match &body.timeout {
            Some(t) => Some(
                t.parse::<HumanDuration>().map_err(|why| ApiError::bad_request(format!("`timeout`: {why}")))?.get(),
            ),
            None => None,
        },
        // Cassettes come with `windlass submit --replay`; the API submits live runs.
        cassette: None,
    };
    let cascade = loaded.cascade.clone().expect("a cascade without errors has a model");
    let def = CascadeDef { cascade, path: loaded.path.clone(), text: loaded.text };
    if st.store.session_state(&id).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("a session {id} already exists; leave out `session_id` for a new id"),
        ));
    }
    start::submit(&*st.store, &def, &id, &body.input, &limits, st.opts.lease.as_secs_f64()).await?;
    Ok((StatusCode::CREATED, Json(json!({ "session_id": id }))))
}

/// A file named by a client: relative, inside the served folder (after symlinks), existing.
fn served_file(root: &std::path::Path, name: &str) -> Result<PathBuf, ApiError> {
    let rel = std::path::Path::new(name);
    let outside = || ApiError::bad_request(format!("`{name}` is not a cascade file under the served folder"));
    if name.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(outside());
    }
    let root = root.canonicalize().map_err(|_| outside())?;
    let file = root.join(rel).canonicalize().map_err(|_| outside())?;
    if !file.starts_with(&root) || !file.is_file() {
        return Err(outside());
    }
    Ok(file)
}

/// Refuse a cascade with `check` errors, listing them (the same check as `windlass submit`).
fn ensure_valid(loaded: &Loaded, st: &ApiState) -> Result<(), ApiError> {
    let opts = CheckOptions { tool_path: st.opts.tool_path.clone(), cwd: st.opts.root.clone() };
    let errors: Vec<String> = check_loaded(loaded, &opts)
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.render(&loaded.path))
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(ApiError::bad_request(format!("the cascade has {} error(s):\n{}", errors.len(), errors.join("\n"))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalBody {
    message: Option<String>,
    name: Option<String>,
    payload: Option<Value>,
}

pub async fn signal(
    State(st): State<Arc<ApiState>>,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<SignalBody>,
) -> Answer {
    let id = session_id(&raw)?;
    let store = &*st.store;
    let row = match (body.message, body.name) {
        (Some(message), None) if body.payload.is_none() => control::send_message(store, &id, &message).await?,
        (None, Some(name)) if !name.is_empty() => {
            control::send_named(store, &id, &name, &body.payload.unwrap_or(Value::Null)).await?
        }
        _ => {
            return Err(ApiError::bad_request(
                "send `{\"message\": \"...\"}`, or `{\"name\": \"...\", \"payload\": ...}`",
            ))
        }
    };
    Ok((StatusCode::ACCEPTED, Json(json!({ "signal_id": row.signal_id }))))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    reason: Option<String>,
}

pub async fn cancel(State(st): State<Arc<ApiState>>, Path(raw): Path<String>, body: axum::body::Bytes) -> Answer {
    let id = session_id(&raw)?;
    // The body is optional; when there is one it is JSON.
    let body: CancelBody = if body.iter().all(u8::is_ascii_whitespace) {
        CancelBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("the request body is not what this route takes: {e}")))?
    };
    let outcome = match control::cancel(&*st.store, &id, body.reason.as_deref()).await? {
        Cancelled::Requested => "requested",
        Cancelled::Now => "cancelled",
    };
    Ok((StatusCode::ACCEPTED, Json(json!({ "session_id": id, "cancel": outcome }))))
}

pub async fn resume(State(st): State<Arc<ApiState>>, Path(raw): Path<String>) -> Answer {
    let id = session_id(&raw)?;
    let row = control::requeue(&*st.store, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "session_id": id, "status": row.status }))))
}
