//! The SQL of every statement the store sends, one file per statement and
//! dialect: `sql/<dialect>/<statement>.sql`, or `sql/shared/<statement>.sql`
//! for a statement that dialects write alike, included here whole. Values are
//! only ever bound as named parameters (`:name`); PostgreSQL casts each
//! parameter explicitly because the Data API sends strings as text and NULLs
//! untyped. Columns are read by the names the statements give them.
//!
//! Parameters shared by the instance writes: `id`, `account`, `region`,
//! `state`, `instance_type`, `image_id`, `platform`, `launch_time`, `tags`
//! (JSON text), `source`, `now`, the OS (`platform_name`, `platform_version`,
//! `os_release`) and the packages' `version_scheme`; package lists travel as
//! one JSON parameter `packages`: `[{"n": name, "v": version, "p":
//! publisher?, "a": architecture?, "s": source package?, "k": version sort
//! key, "h": identity_hash? (MySQL)}, ...]`.
//!
//! The schema itself is in `ddl/<dialect>/NNN_*.sql`, and the write routines
//! in `ddl/<dialect>/routines.sql` (see `migrate`).

use super::Dialect;

/// The statement that writes the `ec2` row of an instance write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Head {
    /// POST: insert, or nothing if the id is recorded.
    Create,
    /// PUT: insert or replace.
    Put,
    /// New package set from an inventory capture, unless a newer one is stored.
    Replace,
    /// The packages of a `running` event, right after its state (SQLite): as
    /// `Replace`, and only while that event's state stands.
    ReplaceAfterState,
}

/// How a head statement reports what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reports {
    /// Rows of `(id, created)`; none when nothing was written.
    Returning,
    /// Only the number of rows written.
    Count,
}

/// How a dialect writes an instance.
pub(crate) enum Writes {
    /// PostgreSQL, MySQL: one call of a routine.
    Routines(Routines),
    /// SQLite: one transaction of a fixed number of statements. SQLite has no
    /// stored routines; it is local only, so the calls of a transaction cost
    /// no network round trips, and the endpoint begins it with BEGIN
    /// IMMEDIATE, so writers queue instead of deadlocking.
    Statements(Statements),
}

/// Calls of the server-side routines (`ddl/<dialect>/routines.sql`), which
/// record the history too. Each answers one row.
pub(crate) struct Routines {
    /// POST and PUT (`mode` 'create' or 'put', the `ec2` row's parameters,
    /// `packages`): `written` = 'created', 'replaced' or 'skipped'.
    pub write_instance: &'static str,
    /// An inventory capture (`id`, `captured_at`, `now`, `source`, `packages`): `written`.
    pub replace_packages: &'static str,
    /// A state event (the `ec2` row's parameters, `time`, `has_details`,
    /// `captured_at`, `packages`, NULL for none): `state_applied`, `packages_written`.
    pub apply_state: &'static str,
    /// Links the packages of a further chunk (`id`, `packages`, and the
    /// history's `source` and `at`) of an oversized write, inside its transaction.
    pub link_packages: &'static str,
    /// The routines take `own_transaction` (MySQL): 1 to begin and commit
    /// inside the call, 0 inside the caller's transaction.
    pub own_transaction: bool,
    /// The checksum of the routines a database holds (`schema_routines`, one
    /// row), so that `migrate` re-applies `routines.sql` when it changed.
    pub checksum_create: &'static str,
    pub checksum_read: &'static str,
    pub checksum_record: &'static str,
}

/// The statements of a write in a transaction (SQLite).
pub(crate) struct Statements {
    /// [`Head::Create`] and [`Head::Put`] (`mode` 'create' or 'put'): the
    /// `ec2` row, captured now; on a recorded id, nothing for 'create', and
    /// for 'put' the request's columns win, `created` stays, and so does
    /// `terminated_at` while still terminated. Answers `created`, no row
    /// when nothing was written.
    pub write_instance: &'static str,
    /// [`Head::Replace`]: the capture time, unless a newer one is stored.
    pub set_captured: &'static str,
    /// [`Head::ReplaceAfterState`]: as `set_captured`, only while the event
    /// (`time`, `state_applied`) stands.
    pub set_captured_after_state: &'static str,
    pub unlink_packages: &'static str,
    /// Upserts the packages of a chunk (`WHERE true` keeps `ON CONFLICT`
    /// from parsing as a join constraint). Triggers (schema 006) make the
    /// findings of each package it inserts or whose key or source changes.
    pub upsert_packages: &'static str,
    pub link_packages: &'static str,
    /// A state event alone: its upsert, applied only when newer than the last
    /// event; details only when the event has them (`has_details`).
    pub upsert_state: &'static str,
    /// The history (schema 4), each run before the statement whose change it
    /// records: a replaced package set's changes against the stored links
    /// (before `unlink_packages`); the installs of a first write or of a
    /// further chunk, which then takes back the removals the first chunk
    /// recorded for packages it keeps; a state that a POST or PUT
    /// (`mode`), or a state event, changes.
    pub record_changes: &'static str,
    pub record_installs: &'static str,
    pub take_back_removals: &'static str,
    pub take_back_changes: &'static str,
    pub record_state_write: &'static str,
    pub record_state_event: &'static str,
}

