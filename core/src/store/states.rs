//! State changes applied to the store: ordered by event time, with the packages
//! of a `running` event in the same call; and the instances whose inventory
//! the scheduled sync should re-read.

use aws_sdk_rdsdata::types::SqlParameter;
use chrono::{DateTime, Utc};

use super::calls::Tx;
use super::instances::{ec2_params, os_params, WritePlan, Written};
use super::sql::{Head, Routines, Statements, Writes};
use super::values::{long, micros, now, opt_text, opt_time, text, time, Rows};
use super::{Store, StoreError};
use crate::model::{
    distinct_packages, validate_packages, InstanceDetails, InstanceKey, OsPlatform, PackageSet,
    Scope, Source, StateChange,
};
use crate::version::VersionScheme;

/// What [`Store::apply_state_with_packages`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateWrite {
    /// False when an event as new or newer was applied already.
    pub state_applied: bool,
    /// False when this event's state does not stand (a newer one does) or
    /// a capture as new or newer is stored.
    pub packages_written: bool,
}

/// The packages of a `running` event, as chunks of the request, with their
/// scheme and the OS SSM reported with them.
struct Captured<'a> {
    chunks: Vec<String>,
    scheme: VersionScheme,
    os: Option<&'a OsPlatform>,
    at: DateTime<Utc>,
}

impl Captured<'_> {
    /// The package write of the event `c`, with the head's `params`: its
    /// history records the changes at the capture's time.
    fn plan<'a>(&self, c: &'a StateChange, params: Vec<SqlParameter>) -> WritePlan<'a> {
        WritePlan {
            head: Head::ReplaceAfterState,
            id: &c.id,
            params,
            chunks: self.chunks.clone(),
            scheme: self.scheme,
            source: Source::Event,
            at: self.at,
            state: None,
        }
    }
}

impl Store {
    /// Upserts the instance from a state event (source `event`) unless an
    /// event as new or newer was applied already; true when applied.
    /// Idempotent: the same change twice is applied once. 1 call.
    pub async fn apply_state(&self, c: &StateChange) -> Result<bool, StoreError> {
        Ok(self.record_state(c, None).await?.state_applied)
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
        self.record_state(c, Some(&captured)).await
    }

    async fn record_state(
        &self,
        c: &StateChange,
        captured: Option<&Captured<'_>>,
    ) -> Result<StateWrite, StoreError> {
        let empty = InstanceDetails::default();
        let d = c.details.as_ref().unwrap_or(&empty);
        let mut params = ec2_params(
            &c.id,
            &c.account,
            &c.region,
            Some(c.state),
            d,
            Source::Event,
            now(),
        );
        params.extend([
            time("time", micros(c.time)),
            long("has_details", i64::from(c.details.is_some())),
        ]);
        match (&self.sql().writes, captured) {
            (Writes::Routines(r), _) => {
                params.push(opt_time("captured_at", captured.map(|p| p.at)));
                params.extend(os_params(
                    captured.and_then(|p| p.os),
                    captured.map(|p| p.scheme),
                ));
                match captured {
                    Some(oversized) if oversized.chunks.len() > 1 => {
                        self.retrying(|| {
                            self.in_transaction(|tx| {
                                self.state_chunks_by_routine(r, tx, c, &params, oversized)
                            })
                        })
                        .await
                    }
                    _ => {
                        let first = captured.and_then(|p| p.chunks.first()).map(String::as_str);
                        params.push(opt_text("packages", first));
                        if r.own_transaction {
                            params.push(long("own_transaction", 1));
                        }
                        let out = self.query("apply_state", r.apply_state, &params).await?;
                        state_write(&out)
                    }
                }
            }
            (Writes::Statements(s), captured) => {
                self.retrying(|| {
                    self.in_transaction(|tx| self.state_statements(s, tx, c, &params, captured))
                })
                .await
            }
        }
    }

    /// A state with an oversized package list: the routine with the first
    /// chunk, then the links of the others when it wrote packages.
    async fn state_chunks_by_routine(
        &self,
        r: &Routines,
        tx: Tx,
        c: &StateChange,
        params: &[SqlParameter],
        captured: &Captured<'_>,
    ) -> (Tx, Result<StateWrite, StoreError>) {
        let result = async {
            let mut params = params.to_vec();
            params.push(opt_text(
                "packages",
                captured.chunks.first().map(String::as_str),
            ));
            if r.own_transaction {
                params.push(long("own_transaction", 0));
            }
            let out = self
                .query_in("apply_state", Some(&tx), r.apply_state, &params)
                .await?;
            let written = state_write(&out)?;
            if written.packages_written {
                let plan = captured.plan(c, Vec::new());
                self.link_further_chunks(r, &tx, &plan).await?;
            }
            Ok(written)
        }
        .await;
        (tx, result)
    }

    /// SQLite: the state's change in the history, its upsert, then the
    /// package write if any, in `tx`.
    async fn state_statements(
        &self,
        s: &Statements,
        tx: Tx,
        c: &StateChange,
        params: &[SqlParameter],
        captured: Option<&Captured<'_>>,
    ) -> (Tx, Result<StateWrite, StoreError>) {
        let result = async {
            let history = [
                text("id", c.id.as_str()),
                time("time", micros(c.time)),
                text("source", Source::Event.as_str()),
                text("state", c.state.as_str()),
            ];
            self.execute(
                "apply_state.history",
                Some(&tx),
                s.record_state_event,
                &history,
            )
            .await?;
            let out = self
                .execute("apply_state", Some(&tx), s.upsert_state, params)
                .await?;
            let state_applied = out.number_of_records_updated() > 0;
            let Some(captured) = captured else {
                return Ok(StateWrite {
                    state_applied,
                    packages_written: false,
                });
            };
            let mut head = vec![
                text("id", c.id.as_str()),
                time("captured_at", captured.at),
                time("now", now()),
                text("source", Source::Event.as_str()),
                time("time", micros(c.time)),
                long("state_applied", i64::from(state_applied)),
            ];
            head.extend(os_params(captured.os, Some(captured.scheme)));
            let plan = captured.plan(c, head);
            let written = self.write_statements(s, &tx, &plan).await?;
            Ok(StateWrite {
                state_applied,
                packages_written: written != Written::Skipped,
            })
        }
        .await;
        (tx, result)
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
            .query("stale_running", self.sql().portable.stale_running, &params)
            .await?;
        out.iter().map(|row| row.key()).collect()
    }
}

/// The `state_applied, packages_written` row of the state routine.
fn state_write(out: &Rows) -> Result<StateWrite, StoreError> {
    let row = out
        .first()
        .ok_or_else(|| StoreError::UnexpectedResult("the state routine answered no row".into()))?;
    Ok(StateWrite {
        state_applied: row.bool("state_applied")?,
        packages_written: row.bool("packages_written")?,
    })
}
