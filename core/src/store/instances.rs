//! Instance writes (create, put, package replacement), reads and deletes.
//!
//! A write sends the package list as ONE JSON parameter. PostgreSQL and MySQL
//! do the whole write in ONE call of a server-side routine (schema version
//! 2), atomic, whatever the number of packages; SQLite in one transaction of
//! a fixed number of statements.
//!
//! The one limit is the Data API's 4 MiB request: a package list whose JSON
//! exceeds [`PACKAGES_JSON_BUDGET`] is split into chunks, written inside one
//! transaction (PostgreSQL/MySQL: the routine with the first chunk, then one
//! call per further chunk). 10,000 typical packages (about 60 bytes each)
//! take about 0.6 MB: one call. At the model's maximum lengths a package
//! takes about 700 bytes of ASCII (up to four times that in other scripts),
//! so 10,000 of those (about 7 MB) cannot travel in one request at all.

use std::collections::BTreeMap;

use aws_sdk_rdsdata::types::SqlParameter;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::calls::Tx;
use super::sql::{Head, Reports, Routines, Statements, Writes, PACKAGES_PAGE};
use super::values::{long, micros, now, opt_text, opt_time, text, time, Row, Rows};
use super::{Store, StoreError};
use crate::model::{
    distinct_packages, validate_packages, Account, Instance, InstanceDetails, InstanceId,
    InstanceRecord, InstanceState, OsPlatform, Package, PackageSet, Region, Source,
};
use crate::version::VersionScheme;

/// Bytes the package JSON may take in the request body (after JSON escaping),
/// leaving 64 KiB under the 4 MiB limit for the headers, the SQL and the
/// other parameters (the largest, EC2's tags, stay under 30 KB).
pub(crate) const PACKAGES_JSON_BUDGET: usize = 4 * 1024 * 1024 - 64 * 1024;

/// One package in the `packages` parameter.
#[derive(Serialize)]
struct PackageJson<'a> {
    n: &'a str,
    v: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    p: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    a: Option<&'a str>,
    /// The source package (`package.source_name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'a str>,
    /// The version's sort key in the write's scheme (`package.version_key`).
    k: String,
    /// MySQL: the package's `identity_hash` in hex (SHA-256 of name, NUL,
    /// version, NUL, scheme, as the DDL's generated column), so that the
    /// procedure finds packages by it without hashing each JSON row in every
    /// statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    h: Option<String>,
}

/// SHA-256 of `name` NUL `version` NUL `scheme` in hex: MySQL's `identity_hash`.
fn identity_hash(p: &Package, scheme: VersionScheme) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(p.name.as_bytes())
        .chain_update([0u8])
        .chain_update(p.version.as_bytes())
        .chain_update([0u8])
        .chain_update(scheme.as_str().as_bytes())
        .finalize();
    format!("{digest:x}")
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Serializing plain strings and maps cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// The package list as JSON arrays, each at most `budget` bytes once escaped
/// into the request; one array (possibly `[]`) when everything fits. Each
/// package carries its version's sort key in `scheme`, and with `hashed` its
/// `identity_hash` (MySQL).
pub(crate) fn package_chunks(
    packages: &[Package],
    scheme: VersionScheme,
    budget: usize,
    hashed: bool,
) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut items: Vec<String> = Vec::new();
    let mut size = 2;
    for p in packages {
        let item = to_json(&PackageJson {
            n: &p.name,
            v: &p.version,
            p: p.publisher.as_deref(),
            a: p.architecture.as_deref(),
            s: p.source_name.as_deref(),
            k: scheme.sort_key(&p.version),
            h: hashed.then(|| identity_hash(p, scheme)),
        });
        // The parameter is itself a JSON string in the request, where each
        // quote and backslash of the item takes a byte more (serde_json
        // writes no raw control characters); and a comma.
        let escapes = item.bytes().filter(|b| matches!(b, b'"' | b'\\')).count();
        let cost = item.len() + escapes + 1;
        if !items.is_empty() && size + cost > budget {
            chunks.push(format!("[{}]", items.join(",")));
            items.clear();
            size = 2;
        }
        size += cost;
        items.push(item);
    }
    chunks.push(format!("[{}]", items.join(",")));
    chunks
}

/// What the `ec2` row statement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    Created,
    Replaced,
    /// Nothing: the id was recorded (create), unknown or newer (replace).
    Skipped,
}

