//! The SQL text of every statement, per dialect. Values are only ever bound
//! as named parameters (`:name`); PostgreSQL casts each parameter explicitly
//! because the Data API sends strings as text and NULLs untyped.
//!
//! Parameters shared by the instance writes: `id`, `account`, `region`,
//! `state`, `instance_type`, `image_id`, `platform`, `launch_time`, `tags`
//! (JSON text), `source`, `now`; package lists travel as one JSON parameter
//! `packages`: `[{"n": name, "v": version, "p": publisher?, "a": architecture?}, ...]`.

pub(crate) mod mysql;
pub(crate) mod postgres;
pub(crate) mod sqlite;

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
    /// PostgreSQL, MySQL: one call of a routine of schema version 2.
    Routines(Routines),
    /// SQLite: one transaction of a fixed number of statements.
    Statements(Statements),
}

/// Calls of the server-side routines (`ddl/<dialect>/002_write_routines.sql`).
/// Each answers one row.
pub(crate) struct Routines {
    /// POST and PUT (`mode` 'create' or 'put', the `ec2` row's parameters,
    /// `packages`): `written` = 'created', 'replaced' or 'skipped'.
    pub write_instance: &'static str,
    /// An inventory capture (`id`, `captured_at`, `now`, `source`, `packages`): `written`.
    pub replace_packages: &'static str,
    /// A state event (the `ec2` row's parameters, `time`, `has_details`,
    /// `captured_at`, `packages`, NULL for none): `state_applied`, `packages_written`.
    pub apply_state: &'static str,
    /// Links the packages of a further chunk (`id`, `packages`) of an
    /// oversized write, inside its transaction.
    pub add_packages: &'static str,
    /// The routines take `own_transaction` (MySQL): 1 to begin and commit
    /// inside the call, 0 inside the caller's transaction.
    pub own_transaction: bool,
}

/// The statements of a write in a transaction.
pub(crate) struct Statements {
    pub head: fn(Head) -> (&'static str, Reports),
    pub delete_links: &'static str,
    /// Upserts the packages of a chunk.
    pub upsert_chunk: &'static str,
    pub link_chunk: &'static str,
    /// A state event alone: its upsert, applied only when newer.
    pub apply_state: &'static str,
}

/// Statements of one dialect.
pub(crate) struct Sql {
    pub writes: Writes,
    pub get: &'static str,
    pub get_instance_only: &'static str,
    pub get_packages_page: &'static str,
    pub delete: &'static str,
    pub stale_running: &'static str,
    pub package_versions: &'static str,
    /// Search filters (`e` is the ec2 row), and the search frame around them.
    pub search: SearchSql,
}

pub(crate) struct SearchSql {
    pub select: &'static str,
    pub account: &'static str,
    pub region: &'static str,
    pub state: &'static str,
    pub after: &'static str,
    pub package_name: &'static str,
    pub package_name_version: &'static str,
    pub order_limit: &'static str,
}

pub(crate) fn of(dialect: Dialect) -> &'static Sql {
    match dialect {
        Dialect::Postgres => &postgres::SQL,
        Dialect::Mysql => &mysql::SQL,
        Dialect::Sqlite => &sqlite::SQL,
    }
}

/// Columns of `get` and `get_instance_only`: `part` (0: the instance,
/// 1: a chunk of its packages), the instance, then (`get` only) `packages`.
pub(crate) mod col {
    pub const PART: usize = 0;
    pub const ACCOUNT: usize = 1;
    pub const REGION: usize = 2;
    pub const STATE: usize = 3;
    pub const INSTANCE_TYPE: usize = 4;
    pub const IMAGE_ID: usize = 5;
    pub const PLATFORM: usize = 6;
    pub const LAUNCH_TIME: usize = 7;
    pub const TAGS: usize = 8;
    pub const SOURCE: usize = 9;
    pub const CREATED: usize = 10;
    pub const UPDATED: usize = 11;
    pub const TERMINATED_AT: usize = 12;
    pub const LAST_EVENT_TIME: usize = 13;
    pub const INVENTORY_CAPTURED_AT: usize = 14;
    /// A JSON array of `[name, version, publisher, architecture]` arrays.
    pub const PACKAGES: usize = 15;
}

