//! Security advisories (schema 006): imported in one transaction of batched
//! calls, and the vulnerability queries, each 1 call.
//!
//! The findings (`package_finding`: which package rows each advisory range
//! covers) are kept current on both sides: a write matches the packages it
//! inserts (in its routine, or SQLite's triggers), an import the ranges it
//! inserts, when it commits. Both sides read the one rule, the view
//! `package_match`. An import takes the findings lock exclusively for that
//! last step, and a write that inserts packages takes it shared, so a
//! package and a range that arrive at the same time always meet (see
//! `ddl/<dialect>/routines.sql`). The queries only join what is stored.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use super::calls::Tx;
use super::values::{format_time, long, now, opt_long, opt_text, text, time, Row};
use super::{Store, StoreError};
use crate::advisories::{Advisory, NameKind, Release, Severity};
use crate::model::InstanceId;
use crate::query::{
    AdvisoryCount, AdvisoryCountPage, AdvisoryPage, AdvisoryRecord, AffectedPackage, Vulnerability,
    VulnerabilityPage, VulnerabilityQuery,
};
use crate::version::VersionScheme;

/// Bytes of JSON one import call may carry, leaving room under the Data
/// API's 4 MiB request for the SQL and the other parameters.
pub const IMPORT_BATCH_BYTES: usize = 3 * 1024 * 1024;

/// The longest summary stored; longer ones are cut at a character boundary.
const MAX_SUMMARY_CHARS: usize = 1000;

/// What one batch of advisories did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// New, or replacing a stored record with an older `modified`.
    pub imported: u64,
    /// Stored already with the same or a newer `modified`.
    pub unchanged: u64,
}

/// An import under way: one transaction. Nothing of it is visible before
/// [`AdvisoryImport::commit`]; dropping it without committing leaves the
/// transaction to the endpoint's idle timeout, so call
/// [`AdvisoryImport::rollback`] on failure.
pub struct AdvisoryImport<'a> {
    store: &'a Store,
    tx: Tx,
    /// The largest range id before the import: the ranges it inserts are
    /// above it.
    watermark: i64,
    /// Releases whose source map this import replaced.
    maps: Vec<Release>,
}

/// An advisory row as the import statements read it (`advisories`).
#[derive(Serialize)]
struct AdvisoryJson<'a> {
    id: &'a str,
    feed: &'static str,
    summary: Option<String>,
    severity: &'static str,
    severity_rank: i64,
    /// The aliases as JSON text (stored as is, for display).
    aliases_json: String,
    published: Option<String>,
    modified: String,
    withdrawn: Option<String>,
}

#[derive(Serialize)]
struct AliasJson<'a> {
    alias: &'a str,
    advisory_id: &'a str,
}

/// One affected interval as sort keys in its release's scheme (`ranges`).
#[derive(Serialize)]
struct RangeJson<'a> {
    advisory_id: &'a str,
    os_release: String,
    scheme: &'static str,
    package_name: &'a str,
    names_source: bool,
    introduced_key: Option<String>,
    fixed_key: Option<String>,
    fixed_version: Option<&'a str>,
    last_affected_key: Option<String>,
}

#[derive(Serialize)]
struct PairJson<'a> {
    binary_name: &'a str,
    source_name: &'a str,
}

/// The order of severities in SQL: 4 (critical) down to 0 (unknown).
fn severity_rank(s: Severity) -> i64 {
    match s {
        Severity::Critical => 4,
        Severity::High => 3,
        Severity::Medium => 2,
        Severity::Low => 1,
        Severity::Unknown => 0,
    }
}

