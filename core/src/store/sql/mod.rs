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
}

/// How a head statement reports what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reports {
    /// Rows of `(id, created)`; none when nothing was written.
    Returning,
    /// Only the number of rows written (MySQL: 1 inserted, 2 replaced).
    Count,
}

/// Statements of one dialect.
pub(crate) struct Sql {
    pub head: fn(Head) -> (&'static str, Reports),
    /// Package upsert and links in one statement after a head (PostgreSQL only).
    pub single_write: Option<fn(Head) -> &'static str>,
    pub delete_links: &'static str,
    /// Upserts the packages of a chunk; `None` when `link_chunk` does it too.
    pub upsert_chunk: Option<&'static str>,
    pub link_chunk: &'static str,
    pub get: &'static str,
    pub get_instance_only: &'static str,
    pub get_packages_page: &'static str,
    pub delete: &'static str,
    pub apply_state: &'static str,
    /// MySQL: `apply_state` only updates; this inserts an unknown instance.
    pub apply_state_insert: Option<&'static str>,
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

/// `INSERT INTO ec2` of every column: `$values` are the first twelve values
/// (`id` .. `source`, `now` for created and updated) as the dialect writes them.
macro_rules! ec2_insert_sql {
    ($values:literal, $terminated_at:literal, $last_event:literal, $captured:literal) => {
        concat!(
            "INSERT INTO ec2 (id, account, region, state, instance_type, image_id, platform, launch_time, tags, ",
            "source, created, updated, terminated_at, last_event_time, inventory_captured_at) VALUES (",
            $values,
            ", ",
            $terminated_at,
            ", ",
            $last_event,
            ", ",
            $captured,
            ")"
        )
    };
}

/// MySQL and SQLite take the parameters as they come.
macro_rules! plain_ec2_insert {
    ($terminated_at:literal, $last_event:literal, $captured:literal) => {
        $crate::store::sql::ec2_insert_sql!(
            ":id, :account, :region, :state, :instance_type, :image_id, :platform, :launch_time, :tags, :source, :now, :now",
            $terminated_at,
            $last_event,
            $captured
        )
    };
}

/// The `ec2` row of an API write (MySQL, SQLite): captured now, terminated
/// now if the state says so.
macro_rules! plain_api_insert {
    () => {
        $crate::store::sql::plain_ec2_insert!(
            "CASE WHEN :state = 'terminated' THEN :now END",
            "NULL",
            ":now"
        )
    };
}

/// The `ec2` row of a state event (MySQL, SQLite): terminated and last
/// changed at the event's time.
macro_rules! plain_event_insert {
    () => {
        $crate::store::sql::plain_ec2_insert!(
            "CASE WHEN :state = 'terminated' THEN :time END",
            ":time",
            "NULL"
        )
    };
}

/// `ON CONFLICT` of a PUT (PostgreSQL, SQLite): the request's columns win,
/// `created` stays, and so does `terminated_at` while still terminated.
macro_rules! put_on_conflict {
    () => {
        concat!(
            " ON CONFLICT (id) DO UPDATE SET account = EXCLUDED.account, region = EXCLUDED.region, ",
            "state = EXCLUDED.state, instance_type = EXCLUDED.instance_type, image_id = EXCLUDED.image_id, ",
            "platform = EXCLUDED.platform, launch_time = EXCLUDED.launch_time, tags = EXCLUDED.tags, ",
            "source = EXCLUDED.source, updated = EXCLUDED.updated, ",
            "terminated_at = CASE WHEN EXCLUDED.state = 'terminated' THEN COALESCE(ec2.terminated_at, EXCLUDED.terminated_at) END, ",
            "inventory_captured_at = EXCLUDED.inventory_captured_at "
        )
    };
}

/// One detail column of a state event's upsert: the event's value when it
/// has details (`$has_details` is that test in the dialect), else the stored one.
macro_rules! excluded_if_details {
    ($has_details:literal, $col:literal) => {
        concat!(
            $col,
            " = CASE WHEN ",
            $has_details,
            " THEN EXCLUDED.",
            $col,
            " ELSE ec2.",
            $col,
            " END, "
        )
    };
}

/// `ON CONFLICT` of a state event (PostgreSQL, SQLite): applied only when
/// newer than the last event; details only when the event has them.
macro_rules! state_on_conflict {
    ($has_details:literal) => {
        concat!(
            " ON CONFLICT (id) DO UPDATE SET account = EXCLUDED.account, region = EXCLUDED.region, ",
            "state = EXCLUDED.state, ",
            $crate::store::sql::excluded_if_details!($has_details, "instance_type"),
            $crate::store::sql::excluded_if_details!($has_details, "image_id"),
            $crate::store::sql::excluded_if_details!($has_details, "platform"),
            $crate::store::sql::excluded_if_details!($has_details, "launch_time"),
            $crate::store::sql::excluded_if_details!($has_details, "tags"),
            "source = EXCLUDED.source, updated = EXCLUDED.updated, ",
            "terminated_at = CASE WHEN EXCLUDED.state = 'terminated' ",
            "THEN COALESCE(ec2.terminated_at, EXCLUDED.terminated_at) ELSE ec2.terminated_at END, ",
            "last_event_time = EXCLUDED.last_event_time ",
            "WHERE ec2.last_event_time IS NULL OR ec2.last_event_time < EXCLUDED.last_event_time"
        )
    };
}

pub(crate) use {
    ec2_insert_sql, excluded_if_details, get_instance_only_sql, get_sql, instance_columns,
    packages_page_sql, plain_api_insert, plain_ec2_insert, plain_event_insert, put_on_conflict,
    state_on_conflict,
};

/// Statements MySQL and SQLite share word for word.
pub(crate) const PLAIN_REPLACE_HEAD: &str = concat!(
    "UPDATE ec2 SET inventory_captured_at = :captured_at, updated = :now, source = :source ",
    "WHERE id = :id AND (inventory_captured_at IS NULL OR inventory_captured_at < :captured_at)"
);

pub(crate) const PLAIN_DELETE_LINKS: &str = "DELETE FROM ec2_package WHERE ec2_id = :id";

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
