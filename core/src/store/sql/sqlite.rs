//! SQLite: an instance write is a transaction of a fixed number of statements
//! (`json_each` reads the package list); the endpoint begins it with
//! BEGIN IMMEDIATE, so writers queue instead of deadlocking.

use super::{
    plain_api_insert, plain_ec2_insert, plain_search, Head, Reports, Sql, PLAIN_PACKAGE_VERSIONS,
    PLAIN_STALE_RUNNING,
};

fn head(h: Head) -> (&'static str, Reports) {
    match h {
        Head::Create => (
            concat!(plain_api_insert!(), " ON CONFLICT (id) DO NOTHING"),
            Reports::Count,
        ),
        Head::Put => (
            concat!(
                plain_api_insert!(),
                " ON CONFLICT (id) DO UPDATE SET account = excluded.account, region = excluded.region, ",
                "state = excluded.state, instance_type = excluded.instance_type, image_id = excluded.image_id, ",
                "platform = excluded.platform, launch_time = excluded.launch_time, tags = excluded.tags, ",
                "source = excluded.source, updated = excluded.updated, ",
                "terminated_at = CASE WHEN excluded.state = 'terminated' THEN COALESCE(ec2.terminated_at, excluded.terminated_at) END, ",
                "inventory_captured_at = excluded.inventory_captured_at ",
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
    }
}

macro_rules! if_details {
    ($col:literal) => {
        concat!(
            $col,
            " = CASE WHEN :has_details = 1 THEN excluded.",
            $col,
            " ELSE ec2.",
            $col,
            " END, "
        )
    };
}

pub(crate) static SQL: Sql = Sql {
    head,
    single_write: None,
    delete_links: "DELETE FROM ec2_package WHERE ec2_id = :id",
    // `WHERE true` keeps ON CONFLICT from parsing as a join constraint.
    upsert_chunk: Some(concat!(
        "INSERT INTO package (name, version, publisher, architecture) ",
        "SELECT json_extract(j.value, '$.n'), json_extract(j.value, '$.v'), ",
        "json_extract(j.value, '$.p'), json_extract(j.value, '$.a') ",
        "FROM json_each(:packages) AS j WHERE true ORDER BY j.key ",
        "ON CONFLICT (name, version) DO UPDATE SET ",
        "publisher = COALESCE(excluded.publisher, package.publisher), ",
        "architecture = COALESCE(excluded.architecture, package.architecture)"
    )),
    link_chunk: concat!(
        "INSERT INTO ec2_package (ec2_id, package_id) SELECT :id, p.id ",
        "FROM json_each(:packages) AS j JOIN package p ",
        "ON p.name = json_extract(j.value, '$.n') AND p.version = json_extract(j.value, '$.v')"
    ),
    get: super::get_sql!(
        "tags",
        ":id",
        "length(CAST(p.name AS BLOB)) + length(CAST(p.version AS BLOB)) + COALESCE(length(CAST(p.publisher AS BLOB)), 0) + COALESCE(length(CAST(p.architecture AS BLOB)), 0) + 16",
        "running / 16384",
        "json_group_array(json_array(name, version, publisher, architecture))"
    ),
    get_instance_only: super::get_instance_only_sql!("tags", ":id"),
    get_packages_page: super::packages_page_sql!(":id", ":after", ":limit"),
    delete: "DELETE FROM ec2 WHERE id = :id",
    apply_state: concat!(
        plain_ec2_insert!(
            "CASE WHEN :state = 'terminated' THEN :time END",
            ":time",
            "NULL"
        ),
        " ON CONFLICT (id) DO UPDATE SET account = excluded.account, region = excluded.region, ",
        "state = excluded.state, ",
        if_details!("instance_type"),
        if_details!("image_id"),
        if_details!("platform"),
        if_details!("launch_time"),
        if_details!("tags"),
        "source = excluded.source, updated = excluded.updated, ",
        "terminated_at = CASE WHEN excluded.state = 'terminated' ",
        "THEN COALESCE(ec2.terminated_at, excluded.terminated_at) ELSE ec2.terminated_at END, ",
        "last_event_time = excluded.last_event_time ",
        "WHERE ec2.last_event_time IS NULL OR ec2.last_event_time < excluded.last_event_time"
    ),
    apply_state_insert: None,
    stale_running: PLAIN_STALE_RUNNING,
    package_versions: PLAIN_PACKAGE_VERSIONS,
    search: plain_search(concat!(
        " AND EXISTS (SELECT 1 FROM ec2_package ep JOIN package p ON p.id = ep.package_id ",
        "WHERE ep.ec2_id = e.id AND p.name = :package_name AND p.version = :package_version)"
    )),
};
