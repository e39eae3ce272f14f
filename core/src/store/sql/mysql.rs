//! MySQL / MariaDB: no data-modifying CTEs, so an instance write is a
//! transaction of a fixed number of statements (JSON_TABLE reads the package
//! list). Packages are identified by `name_version_hash` (see the DDL).
//! Row counts follow CLIENT_FOUND_ROWS (as sqlx and the Data API report them):
//! an upsert counts 1 when it inserted and 2 when it changed a row.

use super::{
    plain_api_insert, plain_event_insert, plain_search, Head, Reports, Sql, PLAIN_DELETE,
    PLAIN_DELETE_LINKS, PLAIN_GET_INSTANCE_ONLY, PLAIN_PACKAGES_PAGE, PLAIN_PACKAGE_VERSIONS,
    PLAIN_REPLACE_HEAD, PLAIN_STALE_RUNNING,
};

macro_rules! packages_table {
    () => {
        concat!(
            "JSON_TABLE(:packages, '$[*]' COLUMNS (ord FOR ORDINALITY, ",
            "name VARCHAR(255) PATH '$.n', version VARCHAR(128) PATH '$.v', ",
            "publisher VARCHAR(255) PATH '$.p', architecture VARCHAR(32) PATH '$.a')) AS j"
        )
    };
}

fn head(h: Head) -> (&'static str, Reports) {
    let sql = match h {
        // A recorded id fails with a duplicate-key error.
        Head::Create => plain_api_insert!(),
        Head::Put => concat!(
            plain_api_insert!(),
            " ON DUPLICATE KEY UPDATE account = VALUES(account), region = VALUES(region), ",
            "state = VALUES(state), instance_type = VALUES(instance_type), image_id = VALUES(image_id), ",
            "platform = VALUES(platform), launch_time = VALUES(launch_time), tags = VALUES(tags), ",
            "source = VALUES(source), updated = VALUES(updated), ",
            "terminated_at = CASE WHEN VALUES(state) = 'terminated' THEN COALESCE(terminated_at, VALUES(terminated_at)) END, ",
            "inventory_captured_at = VALUES(inventory_captured_at)"
        ),
        Head::Replace => PLAIN_REPLACE_HEAD,
    };
    (sql, Reports::Count)
}

macro_rules! if_details {
    ($col:literal) => {
        concat!($col, " = IF(:has_details = 1, :", $col, ", ", $col, "), ")
    };
}

pub(crate) static SQL: Sql = Sql {
    head,
    single_write: None,
    delete_links: PLAIN_DELETE_LINKS,
    upsert_chunk: Some(concat!(
        "INSERT INTO package (name, version, publisher, architecture) ",
        "SELECT j.name, j.version, j.publisher, j.architecture FROM ",
        packages_table!(),
        " ORDER BY j.ord ",
        "ON DUPLICATE KEY UPDATE publisher = COALESCE(VALUES(publisher), package.publisher), ",
        "architecture = COALESCE(VALUES(architecture), package.architecture)"
    )),
    link_chunk: concat!(
        "INSERT INTO ec2_package (ec2_id, package_id) SELECT :id, p.id FROM ",
        packages_table!(),
        " JOIN package p ON p.name_version_hash = UNHEX(SHA2(CONCAT(j.name, CHAR(0), j.version), 256))"
    ),
    get: super::get_sql!(
        "tags",
        ":id",
        "LENGTH(p.name) + LENGTH(p.version) + COALESCE(LENGTH(p.publisher), 0) + COALESCE(LENGTH(p.architecture), 0) + 16",
        "running DIV 16384",
        "CAST(JSON_ARRAYAGG(JSON_ARRAY(name, version, publisher, architecture)) AS CHAR)"
    ),
    get_instance_only: PLAIN_GET_INSTANCE_ONLY,
    get_packages_page: PLAIN_PACKAGES_PAGE,
    delete: PLAIN_DELETE,
    // Assignments run left to right: last_event_time must come last.
    apply_state: concat!(
        "UPDATE ec2 SET account = :account, region = :region, state = :state, ",
        if_details!("instance_type"),
        if_details!("image_id"),
        if_details!("platform"),
        if_details!("launch_time"),
        if_details!("tags"),
        "source = :source, updated = :now, ",
        "terminated_at = IF(:state = 'terminated', COALESCE(terminated_at, :time), terminated_at), ",
        "last_event_time = :time ",
        "WHERE id = :id AND (last_event_time IS NULL OR last_event_time < :time)"
    ),
    apply_state_insert: Some(plain_event_insert!()),
    stale_running: PLAIN_STALE_RUNNING,
    package_versions: PLAIN_PACKAGE_VERSIONS,
    search: plain_search(concat!(
        " AND EXISTS (SELECT 1 FROM ec2_package ep JOIN package p ON p.id = ep.package_id ",
        "WHERE ep.ec2_id = e.id AND p.name_version_hash = ",
        "UNHEX(SHA2(CONCAT(:package_name, CHAR(0), :package_version), 256)))"
    )),
};
