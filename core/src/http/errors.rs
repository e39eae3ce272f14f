//! What can go wrong with a request, and the status each failure answers with.

use http::header::{HeaderName, HeaderValue, ALLOW, RETRY_AFTER};
use http::StatusCode;
use thiserror::Error;

use crate::model::ValidationError;
use crate::store::StoreError;

/// A request that cannot be answered with success. The `Display` text is the
/// `error_message` clients see: it never carries internal detail (server
/// faults are logged, not returned).
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
    Unavailable,
    #[error("internal error; quote the request id when reporting it")]
    Internal,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::Validation(_) | Self::AlreadyRecorded(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::InstanceNotFound(_) | Self::NoRoute(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A header the answer carries besides its JSON body.
    pub(crate) fn header(&self) -> Option<(HeaderName, HeaderValue)> {
        match self {
            Self::MethodNotAllowed { allow, .. } => Some((ALLOW, HeaderValue::from_static(allow))),
            Self::Unavailable => Some((RETRY_AFTER, HeaderValue::from_static("1"))),
            _ => None,
        }
    }

    /// Maps a store failure, logging what the client is not told.
    pub fn from_store(err: StoreError) -> Self {
        match err {
            StoreError::AlreadyExists(id) => Self::AlreadyRecorded(id.to_string()),
            StoreError::InvalidNextToken => Self::Validation(ValidationError::new(
                "next_token",
                "is not a token this API returned",
            )),
            StoreError::Invalid(v) => Self::Validation(v),
            err if err.is_retryable() => {
                tracing::warn!(error = %err, "store unavailable");
                Self::Unavailable
            }
            err => {
                tracing::error!(error = %err, "store failure");
                Self::Internal
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        Self::from_store(err)
    }
}
