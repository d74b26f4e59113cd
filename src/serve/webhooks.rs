//! `POST /api/triggers/{id}`: a registered `webhook` trigger (`windlass schedules add`) queues a
//! session of its cascade for a worker, with the trigger's `inputs` and the payload's fields
//! (the payload wins).
//!
//! - A trigger with `auth: hmac:${VARIABLE}` needs `X-Windlass-Signature-256: sha256=<hex>`
//!   (or GitHub's `X-Hub-Signature-256`), the HMAC-SHA256 of the raw body under the secret
//!   in this server's `VARIABLE`; it is the sender's credential, so no API token is asked for.
//!   A trigger without it needs the API token when the server has one.
//! - The payload is a JSON object (or an empty body) and must satisfy `payload_schema`.
//! - A delivery id (`X-Windlass-Delivery` or `X-GitHub-Delivery`) makes the request idempotent:
//!   the same delivery sent again answers with the session it already queued.

use super::error::ApiError;
use super::ApiState;
use crate::host::{start, Limits};
use crate::runner::ids;
use crate::runner::llm_phase::output_schema::schema_errors;
use crate::session::schedules::{self, Schedule};
use crate::session_id::SessionId;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use hmac::{KeyInit, Mac};
use serde_json::{json, Map, Value};
use std::sync::Arc;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

pub async fn fire(
    State(st): State<Arc<ApiState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let trigger =
        schedules::list(&*st.store).await?.into_iter().find(|s| s.id == id && s.kind == "webhook").ok_or_else(
            || {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("no webhook trigger {id}; `windlass schedules list` shows them"),
                )
            },
        )?;
    authenticate(&st, &trigger, &headers, &body)?;
    let payload: Map<String, Value> = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice(&body) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(ApiError::bad_request("the payload must be a JSON object")),
            Err(e) => return Err(ApiError::bad_request(format!("the payload is not JSON: {e}"))),
        }
    };
    if let Some(schema) = &trigger.payload_schema {
        check_payload(schema, &Value::Object(payload.clone()))?;
    }
    let delivery = ["x-windlass-delivery", "x-github-delivery"]
        .iter()
        .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .filter(|d| {
            !d.is_empty() && d.len() <= 64 && d.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        });
    let session = match delivery {
        Some(d) => SessionId::new(format!("{}#{d}", trigger.id)),
        None => SessionId::new(ids::new_session_id()),
    };
    if st.store.session_state(&session).await?.is_some() {
        return Ok((StatusCode::OK, Json(json!({ "session_id": session, "duplicate": true }))));
    }
    let mut input = trigger.inputs.clone();
    input.extend(payload);
    let def = start::stored_definition(&trigger.definition, trigger.path.clone().into()).ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            format!("the cascade registered for {} no longer loads; add it again", trigger.id),
        )
    })?;
    start::submit(&*st.store, &def, &session, &input, &Limits::default(), st.opts.lease.as_secs_f64()).await?;
    Ok((StatusCode::CREATED, Json(json!({ "session_id": session }))))
}

/// The signature when the trigger has a secret, else the API token when the server has one.
fn authenticate(st: &ApiState, trigger: &Schedule, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let Some(var) = &trigger.secret_env else {
        return match &st.opts.token {
            Some(token) if !super::auth::authorized(headers, token.expose()) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                format!("webhook {} has no `auth: hmac:${{VARIABLE}}`, so it needs the API token", trigger.id),
            )),
            _ => Ok(()),
        };
    };
    let secret = std::env::var(var).ok().filter(|s| !s.is_empty()).ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "webhook {} is signed with the secret in {var}, which this server does not have; set it",
                trigger.id
            ),
        )
    })?;
    let given = ["x-windlass-signature-256", "x-hub-signature-256"]
        .iter()
        .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
        .and_then(|v| v.trim().strip_prefix("sha256="))
        .and_then(hex)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "this webhook needs `X-Windlass-Signature-256: sha256=<hex HMAC-SHA256 of the body>`",
            )
        })?;
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes())
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the webhook secret cannot key an HMAC"))?;
    mac.update(body);
    // Compared in constant time.
    mac.verify_slice(&given)
        .map_err(|_| ApiError::new(StatusCode::UNAUTHORIZED, "the webhook signature does not match the body"))
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

fn check_payload(schema: &Value, payload: &Value) -> Result<(), ApiError> {
    let errors = schema_errors(schema, payload, 5).map_err(|e| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("the trigger's payload_schema is invalid: {e}"))
    })?;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "the payload does not match the trigger's payload_schema: {}",
            errors.join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_digests_decode() {
        assert_eq!(super::hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(super::hex("0"), None);
        assert_eq!(super::hex("zz"), None);
    }
}