impl Statements {
    /// The statement of `head` and how it reports what it did.
    pub(crate) fn head(&self, head: Head) -> (&'static str, Reports) {
        match head {
            Head::Create | Head::Put => (self.write_instance, Reports::Returning),
            Head::Replace => (self.set_captured, Reports::Count),
            Head::ReplaceAfterState => (self.set_captured_after_state, Reports::Count),
        }
    }
}

/// Advisory imports and the vulnerability queries (schema 006); see
/// `store::advisories`.
pub(crate) struct AdvisorySql {
    /// One import at a time (SQLite: a write that takes the database's
    /// write lock at once, as BeginTransaction opens a deferred
    /// transaction, whose later writes would fail on a newer snapshot); the
    /// findings lock, taken exclusively while an import matches its ranges
    /// (SQLite: none, it has one writer).
    pub import_lock: &'static str,
    pub findings_lock: Option<&'static str>,
    /// The largest range id.
    pub range_watermark: &'static str,
    /// A batch (`advisories`, `aliases`, `ranges`: JSON arrays; `imported`:
    /// the batch's time): stored advisories with an older `modified` go,
    /// the batch's are inserted unless stored, then the aliases and ranges
    /// of those inserted. MySQL converts the JSON's ids to `ascii` to join
    /// `advisory`: its JSON_TABLE columns are utf8mb4, and compared with the
    /// ascii key as they are, the key is converted instead and every record
    /// scans the whole table.
    pub delete_older: &'static str,
    pub insert: &'static str,
    pub alias_insert: &'static str,
    pub range_insert: &'static str,
    /// A release's binary -> source map (`release`, `pairs`).
    pub source_map_clear: &'static str,
    pub source_map_insert: &'static str,
    /// The findings of a release's source-named ranges, made again after
    /// its map changed, up to `watermark`; and of every range above it.
    pub forget_source_ranges: &'static str,
    pub match_source_ranges: &'static str,
    pub match_new_ranges: &'static str,
    /// `GET /advisories/{id}`: the advisories an id or alias names (`part`
    /// 0) and a page of affected instances after the `after_*` keys (`part` 1).
    /// MySQL and SQLite find the named ones as a UNION of the id's and the
    /// alias's lookups: with `id = :id OR id IN (...)` MariaDB scanned every
    /// advisory (50,000: 40 ms for an advisory on 5 instances). They also
    /// take each package's ranges of an advisory and release together
    /// (`hits`) before joining the links, which then need no grouping:
    /// grouped after the join, MariaDB grouped every affected link (10,000
    /// for a package on each of 10,000 instances) in a temporary table.
    pub affected: &'static str,
    /// An instance's findings, most severe first, after the `after_*` keys.
    pub instance_vulnerabilities: &'static str,
    /// The fleet's advisories with instance counts (`advisory_exposure`),
    /// after the `after_*` keys; every row has the counts' `counted_at`,
    /// and one row with NULL elsewhere stands for an empty page.
    pub fleet_vulnerabilities: &'static str,
    /// The scheduled import's state per feed (schema 009): every row (no
    /// parameter); a success (`feed`, `url`, `etag`, `last_modified`, `now`)
    /// stores the validators and clears the error; a failure (`feed`,
    /// `error`, `now`) keeps them.
    pub feed_state_read: &'static str,
    pub feed_succeeded: &'static str,
    pub feed_failed: &'static str,
}

/// The fleet's counts (schema 010): `advisory_exposure` and
/// `package_spread`, recounted whole; see `store::tally`.
pub(crate) struct TallySql {
    pub recount: Recount,
    /// Marks the counts as never counted, so that the next read recounts
    /// (an import, in its transaction).
    pub clear: &'static str,
}

