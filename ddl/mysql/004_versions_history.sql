-- Schema 004, MySQL 8 / MariaDB 10.6+: version sort keys and the history of
-- changes (see ddl/postgres/004_versions_history.sql for the model). The
-- sort key is VARBINARY: compared byte for byte, trailing spaces included.
-- MySQL commits DDL as it goes: the column is added by a procedure that
-- looks first (MySQL 8 has no ADD COLUMN IF NOT EXISTS), the rest is
-- IF NOT EXISTS or DROP then CREATE, so a rerun of this file is safe.

DROP PROCEDURE IF EXISTS inventory_add_version_key;

DELIMITER //

CREATE PROCEDURE inventory_add_version_key()
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = DATABASE() AND table_name = 'package' AND column_name = 'version_key'
    ) THEN
        ALTER TABLE package ADD COLUMN version_key VARBINARY(700) NULL,
            ADD KEY package_name_version_key (name, version_key);
    END IF;
END //

DELIMITER ;

CALL inventory_add_version_key();

DROP PROCEDURE inventory_add_version_key;

CREATE TABLE IF NOT EXISTS ec2_history (
    id BIGINT NOT NULL AUTO_INCREMENT,
    ec2_id VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    changed_at DATETIME(6) NOT NULL,
    source VARCHAR(8) CHARACTER SET ascii NOT NULL,
    kind VARCHAR(9) CHARACTER SET ascii NOT NULL,
    package_name VARCHAR(255) NULL,
    old_version VARCHAR(128) NULL,
    new_version VARCHAR(128) NULL,
    old_state VARCHAR(16) CHARACTER SET ascii NULL,
    new_state VARCHAR(16) CHARACTER SET ascii NULL,
    PRIMARY KEY (id),
    KEY ec2_history_instance (ec2_id, changed_at, id),
    KEY ec2_history_package (package_name, changed_at, id),
    KEY ec2_history_at (changed_at),
    CONSTRAINT ec2_history_source CHECK (source IN ('event', 'api', 'sync')),
    CONSTRAINT ec2_history_kind CHECK (kind IN ('installed', 'removed', 'changed', 'state'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
