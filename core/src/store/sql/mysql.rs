//! MySQL / MariaDB: an instance write is ONE call of a stored procedure of
//! schema version 2 (`ddl/mysql/002_write_routines.sql`), which runs its
//! statements in its own transaction. Packages are identified by
//! `name_version_hash` (see the DDL).

use super::{
    plain_search, Routines, Sql, Writes, PLAIN_DELETE, PLAIN_GET_INSTANCE_ONLY,
    PLAIN_PACKAGES_PAGE, PLAIN_PACKAGE_VERSIONS, PLAIN_STALE_RUNNING,
};

pub(crate) static SQL: Sql = Sql {
    writes: Writes::Routines(Routines {
        write_instance: concat!(
            "CALL inventory_write_instance(:mode, :id, :account, :region, :state, :instance_type, ",
            ":image_id, :platform, :launch_time, :tags, :source, :now, :packages, :own_transaction)"
        ),
        replace_packages: concat!(
            "CALL inventory_replace_packages(:id, :captured_at, :now, :source, :packages, ",
            ":own_transaction)"
        ),
        apply_state: concat!(
            "CALL inventory_apply_state(:id, :account, :region, :state, :instance_type, :image_id, ",
            ":platform, :launch_time, :tags, :source, :now, :time, :has_details, :captured_at, ",
            ":packages, :own_transaction)"
        ),
        add_packages: "CALL inventory_link_packages(:id, :packages, FALSE)",
        own_transaction: true,
    }),
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
    stale_running: PLAIN_STALE_RUNNING,
    package_versions: PLAIN_PACKAGE_VERSIONS,
    search: plain_search(concat!(
        " AND EXISTS (SELECT 1 FROM ec2_package ep JOIN package p ON p.id = ep.package_id ",
        "WHERE ep.ec2_id = e.id AND p.name_version_hash = ",
        "UNHEX(SHA2(CONCAT(:package_name, CHAR(0), :package_version), 256)))"
    )),
};
