//! State changes applied to the store: ordered by event time, with the packages
//! of a `running` event in the same call; and the instances whose inventory
//! the scheduled sync should re-read.

use chrono::{DateTime, Utc};

use super::values::{long, micros, opt_text, time};
use super::write::{Captured, StateWrite};
use super::{Store, StoreError};
use crate::model::{
    distinct_packages, validate_packages, InstanceKey, PackageSet, Scope, StateChange,
};

impl Store {
    /// Upserts the instance from a state event (source `event`) unless an
    /// event as new or newer was applied already; true when applied.
    /// Idempotent: the same change twice is applied once. 1 call.
    pub async fn apply_state(&self, c: &StateChange) -> Result<bool, StoreError> {
        Ok(self.write_state(c, None).await?.state_applied)
    }

    /// A `running` event with the packages SSM captured at `captured_at`:
    /// the state as [`Store::apply_state`], and the package set (replaced as
    /// [`Store::replace_packages`] does) when this event's state stands, i.e.
    /// it was just applied or it is a redelivery of the stored event whose
    /// packages never arrived, and the capture is newer than the stored one.
    /// ONE call on PostgreSQL and MySQL (a transaction on SQLite, or for a
    /// package list over one request).
    pub async fn apply_state_with_packages(
        &self,
        c: &StateChange,
        set: PackageSet<'_>,
        captured_at: DateTime<Utc>,
    ) -> Result<StateWrite, StoreError> {
        validate_packages(set.packages)?;
        let captured = Captured {
            chunks: self.package_chunks(&distinct_packages(set.packages), set.scheme),
            scheme: set.scheme,
            os: set.os,
            at: micros(captured_at),
        };
        self.write_state(c, Some(&captured)).await
    }

    /// Running instances (of `scope`, or anywhere) whose inventory is
    /// missing or older than `older_than`: missing first, then oldest; at
    /// most `limit`.
    pub async fn stale_running(
        &self,
        scope: Option<&Scope>,
        older_than: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<InstanceKey>, StoreError> {
        let params = [
            opt_text("account", scope.map(|s| s.account.as_str())),
            opt_text("region", scope.map(|s| s.region.as_str())),
            time("older_than", micros(older_than)),
            long("limit", limit.into()),
        ];
        let out = self
            .query("stale_running", self.sql().stale_running, &params)
            .await?;
        out.iter().map(|row| row.key()).collect()
    }
}
