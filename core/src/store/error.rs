//! What a store operation can fail with.

use thiserror::Error;

use super::calls::DataApiFailure;
use crate::model::{InstanceId, ValidationError};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("instance {0} is already recorded")]
    AlreadyExists(InstanceId),
    #[error("next_token is not valid")]
    InvalidNextToken,
    /// Bad input (e.g. a search with `package_version` but no `package_name`).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// A Data API call failed; `code` is the service's error code when known,
    /// `failure` what it means for the caller.
    #[error("Data API {operation} failed ({}): {message}", code.as_deref().unwrap_or("no code"))]
    DataApi {
        operation: &'static str,
        code: Option<String>,
        message: String,
        failure: DataApiFailure,
        #[source]
        source: BoxError,
    },
    /// The database answered something this store cannot read.
    #[error("unexpected Data API result: {0}")]
    UnexpectedResult(String),
    #[error("migration failed: {0}")]
    Migration(String),
    /// The application role cannot be set up as asked (its secret, name or
    /// password).
    #[error("database role: {0}")]
    AppRole(String),
}

impl StoreError {
    /// Worth retrying later (database resuming, throttling, unavailable,
    /// deadlock/serialization failure): a Lambda should fail the event for retry.
    pub fn is_retryable(&self) -> bool {
        self.failure() == Some(DataApiFailure::Retryable)
    }

    /// The result was over the Data API's response (1 MiB) or row (64 KB) limit.
    pub(crate) fn is_result_too_large(&self) -> bool {
        self.failure() == Some(DataApiFailure::ResultTooLarge)
    }

    fn failure(&self) -> Option<DataApiFailure> {
        match self {
            Self::DataApi { failure, .. } => Some(*failure),
            _ => None,
        }
    }
}