/// Parameters of the `ec2` row's columns (`id` .. `source`) and `now`, as
/// every write of a whole row (create, put, state change) binds them.
pub(super) fn ec2_params(
    id: &InstanceId,
    account: &Account,
    region: &Region,
    state: Option<InstanceState>,
    details: &InstanceDetails,
    source: Source,
    now: DateTime<Utc>,
) -> Vec<SqlParameter> {
    vec![
        text("id", id.as_str()),
        text("account", account.as_str()),
        text("region", region.as_str()),
        opt_text("state", state.map(|s| s.as_str())),
        opt_text("instance_type", details.instance_type.as_deref()),
        opt_text("image_id", details.image_id.as_deref()),
        opt_text("platform", details.platform.as_deref()),
        opt_time("launch_time", details.launch_time.map(micros)),
        text("tags", to_json(&details.tags)),
        text("source", source.as_str()),
        time("now", now),
    ]
}

/// The parameters of the OS an instance reports, the release it names, and
/// the scheme of the package set written with it (all NULL for a state alone).
pub(super) fn os_params(
    os: Option<&OsPlatform>,
    scheme: Option<VersionScheme>,
) -> [SqlParameter; 4] {
    let release = os.and_then(OsPlatform::release).map(|r| r.key());
    [
        opt_text("platform_name", os.map(|o| o.name.as_str())),
        opt_text("platform_version", os.map(|o| o.version.as_str())),
        opt_text("os_release", release.as_deref()),
        opt_text("version_scheme", scheme.map(VersionScheme::as_str)),
    ]
}

/// An instance write: the head's parameters (all but `packages`), the
/// package chunks (at least one), their scheme, and what its history
/// records: the source and the time of the changes (the request's, or the
/// capture's).
pub(crate) struct WritePlan<'a> {
    pub head: Head,
    pub id: &'a InstanceId,
    pub params: Vec<SqlParameter>,
    pub chunks: Vec<String>,
    pub scheme: VersionScheme,
    pub source: Source,
    pub at: DateTime<Utc>,
    /// The state a POST or PUT writes (SQLite records its change apart).
    pub state: Option<InstanceState>,
}

impl WritePlan<'_> {
    /// The parameters of a statement about the `n`th chunk's packages: their
    /// links, history and rows (SQLite), or a further chunk's link call.
    fn chunk_params(&self, chunk: usize) -> [SqlParameter; 5] {
        [
            text("id", self.id.as_str()),
            text("packages", self.chunks[chunk].as_str()),
            text("version_scheme", self.scheme.as_str()),
            text("source", self.source.as_str()),
            time("at", self.at),
        ]
    }

    /// The head's parameters with the `n`th chunk as `packages`, and
    /// `own_transaction` (1 when the call is not inside a transaction) for
    /// the routines that take it.
    pub(crate) fn params(&self, chunk: usize, own_transaction: Option<bool>) -> Vec<SqlParameter> {
        let mut params = self.params.clone();
        params.push(text("packages", self.chunks[chunk].as_str()));
        if let Some(own) = own_transaction {
            params.push(long("own_transaction", i64::from(own)));
        }
        params
    }
}

impl Store {
    /// The package list as the dialect's routines or statements read it,
    /// with sort keys in `scheme`.
    pub(crate) fn package_chunks(
        &self,
        packages: &[Package],
        scheme: VersionScheme,
    ) -> Vec<String> {
        let hashed = self.dialect() == super::Dialect::Mysql;
        package_chunks(packages, scheme, PACKAGES_JSON_BUDGET, hashed)
    }

    /// Records a new instance with its packages; `AlreadyExists` if the id is recorded.
    pub async fn create_instance(&self, i: &Instance) -> Result<(), StoreError> {
        match self.write_instance(Head::Create, i).await? {
            Written::Skipped => Err(StoreError::AlreadyExists(i.id.clone())),
            _ => Ok(()),
        }
    }

    /// Creates or replaces an instance with its packages; true when created.
    pub async fn put_instance(&self, i: &Instance) -> Result<bool, StoreError> {
        Ok(self.write_instance(Head::Put, i).await? == Written::Created)
    }

