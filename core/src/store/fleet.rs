//! The fleet at a glance: instance counts along its dimensions and the most
//! widespread packages, each 1 call (the fleet's history is in `history`).

use super::values::long;
use super::{Store, StoreError};
use crate::query::{DimensionCount, FleetCounts, PackageSpread};

/// The most package names [`Store::widespread_packages`] answers.
pub const MAX_WIDESPREAD: u32 = 1000;

impl Store {
    /// Instances by account, region, state and platform, most first (then
    /// by value): 1 call.
    pub async fn fleet_counts(&self) -> Result<FleetCounts, StoreError> {
        let out = self
            .query("fleet_counts", self.sql().portable.fleet_counts, &[])
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
    /// instances, most first (then by name): 1 call.
    pub async fn widespread_packages(&self, limit: u32) -> Result<Vec<PackageSpread>, StoreError> {
        let limit = limit.clamp(1, MAX_WIDESPREAD);
        let out = self
            .query(
                "widespread_packages",
                self.sql().portable.widespread_packages,
                &[long("limit", limit.into())],
            )
            .await?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        let mut spread = out
            .iter()
            .map(|row| {
                Ok(PackageSpread {
                    name: row.str("name")?.to_owned(),
                    instances: count(row.long("instances")?),
                    versions: count(row.long("versions")?),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // Ranked by installs in SQL; shown by instances.
        spread.sort_by(|a, b| b.instances.cmp(&a.instances).then(a.name.cmp(&b.name)));
        Ok(spread)
    }
}
