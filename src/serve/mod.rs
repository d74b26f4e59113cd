//! The HTTP side of windlass, served by `windlass serve` and `windlass worker --listen`: a
//! JSON API over the store, Server-Sent Events of a session's log rows and status changes,
//! the web page, and the worker's `/health`, `/ready` and `/metrics`. Everything is read from
//! and written to the store, so any server answers for any session, whichever process runs
//! it.
//!
//! One file per group of routes: [`sessions`] (list and detail), [`logs`] (paged rows),
//! [`events`] (SSE, fed by the one [`poller`] of the process), [`actions`] (submit, signal,
//! cancel, resume, through `session::control` and `host::start` like the commands), [`auth`]
//! (token, login cookie, CSRF and host checks), [`assets`] (the embedded page), [`health`].
//! [`listen`] decides whether an address may be served at all.

pub mod actions;
pub mod assets;
pub mod auth;
pub mod error;
pub mod events;
pub mod health;
pub mod listen;
pub mod logs;
pub mod poller;
pub mod sessions;
pub mod timeline;
pub mod webhooks;

use crate::host::metrics::Metrics;
use crate::settings::Secret;
use crate::store::Store;
use axum::routing::{get, post};
use axum::Router;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What a server is given.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The folder `POST /api/sessions` may submit cascade files from.
    pub root: PathBuf,
    /// `WINDLASS_API_TOKEN`: required of every request when set.
    pub token: Option<Secret>,
    /// How often the poller reads the store for the sessions clients watch.
    pub poll: Duration,
    /// The heartbeat lease a submitted session is queued with.
    pub lease: Duration,
    /// Where cascades used as tools are looked up when a submission is checked.
    pub tool_path: Vec<PathBuf>,
}

/// What every handler shares.
pub struct ApiState {
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    pub poller: Arc<poller::Poller>,
    pub opts: ServeOptions,
    /// Turns true when the server stops: open event streams end so shutdown can finish.
    pub stopping: watch::Receiver<bool>,
}

/// Every route, behind the [`auth::guard`].
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/api/sessions", get(sessions::list).post(actions::submit))
        .route("/api/sessions/{id}", get(sessions::detail))
        .route("/api/sessions/{id}/logs", get(logs::page))
        .route("/api/sessions/{id}/events", get(events::stream))
        .route("/api/sessions/{id}/signal", post(actions::signal))
        .route("/api/sessions/{id}/cancel", post(actions::cancel))
        .route("/api/sessions/{id}/resume", post(actions::resume))
        .route("/api/triggers/{id}", post(webhooks::fire))
        .route("/login", post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(health::metrics))
        .route("/", get(assets::index))
        .route("/assets/{name}", get(assets::file))
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::guard))
        .with_state(state)
}

/// Serve until `shutdown` completes, then stop taking connections, end the event streams
/// and wait for requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    opts: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopping) = watch::channel(false);
    let poller = poller::Poller::start(store.clone(), opts.poll, stopping.clone());
    let state = Arc::new(ApiState { store, metrics, poller, opts, stopping });
    let app = router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop.send(true);
        })
        .await
}
