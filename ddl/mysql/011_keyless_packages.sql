-- Schema 11, MySQL: an index of the packages that still lack their version
-- sort key (recorded before schema 004; every write since brings the key
-- and sets it). A write looks its packages up by `identity_hash`; while no
-- package lacks its key and the list brings no publisher, architecture or
-- source, that lookup reads the identity index alone instead of each
-- package's row (`inventory_link_packages`, routines.sql): on MariaDB,
-- 1,000 rows read from the table cost more than the rest of the lookup.
-- The index answers "does any package lack its key?" in one probe; one
-- byte of the key is enough to tell NULL from a value.
-- MySQL 8 has no ADD KEY IF NOT EXISTS: a procedure looks first, so a rerun
-- of this file is safe.

DROP PROCEDURE IF EXISTS inventory_add_keyless_index;

DELIMITER //

CREATE PROCEDURE inventory_add_keyless_index()
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.statistics
        WHERE table_schema = DATABASE() AND table_name = 'package'
          AND index_name = 'package_keyless'
    ) THEN
        ALTER TABLE package ADD KEY package_keyless (version_key(1));
    END IF;
END //

DELIMITER ;

CALL inventory_add_keyless_index();

DROP PROCEDURE inventory_add_keyless_index;
