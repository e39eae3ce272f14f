//! What a store operation can fail with.

use thiserror::Error;

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
    /// A Data API call failed; `code` is the service's error code when known.
    #[error("Data API {operation} failed ({}): {message}", code.as_deref().unwrap_or("no code"))]
    DataApi {
        operation: &'static str,
        code: Option<String>,
        message: String,
        transient: bool,
        #[source]
        source: BoxError,
    },
    /// The database answered something this store cannot read.
    #[error("unexpected Data API result: {0}")]
    UnexpectedResult(String),
    #[error("migration failed: {0}")]
    Migration(String),
}

impl StoreError {
    /// Worth retrying later (database resuming, throttling, unavailable,
    /// deadlock/serialization failure): a Lambda should fail the event for retry.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::DataApi {
                transient: true,
                ..
            }
        )
    }
}
