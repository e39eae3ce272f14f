//! SQLite: an instance write is a transaction of a fixed number of statements
//! (`json_each` reads the package list); the endpoint begins it with
//! BEGIN IMMEDIATE, so writers queue instead of deadlocking, and the last to
//! commit leaves its whole set. SQLite has no stored routines; it is local
//! only, so the calls of a transaction cost no network round trips.

use super::{
    plain_search, Head, Reports, Sql, Statements, Writes, PLAIN_DELETE, PLAIN_GET_INSTANCE_ONLY,
    PLAIN_PACKAGES_PAGE, PLAIN_PACKAGE_VERSIONS, PLAIN_STALE_RUNNING,
};

/// `INSERT INTO ec2` of every column; the last three values are the caller's
/// `terminated_at`, `last_event_time`, `inventory_captured_at`.
macro_rules! ec2_insert {
    ($terminated_at:literal, $last_event:literal, $captured:literal) => {
        concat!(
            "INSERT INTO ec2 (id, account, region, state, instance_type, image_id, platform, launch_time, tags, ",
            "source, created, updated, terminated_at, last_event_time, inventory_captured_at) VALUES (",
            ":id, :account, :region, :state, :instance_type, :image_id, :platform, :launch_time, :tags, :source, :now, :now, ",
            $terminated_at,
            ", ",
            $last_event,
            ", ",
            $captured,
            ")"
        )
    };
}

/// The `ec2` row of an API write: captured now, terminated now if the state says so.
macro_rules! api_insert {
    () => {
        ec2_insert!(
            "CASE WHEN :state = 'terminated' THEN :now END",
            "NULL",
            ":now"
        )
    };
}

/// One detail column of a state event's upsert: the event's value when it
/// has details, else the stored one.
macro_rules! if_details {
    ($col:literal) => {
        concat!(
            $col,
            " = CASE WHEN :has_details = 1 THEN EXCLUDED.",
            $col,
            " ELSE ec2.",
            $col,
            " END, "
        )
    };
}

fn head(h: Head) -> (&'static str, Reports) {
    match h {
        Head::Create => (
            concat!(api_insert!(), " ON CONFLICT (id) DO NOTHING"),
            Reports::Count,
        ),
        // The request's columns win; `created` stays, and so does
        // `terminated_at` while still terminated.
        Head::Put => (
            concat!(
                api_insert!(),
                " ON CONFLICT (id) DO UPDATE SET account = EXCLUDED.account, region = EXCLUDED.region, ",
                "state = EXCLUDED.state, instance_type = EXCLUDED.instance_type, image_id = EXCLUDED.image_id, ",
                "platform = EXCLUDED.platform, launch_time = EXCLUDED.launch_time, tags = EXCLUDED.tags, ",
                "source = EXCLUDED.source, updated = EXCLUDED.updated, ",
                "terminated_at = CASE WHEN EXCLUDED.state = 'terminated' THEN COALESCE(ec2.terminated_at, EXCLUDED.terminated_at) END, ",
                "inventory_captured_at = EXCLUDED.inventory_captured_at ",
                "RETURNING id, created = :now"
            ),
            Reports::Returning,
        ),
        Head::Replace => (
            concat!(
                "UPDATE ec2 SET inventory_captured_at = :captured_at, updated = :now, source = :source ",
                "WHERE id = :id AND (inventory_captured_at IS NULL OR inventory_captured_at < :captured_at)"
            ),
            Reports::Count,
        ),
        Head::ReplaceAfterState => (
            concat!(
                "UPDATE ec2 SET inventory_captured_at = :captured_at, updated = :now, source = :source ",
                "WHERE id = :id AND state = 'running' AND last_event_time = :time ",
                "AND (:state_applied = 1 OR inventory_captured_at IS NULL) ",
                "AND (inventory_captured_at IS NULL OR inventory_captured_at < :captured_at)"
            ),
            Reports::Count,
        ),
    }
}

pub(crate) static SQL: Sql = Sql {
    writes: Writes::Statements(Statements {
        head,
        delete_links: "DELETE FROM ec2_package WHERE ec2_id = :id",
        // `WHERE true` keeps ON CONFLICT from parsing as a join constraint.
        upsert_chunk: concat!(
            "INSERT INTO package (name, version, publisher, architecture) ",
            "SELECT json_extract(j.value, '$.n'), json_extract(j.value, '$.v'), ",
            "json_extract(j.value, '$.p'), json_extract(j.value, '$.a') ",
            "FROM json_each(:packages) AS j WHERE true ORDER BY j.key ",
            "ON CONFLICT (name, version) DO UPDATE SET ",
            "publisher = COALESCE(excluded.publisher, package.publisher), ",
            "architecture = COALESCE(excluded.architecture, package.architecture)"
        ),
        link_chunk: concat!(
            "INSERT INTO ec2_package (ec2_id, package_id) SELECT :id, p.id ",
            "FROM json_each(:packages) AS j JOIN package p ",
            "ON p.name = json_extract(j.value, '$.n') AND p.version = json_extract(j.value, '$.v')"
        ),
        // Applied only when newer than the last event; details only when the event has them.
        apply_state: concat!(
            ec2_insert!(
                "CASE WHEN :state = 'terminated' THEN :time END",
                ":time",
                "NULL"
            ),
            " ON CONFLICT (id) DO UPDATE SET account = EXCLUDED.account, region = EXCLUDED.region, ",
            "state = EXCLUDED.state, ",
            if_details!("instance_type"),
            if_details!("image_id"),
            if_details!("platform"),
            if_details!("launch_time"),
            if_details!("tags"),
            "source = EXCLUDED.source, updated = EXCLUDED.updated, ",
            "terminated_at = CASE WHEN EXCLUDED.state = 'terminated' ",
            "THEN COALESCE(ec2.terminated_at, EXCLUDED.terminated_at) ELSE ec2.terminated_at END, ",
            "last_event_time = EXCLUDED.last_event_time ",
            "WHERE ec2.last_event_time IS NULL OR ec2.last_event_time < EXCLUDED.last_event_time"
        ),
    }),
    get: super::get_sql!(
        "tags",
        ":id",
        "length(CAST(p.name AS BLOB)) + length(CAST(p.version AS BLOB)) + COALESCE(length(CAST(p.publisher AS BLOB)), 0) + COALESCE(length(CAST(p.architecture AS BLOB)), 0) + 16",
        "running / 16384",
        "json_group_array(json_array(name, version, publisher, architecture))"
    ),
    get_instance_only: PLAIN_GET_INSTANCE_ONLY,
    get_packages_page: PLAIN_PACKAGES_PAGE,
    delete: PLAIN_DELETE,
    stale_running: PLAIN_STALE_RUNNING,
    package_versions: PLAIN_PACKAGE_VERSIONS,
    search: plain_search(concat!(
        " AND EXISTS (SELECT 1 FROM ec2_package ep JOIN package p ON p.id = ep.package_id ",
        "WHERE ep.ec2_id = e.id AND p.name = :package_name AND p.version = :package_version)"
    )),
};