/// How a dialect recounts, each time only when its claim on the
/// `fleet_tally` row succeeds (`stale_before`, `now`); `package_spread`
/// keeps the `names` names with the most links.
pub(crate) enum Recount {
    /// PostgreSQL, MySQL: one call of `inventory_count_fleet`
    /// (`routines.sql`), which answers `counted`.
    Routine(&'static str),
    /// SQLite: in one transaction, the claim (one row updated: recount),
    /// then the four statements in this order.
    Statements {
        claim: &'static str,
        clear_exposure: &'static str,
        count_exposure: &'static str,
        clear_spread: &'static str,
        count_spread: &'static str,
    },
}

/// Statements of one dialect.
pub(crate) struct Sql {
    pub writes: Writes,
    /// The instance row (`part` 0) then its packages aggregated into JSON
    /// arrays of `[name, version, publisher, architecture]` of about 16 KiB
    /// of package text each (`part` 1: far below the 64 KB row limit even
    /// once escaped, and few rows): 1 call, and compact enough that 10,000
    /// typical packages fit the 1 MiB response limit.
    pub get_instance: &'static str,
    /// The fleet walk's cursor (`sync_cursor`, schema 3): creates the scope's
    /// row unless it exists (the other cursor statements are below).
    pub sync_cursor_ensure: &'static str,
    /// Deletes the history older than `before`, at most `limit` changes.
    pub prune_history: &'static str,
    /// Coverage (`scope_coverage`, schema 8), upserted per account and
    /// region: an event (`event_at`, the newest kept; a failure's `error`,
    /// `error_at`), and a scope's sync run (`synced_at` when it reached the
    /// scope, `pass_at` when it completed a pass, `error`, `error_at`, both
    /// NULL on success, which clears the last failure).
    pub scope_event: &'static str,
    pub scope_sync: &'static str,
    /// The migrations' bookkeeping table.
    pub schema_version_create: &'static str,
    /// The fallback read when `get_instance` is over the response limit: the
    /// instance row, then pages of its packages by id.
    pub get_instance_row: &'static str,
    pub get_packages_page: &'static str,
    pub delete_instance: &'static str,
    pub stale_running: &'static str,
    pub package_versions: &'static str,
    /// Instances by id after `after`, at most `limit`, with every filter
    /// that is not NULL: `account`, `region`, `state`, `package_name`, and
    /// with it `package_version` or, when `ranged` is 1, a version range as
    /// one key interval `[from, to)` per scheme (`dpkg_from`, `dpkg_to`,
    /// `rpm_…`, `dotted_…`, `natural_…`). The package filter is a set of
    /// instance ids computed once, not a probe per instance: a package on
    /// five instances of 10,000 costs as little as one on all of them.
    /// PostgreSQL takes, for each matching package, only its first `limit`
    /// instances that pass the filters, in id order (LATERAL over
    /// `ec2_package (package_id, ec2_id)`); MySQL and SQLite all of its
    /// instances. Lengths are compared too: MySQL's collation ignores
    /// trailing spaces.
    pub search: &'static str,
    /// The fleet walk's cursor: takes, reads, saves and gives back its lease.
    pub sync_cursor_acquire: &'static str,
    pub sync_cursor_read: &'static str,
    pub sync_cursor_save: &'static str,
    pub sync_cursor_release: &'static str,
    pub recorded_in_range: &'static str,
    pub recorded_instance: &'static str,
    /// Every known account and region (recorded instances or coverage) after
    /// (`after_account`, `after_region`), at most `limit`: instance counts
    /// by state and the coverage row.
    pub scopes: &'static str,
    /// The history (schema 4), newest first: of an instance (`id`) or a
    /// package (`name`), from `since` to before (`until`, `before_id`), at
    /// most `limit`; with `account` or `region`, only the changes of
    /// instances recorded there now.
    pub instance_history: &'static str,
    pub package_history: &'static str,
    /// The fleet's history (every instance's changes), paged as the two above.
    pub fleet_history: &'static str,
    /// Instances by `account`, `region`, `state` and `platform`: rows of
    /// (`dimension`, `value`, `instances`), a NULL value for unknown. No
    /// parameter, so one text serves every dialect.
    pub fleet_counts: &'static str,
    /// The `limit` package names with the most installs (links), each with its
    /// `versions` and the number of `instances` that have any of them, from
    /// `package_spread` (schema 010); every row has the counts'
    /// `counted_at`, and one row with NULL elsewhere stands for no package.
    pub widespread_packages: &'static str,
    pub schema_version_read: &'static str,
    pub schema_version_record: &'static str,
    pub advisories: AdvisorySql,
    pub tally: TallySql,
}

/// Page size of the fallback read: 240 packages of the longest allowed
/// strings (name, version, publisher, architecture and source: 925
/// characters, up to 4 bytes each) stay under the 1 MiB response limit.
pub(crate) const PACKAGES_PAGE: i64 = 240;

pub(crate) fn of(dialect: Dialect) -> &'static Sql {
    match dialect {
        Dialect::Postgres => &POSTGRES,
        Dialect::Mysql => &MYSQL,
        Dialect::Sqlite => &SQLITE,
    }
}