    async fn write_instance(&self, head: Head, i: &Instance) -> Result<Written, StoreError> {
        validate_packages(&i.packages)?;
        let packages = distinct_packages(&i.packages);
        let at = now();
        let mut params = ec2_params(
            &i.id, &i.account, &i.region, i.state, &i.details, i.source, at,
        );
        params.push(text("mode", write_mode(head)));
        let release = i.os.as_ref().and_then(OsPlatform::release);
        let scheme = VersionScheme::detect(
            None,
            release.map(|r| r.scheme()),
            i.details.platform.as_deref(),
        );
        params.extend(os_params(i.os.as_ref(), Some(scheme)));
        let plan = WritePlan {
            head,
            id: &i.id,
            params,
            chunks: self.package_chunks(&packages, scheme),
            scheme,
            source: i.source,
            at,
            state: i.state,
        };
        self.write(&plan).await
    }

    /// Replaces the package set of a recorded instance (and sets its
    /// `inventory_captured_at`, and its OS when the set reports one) unless a
    /// newer capture is stored; true when written, false (nothing written)
    /// for an unknown instance or a stale capture. Versions get sort keys in
    /// the set's scheme; the history records the changes at the capture's time.
    pub async fn replace_packages(
        &self,
        id: &InstanceId,
        set: PackageSet<'_>,
        captured_at: DateTime<Utc>,
        source: Source,
    ) -> Result<bool, StoreError> {
        validate_packages(set.packages)?;
        let packages = distinct_packages(set.packages);
        let at = micros(captured_at);
        let mut params = vec![
            text("id", id.as_str()),
            time("captured_at", at),
            time("now", now()),
            text("source", source.as_str()),
        ];
        params.extend(os_params(set.os, Some(set.scheme)));
        let plan = WritePlan {
            head: Head::Replace,
            id,
            params,
            chunks: self.package_chunks(&packages, set.scheme),
            scheme: set.scheme,
            source,
            at,
            state: None,
        };
        Ok(self.write(&plan).await? != Written::Skipped)
    }

    /// One routine call where the dialect has routines and the packages fit
    /// one request, else one transaction; retried as a whole on deadlocks and
    /// other retryable failures.
    pub(crate) async fn write(&self, plan: &WritePlan<'_>) -> Result<Written, StoreError> {
        match &self.sql().writes {
            Writes::Routines(r) if plan.chunks.len() == 1 => {
                let params = plan.params(0, r.own_transaction.then_some(true));
                let out = self
                    .query("write", routine_of(r, plan.head), &params)
                    .await?;
                written_by_routine(&out)
            }
            Writes::Routines(r) => {
                self.retrying(|| {
                    self.in_transaction(|tx| self.write_chunks_by_routine(r, tx, plan))
                })
                .await
            }
            Writes::Statements(s) => {
                self.retrying(|| self.in_transaction(|tx| self.write_in(s, tx, plan)))
                    .await
            }
        }
    }

    /// Runs `work` in a transaction, committed when it succeeds.
    pub(crate) async fn in_transaction<T, F, Fut>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: std::future::Future<Output = (Tx, Result<T, StoreError>)>,
    {
        let (tx, result) = work(self.begin().await?).await;
        self.finish(tx, result).await
    }

    /// The oversized write: the routine with the first chunk (it takes the
    /// row lock and replaces the links), then the links of every further chunk.
    async fn write_chunks_by_routine(
        &self,
        r: &Routines,
        tx: Tx,
        plan: &WritePlan<'_>,
    ) -> (Tx, Result<Written, StoreError>) {
        let result = async {
            let params = plan.params(0, r.own_transaction.then_some(false));
            let first = self
                .query_in("write", Some(&tx), routine_of(r, plan.head), &params)
                .await?;
            let written = written_by_routine(&first)?;
            if written != Written::Skipped {
                self.link_further_chunks(r, &tx, plan).await?;
            }
            Ok(written)
        }
        .await;
        (tx, result)
    }

    /// Links the packages of every chunk but the first (which the routine
    /// wrote) of an oversized write, in `tx`.
    pub(crate) async fn link_further_chunks(
        &self,
        r: &Routines,
        tx: &Tx,
        plan: &WritePlan<'_>,
    ) -> Result<(), StoreError> {
        for chunk in 1..plan.chunks.len() {
            self.execute(
                "write.packages",
                Some(tx),
                r.link_packages,
                &plan.chunk_params(chunk),
            )
            .await?;
        }
        Ok(())
    }