/// The instance columns of `get`, in `col` order (after `part`).
macro_rules! instance_columns {
    ($tags:literal) => {
        concat!(
            "account, region, state, instance_type, image_id, platform, launch_time, ",
            $tags,
            ", source, created, updated, terminated_at, last_event_time, inventory_captured_at"
        )
    };
}

/// `get`: the instance row (part 0) then its packages aggregated into JSON
/// arrays of about 16 KiB of package text each (part 1: far below the 64 KB
/// row limit even once escaped, and few rows): 1 call, and compact enough
/// that 10,000 typical packages fit the 1 MiB response limit. `$size` is a
/// package's byte size, `$chunk` groups the running total `running` of it,
/// `$agg` aggregates `name, version, publisher, architecture` of a group.
macro_rules! get_sql {
    ($tags:literal, $id:literal, $size:literal, $chunk:literal, $agg:literal) => {
        concat!(
            "SELECT 0 AS part, ",
            $crate::store::sql::instance_columns!($tags),
            ", NULL AS packages FROM ec2 WHERE id = ",
            $id,
            " UNION ALL ",
            "SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ",
            $agg,
            " FROM (SELECT p.name, p.version, p.publisher, p.architecture, SUM(",
            $size,
            ") OVER (ORDER BY p.id) AS running ",
            "FROM ec2_package ep JOIN package p ON p.id = ep.package_id WHERE ep.ec2_id = ",
            $id,
            ") s GROUP BY ",
            $chunk,
            " ORDER BY 1"
        )
    };
}

macro_rules! get_instance_only_sql {
    ($tags:literal, $id:literal) => {
        concat!(
            "SELECT 0 AS part, ",
            $crate::store::sql::instance_columns!($tags),
            " FROM ec2 WHERE id = ",
            $id
        )
    };
}

/// Rows of the paged fallback read: name, version, publisher, architecture, id.
macro_rules! packages_page_sql {
    ($id:literal, $after:literal, $limit:literal) => {
        concat!(
            "SELECT p.name, p.version, p.publisher, p.architecture, p.id ",
            "FROM ec2_package ep JOIN package p ON p.id = ep.package_id ",
            "WHERE ep.ec2_id = ",
            $id,
            " AND p.id > ",
            $after,
            " ORDER BY p.id LIMIT ",
            $limit
        )
    };
}

pub(crate) use {get_instance_only_sql, get_sql, instance_columns, packages_page_sql};

/// Statements MySQL and SQLite share word for word.
pub(crate) const PLAIN_GET_INSTANCE_ONLY: &str = get_instance_only_sql!("tags", ":id");

pub(crate) const PLAIN_PACKAGES_PAGE: &str = packages_page_sql!(":id", ":after", ":limit");

pub(crate) const PLAIN_DELETE: &str = "DELETE FROM ec2 WHERE id = :id";

pub(crate) const PLAIN_STALE_RUNNING: &str = concat!(
    "SELECT id, account, region FROM ec2 WHERE state = 'running' ",
    "AND (inventory_captured_at IS NULL OR inventory_captured_at < :older_than) ",
    "ORDER BY inventory_captured_at IS NOT NULL, inventory_captured_at, id LIMIT :limit"
);

pub(crate) const PLAIN_PACKAGE_VERSIONS: &str = concat!(
    "SELECT p.name, p.version, COUNT(*) FROM package p JOIN ec2_package ep ON ep.package_id = p.id ",
    "WHERE p.name = :name GROUP BY p.id, p.name, p.version"
);

/// The MySQL/SQLite search; only the (name, version) filter differs.
pub(crate) const fn plain_search(package_name_version: &'static str) -> SearchSql {
    SearchSql {
        select: "SELECT e.id, e.account, e.region, e.state, e.instance_type, e.updated FROM ec2 e WHERE 1 = 1",
        account: " AND e.account = :account",
        region: " AND e.region = :region",
        state: " AND e.state = :state",
        after: " AND e.id > :after",
        package_name: concat!(
            " AND EXISTS (SELECT 1 FROM ec2_package ep JOIN package p ON p.id = ep.package_id ",
            "WHERE ep.ec2_id = e.id AND p.name = :package_name)"
        ),
        package_name_version,
        order_limit: " ORDER BY e.id LIMIT :limit",
    }
}

/// Page size of the fallback read: 300 packages of the longest allowed
/// strings stay under the 1 MiB response limit.
pub(crate) const PACKAGES_PAGE: i64 = 300;
