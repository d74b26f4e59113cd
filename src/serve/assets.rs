//! The web page: plain HTML, CSS and JavaScript files under `src/serve/web/`, compiled into
//! the binary (no Node toolchain at build or install time). The page's Content Security
//! Policy allows only its own scripts and styles; HTML a session produced is shown in a
//! `sandbox` frame without `allow-same-origin`, so it never runs in the page's origin.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// The page's policy: its own files, its own API, nothing inline, no plugins, no framing.
/// `frame-src 'self'` is for the sandboxed `srcdoc` frames (they inherit this policy too,
/// so a session's HTML cannot run scripts either).
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; \
                       frame-ancestors 'none'";

const INDEX: &str = include_str!("web/index.html");

/// (name, content type, body) of every asset.
const FILES: &[(&str, &str, &str)] = &[
    ("app.js", "text/javascript; charset=utf-8", include_str!("web/app.js")),
    ("app.css", "text/css; charset=utf-8", include_str!("web/app.css")),
];

pub async fn index() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CONTENT_SECURITY_POLICY, CSP)], INDEX)
        .into_response()
}

pub async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => ([(header::CONTENT_TYPE, *content_type)], *body).into_response(),
        None => super::error::ApiError::new(StatusCode::NOT_FOUND, format!("no asset {name}")).into_response(),
    }
}