/// The affected intervals of an advisory as ranges; an explicit version is
/// the interval of its own key. A withdrawn advisory has none: it matches
/// nothing.
fn ranges_of(a: &Advisory) -> Vec<RangeJson<'_>> {
    if a.withdrawn.is_some() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for affected in &a.affected {
        let scheme: VersionScheme = affected.release.scheme();
        let key = |v: &Option<String>| v.as_deref().map(|v| scheme.sort_key(v));
        let range = |introduced_key, fixed_key, fixed_version, last_affected_key| RangeJson {
            advisory_id: &a.id,
            os_release: affected.release.key(),
            scheme: scheme.as_str(),
            package_name: &affected.package,
            names_source: affected.names == NameKind::Source,
            introduced_key,
            fixed_key,
            fixed_version,
            last_affected_key,
        };
        for i in &affected.ranges {
            out.push(range(
                key(&i.introduced),
                key(&i.fixed),
                i.fixed.as_deref(),
                key(&i.last_affected),
            ));
        }
        for v in &affected.versions {
            let k = Some(scheme.sort_key(v));
            out.push(range(k.clone(), None, None, k));
        }
    }
    out
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Plain strings, numbers and lists: serializing cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// Advisories split into batches whose JSON stays under `budget` bytes.
fn batches(advisories: &[Advisory], budget: usize) -> Vec<&[Advisory]> {
    let mut out = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (i, a) in advisories.iter().enumerate() {
        let cost = to_json(&advisory_json(a)).len()
            + to_json(&ranges_of(a)).len()
            + a.aliases.iter().map(|x| x.len() + 40).sum::<usize>();
        if i > start && size + cost > budget {
            out.push(&advisories[start..i]);
            (start, size) = (i, 0);
        }
        size += cost;
    }
    if start < advisories.len() {
        out.push(&advisories[start..]);
    }
    out
}

fn advisory_json(a: &Advisory) -> AdvisoryJson<'_> {
    AdvisoryJson {
        id: &a.id,
        feed: a.source.as_str(),
        summary: a
            .summary
            .as_ref()
            .map(|s| s.chars().take(MAX_SUMMARY_CHARS).collect()),
        severity: a.severity.as_str(),
        severity_rank: severity_rank(a.severity),
        aliases_json: to_json(&a.aliases),
        published: a.published.map(format_time),
        modified: format_time(a.modified),
        withdrawn: a.withdrawn.map(format_time),
    }
}

impl Store {
    /// Begins an import: a transaction that holds the import lock (one
    /// import at a time), and the ranges' watermark.
    pub async fn begin_import(&self) -> Result<AdvisoryImport<'_>, StoreError> {
        let tx = self.begin().await?;
        let sql = &self.sql().advisories;
        let started = async {
            self.query_in("import.lock", Some(&tx), sql.import_lock, &[])
                .await?;
            let out = self
                .query_in("import.watermark", Some(&tx), sql.range_watermark, &[])
                .await?;
            out.first()
                .map(|row| row.long("id"))
                .transpose()
                .map(Option::unwrap_or_default)
        }
        .await;
        match started {
            Ok(watermark) => Ok(AdvisoryImport {
                store: self,
                tx,
                watermark,
                maps: Vec::new(),
            }),
            Err(e) => {
                self.rollback(tx).await;
                Err(e)
            }
        }
    }
}

