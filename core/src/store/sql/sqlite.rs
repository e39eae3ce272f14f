//! SQLite: an instance write is a transaction of a fixed number of statements
//! (`json_each` reads the package list); the endpoint begins it with
//! BEGIN IMMEDIATE, so writers queue instead of deadlocking.

use super::{
    plain_api_insert, plain_event_insert, plain_search, put_on_conflict, state_on_conflict, Head,
    Reports, Sql, PLAIN_DELETE, PLAIN_DELETE_LINKS, PLAIN_GET_INSTANCE_ONLY, PLAIN_PACKAGES_PAGE,
    PLAIN_PACKAGE_VERSIONS, PLAIN_REPLACE_HEAD, PLAIN_STALE_RUNNING,
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
                put_on_conflict!(),
                "RETURNING id, created = :now"
            ),
            Reports::Returning,
        ),
        Head::Replace => (PLAIN_REPLACE_HEAD, Reports::Count),
    }
}

pub(crate) static SQL: Sql = Sql {
    head,
    single_write: None,
    delete_links: PLAIN_DELETE_LINKS,
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
    get_instance_only: PLAIN_GET_INSTANCE_ONLY,
    get_packages_page: PLAIN_PACKAGES_PAGE,
    delete: PLAIN_DELETE,
    apply_state: concat!(
        plain_event_insert!(),
        state_on_conflict!(":has_details = 1")
    ),
    apply_state_insert: None,
    stale_running: PLAIN_STALE_RUNNING,
    package_versions: PLAIN_PACKAGE_VERSIONS,
    search: plain_search(concat!(
        " AND EXISTS (SELECT 1 FROM ec2_package ep JOIN package p ON p.id = ep.package_id ",
        "WHERE ep.ec2_id = e.id AND p.name = :package_name AND p.version = :package_version)"
    )),
};