/// PostgreSQL: an instance write is ONE call of a PL/pgSQL function.
static POSTGRES: Sql = Sql {
    writes: Writes::Routines(Routines {
        write_instance: include_str!("postgres/call_write_instance.sql"),
        replace_packages: include_str!("postgres/call_replace_packages.sql"),
        apply_state: include_str!("postgres/call_apply_state.sql"),
        link_packages: include_str!("postgres/call_link_packages.sql"),
        own_transaction: false,
        checksum_create: include_str!("postgres/routines_checksum_create.sql"),
        checksum_read: include_str!("shared/routines_checksum_read.sql"),
        checksum_record: include_str!("postgres/routines_checksum_record.sql"),
    }),
    get_instance: include_str!("postgres/get_instance.sql"),
    sync_cursor_ensure: include_str!("postgres/sync_cursor_ensure.sql"),
    prune_history: include_str!("postgres/prune_history.sql"),
    scope_event: include_str!("postgres/scope_event.sql"),
    scope_sync: include_str!("postgres/scope_sync.sql"),
    schema_version_create: include_str!("postgres/schema_version_create.sql"),
    advisories: AdvisorySql {
        import_lock: include_str!("postgres/import_lock.sql"),
        findings_lock: Some(include_str!("postgres/findings_lock.sql")),
        range_watermark: include_str!("shared/advisory_range_watermark.sql"),
        delete_older: include_str!("postgres/advisory_delete_older.sql"),
        insert: include_str!("postgres/advisory_insert.sql"),
        alias_insert: include_str!("postgres/advisory_alias_insert.sql"),
        range_insert: include_str!("postgres/advisory_range_insert.sql"),
        source_map_clear: include_str!("postgres/source_map_clear.sql"),
        source_map_insert: include_str!("postgres/source_map_insert.sql"),
        forget_source_ranges: include_str!("postgres/findings_forget_source_ranges.sql"),
        match_source_ranges: include_str!("postgres/findings_match_source_ranges.sql"),
        match_new_ranges: include_str!("postgres/findings_match_new_ranges.sql"),
        affected: include_str!("postgres/advisory_affected.sql"),
        instance_vulnerabilities: include_str!("postgres/instance_vulnerabilities.sql"),
        fleet_vulnerabilities: include_str!("postgres/fleet_vulnerabilities.sql"),
        feed_state_read: include_str!("shared/feed_state_read.sql"),
        feed_succeeded: include_str!("postgres/feed_succeeded.sql"),
        feed_failed: include_str!("postgres/feed_failed.sql"),
    },
    tally: TallySql {
        recount: Recount::Routine(include_str!("postgres/count_fleet.sql")),
        clear: include_str!("shared/fleet_tally_clear.sql"),
    },
    get_instance_row: include_str!("postgres/get_instance_row.sql"),
    get_packages_page: include_str!("postgres/get_packages_page.sql"),
    delete_instance: include_str!("postgres/delete_instance.sql"),
    stale_running: include_str!("postgres/stale_running.sql"),
    package_versions: include_str!("postgres/package_versions.sql"),
    search: include_str!("postgres/search.sql"),
    sync_cursor_acquire: include_str!("postgres/sync_cursor_acquire.sql"),
    sync_cursor_read: include_str!("postgres/sync_cursor_read.sql"),
    sync_cursor_save: include_str!("postgres/sync_cursor_save.sql"),
    sync_cursor_release: include_str!("postgres/sync_cursor_release.sql"),
    recorded_in_range: include_str!("postgres/recorded_in_range.sql"),
    recorded_instance: include_str!("postgres/recorded_instance.sql"),
    scopes: include_str!("postgres/scopes.sql"),
    instance_history: include_str!("postgres/instance_history.sql"),
    package_history: include_str!("postgres/package_history.sql"),
    fleet_history: include_str!("postgres/fleet_history.sql"),
    fleet_counts: include_str!("shared/fleet_counts.sql"),
    widespread_packages: include_str!("postgres/widespread_packages.sql"),
    schema_version_read: include_str!("shared/schema_version_read.sql"),
    schema_version_record: include_str!("postgres/schema_version_record.sql"),
};