impl AdvisoryImport<'_> {
    /// Writes advisories: each replaces a stored one only when its
    /// `modified` is newer. Duplicates keep the newest. 4 calls per batch of
    /// about [`IMPORT_BATCH_BYTES`].
    pub async fn advisories(&mut self, list: &[Advisory]) -> Result<BatchOutcome, StoreError> {
        let mut newest: BTreeMap<&str, &Advisory> = BTreeMap::new();
        for a in list {
            let kept = newest.entry(&a.id).or_insert(a);
            if a.modified > kept.modified {
                *kept = a;
            }
        }
        let distinct: Vec<Advisory> = newest.into_values().cloned().collect();
        let mut outcome = BatchOutcome {
            unchanged: (list.len() - distinct.len()) as u64,
            ..BatchOutcome::default()
        };
        for batch in batches(&distinct, IMPORT_BATCH_BYTES) {
            let written = self.batch(batch).await?;
            outcome.imported += written;
            outcome.unchanged += batch.len() as u64 - written;
        }
        Ok(outcome)
    }

    async fn batch(&self, batch: &[Advisory]) -> Result<u64, StoreError> {
        let sql = &self.store.sql().advisories;
        let advisories = to_json(&batch.iter().map(advisory_json).collect::<Vec<_>>());
        let aliases: Vec<AliasJson<'_>> = batch
            .iter()
            .flat_map(|a| {
                a.aliases.iter().map(|alias| AliasJson {
                    alias,
                    advisory_id: &a.id,
                })
            })
            .collect();
        let ranges: Vec<RangeJson<'_>> = batch.iter().flat_map(ranges_of).collect();
        // Each batch marks what it inserts with its own time.
        let imported = time("imported", now());
        let tx = Some(&self.tx);
        let list = [text("advisories", advisories)];
        self.store
            .execute("import.replace", tx, sql.delete_older, &list)
            .await?;
        let params = [list[0].clone(), imported.clone()];
        let out = self
            .store
            .execute("import.advisories", tx, sql.insert, &params)
            .await?;
        let written = u64::try_from(out.number_of_records_updated()).unwrap_or(0);
        let params = [text("aliases", to_json(&aliases)), imported.clone()];
        self.store
            .execute("import.aliases", tx, sql.alias_insert, &params)
            .await?;
        let params = [text("ranges", to_json(&ranges)), imported];
        self.store
            .execute("import.ranges", tx, sql.range_insert, &params)
            .await?;
        Ok(written)
    }

    /// Replaces the binary → source map of `release` (the first call for a
    /// release in this import clears the old map). 1 call per 20,000 pairs,
    /// and the clearing.
    pub async fn source_map(
        &mut self,
        release: &Release,
        pairs: &[(String, String)],
    ) -> Result<(), StoreError> {
        let sql = &self.store.sql().advisories;
        let tx = Some(&self.tx);
        let key = text("release", release.key());
        if !self.maps.contains(release) {
            self.store
                .execute(
                    "import.map",
                    tx,
                    sql.source_map_clear,
                    std::slice::from_ref(&key),
                )
                .await?;
            self.maps.push(release.clone());
        }
        for chunk in pairs.chunks(20_000) {
            let json: Vec<PairJson<'_>> = chunk
                .iter()
                .map(|(binary_name, source_name)| PairJson {
                    binary_name,
                    source_name,
                })
                .collect();
            let params = [key.clone(), text("pairs", to_json(&json))];
            self.store
                .execute("import.map", tx, sql.source_map_insert, &params)
                .await?;
        }
        Ok(())
    }

    /// Matches what the import brought against every package, under the
    /// findings lock, marks the fleet's counts uncounted, and commits: 3
    /// calls, and 2 per replaced source map.
    pub async fn commit(self) -> Result<(), StoreError> {
        let result = self.match_findings().await;
        self.store.finish(self.tx, result).await
    }

    async fn match_findings(&self) -> Result<(), StoreError> {
        let sql = &self.store.sql().advisories;
        let tx = Some(&self.tx);
        if let Some(lock) = sql.findings_lock {
            self.store.query_in("import.lock", tx, lock, &[]).await?;
        }
        let watermark = long("watermark", self.watermark);
        for release in &self.maps {
            let key = text("release", release.key());
            self.store
                .execute(
                    "import.match",
                    tx,
                    sql.forget_source_ranges,
                    std::slice::from_ref(&key),
                )
                .await?;
            let params = [key, watermark.clone()];
            self.store
                .execute("import.match", tx, sql.match_source_ranges, &params)
                .await?;
        }
        self.store
            .execute("import.match", tx, sql.match_new_ranges, &[watermark])
            .await?;
        // The fleet's counts predate these findings: the next read recounts.
        let clear = self.store.sql().tally.clear;
        self.store.execute("import.uncount", tx, clear, &[]).await?;
        Ok(())
    }

    /// Rolls everything back.
    pub async fn rollback(self) {
        self.store.rollback(self.tx).await;
    }
}

/// A page position as an opaque token: its keys, JSON in base64url.
fn encode_token(keys: &[String]) -> String {
    URL_SAFE_NO_PAD.encode(to_json(&keys))
}

fn decode_token(token: &str, len: usize) -> Result<Vec<String>, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| StoreError::InvalidNextToken)?;
    serde_json::from_slice::<Vec<String>>(&bytes)
        .ok()
        .filter(|keys| keys.len() == len)
        .ok_or(StoreError::InvalidNextToken)
}

/// The instance filters every vulnerability query takes.
fn filters(q: &VulnerabilityQuery) -> [aws_sdk_rdsdata::types::SqlParameter; 3] {
    [
        opt_text("account", q.account.as_ref().map(|a| a.as_str())),
        opt_text("region", q.region.as_ref().map(|r| r.as_str())),
        opt_text("state", q.state.map(|s| s.as_str())),
    ]
}

fn aliases_from(row: &Row<'_>) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(row.str("aliases")?)
        .map_err(|e| StoreError::UnexpectedResult(format!("aliases: {e}")))
}

