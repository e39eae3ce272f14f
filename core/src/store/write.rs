//! How an instance write runs on each dialect, in one place.
//!
//! Every write of an instance builds its parameters elsewhere and runs here:
//! a POST or PUT and an inventory capture as a [`WritePlan`]
//! (`instances`), a state event, with or without the packages of its
//! capture, as a [`StateChange`] and [`Captured`] (`states`). Each runs
//! one of three ways:
//!
//! | write | PostgreSQL, MySQL: ONE call | SQLite: one transaction |
//! |---|---|---|
//! | POST, PUT | `inventory_write_instance` | `record_state_write`, `write_instance`, then `link_packages` |
//! | capture | `inventory_replace_packages` | `set_captured`, then `link_packages` |
//! | state event | `inventory_apply_state` | `record_state_event`, `upsert_state`, then `set_captured_after_state` and `link_packages` |
//!
//! The routines live in `ddl/<dialect>/routines.sql`; SQLite, which has
//! none, runs the same steps as statements, in functions named after the
//! routine each stands for (`sqlite_write` for `inventory_write_instance`
//! and `inventory_replace_packages`, `sqlite_apply_state`,
//! `sqlite_link_packages`), so the three read side by side.
//!
//! The one limit is the Data API's 4 MiB request: a package list whose JSON
//! exceeds [`PACKAGES_JSON_BUDGET`] is split into chunks, written inside one
//! transaction (PostgreSQL/MySQL: the routine with the first chunk, then one
//! `inventory_link_packages` call per further chunk). 10,000 typical
//! packages (about 60 bytes each) take about 0.6 MB: one call. At the
//! model's maximum lengths a package takes about 700 bytes of ASCII (up to
//! four times that in other scripts), so 10,000 of those (about 7 MB)
//! cannot travel in one request at all.

use aws_sdk_rdsdata::types::SqlParameter;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::calls::Tx;
use super::sql::{Head, Reports, Routines, Statements, Writes};
use super::values::{long, micros, now, opt_text, opt_time, text, time, Rows};
use super::{Dialect, Store, StoreError};
use crate::model::{
    Account, InstanceDetails, InstanceId, InstanceState, OsPlatform, Package, Region, Source,
    StateChange,
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

/// What [`Store::apply_state_with_packages`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateWrite {
    /// False when an event as new or newer was applied already.
    pub state_applied: bool,
    /// False when this event's state does not stand (a newer one does) or
    /// a capture as new or newer is stored.
    pub packages_written: bool,
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

/// A write of an instance's package set: the head's parameters (all but
/// `packages`), the package chunks (at least one), their scheme, and what
/// its history records: the source and the time of the changes (the
/// request's, or the capture's).
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
    /// The parameters of a statement about the `chunk`th chunk's packages: their
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

    /// The head's parameters with the `chunk`th chunk as `packages`, and
    /// `own_transaction` (1 when the call is not inside a transaction) for
    /// the routines that take it.
    fn params(&self, chunk: usize, own_transaction: Option<bool>) -> Vec<SqlParameter> {
        let mut params = self.params.clone();
        params.push(text("packages", self.chunks[chunk].as_str()));
        if let Some(own) = own_transaction {
            params.push(long("own_transaction", i64::from(own)));
        }
        params
    }
}