/// The statements each of MySQL and SQLite writes its own way;
/// [`with_shared`] adds those the two write alike.
struct OwnSql {
    writes: Writes,
    get_instance: &'static str,
    sync_cursor_ensure: &'static str,
    prune_history: &'static str,
    scope_event: &'static str,
    scope_sync: &'static str,
    schema_version_create: &'static str,
    advisories: AdvisorySql,
    tally: TallySql,
}

/// MySQL's or SQLite's table: its own statements and the ones the two
/// write alike, one text of each in `shared/`.
const fn with_shared(own: OwnSql) -> Sql {
    Sql {
        writes: own.writes,
        get_instance: own.get_instance,
        sync_cursor_ensure: own.sync_cursor_ensure,
        prune_history: own.prune_history,
        scope_event: own.scope_event,
        scope_sync: own.scope_sync,
        schema_version_create: own.schema_version_create,
        get_instance_row: include_str!("shared/get_instance_row.sql"),
        get_packages_page: include_str!("shared/get_packages_page.sql"),
        delete_instance: include_str!("shared/delete_instance.sql"),
        stale_running: include_str!("shared/stale_running.sql"),
        package_versions: include_str!("shared/package_versions.sql"),
        search: include_str!("shared/search.sql"),
        sync_cursor_acquire: include_str!("shared/sync_cursor_acquire.sql"),
        sync_cursor_read: include_str!("shared/sync_cursor_read.sql"),
        sync_cursor_save: include_str!("shared/sync_cursor_save.sql"),
        sync_cursor_release: include_str!("shared/sync_cursor_release.sql"),
        recorded_in_range: include_str!("shared/recorded_in_range.sql"),
        recorded_instance: include_str!("shared/recorded_instance.sql"),
        scopes: include_str!("shared/scopes.sql"),
        instance_history: include_str!("shared/instance_history.sql"),
        package_history: include_str!("shared/package_history.sql"),
        fleet_history: include_str!("shared/fleet_history.sql"),
        fleet_counts: include_str!("shared/fleet_counts.sql"),
        widespread_packages: include_str!("shared/widespread_packages.sql"),
        schema_version_read: include_str!("shared/schema_version_read.sql"),
        schema_version_record: include_str!("shared/schema_version_record.sql"),
        advisories: own.advisories,
        tally: own.tally,
    }
}

/// MySQL / MariaDB: an instance write is ONE call of a stored procedure,
/// which runs its statements in its own transaction. Packages are identified
/// by `name_version_hash` (see the DDL).
static MYSQL: Sql = with_shared(OwnSql {
    writes: Writes::Routines(Routines {
        write_instance: include_str!("mysql/call_write_instance.sql"),
        replace_packages: include_str!("mysql/call_replace_packages.sql"),
        apply_state: include_str!("mysql/call_apply_state.sql"),
        link_packages: include_str!("mysql/call_link_packages.sql"),
        own_transaction: true,
        checksum_create: include_str!("mysql/routines_checksum_create.sql"),
        checksum_read: include_str!("shared/routines_checksum_read.sql"),
        checksum_record: include_str!("mysql/routines_checksum_record.sql"),
    }),
    get_instance: include_str!("mysql/get_instance.sql"),
    sync_cursor_ensure: include_str!("mysql/sync_cursor_ensure.sql"),
    prune_history: include_str!("mysql/prune_history.sql"),
    scope_event: include_str!("mysql/scope_event.sql"),
    scope_sync: include_str!("mysql/scope_sync.sql"),
    schema_version_create: include_str!("mysql/schema_version_create.sql"),
    advisories: AdvisorySql {
        import_lock: include_str!("mysql/import_lock.sql"),
        findings_lock: Some(include_str!("mysql/findings_lock.sql")),
        range_watermark: include_str!("shared/advisory_range_watermark.sql"),
        delete_older: include_str!("mysql/advisory_delete_older.sql"),
        insert: include_str!("mysql/advisory_insert.sql"),
        alias_insert: include_str!("mysql/advisory_alias_insert.sql"),
        range_insert: include_str!("mysql/advisory_range_insert.sql"),
        source_map_clear: include_str!("shared/source_map_clear.sql"),
        source_map_insert: include_str!("mysql/source_map_insert.sql"),
        forget_source_ranges: include_str!("shared/findings_forget_source_ranges.sql"),
        match_source_ranges: include_str!("mysql/findings_match_source_ranges.sql"),
        match_new_ranges: include_str!("mysql/findings_match_new_ranges.sql"),
        affected: include_str!("shared/advisory_affected.sql"),
        instance_vulnerabilities: include_str!("shared/instance_vulnerabilities.sql"),
        fleet_vulnerabilities: include_str!("shared/fleet_vulnerabilities.sql"),
        feed_state_read: include_str!("shared/feed_state_read.sql"),
        feed_succeeded: include_str!("mysql/feed_succeeded.sql"),
        feed_failed: include_str!("mysql/feed_failed.sql"),
    },
    tally: TallySql {
        recount: Recount::Routine(include_str!("mysql/count_fleet.sql")),
        clear: include_str!("shared/fleet_tally_clear.sql"),
    },
});