    /// The write's statements in `tx` (SQLite).
    async fn write_in(
        &self,
        sql: &Statements,
        tx: Tx,
        plan: &WritePlan<'_>,
    ) -> (Tx, Result<Written, StoreError>) {
        let result = self.write_statements(sql, &tx, plan).await;
        (tx, result)
    }

    pub(crate) async fn write_statements(
        &self,
        sql: &Statements,
        tx: &Tx,
        plan: &WritePlan<'_>,
    ) -> Result<Written, StoreError> {
        if matches!(plan.head, Head::Create | Head::Put) {
            self.record_state_write(sql, tx, plan).await?;
        }
        let (head_sql, reports) = sql.head(plan.head);
        let written = match reports {
            Reports::Returning => {
                let out = self
                    .query_in("write.ec2", Some(tx), head_sql, &plan.params)
                    .await?;
                match out.first() {
                    None => Written::Skipped,
                    Some(row) if row.bool("created")? => Written::Created,
                    Some(_) => Written::Replaced,
                }
            }
            Reports::Count => {
                let out = self
                    .execute("write.ec2", Some(tx), head_sql, &plan.params)
                    .await?;
                written_by_count(out.number_of_records_updated())
            }
        };
        if written == Written::Skipped {
            return Ok(written);
        }
        let id = text("id", plan.id.as_str());
        for n in 0..plan.chunks.len() {
            // `id`, `packages`, `version_scheme`, `source`, `at`: each
            // statement takes those it names.
            let params = plan.chunk_params(n);
            let [_, packages, scheme, source, at] = &params;
            let (of_rows, linked) = (
                [packages.clone(), scheme.clone()],
                [id.clone(), packages.clone(), scheme.clone()],
            );
            let history = [id.clone(), packages.clone(), source.clone(), at.clone()];
            self.execute("write.packages", Some(tx), sql.upsert_packages, &of_rows)
                .await?;
            // A row just inserted has no links yet (they cascade with their
            // row): its packages are all installs.
            if n == 0 && written != Written::Created {
                self.execute("write.history", Some(tx), sql.record_changes, &params)
                    .await?;
                self.execute(
                    "write.unlink",
                    Some(tx),
                    sql.unlink_packages,
                    std::slice::from_ref(&id),
                )
                .await?;
            } else {
                self.execute("write.history", Some(tx), sql.record_installs, &params)
                    .await?;
            }
            if n > 0 {
                for take_back in [sql.take_back_removals, sql.take_back_changes] {
                    self.execute("write.history", Some(tx), take_back, &history)
                        .await?;
                }
            }
            self.execute("write.link", Some(tx), sql.link_packages, &linked)
                .await?;
        }
        Ok(written)
    }

    /// The state a POST or PUT changes, in the history (SQLite; before the
    /// `ec2` row's statement).
    async fn record_state_write(
        &self,
        sql: &Statements,
        tx: &Tx,
        plan: &WritePlan<'_>,
    ) -> Result<(), StoreError> {
        let params = [
            text("id", plan.id.as_str()),
            time("now", plan.at),
            text("source", plan.source.as_str()),
            opt_text("state", plan.state.map(|s| s.as_str())),
            text("mode", write_mode(plan.head)),
        ];
        self.execute("write.history", Some(tx), sql.record_state_write, &params)
            .await
            .map(drop)
    }

    /// The instance with its packages sorted by (name, version): 1 call.
    pub async fn get_instance(
        &self,
        id: &InstanceId,
    ) -> Result<Option<InstanceRecord>, StoreError> {
        match self
            .query("get", self.sql().get_instance, &[text("id", id.as_str())])
            .await
        {
            Ok(out) => read_instance(id, &out),
            Err(e) if e.is_result_too_large() => self.get_paged(id).await,
            Err(e) => Err(e),
        }
    }

    /// The fallback when the packages do not fit one response: the instance,
    /// then pages of packages by id. Not one snapshot: a concurrent write may
    /// show partly; it is only taken for package lists over ~1 MiB.
    async fn get_paged(&self, id: &InstanceId) -> Result<Option<InstanceRecord>, StoreError> {
        tracing::info!(instance = %id, "instance over the response limit: paged read");
        let sql = self.sql();
        let key = text("id", id.as_str());
        let out = self
            .query(
                "get.instance",
                sql.portable.get_instance_row,
                std::slice::from_ref(&key),
            )
            .await?;
        let Some(row) = out.first() else {
            return Ok(None);
        };
        let mut packages = Vec::new();
        let mut after = 0;
        loop {
            let params = [
                key.clone(),
                long("after", after),
                long("limit", PACKAGES_PAGE),
            ];
            let page = self
                .query("get.packages", sql.portable.get_packages_page, &params)
                .await?;
            for row in page.iter() {
                packages.push(package_from(&row)?);
                after = row.long("id")?;
            }
            if page.len() < PACKAGES_PAGE as usize {
                break;
            }
        }
        instance_from(id, &row, packages).map(Some)
    }

