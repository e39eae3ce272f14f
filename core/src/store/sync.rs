//! The scheduled sync's walk over the fleet: its cursor (table `sync_cursor`,
//! schema 003, one row per account and region) and the recorded instances of
//! one stretch of the walk.
//!
//! A run takes the cursor with a lease, so two runs of one scope (the
//! schedule and `inventory sync`, or a retry while the first still runs)
//! never walk the same stretch twice; a run that dies mid-way lets its lease
//! expire and the next run resumes from its last saved position.

use chrono::{DateTime, Utc};

use super::values::{long, micros, opt_text, opt_time, text, time, Row};
use super::{Store, StoreError};
use crate::model::{Account, InstanceId, Region};
use crate::query::RecordedInstance;

/// Greater than every instance id (letters, digits, `-_.:`), so "up to the end".
const PAST_EVERY_ID: &str = "~";

/// Where the walk of one scope stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncCursor {
    /// The last instance id visited in the current pass; `None` when a pass
    /// starts (over) from the first id.
    pub position: Option<String>,
    /// When the current pass began; `None` before the first visit.
    pub pass_started: Option<DateTime<Utc>>,
    /// Passes that reached the last id.
    pub passes_completed: u64,
}

/// A run's hold on a scope's cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncLease {
    /// `<account>:<region>`.
    pub scope: String,
    /// A random id of the run holding the cursor.
    pub owner: String,
}

impl SyncLease {
    pub fn new(account: &Account, region: &Region) -> Self {
        Self {
            scope: format!("{account}:{region}"),
            owner: uuid::Uuid::new_v4().to_string(),
        }
    }
}

fn recorded_from(row: &Row<'_>) -> Result<RecordedInstance, StoreError> {
    Ok(RecordedInstance {
        id: row.parsed("id")?,
        state: row.opt_parsed("state")?,
        inventory_captured_at: row.opt_time("inventory_captured_at")?,
        last_change: row.time("last_change")?,
    })
}

impl Store {
    /// Takes the scope's cursor until `until` unless another run holds an
    /// unexpired lease on it: `None` then. 3 calls.
    pub async fn acquire_sync_cursor(
        &self,
        lease: &SyncLease,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<SyncCursor>, StoreError> {
        let sql = self.sql();
        let scope = text("scope", lease.scope.as_str());
        let owner = text("owner", lease.owner.as_str());
        let now = time("now", micros(now));
        self.run(
            "sync_cursor.ensure",
            sql.sync_cursor_ensure,
            &[scope.clone(), now.clone()],
        )
        .await?;
        let params = [
            scope.clone(),
            owner.clone(),
            now,
            time("until", micros(until)),
        ];
        let taken = self
            .run("sync_cursor.acquire", sql.sync_cursor_acquire, &params)
            .await?;
        if taken.number_of_records_updated() == 0 {
            return Ok(None);
        }
        let out = self
            .query("sync_cursor.read", sql.sync_cursor_read, &[scope, owner])
            .await?;
        let Some(row) = out.first() else {
            // Taken over between the two calls: only possible once our lease expired.
            return Ok(None);
        };
        Ok(Some(SyncCursor {
            position: row.opt_str("position")?.map(str::to_owned),
            pass_started: row.opt_time("pass_started")?,
            passes_completed: u64::try_from(row.long("passes_completed")?).unwrap_or_default(),
        }))
    }

    /// Saves the walk's progress while holding the lease; false when the
    /// lease was lost (it expired and another run took it). 1 call.
    pub async fn save_sync_cursor(
        &self,
        lease: &SyncLease,
        cursor: &SyncCursor,
    ) -> Result<bool, StoreError> {
        self.write_cursor(
            "sync_cursor.save",
            self.sql().sync_cursor_save,
            lease,
            cursor,
        )
        .await
    }

    /// Saves the walk's progress and gives the lease back. 1 call.
    pub async fn release_sync_cursor(
        &self,
        lease: &SyncLease,
        cursor: &SyncCursor,
    ) -> Result<bool, StoreError> {
        self.write_cursor(
            "sync_cursor.release",
            self.sql().sync_cursor_release,
            lease,
            cursor,
        )
        .await
    }

    async fn write_cursor(
        &self,
        label: &'static str,
        sql: &str,
        lease: &SyncLease,
        cursor: &SyncCursor,
    ) -> Result<bool, StoreError> {
        let params = [
            text("scope", lease.scope.as_str()),
            text("owner", lease.owner.as_str()),
            opt_text("position", cursor.position.as_deref()),
            opt_time("pass_started", cursor.pass_started.map(micros)),
            long(
                "passes",
                i64::try_from(cursor.passes_completed).unwrap_or(i64::MAX),
            ),
            // Always a new value, so MySQL counts the row as changed.
            time("now", super::values::now()),
        ];
        let out = self.run(label, sql, &params).await?;
        Ok(out.number_of_records_updated() > 0)
    }

    /// The recorded instances of one account and region with ids after
    /// `after` (`None`: from the first) up to `upto` (`None`: to the last),
    /// by id, at most `limit`. 1 call.
    pub async fn recorded_in_range(
        &self,
        account: &Account,
        region: &Region,
        after: Option<&str>,
        upto: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RecordedInstance>, StoreError> {
        let params = [
            text("account", account.as_str()),
            text("region", region.as_str()),
            text("after", after.unwrap_or_default()),
            text("upto", upto.unwrap_or(PAST_EVERY_ID)),
            long("limit", limit.into()),
        ];
        let out = self
            .query("recorded_in_range", self.sql().recorded_in_range, &params)
            .await?;
        out.iter().map(|row| recorded_from(&row)).collect()
    }

    /// What the store holds of one instance, without its packages. 1 call.
    pub async fn recorded_instance(
        &self,
        id: &InstanceId,
    ) -> Result<Option<RecordedInstance>, StoreError> {
        let out = self
            .query(
                "recorded_instance",
                self.sql().recorded_instance,
                &[text("id", id.as_str())],
            )
            .await?;
        out.first().map(|row| recorded_from(&row)).transpose()
    }
}