/// SQLite: an instance write is a transaction of a fixed number of
/// statements (`json_each` reads the package list).
static SQLITE: Sql = with_shared(OwnSql {
    writes: Writes::Statements(Statements {
        write_instance: include_str!("sqlite/write_instance.sql"),
        set_captured: include_str!("sqlite/set_captured.sql"),
        set_captured_after_state: include_str!("sqlite/set_captured_after_state.sql"),
        unlink_packages: include_str!("sqlite/unlink_packages.sql"),
        upsert_packages: include_str!("sqlite/upsert_packages.sql"),
        link_packages: include_str!("sqlite/link_packages.sql"),
        upsert_state: include_str!("sqlite/upsert_state.sql"),
        record_changes: include_str!("sqlite/record_changes.sql"),
        record_installs: include_str!("sqlite/record_installs.sql"),
        take_back_removals: include_str!("sqlite/take_back_removals.sql"),
        take_back_changes: include_str!("sqlite/take_back_changes.sql"),
        record_state_write: include_str!("sqlite/record_state_write.sql"),
        record_state_event: include_str!("sqlite/record_state_event.sql"),
    }),
    get_instance: include_str!("sqlite/get_instance.sql"),
    sync_cursor_ensure: include_str!("sqlite/sync_cursor_ensure.sql"),
    prune_history: include_str!("sqlite/prune_history.sql"),
    scope_event: include_str!("sqlite/scope_event.sql"),
    scope_sync: include_str!("sqlite/scope_sync.sql"),
    schema_version_create: include_str!("sqlite/schema_version_create.sql"),
    advisories: AdvisorySql {
        import_lock: include_str!("sqlite/import_lock.sql"),
        findings_lock: None,
        range_watermark: include_str!("shared/advisory_range_watermark.sql"),
        delete_older: include_str!("sqlite/advisory_delete_older.sql"),
        insert: include_str!("sqlite/advisory_insert.sql"),
        alias_insert: include_str!("sqlite/advisory_alias_insert.sql"),
        range_insert: include_str!("sqlite/advisory_range_insert.sql"),
        source_map_clear: include_str!("shared/source_map_clear.sql"),
        source_map_insert: include_str!("sqlite/source_map_insert.sql"),
        forget_source_ranges: include_str!("shared/findings_forget_source_ranges.sql"),
        match_source_ranges: include_str!("sqlite/findings_match_source_ranges.sql"),
        match_new_ranges: include_str!("sqlite/findings_match_new_ranges.sql"),
        affected: include_str!("shared/advisory_affected.sql"),
        instance_vulnerabilities: include_str!("shared/instance_vulnerabilities.sql"),
        fleet_vulnerabilities: include_str!("shared/fleet_vulnerabilities.sql"),
        feed_state_read: include_str!("shared/feed_state_read.sql"),
        feed_succeeded: include_str!("sqlite/feed_succeeded.sql"),
        feed_failed: include_str!("sqlite/feed_failed.sql"),
    },
    tally: TallySql {
        recount: Recount::Statements {
            claim: include_str!("sqlite/fleet_tally_claim.sql"),
            clear_exposure: include_str!("sqlite/advisory_exposure_clear.sql"),
            count_exposure: include_str!("sqlite/advisory_exposure_count.sql"),
            clear_spread: include_str!("sqlite/package_spread_clear.sql"),
            count_spread: include_str!("sqlite/package_spread_count.sql"),
        },
        clear: include_str!("shared/fleet_tally_clear.sql"),
    },
});

