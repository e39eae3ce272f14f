//! The event path: state changes (ordered by event time) and the instances
//! whose inventory the scheduled sync should re-read.

use chrono::{DateTime, Utc};

use super::sql;
use super::values::{long, micros, now, opt_text, opt_time, text, time, Row};
use super::{InstanceKey, StateChange, Store, StoreError};
use crate::model::{InstanceDetails, Source};

impl Store {
    /// Upserts the instance from a state event (source `event`) unless an
    /// event as new or newer was applied already; true when applied.
    /// Idempotent: the same change twice is applied once.
    pub async fn apply_state(&self, c: &StateChange) -> Result<bool, StoreError> {
        let sql = sql::of(self.dialect());
        let empty = InstanceDetails::default();
        let d = c.details.as_ref().unwrap_or(&empty);
        let params = vec![
            text("id", c.id.as_str()),
            text("account", c.account.as_str()),
            text("region", c.region.as_str()),
            text("state", c.state.as_str()),
            opt_text("instance_type", d.instance_type.as_deref()),
            opt_text("image_id", d.image_id.as_deref()),
            opt_text("platform", d.platform.as_deref()),
            opt_time("launch_time", d.launch_time.map(micros)),
            text("tags", serde_json::to_string(&d.tags).unwrap_or_default()),
            text("source", Source::Event.as_str()),
            time("now", now()),
            time("time", micros(c.time)),
            long("has_details", i64::from(c.details.is_some())),
        ];
        let update = || self.execute("apply_state", None, sql.apply_state, params.clone());
        if update().await?.number_of_records_updated() > 0 {
            return Ok(true);
        }
        // MySQL's statement only updates: insert an unknown instance; if a
        // concurrent event inserted it first, apply this one as an update.
        let Some(insert) = sql.apply_state_insert else {
            return Ok(false);
        };
        match self
            .execute("apply_state.insert", None, insert, params.clone())
            .await
        {
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
        let sql = sql::of(self.dialect());
        let out = self
            .execute(
                "stale_running",
                None,
                sql.stale_running,
                vec![
                    time("older_than", micros(older_than)),
                    long("limit", limit.into()),
                ],
            )
            .await?;
        out.records()
            .iter()
            .map(|r| {
                let row = Row(r);
                Ok(InstanceKey {
                    id: row.parsed(0)?,
                    account: row.parsed(1)?,
                    region: row.parsed(2)?,
                })
            })
            .collect()
    }
}