/// The packages of a `running` event, as chunks of the request, with their
/// scheme, the OS SSM reported with them and the capture's time.
pub(super) struct Captured<'a> {
    pub chunks: Vec<String>,
    pub scheme: VersionScheme,
    pub os: Option<&'a OsPlatform>,
    pub at: DateTime<Utc>,
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
    /// The package list as the dialect's routines or statements read it,
    /// with sort keys in `scheme`.
    pub(super) fn package_chunks(
        &self,
        packages: &[Package],
        scheme: VersionScheme,
    ) -> Vec<String> {
        let hashed = self.dialect() == Dialect::Mysql;
        package_chunks(packages, scheme, PACKAGES_JSON_BUDGET, hashed)
    }

    /// A POST, PUT or capture: one routine call where the dialect has
    /// routines and the packages fit one request, else one transaction;
    /// retried as a whole on deadlocks and other retryable failures.
    pub(super) async fn write(&self, plan: &WritePlan<'_>) -> Result<Written, StoreError> {
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
                self.retrying(|| {
                    self.in_transaction(|tx| async move {
                        let result = self.sqlite_write(s, &tx, plan).await;
                        (tx, result)
                    })
                })
                .await
            }
        }
    }

    /// A state event, with the packages of its capture if any: as
    /// [`Store::write`], by `inventory_apply_state`.
    pub(super) async fn write_state(
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
        let r = match &self.sql().writes {
            Writes::Routines(r) => r,
            Writes::Statements(s) => {
                let params = &params;
                return self
                    .retrying(|| {
                        self.in_transaction(|tx| async move {
                            let result = self.sqlite_apply_state(s, &tx, c, params, captured).await;
                            (tx, result)
                        })
                    })
                    .await;
            }
        };
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

    /// `inventory_link_packages` with every chunk but the first (which the
    /// routine wrote) of an oversized write, in `tx`.
    async fn link_further_chunks(
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

    /// SQLite's `inventory_write_instance` and `inventory_replace_packages`
    /// in `tx`: a POST's or PUT's state change in the history, the `ec2`
    /// row (the head), then the links of each chunk.
    async fn sqlite_write(
        &self,
        sql: &Statements,
        tx: &Tx,
        plan: &WritePlan<'_>,
    ) -> Result<Written, StoreError> {
        if matches!(plan.head, Head::Create | Head::Put) {
            self.sqlite_record_state_write(sql, tx, plan).await?;
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
        for chunk in 0..plan.chunks.len() {
            // A row just inserted has no links yet (they cascade with their
            // row): its first chunk's packages are all installs, as for
            // every further chunk.
            let replace = chunk == 0 && written != Written::Created;
            self.sqlite_link_packages(sql, tx, plan, chunk, replace)
                .await?;
        }
        Ok(written)
    }

    /// SQLite's `inventory_link_packages` of the `chunk`th chunk, step by
    /// step: upsert the packages (triggers make their findings); record
    /// the changes against the links and unlink them (`replace`), or
    /// record installs and, for a further chunk, take back the removals the
    /// first chunk recorded for packages it keeps; link.
    async fn sqlite_link_packages(
        &self,
        sql: &Statements,
        tx: &Tx,
        plan: &WritePlan<'_>,
        chunk: usize,
        replace: bool,
    ) -> Result<(), StoreError> {
        // `id`, `packages`, `version_scheme`, `source`, `at`: each
        // statement takes those it names.
        let params = plan.chunk_params(chunk);
        let [id, packages, scheme, source, at] = &params;
        let of_rows = [packages.clone(), scheme.clone()];
        self.execute("write.packages", Some(tx), sql.upsert_packages, &of_rows)
            .await?;
        if replace {
            self.execute("write.history", Some(tx), sql.record_changes, &params)
                .await?;
            self.execute(
                "write.unlink",
                Some(tx),
                sql.unlink_packages,
                std::slice::from_ref(id),
            )
            .await?;
        } else {
            self.execute("write.history", Some(tx), sql.record_installs, &params)
                .await?;
        }
        if chunk > 0 {
            let history = [id.clone(), packages.clone(), source.clone(), at.clone()];
            for take_back in [sql.take_back_removals, sql.take_back_changes] {
                self.execute("write.history", Some(tx), take_back, &history)
                    .await?;
            }
        }
        let linked = [id.clone(), packages.clone(), scheme.clone()];
        self.execute("write.link", Some(tx), sql.link_packages, &linked)
            .await?;
        Ok(())
    }

    /// The state a POST or PUT changes, in the history (SQLite; before the
    /// `ec2` row's statement, as `inventory_write_instance` records it
    /// against the state its row lock read).
    async fn sqlite_record_state_write(
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

    /// SQLite's `inventory_apply_state` in `tx`: the state's change in the
    /// history, its upsert, then the package write if any, while the
    /// event's state stands.
    async fn sqlite_apply_state(
        &self,
        s: &Statements,
        tx: &Tx,
        c: &StateChange,
        params: &[SqlParameter],
        captured: Option<&Captured<'_>>,
    ) -> Result<StateWrite, StoreError> {
        let history = [
            text("id", c.id.as_str()),
            time("time", micros(c.time)),
            text("source", Source::Event.as_str()),
            text("state", c.state.as_str()),
        ];
        self.execute(
            "apply_state.history",
            Some(tx),
            s.record_state_event,
            &history,
        )
        .await?;
        let out = self
            .execute("apply_state", Some(tx), s.upsert_state, params)
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
        let written = self.sqlite_write(s, tx, &plan).await?;
        Ok(StateWrite {
            state_applied,
            packages_written: written != Written::Skipped,
        })
    }
}

/// How the write routine or statement (`mode`), and SQLite's state history
/// statement, tell a POST from a PUT.
pub(super) fn write_mode(head: Head) -> &'static str {
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
