//! The inventory store: every SQL statement of the product, spoken through the
//! RDS Data API (`aws-sdk-rdsdata`) to PostgreSQL, MySQL or SQLite.
//!
//! Data API budget: writing an instance with N packages is atomic and costs
//! ONE call on PostgreSQL and MySQL (a routine of `ddl/<dialect>/routines.sql`,
//! which records the history too) for any N whose package list fits one
//! request, a fixed number on SQLite; reading one costs 1 call.
//!
//! Where things are: [`Store`] (this file: the client and its call counter),
//! `target` (dialect and cluster), `error`, `calls` (the Data API call
//! wrapper and retries), `values` (parameters and result rows), `sql` (the
//! statements per dialect), `write` (how every instance write runs on each
//! dialect: the routine call, the chunked transaction, SQLite's statements),
//! and the operations with their SQL's subject: `migrate` (schema), `app_role` (the functions' database role),
//! `instances` (create/put/get/delete, package replacement), `states`
//! (state changes, stale inventories), `search`
//! (search, package versions), `history` (the changes the writes record,
//! of an instance, a package or the whole fleet), `fleet` (counts along the
//! fleet's dimensions, the most widespread packages, and the recount of
//! the fleet's counts),
//! `sync` (the fleet walk's cursor), `coverage` (what was heard from each
//! account and region), `advisories` (imports and the vulnerability
//! queries), `feeds` (the scheduled import's state per feed).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod advisories;
mod app_role;
mod calls;
mod coverage;
mod error;
mod feeds;
mod fleet;
mod history;
mod instances;
mod migrate;
mod search;
mod sql;
mod states;
mod sync;
mod target;
mod values;
mod write;

pub use advisories::{AdvisoryImport, BatchOutcome, IMPORT_BATCH_BYTES};
pub use app_role::AppCredentials;
pub use calls::{DataApiFailure, RetryPolicy};
pub use coverage::{ScopeSyncReport, MAX_ERROR_CHARS};
pub use error::StoreError;
pub use feeds::FeedState;
pub use fleet::{DEFAULT_COUNTS_MAX_AGE, MAX_WIDESPREAD};
pub use migrate::{schema_statements, Migration, SCHEMA_VERSION};
pub use sync::{SyncCursor, SyncLease};
pub use target::{DbTarget, Dialect, UnknownDialect};
pub use write::StateWrite;

/// The inventory store. Cheap to clone; clones share the call counter.
#[derive(Clone)]
pub struct Store {
    client: aws_sdk_rdsdata::Client,
    target: Arc<DbTarget>,
    calls: Arc<AtomicU64>,
    retry: RetryPolicy,
    counts_max_age: Duration,
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
            counts_max_age: DEFAULT_COUNTS_MAX_AGE,
        }
    }

    /// Replaces the retry policy (tests use short delays).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How old the fleet's counts (advisory exposure, package spread) may
    /// be before a read recounts them; zero recounts on every read.
    pub fn with_counts_max_age(mut self, age: Duration) -> Self {
        self.counts_max_age = age;
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
