//! The inventory store: every SQL statement of the product, spoken through the
//! RDS Data API (`aws-sdk-rdsdata`) to PostgreSQL, MySQL or SQLite.
//!
//! Data API budget (see DESIGN.md §4): writing an instance with N packages is
//! atomic and costs ONE call on PostgreSQL and MySQL (a routine of schema
//! version 2) for any N whose package list fits one request, a fixed number
//! on SQLite; reading one costs 1 call.
//!
//! The operations live with their SQL's subject: `migrate` (schema),
//! `instances` (create/put/get/delete, package replacement), `events`
//! (state changes, stale inventories), `search` (search, package versions).

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use thiserror::Error;

mod calls;
mod events;
mod instances;
mod migrate;
mod search;
mod sql;
mod sync;
mod values;

pub use calls::RetryPolicy;
pub use events::StateWrite;
pub use migrate::SCHEMA_VERSION;
pub use sync::{RecordedInstance, SyncCursor, SyncLease};

use crate::model::{Account, InstanceDetails, InstanceId, InstanceState, Region, ValidationError};

/// SQL dialect of the database behind the Data API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Postgres,
    Mysql,
    Sqlite,
}

impl FromStr for Dialect {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Ok(Self::Postgres),
            "mysql" => Ok(Self::Mysql),
            "sqlite" => Ok(Self::Sqlite),
            _ => Err(ValidationError::new(
                crate::config::ENV_DIALECT,
                "must be postgres, mysql or sqlite",
            )),
        }
    }
}

impl Dialect {
    /// The name [`FromStr`] reads: `postgres`, `mysql` or `sqlite`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
            Self::Sqlite => "sqlite",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the Data API calls go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbTarget {
    pub resource_arn: String,
    pub secret_arn: String,
    pub database: Option<String>,
    pub dialect: Dialect,
}

/// Schema versions before and after [`Store::migrate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    pub from: u32,
    pub to: u32,
}

/// A state change from an EC2 event (or the sync), applied by [`Store::apply_state`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub id: InstanceId,
    pub account: Account,
    pub region: Region,
    pub state: InstanceState,
    pub time: DateTime<Utc>,
    pub details: Option<InstanceDetails>,
}

/// Enough to find an instance's inventory in SSM.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstanceKey {
    pub id: InstanceId,
    pub account: Account,
    pub region: Region,
}

/// Search filters (combined with AND) and the page wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    pub package_name: Option<String>,
    /// Only together with `package_name`.
    pub package_version: Option<String>,
    pub account: Option<Account>,
    pub region: Option<Region>,
    pub state: Option<InstanceState>,
    /// 1..=1000.
    pub limit: u32,
    /// Opaque token from a previous [`SearchPage`].
    pub next_token: Option<String>,
}

pub const DEFAULT_SEARCH_LIMIT: u32 = 100;
pub const MAX_SEARCH_LIMIT: u32 = 1000;

impl Default for SearchQuery {
    fn default() -> Self {
        Self {
            package_name: None,
            package_version: None,
            account: None,
            region: None,
            state: None,
            limit: DEFAULT_SEARCH_LIMIT,
            next_token: None,
        }
    }
}

/// One page of search results, ordered by instance id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    pub instances: Vec<InstanceSummary>,
    /// Present when more results may follow.
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSummary {
    pub id: InstanceId,
    pub account: Account,
    pub region: Region,
    pub state: Option<InstanceState>,
    pub instance_type: Option<String>,
    pub updated: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageVersionCount {
    pub version: String,
    pub instances: u64,
}

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

/// The inventory store. Cheap to clone; clones share the call counter.
#[derive(Clone)]
pub struct Store {
    client: aws_sdk_rdsdata::Client,
    target: Arc<DbTarget>,
    calls: Arc<AtomicU64>,
    retry: RetryPolicy,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("target", &self.target)
            .field("calls", &self.data_api_calls())
            .finish()
    }
}

impl Store {
    pub fn new(client: aws_sdk_rdsdata::Client, target: DbTarget) -> Self {
        Self {
            client,
            target: Arc::new(target),
            calls: Arc::new(AtomicU64::new(0)),
            retry: RetryPolicy::default(),
        }
    }

    /// Replaces the retry policy (tests use short delays).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn dialect(&self) -> Dialect {
        self.target.dialect
    }

    /// The statements of this store's dialect.
    fn sql(&self) -> &'static sql::Sql {
        sql::of(self.target.dialect)
    }

    /// Data API calls made so far through this store and its clones.
    pub fn data_api_calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}
