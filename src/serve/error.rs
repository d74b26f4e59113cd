//! [`ApiError`]: every failure of the API as `{"error": "<message>"}` with the status that
//! fits (cli.md, "The HTTP API"), and [`JsonBody`], the JSON extractor whose rejections say
//! the same way what was wrong with the body.

use crate::session::control::ControlError;
use crate::session_id::SessionId;
use crate::store::StoreError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;

/// An error answer: a status and a message that says what failed and what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unknown_session(id: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("no session {id} in this store; GET /api/sessions lists them"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Json(serde_json::json!({ "error": self.message }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let status = match e {
            StoreError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            StoreError::NotReadOnly(_) => StatusCode::BAD_REQUEST,
            StoreError::Rejected { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<ControlError> for ApiError {
    fn from(e: ControlError) -> ApiError {
        match e {
            ControlError::Unknown { session } => ApiError::unknown_session(&session),
            ControlError::Finished { .. } => ApiError::new(
                StatusCode::CONFLICT,
                format!("{e}; only sessions that have not ended take signals, cancels and resumes"),
            ),
            ControlError::Busy { .. } => ApiError::new(StatusCode::CONFLICT, e.to_string()),
            ControlError::Store(e) => e.into(),
        }
    }
}

/// The answer to a path no route has.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such route; the API is under /api/sessions, the page at /")
}

/// A JSON request body; a body that is not JSON, or not the expected shape, is a 400 that
/// says why (a body over the limit is a 413).
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(rejected(rejection)),
        }
    }
}

fn rejected(rejection: JsonRejection) -> ApiError {
    let status = match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    let message = match &rejection {
        JsonRejection::MissingJsonContentType(_) => "send the body as JSON, with Content-Type: application/json".into(),
        _ => format!("the request body is not what this route takes: {}", rejection.body_text()),
    };
    ApiError::new(status, message)
}

/// A session id from a path: the same shape rules as on the command line.
pub fn session_id(raw: &str) -> Result<SessionId, ApiError> {
    raw.parse::<SessionId>().map_err(|why| ApiError::bad_request(format!("`{raw}` is not a session id: {why}")))
}