#[cfg(test)]
mod tests {
    //! The snapshot: every statement of a dialect rendered into one
    //! checked-in file, `core/tests/snapshots/sql-<dialect>.snap` (insta), so
    //! that a change to any SQL shows up as a reviewable diff there.

    use super::*;
    use crate::store::migrate::{routines, schema_statements, FILES};

    /// The folder of the statements two or three dialects write the same way.
    const SHARED_DIR: &str = "shared";

    /// Every statement of `sql` with its file name (without `.sql`).
    /// Destructured whole, so a new statement cannot be left out.
    fn named(sql: &Sql) -> Vec<(&'static str, &'static str)> {
        let Sql {
            writes,
            get_instance,
            sync_cursor_ensure,
            prune_history,
            scope_event,
            scope_sync,
            schema_version_create,
            get_instance_row,
            get_packages_page,
            delete_instance,
            stale_running,
            package_versions,
            search,
            sync_cursor_acquire,
            sync_cursor_read,
            sync_cursor_save,
            sync_cursor_release,
            recorded_in_range,
            recorded_instance,
            scopes,
            instance_history,
            package_history,
            fleet_history,
            fleet_counts,
            widespread_packages,
            schema_version_read,
            schema_version_record,
            advisories,
            tally,
        } = sql;
        let AdvisorySql {
            import_lock,
            findings_lock,
            range_watermark,
            delete_older,
            insert,
            alias_insert,
            range_insert,
            source_map_clear,
            source_map_insert,
            forget_source_ranges,
            match_source_ranges,
            match_new_ranges,
            affected,
            instance_vulnerabilities,
            fleet_vulnerabilities,
            feed_state_read,
            feed_succeeded,
            feed_failed,
        } = advisories;
        let mut all = match writes {
            Writes::Routines(Routines {
                write_instance,
                replace_packages,
                apply_state,
                link_packages,
                own_transaction: _,
                checksum_create,
                checksum_read,
                checksum_record,
            }) => vec![
                ("call_write_instance", *write_instance),
                ("call_replace_packages", *replace_packages),
                ("call_apply_state", *apply_state),
                ("call_link_packages", *link_packages),
                ("routines_checksum_create", *checksum_create),
                ("routines_checksum_read", *checksum_read),
                ("routines_checksum_record", *checksum_record),
            ],
            Writes::Statements(Statements {
                write_instance,
                set_captured,
                set_captured_after_state,
                unlink_packages,
                upsert_packages,
                link_packages,
                upsert_state,
                record_changes,
                record_installs,
                take_back_removals,
                take_back_changes,
                record_state_write,
                record_state_event,
            }) => vec![
                ("write_instance", *write_instance),
                ("set_captured", *set_captured),
                ("set_captured_after_state", *set_captured_after_state),
                ("unlink_packages", *unlink_packages),
                ("upsert_packages", *upsert_packages),
                ("link_packages", *link_packages),
                ("upsert_state", *upsert_state),
                ("record_changes", *record_changes),
                ("record_installs", *record_installs),
                ("take_back_removals", *take_back_removals),
                ("take_back_changes", *take_back_changes),
                ("record_state_write", *record_state_write),
                ("record_state_event", *record_state_event),
            ],
        };
        all.extend([
            ("get_instance", *get_instance),
            ("get_instance_row", *get_instance_row),
            ("get_packages_page", *get_packages_page),
            ("delete_instance", *delete_instance),
            ("stale_running", *stale_running),
            ("package_versions", *package_versions),
            ("search", *search),
            ("sync_cursor_ensure", *sync_cursor_ensure),
            ("sync_cursor_acquire", *sync_cursor_acquire),
            ("sync_cursor_read", *sync_cursor_read),
            ("sync_cursor_save", *sync_cursor_save),
            ("sync_cursor_release", *sync_cursor_release),
            ("recorded_in_range", *recorded_in_range),
            ("recorded_instance", *recorded_instance),
            ("instance_history", *instance_history),
            ("package_history", *package_history),
            ("fleet_history", *fleet_history),
            ("fleet_counts", *fleet_counts),
            ("widespread_packages", *widespread_packages),
            ("prune_history", *prune_history),
            ("scope_event", *scope_event),
            ("scope_sync", *scope_sync),
            ("scopes", *scopes),
            ("schema_version_create", *schema_version_create),
            ("schema_version_read", *schema_version_read),
            ("schema_version_record", *schema_version_record),
            ("advisory_range_watermark", *range_watermark),
            ("advisory_delete_older", *delete_older),
            ("advisory_insert", *insert),
            ("advisory_alias_insert", *alias_insert),
            ("advisory_range_insert", *range_insert),
            ("source_map_clear", *source_map_clear),
            ("source_map_insert", *source_map_insert),
            ("findings_forget_source_ranges", *forget_source_ranges),
            ("findings_match_source_ranges", *match_source_ranges),
            ("findings_match_new_ranges", *match_new_ranges),
            ("advisory_affected", *affected),
            ("instance_vulnerabilities", *instance_vulnerabilities),
            ("fleet_vulnerabilities", *fleet_vulnerabilities),
            ("import_lock", *import_lock),
            ("feed_state_read", *feed_state_read),
            ("feed_succeeded", *feed_succeeded),
            ("feed_failed", *feed_failed),
        ]);
        all.extend(findings_lock.map(|s| ("findings_lock", s)));
        let TallySql { recount, clear } = tally;
        all.push(("fleet_tally_clear", *clear));
        match recount {
            Recount::Routine(call) => all.push(("count_fleet", *call)),
            Recount::Statements {
                claim,
                clear_exposure,
                count_exposure,
                clear_spread,
                count_spread,
            } => all.extend([
                ("fleet_tally_claim", *claim),
                ("advisory_exposure_clear", *clear_exposure),
                ("advisory_exposure_count", *count_exposure),
                ("package_spread_clear", *clear_spread),
                ("package_spread_count", *count_spread),
            ]),
        }
        all
    }

