//! PostgreSQL: a whole instance write is ONE statement of data-modifying CTEs:
//! the `ec2` row (`e`), the package upsert (`p`, `DO UPDATE ... RETURNING id`
//! so rows committed concurrently are returned too), stale links deleted,
//! missing links inserted. Packages are upserted in the caller's sorted order
//! (`WITH ORDINALITY`) so concurrent writers lock shared rows in one order.

use super::{put_on_conflict, state_on_conflict, Head, Reports, SearchSql, Sql};

macro_rules! ec2_insert {
    ($terminated_at:literal, $last_event:literal, $captured:literal) => {
        super::ec2_insert_sql!(
            "CAST(:id AS text), CAST(:account AS text), CAST(:region AS text), CAST(:state AS text), CAST(:instance_type AS text), CAST(:image_id AS text), CAST(:platform AS text), CAST(:launch_time AS timestamp), CAST(:tags AS jsonb), CAST(:source AS text), CAST(:now AS timestamp), CAST(:now AS timestamp)",
            $terminated_at,
            $last_event,
            $captured
        )
    };
}

macro_rules! api_insert {
    () => {
        ec2_insert!(
            "CASE WHEN CAST(:state AS text) = 'terminated' THEN CAST(:now AS timestamp) END",
            "NULL",
            "CAST(:now AS timestamp)"
        )
    };
}

macro_rules! create_head {
    () => {
        concat!(
            api_insert!(),
            " ON CONFLICT (id) DO NOTHING RETURNING id, true AS created"
        )
    };
}

macro_rules! put_head {
    () => {
        concat!(
            api_insert!(),
            put_on_conflict!(),
            "RETURNING id, (xmax = 0) AS created"
        )
    };
}

macro_rules! replace_head {
    () => {
        concat!(
            "UPDATE ec2 SET inventory_captured_at = CAST(:captured_at AS timestamp), ",
            "updated = CAST(:now AS timestamp), source = CAST(:source AS text) ",
            "WHERE id = CAST(:id AS text) AND (inventory_captured_at IS NULL ",
            "OR inventory_captured_at < CAST(:captured_at AS timestamp)) ",
            "RETURNING id, false AS created"
        )
    };
}

/// The package list as rows, in the caller's (sorted) order.
macro_rules! input {
    ($filter:literal) => {
        concat!(
            "input AS (SELECT j.e ->> 'n' AS name, j.e ->> 'v' AS version, j.e ->> 'p' AS publisher, ",
            "j.e ->> 'a' AS architecture, j.ord ",
            "FROM json_array_elements(CAST(:packages AS json)) WITH ORDINALITY AS j(e, ord)",
            $filter,
            ")"
        )
    };
}

macro_rules! upsert_packages {
    () => {
        concat!(
            "p AS (INSERT INTO package (name, version, publisher, architecture) ",
            "SELECT name, version, publisher, architecture FROM input ORDER BY ord ",
            "ON CONFLICT (name, version) DO UPDATE SET ",
            "publisher = COALESCE(EXCLUDED.publisher, package.publisher), ",
            "architecture = COALESCE(EXCLUDED.architecture, package.architecture) ",
            "RETURNING id)"
        )
    };
}

/// Head `e`, then packages, then the links: the whole write in one statement.
macro_rules! single_write {
    ($head:expr) => {
        concat!(
            "WITH e AS (",
            $head,
            "), ",
            input!(" WHERE EXISTS (SELECT 1 FROM e)"),
            ", ",
            upsert_packages!(),
            ", d AS (DELETE FROM ec2_package WHERE ec2_id IN (SELECT id FROM e) ",
            "AND package_id NOT IN (SELECT id FROM p)), ",
            "l AS (INSERT INTO ec2_package (ec2_id, package_id) SELECT e.id, p.id FROM e CROSS JOIN p ",
            "ON CONFLICT DO NOTHING) ",
            "SELECT id, created FROM e"
        )
    };
}

fn head(h: Head) -> (&'static str, Reports) {
    let sql = match h {
        Head::Create => create_head!(),
        Head::Put => put_head!(),
        Head::Replace => replace_head!(),
    };
    (sql, Reports::Returning)
}

fn single(h: Head) -> &'static str {
    match h {
        Head::Create => single_write!(create_head!()),
        Head::Put => single_write!(put_head!()),
        Head::Replace => single_write!(replace_head!()),
    }
}

pub(crate) static SQL: Sql = Sql {
    head,
    single_write: Some(single),
    delete_links: "DELETE FROM ec2_package WHERE ec2_id = CAST(:id AS text)",
    upsert_chunk: None,
    link_chunk: concat!(
        "WITH ",
        input!(""),
        ", ",
        upsert_packages!(),
        " INSERT INTO ec2_package (ec2_id, package_id) SELECT CAST(:id AS text), id FROM p ",
        "ON CONFLICT DO NOTHING"
    ),
    get: super::get_sql!(
        "CAST(tags AS text)",
        "CAST(:id AS text)",
        "octet_length(p.name) + octet_length(p.version) + COALESCE(octet_length(p.publisher), 0) + COALESCE(octet_length(p.architecture), 0) + 16",
        "running / 16384",
        "CAST(array_to_json(array_agg(to_json(ARRAY[name, version, publisher, architecture]))) AS text)"
    ),
    get_instance_only: super::get_instance_only_sql!("CAST(tags AS text)", "CAST(:id AS text)"),
    get_packages_page: super::packages_page_sql!(
        "CAST(:id AS text)",
        "CAST(:after AS bigint)",
        "CAST(:limit AS bigint)"
    ),
    delete: "DELETE FROM ec2 WHERE id = CAST(:id AS text)",
    apply_state: concat!(
        ec2_insert!(
            "CASE WHEN CAST(:state AS text) = 'terminated' THEN CAST(:time AS timestamp) END",
            "CAST(:time AS timestamp)",
            "NULL"
        ),
        state_on_conflict!("CAST(:has_details AS bigint) = 1")
    ),
    apply_state_insert: None,
    stale_running: concat!(
        "SELECT id, account, region FROM ec2 WHERE state = 'running' ",
        "AND (inventory_captured_at IS NULL OR inventory_captured_at < CAST(:older_than AS timestamp)) ",
        "ORDER BY inventory_captured_at IS NOT NULL, inventory_captured_at, id LIMIT CAST(:limit AS bigint)"
    ),
    package_versions: concat!(
        "SELECT p.name, p.version, COUNT(*) FROM package p JOIN ec2_package ep ON ep.package_id = p.id ",
        "WHERE p.name = CAST(:name AS text) GROUP BY p.id, p.name, p.version"
    ),
    search: SearchSql {
        select: "SELECT e.id, e.account, e.region, e.state, e.instance_type, e.updated FROM ec2 e WHERE true",
        account: " AND e.account = CAST(:account AS text)",
        region: " AND e.region = CAST(:region AS text)",
        state: " AND e.state = CAST(:state AS text)",
        after: " AND e.id > CAST(:after AS text)",
        package_name: concat!(
            " AND EXISTS (SELECT 1 FROM ec2_package ep JOIN package p ON p.id = ep.package_id ",
            "WHERE ep.ec2_id = e.id AND p.name = CAST(:package_name AS text))"
        ),
        package_name_version: concat!(
            " AND EXISTS (SELECT 1 FROM ec2_package ep JOIN package p ON p.id = ep.package_id ",
            "WHERE ep.ec2_id = e.id AND p.name = CAST(:package_name AS text) ",
            "AND p.version = CAST(:package_version AS text))"
        ),
        order_limit: " ORDER BY e.id LIMIT CAST(:limit AS bigint)",
    },
};
