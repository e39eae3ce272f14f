//! The fleet at a glance: instance counts along its dimensions and the most
//! widespread packages, each 1 call (the fleet's history is in `history`);
//! and the recount of the fleet's counts (schema 010).
//!
//! How many instances each advisory affects, and how widespread each package
//! name is, take every instance-advisory pair and every link to count:
//! seconds at 10,000 instances. So they are kept in `advisory_exposure` and
//! `package_spread`, recounted whole by the read that finds them older than
//! [`Store::with_counts_max_age`] (default [`DEFAULT_COUNTS_MAX_AGE`]): such
//! a read costs the recount and a second read, every other one 1 call. An
//! import marks them uncounted, so its findings count at the next read.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::sql::Recount;
use super::values::{long, now, time};
use super::{Store, StoreError};
use crate::query::{
    DimensionCount, FleetCounts, FleetOverview, HistoryQuery, PackageSpread, VulnerabilityQuery,
    WidespreadPackages,
};

/// The most package names [`Store::widespread_packages`] answers.
pub const MAX_WIDESPREAD: u32 = 1000;

/// How old the fleet's counts may be before a read recounts them.
pub const DEFAULT_COUNTS_MAX_AGE: Duration = Duration::from_secs(60);

impl Store {
    /// The fleet overview with `widespread` package names, `recent` changes
    /// and a page of `advisories`: 4 calls, made at once.
    pub async fn fleet_overview(
        &self,
        widespread: u32,
        recent: u32,
        advisories: u32,
    ) -> Result<FleetOverview, StoreError> {
        let recent = HistoryQuery {
            limit: recent,
            ..HistoryQuery::default()
        };
        let advisories = VulnerabilityQuery {
            limit: advisories,
            ..VulnerabilityQuery::default()
        };
        let (counts, widespread, recent, advisories) = futures::try_join!(
            self.fleet_counts(),
            self.widespread_packages(widespread),
            self.fleet_history(&recent),
            self.fleet_vulnerabilities(&advisories),
        )?;
        Ok(FleetOverview {
            counts,
            widespread,
            recent,
            advisories,
        })
    }

    /// Instances by account, region, state and platform, most first (then
    /// by value): 1 call.
    pub async fn fleet_counts(&self) -> Result<FleetCounts, StoreError> {
        let out = self
            .query("fleet_counts", self.sql().fleet_counts, &[])
            .await?;
        let mut counts = FleetCounts::default();
        for row in out.iter() {
            let list = match row.str("dimension")? {
                "account" => &mut counts.by_account,
                "region" => &mut counts.by_region,
                "state" => &mut counts.by_state,
                "platform" => &mut counts.by_platform,
                other => {
                    return Err(StoreError::UnexpectedResult(format!(
                        "fleet_counts: unknown dimension {other:?}"
                    )))
                }
            };
            list.push(DimensionCount {
                value: row.opt_str("value")?.map(str::to_owned),
                instances: u64::try_from(row.long("instances")?).unwrap_or(0),
            });
        }
        for list in [
            &mut counts.by_account,
            &mut counts.by_region,
            &mut counts.by_state,
            &mut counts.by_platform,
        ] {
            list.sort_by(|a, b| b.instances.cmp(&a.instances).then(a.value.cmp(&b.value)));
        }
        Ok(counts)
    }

    /// The `limit` (1 to [`MAX_WIDESPREAD`]) package names on the most
    /// instances, most first (then by name), as last counted: 1 call while
    /// the counts are fresh.
    pub async fn widespread_packages(&self, limit: u32) -> Result<WidespreadPackages, StoreError> {
        let limit = limit.clamp(1, MAX_WIDESPREAD);
        let (mut packages, counted_at) = self
            .read_counted(|| async {
                let out = self
                    .query(
                        "widespread_packages",
                        self.sql().widespread_packages,
                        &[long("limit", limit.into())],
                    )
                    .await?;
                let count = |n: i64| u64::try_from(n).unwrap_or(0);
                let mut counted_at = None;
                let mut packages = Vec::with_capacity(out.len());
                for row in out.iter() {
                    counted_at = row.opt_time("counted_at")?;
                    // The row of an empty list has no name.
                    let Some(name) = row.opt_str("name")? else {
                        continue;
                    };
                    packages.push(PackageSpread {
                        name: name.to_owned(),
                        instances: count(row.long("instances")?),
                        versions: count(row.long("versions")?),
                    });
                }
                Ok((packages, counted_at))
            })
            .await?;
        // Ranked by installs in SQL; shown by instances.
        packages.sort_by(|a, b| b.instances.cmp(&a.instances).then(a.name.cmp(&b.name)));
        Ok(WidespreadPackages {
            packages,
            counted_at,
        })
    }

    /// Runs `read`, which answers its result and when the counts it read
    /// were taken; when that is longer ago than the maximum age (or never),
    /// recounts and reads again.
    pub(crate) async fn read_counted<T, F, Fut>(
        &self,
        read: F,
    ) -> Result<(T, Option<DateTime<Utc>>), StoreError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<(T, Option<DateTime<Utc>>), StoreError>>,
    {
        let (value, counted_at) = read().await?;
        let oldest_fresh = now() - self.counts_max_age;
        if counted_at.is_some_and(|t| t >= oldest_fresh) {
            return Ok((value, counted_at));
        }
        self.recount_fleet(oldest_fresh).await?;
        read().await
    }

    /// Recounts the fleet's counts unless they were taken at or after
    /// `oldest_fresh` (a concurrent reader's recount, which this one waits
    /// for). Answers whether this call counted.
    pub async fn recount_fleet(&self, oldest_fresh: DateTime<Utc>) -> Result<bool, StoreError> {
        // The spread keeps as many names as a read may ask for.
        let names = long("names", MAX_WIDESPREAD.into());
        let params = [
            time("stale_before", oldest_fresh),
            time("now", now()),
            names.clone(),
        ];
        match self.sql().tally.recount {
            Recount::Routine(call) => {
                let out = self.query("fleet.recount", call, &params).await?;
                let counted = match out.iter().next() {
                    Some(row) => row.bool("counted"),
                    None => Err(StoreError::UnexpectedResult(
                        "the recount answered no row".into(),
                    )),
                };
                counted
            }
            Recount::Statements {
                claim,
                clear_exposure,
                count_exposure,
                clear_spread,
                count_spread,
            } => {
                let tx = self.begin().await?;
                let counted = async {
                    let claimed = self
                        .execute("fleet.claim", Some(&tx), claim, &params[..2])
                        .await?;
                    if claimed.number_of_records_updated() == 0 {
                        return Ok(false);
                    }
                    let spread = std::slice::from_ref(&names);
                    for (label, sql, params) in [
                        ("fleet.clear_exposure", clear_exposure, &[][..]),
                        ("fleet.count_exposure", count_exposure, &[]),
                        ("fleet.clear_spread", clear_spread, &[]),
                        ("fleet.count_spread", count_spread, spread),
                    ] {
                        self.execute(label, Some(&tx), sql, params).await?;
                    }
                    Ok(true)
                }
                .await;
                self.finish(tx, counted).await
            }
        }
    }
}