    fn dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/sql")
    }

    /// Each statement is the file its name says (in its dialect's folder, or in
    /// `shared/` when dialects write it alike), and every file is a statement.
    #[test]
    fn statements_are_their_files() {
        let mut used_shared = Vec::new();
        for dialect in Dialect::ALL {
            let named = named(of(dialect));
            let own = files_in(dialect.as_str());
            let mut listed = Vec::new();
            for (name, sql) in &named {
                let file_name = format!("{name}.sql");
                // The dialect's own file, else the one it shares with others.
                let folder = if own.contains(&file_name) {
                    listed.push(file_name.clone());
                    dialect.as_str()
                } else {
                    used_shared.push(file_name.clone());
                    SHARED_DIR
                };
                let path = dir().join(folder).join(&file_name);
                let file = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{dialect}: {}: {e}", path.display()));
                assert_eq!(&file, sql, "{dialect}: {}", path.display());
            }
            listed.sort();
            assert_eq!(own, listed, "{dialect}: files that are no statement");
        }
        // Each shared file serves at least two dialects.
        for file in files_in(SHARED_DIR) {
            let users = used_shared.iter().filter(|f| **f == file).count();
            assert!(users >= 2, "{SHARED_DIR}/{file} serves {users} dialect(s)");
        }
    }

    /// The `.sql` file names of a folder, sorted.
    fn files_in(folder: &str) -> Vec<String> {
        let mut files: Vec<String> = std::fs::read_dir(dir().join(folder))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        files
    }

    /// What the store sends to `dialect`: its statements, then the schema
    /// files' and the routines' statements as the migration splits them.
    fn render(dialect: Dialect) -> String {
        let mut out = format!("-- Every statement the store sends to {dialect}.\n");
        for (name, sql) in named(of(dialect)) {
            out.push_str(&format!("\n-- {name}\n{}\n", sql.trim_end()));
        }
        for file in FILES {
            for (i, sql) in schema_statements(file.text(dialect)).iter().enumerate() {
                let n = i + 1;
                out.push_str(&format!(
                    "\n-- schema version {}, statement {n}\n{}\n",
                    file.version,
                    sql.trim_end()
                ));
            }
        }
        for (i, sql) in routines(dialect)
            .map(schema_statements)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let n = i + 1;
            out.push_str(&format!(
                "\n-- routines, statement {n}\n{}\n",
                sql.trim_end()
            ));
        }
        out
    }

    #[test]
    fn sql_snapshot() {
        for dialect in Dialect::ALL {
            insta::with_settings!({
                snapshot_path => "../../../tests/snapshots",
                prepend_module_to_snapshot => false,
                omit_expression => true,
            }, {
                insta::assert_snapshot!(format!("sql-{dialect}"), render(dialect));
            });
        }
    }
}
