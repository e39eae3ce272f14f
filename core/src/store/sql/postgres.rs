//! PostgreSQL: an instance write is ONE call of a PL/pgSQL function of
//! schema version 2 (`ddl/postgres/002_write_routines.sql`). Parameters are
//! cast explicitly: the Data API sends strings as text and NULLs untyped.

use super::{Routines, SearchSql, Sql, Writes};

/// The `ec2` row's parameters as the functions take them, after `id`.
macro_rules! ec2_args {
    () => {
        concat!(
            "CAST(:account AS text), CAST(:region AS text), CAST(:state AS text), ",
            "CAST(:instance_type AS text), CAST(:image_id AS text), CAST(:platform AS text), ",
            "CAST(:launch_time AS timestamp), CAST(:tags AS jsonb), CAST(:source AS text), ",
            "CAST(:now AS timestamp)"
        )
    };
}

pub(crate) static SQL: Sql = Sql {
    writes: Writes::Routines(Routines {
        write_instance: concat!(
            "SELECT inventory_write_instance(CAST(:mode AS text), CAST(:id AS text), ",
            ec2_args!(),
            ", CAST(:packages AS json)) AS written"
        ),
        replace_packages: concat!(
            "SELECT inventory_replace_packages(CAST(:id AS text), CAST(:captured_at AS timestamp), ",
            "CAST(:now AS timestamp), CAST(:source AS text), CAST(:packages AS json)) AS written"
        ),
        apply_state: concat!(
            "SELECT state_applied, packages_written FROM inventory_apply_state(CAST(:id AS text), ",
            ec2_args!(),
            ", CAST(:time AS timestamp), CAST(:has_details AS bigint) = 1, ",
            "CAST(:captured_at AS timestamp), CAST(:packages AS json))"
        ),
        add_packages:
            "SELECT 1 FROM inventory_link_packages(CAST(:id AS text), CAST(:packages AS json), false)",
        own_transaction: false,
    }),
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
