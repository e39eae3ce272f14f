//! What can go wrong with a request, and the answer each failure gets.

use axum::body::Body;
use axum::http::header::{HeaderName, HeaderValue, ALLOW, RETRY_AFTER};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use thiserror::Error;

use crate::model::ValidationError;
use crate::store::StoreError;

/// A request that cannot be answered with success: what every handler,
/// extractor and fallback of the router fails with. The `Display` text is the
/// `error_message` clients see: it never carries internal detail. A server
/// fault keeps its cause as the error's `source`, logged once, when the error
/// becomes the answer.
#[derive(Debug, Error)]
pub enum ApiError {
    /// Malformed input that is not tied to one field (bad JSON, bad encoding).
    #[error("{0}")]
    BadRequest(String),
    /// Input that breaks a rule of the model; the message names the field.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    #[error("instance {0} is already recorded; use PUT /ec2/{0} to replace it")]
    AlreadyRecorded(String),
    #[error("no instance {0} is recorded")]
    InstanceNotFound(String),
    #[error(
        "no advisory has the id or alias {0:?}; import its feed with `inventory advisories import`"
    )]
    AdvisoryNotFound(String),
    #[error("no route for {0}")]
    NoRoute(String),
    #[error("method {method} is not allowed on {route}; allowed: {allow}")]
    MethodNotAllowed {
        method: String,
        route: &'static str,
        allow: &'static str,
    },
    #[error("request body is over the limit of {max} bytes")]
    PayloadTooLarge { max: usize },
    #[error(
        "content-type must be application/json, not {0:?} \
         (with curl: -H 'content-type: application/json')"
    )]
    UnsupportedMediaType(String),
    #[error("the database is temporarily unavailable; retry shortly")]
    Unavailable(#[source] StoreError),
    /// A store failure, or none (a panic, an answer that cannot be serialized).
    #[error("internal error; quote the request id when reporting it")]
    Internal(#[source] Option<StoreError>),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::Validation(_) | Self::AlreadyRecorded(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::InstanceNotFound(_) | Self::AdvisoryNotFound(_) | Self::NoRoute(_) => {
                StatusCode::NOT_FOUND
            }
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A header the answer carries besides its JSON body.
    fn header(&self) -> Option<(HeaderName, HeaderValue)> {
        match self {
            Self::MethodNotAllowed { allow, .. } => Some((ALLOW, HeaderValue::from_static(allow))),
            Self::Unavailable(_) => Some((RETRY_AFTER, HeaderValue::from_static("1"))),
            _ => None,
        }
    }

    /// Logs what the client is not told: a server fault's cause.
    pub(super) fn log(&self) {
        match self {
            Self::Unavailable(cause) => tracing::warn!(error = %cause, "store unavailable"),
            Self::Internal(Some(cause)) => tracing::error!(error = %cause, "store failure"),
            _ => {}
        }
    }
}

/// What a store failure means to the client: its own fault (400), or the
/// server's, keeping the cause for the log.
impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::AlreadyExists(id) => Self::AlreadyRecorded(id.to_string()),
            StoreError::InvalidNextToken => Self::Validation(ValidationError::new(
                "next_token",
                "is not a token this API returned",
            )),
            StoreError::Invalid(v) => Self::Validation(v),
            err if err.is_retryable() => Self::Unavailable(err),
            err => Self::Internal(Some(err)),
        }
    }
}

/// The message a failed answer carries until [`write_body`] turns it into
/// the JSON body, once the request id is at hand.
#[derive(Debug, Clone)]
struct ErrorMessage(String);

/// The status and headers of the answer, logging the cause of a server
/// fault. The body is written by `write_body`, around every route.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let mut response = Response::new(Body::empty());
        *response.status_mut() = self.status();
        if let Some((name, value)) = self.header() {
            response.headers_mut().insert(name, value);
        }
        response
            .extensions_mut()
            .insert(ErrorMessage(self.to_string()));
        response
    }
}

/// The body of every error answer.
#[derive(Debug, Serialize)]
struct ErrorAnswer<'a> {
    error_message: &'a str,
    request_id: &'a str,
}

/// Writes an error answer's body: `{"error_message": …, "request_id": …}`.
pub(super) fn write_body(response: &mut Response, request_id: &str) {
    if let Some(ErrorMessage(message)) = response.extensions_mut().remove() {
        let body = ErrorAnswer {
            error_message: &message,
            request_id,
        };
        // Serializing two strings cannot fail.
        *response.body_mut() = Body::from(serde_json::to_vec(&body).unwrap_or_default());
    }
}
