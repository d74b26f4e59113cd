//! The probes and counters: `/health` (200 when the store answers now, 503 with the reason
//! when it does not), `/ready` (200 while the process takes work, 503 while it starts or
//! drains), `/metrics` (Prometheus text, [`crate::host::metrics::Metrics`], with the store's
//! sessions by status).

use super::ApiState;
use crate::host::metrics::count_by_status;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long `/health` waits for the store.
const HEALTH_PATIENCE: Duration = Duration::from_secs(5);

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

pub async fn health(State(st): State<Arc<ApiState>>) -> Response {
    let store = &st.store;
    let started = Instant::now();
    let answer = tokio::time::timeout(HEALTH_PATIENCE, store.now()).await;
    st.metrics.store_check(started.elapsed(), matches!(answer, Ok(Ok(_))));
    let (status, body) = match answer {
        Ok(Ok(_)) => (StatusCode::OK, format!("ok: store {} answers\n", store.describe())),
        Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, format!("unhealthy: {e}\n")),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("unhealthy: the store {} did not answer within {HEALTH_PATIENCE:?}\n", store.describe()),
        ),
    };
    text(status, "text/plain", body)
}

pub async fn ready(State(st): State<Arc<ApiState>>) -> Response {
    if st.metrics.ready.load(Ordering::Relaxed) {
        text(StatusCode::OK, "text/plain", "ready\n".into())
    } else {
        text(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "not ready: starting or draining\n".into())
    }
}

pub async fn metrics(State(st): State<Arc<ApiState>>) -> Response {
    // Sessions by status come from the store; a store that does not answer in time leaves
    // them out rather than holding the scrape.
    let filter = crate::store::SessionFilter { limit: 10_000, ..Default::default() };
    let listed = tokio::time::timeout(HEALTH_PATIENCE, st.store.list_sessions(&filter)).await;
    let counts = match listed {
        Ok(Ok(rows)) => Some(count_by_status(rows.into_iter().map(|r| r.status))),
        _ => None,
    };
    text(StatusCode::OK, "text/plain; version=0.0.4", st.metrics.render_with_sessions(counts.as_deref()))
}