    /// Removes an instance and its package links; true when it existed.
    pub async fn delete_instance(&self, id: &InstanceId) -> Result<bool, StoreError> {
        let out = self
            .run(
                "delete",
                self.sql().portable.delete_instance,
                &[text("id", id.as_str())],
            )
            .await?;
        Ok(out.number_of_records_updated() > 0)
    }
}

/// How the write routine or statement (`mode`), and SQLite's state history
/// statement, tell a POST from a PUT.
fn write_mode(head: Head) -> &'static str {
    if head == Head::Create {
        "create"
    } else {
        "put"
    }
}

/// The routine of a write.
fn routine_of(r: &Routines, head: Head) -> &'static str {
    match head {
        Head::Create | Head::Put => r.write_instance,
        Head::Replace | Head::ReplaceAfterState => r.replace_packages,
    }
}

/// What a routine's `written` column says.
fn written_by_routine(out: &Rows) -> Result<Written, StoreError> {
    let row = out
        .first()
        .ok_or_else(|| StoreError::UnexpectedResult("the write routine answered no row".into()))?;
    match row.str("written")? {
        "created" => Ok(Written::Created),
        "replaced" => Ok(Written::Replaced),
        "skipped" => Ok(Written::Skipped),
        other => Err(StoreError::UnexpectedResult(format!(
            "the write routine answered {other:?}"
        ))),
    }
}

/// What a head statement that reports only its count (a capture's) did.
fn written_by_count(updated: i64) -> Written {
    if updated == 0 {
        Written::Skipped
    } else {
        Written::Replaced
    }
}

fn package_from(row: &Row<'_>) -> Result<Package, StoreError> {
    Ok(Package {
        name: row.str("name")?.to_owned(),
        version: row.str("version")?.to_owned(),
        publisher: row.opt_str("publisher")?.map(str::to_owned),
        architecture: row.opt_str("architecture")?.map(str::to_owned),
        source_name: row.opt_str("source_name")?.map(str::to_owned),
    })
}

/// Reads a chunk of `[name, version, publisher, architecture, source_name]`
/// arrays (an element may arrive as JSON text: MariaDB's JSON_ARRAYAGG quotes
/// nested JSON).
fn packages_from_json(chunk: &str) -> Result<Vec<Package>, StoreError> {
    let bad = |e: serde_json::Error| StoreError::UnexpectedResult(format!("packages: {e}"));
    let items: Vec<serde_json::Value> = serde_json::from_str(chunk).map_err(bad)?;
    items
        .into_iter()
        .map(|item| {
            let item = match item {
                serde_json::Value::String(text) => serde_json::from_str(&text).map_err(bad)?,
                other => other,
            };
            let (name, version, publisher, architecture, source_name): (
                String,
                String,
                Option<String>,
                Option<String>,
                Option<String>,
            ) = serde_json::from_value(item).map_err(bad)?;
            Ok(Package {
                name,
                version,
                publisher,
                architecture,
                source_name,
            })
        })
        .collect()
}

/// Builds the record from `get_instance`'s instance row (`part` 0) and
/// package rows (`part` 1).
fn read_instance(id: &InstanceId, out: &Rows) -> Result<Option<InstanceRecord>, StoreError> {
    let mut instance_row = None;
    let mut packages = Vec::new();
    for row in out.iter() {
        if row.long("part")? == 0 {
            instance_row = Some(row);
        } else {
            packages.extend(packages_from_json(row.str("packages")?)?);
        }
    }
    instance_row
        .map(|row| instance_from(id, &row, packages))
        .transpose()
}