impl Store {
    /// The advisory named `id` (or, for an alias such as a CVE id, every
    /// advisory with that alias) and a page of the instances it affects, by
    /// instance id: 1 call. `None` when no advisory has that id or alias.
    pub async fn advisory(
        &self,
        id: &str,
        q: &VulnerabilityQuery,
    ) -> Result<Option<AdvisoryPage>, StoreError> {
        q.validate()?;
        let after = q
            .next_token
            .as_deref()
            .map(|t| decode_token(t, 4))
            .transpose()?;
        let key = |i: usize, name: &str| opt_text(name, after.as_ref().map(|a| a[i].as_str()));
        let mut params = vec![text("id", id), long("limit", i64::from(q.limit) + 1)];
        params.extend(filters(q));
        params.extend([
            key(0, "after_id"),
            key(1, "after_name"),
            key(2, "after_version"),
            key(3, "after_advisory"),
        ]);
        let out = self
            .query("advisory", self.sql().advisories.affected, &params)
            .await?;
        let mut advisories = Vec::new();
        let mut affected = Vec::new();
        for row in out.iter() {
            if row.long("part")? == 0 {
                advisories.push(AdvisoryRecord {
                    id: row.str("advisory_id")?.to_owned(),
                    feed: row.str("feed")?.to_owned(),
                    summary: row.opt_str("summary")?.map(str::to_owned),
                    severity: row.parsed("severity")?,
                    aliases: aliases_from(&row)?,
                    published: row.opt_time("published")?,
                    modified: row.time("modified")?,
                    withdrawn: row.opt_time("withdrawn")?,
                });
            } else {
                affected.push(AffectedPackage {
                    instance_id: row.parsed("ec2_id")?,
                    advisory_id: row.str("advisory_id")?.to_owned(),
                    package_name: row.str("package_name")?.to_owned(),
                    package_version: row.str("package_version")?.to_owned(),
                    fixed_version: row.opt_str("fixed_version")?.map(str::to_owned),
                    matched_by: row.str("matched_by")?.to_owned(),
                });
            }
        }
        if advisories.is_empty() {
            return Ok(None);
        }
        let more = affected.len() > q.limit as usize;
        affected.truncate(q.limit as usize);
        let next_token = more.then(|| affected.last()).flatten().map(|a| {
            encode_token(&[
                a.instance_id.to_string(),
                a.package_name.clone(),
                a.package_version.clone(),
                a.advisory_id.clone(),
            ])
        });
        Ok(Some(AdvisoryPage {
            advisories,
            affected,
            next_token,
        }))
    }

    /// The advisories that affect the packages of instance `id` in its OS
    /// release, most severe first: 1 call. Empty for an instance without
    /// findings, an unknown release or an unknown id.
    pub async fn instance_vulnerabilities(
        &self,
        id: &InstanceId,
        q: &VulnerabilityQuery,
    ) -> Result<VulnerabilityPage, StoreError> {
        q.validate()?;
        let after = q
            .next_token
            .as_deref()
            .map(|t| decode_token(t, 4))
            .transpose()?;
        let rank = after
            .as_ref()
            .map(|a| {
                a[0].parse::<i64>()
                    .map_err(|_| StoreError::InvalidNextToken)
            })
            .transpose()?;
        let key = |i: usize, name: &str| opt_text(name, after.as_ref().map(|a| a[i].as_str()));
        let params = [
            text("id", id.as_str()),
            long("limit", i64::from(q.limit) + 1),
            opt_long("after_rank", rank),
            key(1, "after_advisory"),
            key(2, "after_name"),
            key(3, "after_version"),
        ];
        let out = self
            .query(
                "vulnerabilities",
                self.sql().advisories.instance_vulnerabilities,
                &params,
            )
            .await?;
        let mut rows = Vec::with_capacity(out.len());
        for row in out.iter() {
            rows.push((
                row.long("severity_rank")?,
                Vulnerability {
                    advisory_id: row.str("advisory_id")?.to_owned(),
                    aliases: aliases_from(&row)?,
                    severity: row.parsed("severity")?,
                    package_name: row.str("package_name")?.to_owned(),
                    package_version: row.str("package_version")?.to_owned(),
                    fixed_version: row.opt_str("fixed_version")?.map(str::to_owned),
                    matched_by: row.str("matched_by")?.to_owned(),
                },
            ));
        }
        let more = rows.len() > q.limit as usize;
        rows.truncate(q.limit as usize);
        let next_token = more.then(|| rows.last()).flatten().map(|(rank, v)| {
            encode_token(&[
                rank.to_string(),
                v.advisory_id.clone(),
                v.package_name.clone(),
                v.package_version.clone(),
            ])
        });
        Ok(VulnerabilityPage {
            vulnerabilities: rows.into_iter().map(|(_, v)| v).collect(),
            next_token,
        })
    }

