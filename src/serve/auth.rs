//! Who may use the API, checked before any route runs ([`guard`]):
//! - with `WINDLASS_API_TOKEN` set, every request but the page's shell, the login and the
//!   probes (`/health`, `/ready`) needs it: `Authorization: Bearer <token>`, or the HttpOnly
//!   `SameSite=Strict` cookie that `POST /login` sets (it holds a hash of the token, never
//!   the token); a webhook trigger (`/api/triggers/...`) checks its own sender (`webhooks`);
//! - without a token (loopback only), requests must name a loopback host, so a web page
//!   whose DNS name was rebound to 127.0.0.1 is refused;
//! - state-changing requests from a browser must come from the page's own origin (`Origin`
//!   and `Sec-Fetch-Site`), so another site cannot post on the user's behalf; JSON bodies
//!   add a CORS preflight that this server never grants.

use super::error::{ApiError, JsonBody};
use super::ApiState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;

/// The login cookie's name.
pub const COOKIE: &str = "windlass_auth";

/// See the module docs.
pub async fn guard(State(st): State<Arc<ApiState>>, req: Request, next: Next) -> Response {
    if let Err(e) = admit(&st, &req) {
        let mut resp = e.into_response();
        harden(resp.headers_mut());
        return resp;
    }
    let mut resp = next.run(req).await;
    harden(resp.headers_mut());
    resp
}

fn admit(st: &ApiState, req: &Request) -> Result<(), ApiError> {
    let headers = req.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if st.opts.token.is_none() && !is_loopback_host(host) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this server answers only requests addressed to localhost, 127.0.0.1 or [::1]; set \
             WINDLASS_API_TOKEN to serve it under another name",
        ));
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        same_origin(headers, host)?;
    }
    let path = req.uri().path();
    // A webhook checks its sender itself (its signature, or this token: `webhooks`).
    let public = matches!(path, "/" | "/login" | "/logout" | "/health" | "/ready")
        || path.starts_with("/assets/")
        || path.starts_with("/api/triggers/");
    match &st.opts.token {
        Some(token) if !public && !authorized(headers, token.expose()) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this server needs its API token: send `Authorization: Bearer <WINDLASS_API_TOKEN>`, or log in on the page",
        )),
        _ => Ok(()),
    }
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A browser's state-changing request must come from this server's own page.
fn same_origin(headers: &HeaderMap, host: &str) -> Result<(), ApiError> {
    let refuse = |why: &str| {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "cross-site request refused: {why}; use the page on this server or send the request without a browser"
            ),
        ))
    };
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return refuse("it comes from another site (Sec-Fetch-Site)");
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let authority = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
        if authority.is_empty() || !authority.eq_ignore_ascii_case(host) {
            return refuse("its Origin is not this server");
        }
    }
    Ok(())
}

pub(super) fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| same(given.trim().as_bytes(), token.as_bytes()));
    bearer || cookie(headers).is_some_and(|c| same(c.as_bytes(), cookie_value(token).as_bytes()))
}

/// The value of the login cookie, if sent.
fn cookie(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == COOKIE).then(|| v.to_string())
    })
}

/// What the login cookie holds: a hash of the token, so the cookie jar never has the token.
fn cookie_value(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(format!("windlass login cookie\0{token}").as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal, in time that does not depend on where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Headers every answer carries: no sniffing, no framing, no referrer, no caching.
fn harden(h: &mut HeaderMap) {
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    token: String,
}

/// `POST /login {"token": ...}`: sets the login cookie when the token is right.
pub async fn login(State(st): State<Arc<ApiState>>, JsonBody(body): JsonBody<Login>) -> Result<Response, ApiError> {
    let Some(token) = &st.opts.token else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    if !same(body.token.as_bytes(), token.expose().as_bytes()) {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "that is not this server's API token"));
    }
    let cookie = format!("{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", cookie_value(token.expose()));
    Ok(([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response())
}

/// `POST /logout`: forgets the login cookie.
pub async fn logout() -> Response {
    let cookie = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for ok in ["localhost", "localhost:7070", "127.0.0.1:7070", "127.9.9.9", "[::1]:7070", "LOCALHOST"] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for no in ["", "evil.example:7070", "10.0.0.1:7070", "[::2]:1", "localhost.evil.example"] {
            assert!(!is_loopback_host(no), "{no}");
        }
    }

    #[test]
    fn origins_must_match_the_host() {
        let mut h = HeaderMap::new();
        assert!(same_origin(&h, "127.0.0.1:7070").is_ok(), "no Origin: not a browser");
        h.insert(header::ORIGIN, HeaderValue::from_static("http://127.0.0.1:7070"));
        assert!(same_origin(&h, "127.0.0.1:7070").is_ok());
        h.insert(header::ORIGIN, HeaderValue::from_static("http://evil.example"));
        assert!(same_origin(&h, "127.0.0.1:7070").is_err());
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(same_origin(&h, "127.0.0.1:7070").is_err());
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(same_origin(&h, "127.0.0.1:7070").is_err());
    }

    #[test]
    fn the_cookie_holds_no_token_and_tokens_compare_whole() {
        let token = "0123456789abcdef-secret";
        assert!(!cookie_value(token).contains(token));
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
    }
}