/// The record from an instance row (the columns of the `ec2` table) and its packages.
fn instance_from(
    id: &InstanceId,
    row: &Row<'_>,
    mut packages: Vec<Package>,
) -> Result<InstanceRecord, StoreError> {
    packages.sort();
    let tags: BTreeMap<String, String> = serde_json::from_str(row.str("tags")?)
        .map_err(|e| StoreError::UnexpectedResult(format!("tags: {e}")))?;
    let instance = Instance {
        id: id.clone(),
        account: row.parsed("account")?,
        region: row.parsed("region")?,
        state: row.opt_parsed("state")?,
        details: InstanceDetails {
            instance_type: row.opt_str("instance_type")?.map(str::to_owned),
            image_id: row.opt_str("image_id")?.map(str::to_owned),
            platform: row.opt_str("platform")?.map(str::to_owned),
            launch_time: row.opt_time("launch_time")?,
            tags,
        },
        os: match (
            row.opt_str("platform_name")?,
            row.opt_str("platform_version")?,
        ) {
            (Some(name), Some(version)) => Some(OsPlatform {
                name: name.to_owned(),
                version: version.to_owned(),
            }),
            _ => None,
        },
        source: row.parsed("source")?,
        packages,
    };
    Ok(InstanceRecord {
        instance,
        os_release: row.opt_str("os_release")?.map(str::to_owned),
        version_scheme: row.opt_parsed("version_scheme")?,
        created: row.time("created")?,
        updated: row.time("updated")?,
        terminated: row.opt_time("terminated_at")?,
        last_event_time: row.opt_time("last_event_time")?,
        inventory_captured_at: row.opt_time("inventory_captured_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_travel_as_compact_json_chunks() {
        let mut p = Package::new("a\"b", "1");
        p.architecture = Some("x86_64".into());
        let dpkg = VersionScheme::Dpkg;
        let (k1, k2) = (dpkg.sort_key("1"), dpkg.sort_key("2"));
        let chunks = package_chunks(
            &[p, Package::new("c", "2")],
            dpkg,
            PACKAGES_JSON_BUDGET,
            false,
        );
        assert_eq!(
            chunks,
            vec![format!(
                r#"[{{"n":"a\"b","v":"1","a":"x86_64","k":"{k1}"}},{{"n":"c","v":"2","k":"{k2}"}}]"#
            )]
        );
        assert_eq!(package_chunks(&[], dpkg, 100, true), vec!["[]"]);
        // MySQL's generated column: UNHEX(SHA2(CONCAT(name, CHAR(0), version, CHAR(0),
        // scheme), 256)), as MariaDB computes it for ('a', '1', 'dpkg').
        let hashed = package_chunks(&[Package::new("a", "1")], dpkg, PACKAGES_JSON_BUDGET, true);
        assert_eq!(
            hashed,
            vec![format!(
                r#"[{{"n":"a","v":"1","k":"{k1}","h":"bd1b5ce416fa54f453a9d39920d3bdd5ebdb2bc7df7a3b9c0ee5f40dae8a2f1a"}}]"#
            )]
        );
        let many: Vec<Package> = (0..100)
            .map(|i| Package::new(format!("p{i:03}"), "1"))
            .collect();
        let chunks = package_chunks(&many, dpkg, 200, false);
        assert!(chunks.len() > 10);
        let rejoined: Vec<serde_json::Value> = chunks
            .iter()
            .flat_map(|c| serde_json::from_str::<Vec<serde_json::Value>>(c).unwrap())
            .collect();
        assert_eq!(rejoined.len(), 100);
        assert!(chunks.iter().all(|c| to_json(c).len() <= 200 + 2));
    }

    #[test]
    fn the_budget_counts_what_the_request_escapes() {
        // Quotes and backslashes, escaped once in the package JSON and once
        // more in the request; a tab, which the package JSON writes as \t.
        let packages = [
            Package::new("a\"b\\c\td", "1"),
            Package::new("e\"f\\g\th", "2"),
        ];
        let dpkg = VersionScheme::Dpkg;
        let whole = package_chunks(&packages, dpkg, usize::MAX, false);
        let in_request = |chunk: &String| to_json(chunk).len() - 2;
        // The list's size in the request, and the byte the budget keeps for
        // a comma after the last package.
        let fits = in_request(&whole[0]) + 1;
        assert_eq!(package_chunks(&packages, dpkg, fits, false), whole);
        let split = package_chunks(&packages, dpkg, fits - 1, false);
        assert_eq!(split.len(), 2);
        assert!(split.iter().all(|c| in_request(c) < fits - 1));
    }
}