    /// The fleet's advisories with the number of instances each affects,
    /// most severe then most widespread first, as last counted (see
    /// `store::fleet`): 1 call while the counts are fresh.
    pub async fn fleet_vulnerabilities(
        &self,
        q: &VulnerabilityQuery,
    ) -> Result<AdvisoryCountPage, StoreError> {
        q.validate()?;
        let after = q
            .next_token
            .as_deref()
            .map(|t| decode_token(t, 3))
            .transpose()?;
        let number = |i: usize| {
            after
                .as_ref()
                .map(|a| {
                    a[i].parse::<i64>()
                        .map_err(|_| StoreError::InvalidNextToken)
                })
                .transpose()
        };
        let mut params = vec![
            long("limit", i64::from(q.limit) + 1),
            opt_text("severity", q.severity.map(Severity::as_str)),
            opt_long("after_rank", number(0)?),
            opt_long("after_instances", number(1)?),
            opt_text("after_advisory", after.as_ref().map(|a| a[2].as_str())),
        ];
        params.extend(filters(q));
        let (mut rows, counted_at) = self
            .read_counted(|| async {
                let out = self
                    .query(
                        "vulnerabilities.fleet",
                        self.sql().advisories.fleet_vulnerabilities,
                        &params,
                    )
                    .await?;
                let mut counted_at = None;
                let mut rows = Vec::with_capacity(out.len());
                for row in out.iter() {
                    counted_at = row.opt_time("counted_at")?;
                    // The row of an empty page has no advisory.
                    let Some(advisory_id) = row.opt_str("advisory_id")? else {
                        continue;
                    };
                    rows.push((
                        row.long("severity_rank")?,
                        AdvisoryCount {
                            advisory_id: advisory_id.to_owned(),
                            aliases: aliases_from(&row)?,
                            severity: row.parsed("severity")?,
                            summary: row.opt_str("summary")?.map(str::to_owned),
                            instances: u64::try_from(row.long("instances")?).unwrap_or(0),
                        },
                    ));
                }
                Ok((rows, counted_at))
            })
            .await?;
        let more = rows.len() > q.limit as usize;
        rows.truncate(q.limit as usize);
        let next_token = more.then(|| rows.last()).flatten().map(|(rank, a)| {
            encode_token(&[
                rank.to_string(),
                a.instances.to_string(),
                a.advisory_id.clone(),
            ])
        });
        Ok(AdvisoryCountPage {
            advisories: rows.into_iter().map(|(_, a)| a).collect(),
            next_token,
            counted_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let keys = vec!["i-1".to_string(), "a/b".to_string(), "1:2~3".to_string()];
        assert_eq!(decode_token(&encode_token(&keys), 3).unwrap(), keys);
        for bad in ["", "!!", &encode_token(&keys[..2])] {
            assert!(
                matches!(decode_token(bad, 3), Err(StoreError::InvalidNextToken)),
                "{bad}"
            );
        }
    }

    #[test]
    fn batches_stay_under_the_budget() {
        let advisory = |i: usize| Advisory {
            id: format!("TEST-{i}"),
            aliases: vec![format!("CVE-2024-{i}")],
            summary: Some("x".repeat(2000)),
            severity: Severity::High,
            published: None,
            modified: Utc::now(),
            withdrawn: None,
            source: crate::advisories::Feed::Osv,
            affected: Vec::new(),
        };
        let list: Vec<Advisory> = (0..100).map(advisory).collect();
        let split = batches(&list, 20_000);
        assert!(split.len() > 5);
        assert_eq!(split.iter().map(|b| b.len()).sum::<usize>(), 100);
        assert_eq!(batches(&list, usize::MAX).len(), 1);
        assert!(batches(&[], 10).is_empty());
        // The summary is cut to what the column holds.
        assert_eq!(
            advisory_json(&list[0]).summary.map(|s| s.chars().count()),
            Some(MAX_SUMMARY_CHARS)
        );
    }
}
