//! Errors: the Data API's typed errors as sent on the wire, and the library's startup errors.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Startup errors of [`crate::Server::start`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot connect cluster {arn}: {source}")]
    Connect { arn: String, source: sqlx::Error },
}

/// An error answered to a client: the service's error type (the `x-amzn-ErrorType` header), its HTTP
/// status and a message (`{"message": ...}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ApiError {
    /// A malformed call or one the service refuses (bad parameter, limit exceeded, unknown cluster).
    #[error("{0}")]
    BadRequest(String),
    /// A request the service's validation refuses. Not in the rds-data model: the common AWS
    /// error, as the service answers the `schema` parameter and more than one statement in a call.
    #[error("{0}")]
    Validation(String),
    /// The database rejected the statement; carries the engine's message.
    #[error("{0}")]
    Database(String),
    #[error("{0}")]
    TransactionNotFound(String),
    #[error("{0}")]
    Secrets(String),
    #[error("{0}")]
    Resuming(String),
    #[error("{0}")]
    Unavailable(String),
    /// A value the endpoint cannot represent in a Data API result.
    #[error("{0}")]
    UnsupportedResult(String),
    #[error("{0}")]
    Internal(String),
    #[error("{0}")]
    UnknownOperation(String),
}

impl ApiError {
    /// The error code the SDKs match on.
    pub(crate) fn error_type(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "BadRequestException",
            ApiError::Validation(_) => "ValidationException",
            ApiError::Database(_) => "DatabaseErrorException",
            ApiError::TransactionNotFound(_) => "TransactionNotFoundException",
            ApiError::Secrets(_) => "SecretsErrorException",
            ApiError::Resuming(_) => "DatabaseResumingException",
            ApiError::Unavailable(_) => "DatabaseUnavailableException",
            ApiError::UnsupportedResult(_) => "UnsupportedResultException",
            ApiError::Internal(_) => "InternalServerErrorException",
            ApiError::UnknownOperation(_) => "UnknownOperationException",
        }
    }

    /// The HTTP status the service model gives each error.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::TransactionNotFound(_) | ApiError::UnknownOperation(_) => {
                StatusCode::NOT_FOUND
            }
            ApiError::Unavailable(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    pub(crate) fn transaction_not_found(id: &str) -> ApiError {
        ApiError::TransactionNotFound(format!("Transaction {id} is not found"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "message": self.to_string() }).to_string();
        let mut response = (
            self.status(),
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        response.headers_mut().insert(
            "x-amzn-ErrorType",
            HeaderValue::from_static(self.error_type()),
        );
        response
    }
}
