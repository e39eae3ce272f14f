//! The event path: state changes (ordered by event time) and the instances
//! whose inventory the scheduled sync should re-read.

use chrono::{DateTime, Utc};

use super::instances::ec2_params;
use super::values::{long, micros, rows, time};
use super::{InstanceKey, StateChange, Store, StoreError};
use crate::model::{InstanceDetails, Source};

impl Store {
    /// Upserts the instance from a state event (source `event`) unless an
    /// event as new or newer was applied already; true when applied.
    /// Idempotent: the same change twice is applied once.
    pub async fn apply_state(&self, c: &StateChange) -> Result<bool, StoreError> {
        let sql = self.sql();
        let empty = InstanceDetails::default();
        let d = c.details.as_ref().unwrap_or(&empty);
        let mut params = ec2_params(
            &c.id,
            &c.account,
            &c.region,
            Some(c.state),
            d,
            Source::Event,
        );
        params.extend([
            time("time", micros(c.time)),
            long("has_details", i64::from(c.details.is_some())),
        ]);
        let update = || self.run("apply_state", sql.apply_state, &params);
        if update().await?.number_of_records_updated() > 0 {
            return Ok(true);
        }
        // MySQL's statement only updates: insert an unknown instance; if a
        // concurrent event inserted it first, apply this one as an update.
        let Some(insert) = sql.apply_state_insert else {
            return Ok(false);
        };
        match self.run("apply_state.insert", insert, &params).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_duplicate_key() => Ok(update().await?.number_of_records_updated() > 0),
            Err(e) => Err(e),
        }
    }

    /// Running instances whose inventory is missing or older than
    /// `older_than`: missing first, then oldest; at most `limit`.
    pub async fn stale_running(
        &self,
        older_than: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<InstanceKey>, StoreError> {
        let params = [
            time("older_than", micros(older_than)),
            long("limit", limit.into()),
        ];
        let out = self
            .run("stale_running", self.sql().stale_running, &params)
            .await?;
        rows(&out).map(|row| row.key(0)).collect()
    }
}
