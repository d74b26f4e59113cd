//! The worker's HTTP endpoints (`worker --listen ADDR`):
//! - `/health`: 200 when the store answers now, 503 (with the reason) when it does not;
//! - `/ready`: 200 while the worker takes work, 503 while it starts or drains;
//! - `/metrics`: Prometheus text ([`super::metrics::Metrics`]).

use super::metrics::Metrics;
use crate::store::Store;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long `/health` waits for the store.
const HEALTH_PATIENCE: Duration = Duration::from_secs(5);

/// Bind `addr` (the error names it) and serve until the task is dropped.
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

pub async fn serve(listener: tokio::net::TcpListener, store: Arc<dyn Store>, metrics: Arc<Metrics>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let store = store.clone();
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(req, store.clone(), metrics.clone()));
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn answer(
    req: Request<Incoming>,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let (status, content_type, body) = match req.uri().path() {
        "/health" => {
            let started = Instant::now();
            let answer = tokio::time::timeout(HEALTH_PATIENCE, store.now()).await;
            let ok = matches!(answer, Ok(Ok(_)));
            metrics.store_check(started.elapsed(), ok);
            match answer {
                Ok(Ok(_)) => (StatusCode::OK, "text/plain", format!("ok: store {} answers\n", store.describe())),
                Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, "text/plain", format!("unhealthy: {e}\n")),
                Err(_) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    format!("unhealthy: the store {} did not answer within {HEALTH_PATIENCE:?}\n", store.describe()),
                ),
            }
        }
        "/ready" if metrics.ready.load(Ordering::Relaxed) => (StatusCode::OK, "text/plain", "ready\n".into()),
        "/ready" => (StatusCode::SERVICE_UNAVAILABLE, "text/plain", "not ready: starting or draining\n".into()),
        "/metrics" => (StatusCode::OK, "text/plain; version=0.0.4", metrics.render()),
        _ => (StatusCode::NOT_FOUND, "text/plain", "not found: try /health, /ready or /metrics\n".into()),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(content_type));
    Ok(resp)
}
