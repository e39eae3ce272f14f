-- Schema 006, MySQL 8 / MariaDB 10.6+: the OS release of an instance,
-- packages ordered in their own instance's scheme, and security advisories
-- matched to them (see ddl/postgres/006_advisories.sql for the model).
--
-- A package's identity becomes (name, version, scheme): `identity_hash`, the
-- SHA-256 of name NUL version NUL scheme, replaces `name_version_hash`.
-- MySQL commits DDL as it goes: the column changes are made by a procedure
-- that looks first (MySQL 8 has no ADD COLUMN IF NOT EXISTS), the rest is
-- IF NOT EXISTS or OR REPLACE, so a rerun of this file is safe.

DROP PROCEDURE IF EXISTS inventory_migrate_006;

DELIMITER //

CREATE PROCEDURE inventory_migrate_006()
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = DATABASE() AND table_name = 'ec2' AND column_name = 'os_release'
    ) THEN
        ALTER TABLE ec2 ADD COLUMN platform_name VARCHAR(255) NULL,
            ADD COLUMN platform_version VARCHAR(64) NULL,
            ADD COLUMN os_release VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
            ADD COLUMN version_scheme VARCHAR(8) CHARACTER SET ascii NULL,
            ADD CONSTRAINT ec2_version_scheme CHECK (version_scheme IN ('dpkg', 'rpm', 'dotted', 'natural'));
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = DATABASE() AND table_name = 'package' AND column_name = 'scheme'
    ) THEN
        ALTER TABLE package ADD COLUMN scheme VARCHAR(8) CHARACTER SET ascii NULL,
            ADD COLUMN source_name VARCHAR(255) NULL,
            ADD KEY package_source_name (source_name);
    END IF;
    UPDATE package SET scheme = CASE LEFT(version_key, 1)
        WHEN 'd' THEN 'dpkg' WHEN 'r' THEN 'rpm' WHEN 'w' THEN 'dotted' ELSE 'natural' END
    WHERE scheme IS NULL;
    IF EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = DATABASE() AND table_name = 'package'
          AND column_name = 'name_version_hash'
    ) THEN
        ALTER TABLE package MODIFY scheme VARCHAR(8) CHARACTER SET ascii NOT NULL,
            ADD CONSTRAINT package_scheme CHECK (scheme IN ('dpkg', 'rpm', 'dotted', 'natural')),
            DROP KEY package_name_version_hash,
            DROP COLUMN name_version_hash,
            ADD COLUMN identity_hash BINARY(32)
                AS (UNHEX(SHA2(CONCAT(name, CHAR(0), version, CHAR(0), scheme), 256))) STORED,
            ADD UNIQUE KEY package_identity_hash (identity_hash);
    END IF;
END //

DELIMITER ;

CALL inventory_migrate_006();

DROP PROCEDURE inventory_migrate_006;

-- One advisory as its feed last published it (see the PostgreSQL file).
CREATE TABLE IF NOT EXISTS advisory (
    id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    feed VARCHAR(8) CHARACTER SET ascii NOT NULL,
    summary VARCHAR(1000) NULL,
    severity VARCHAR(8) CHARACTER SET ascii NOT NULL,
    severity_rank SMALLINT NOT NULL,
    aliases LONGTEXT NOT NULL,
    published DATETIME(6) NULL,
    modified DATETIME(6) NOT NULL,
    withdrawn DATETIME(6) NULL,
    imported DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT advisory_feed CHECK (feed IN ('osv', 'alas')),
    CONSTRAINT advisory_severity CHECK (severity IN ('critical', 'high', 'medium', 'low', 'unknown'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS advisory_alias (
    alias VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    advisory_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    PRIMARY KEY (alias, advisory_id),
    KEY advisory_alias_advisory (advisory_id),
    CONSTRAINT advisory_alias_advisory FOREIGN KEY (advisory_id) REFERENCES advisory (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS advisory_range (
    id BIGINT NOT NULL AUTO_INCREMENT,
    advisory_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    os_release VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    scheme VARCHAR(8) CHARACTER SET ascii NOT NULL,
    package_name VARCHAR(255) NOT NULL,
    names_source BOOLEAN NOT NULL,
    introduced_key VARBINARY(700) NULL,
    fixed_key VARBINARY(700) NULL,
    fixed_version VARCHAR(128) NULL,
    last_affected_key VARBINARY(700) NULL,
    PRIMARY KEY (id),
    KEY advisory_range_package (package_name, os_release),
    KEY advisory_range_advisory (advisory_id),
    CONSTRAINT advisory_range_advisory FOREIGN KEY (advisory_id) REFERENCES advisory (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS package_source_map (
    os_release VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    binary_name VARCHAR(255) NOT NULL,
    source_name VARCHAR(255) NOT NULL,
    PRIMARY KEY (os_release, binary_name),
    KEY package_source_map_source (os_release, source_name),
    KEY package_source_map_binary (binary_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS package_finding (
    package_id BIGINT NOT NULL,
    range_id BIGINT NOT NULL,
    matched_by VARCHAR(10) CHARACTER SET ascii NOT NULL,
    PRIMARY KEY (package_id, range_id),
    KEY package_finding_range (range_id, package_id),
    CONSTRAINT package_finding_package FOREIGN KEY (package_id) REFERENCES package (id),
    CONSTRAINT package_finding_range FOREIGN KEY (range_id) REFERENCES advisory_range (id) ON DELETE CASCADE,
    CONSTRAINT package_finding_matched_by CHECK (matched_by IN ('package', 'source_map', 'source_rpm', 'same_name'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The matching rule, whole (see the PostgreSQL file). MySQL 8.0.29+ and
-- MariaDB push a range condition on `package_id` or `range_id` into each
-- branch, so the writes and imports select from it by id ranges.
CREATE OR REPLACE VIEW package_match AS
SELECT p.id AS package_id, r.id AS range_id, 'package' AS matched_by
FROM advisory_range r
JOIN package p ON p.name = r.package_name AND p.scheme = r.scheme
WHERE NOT r.names_source
  AND (r.introduced_key IS NULL OR p.version_key >= r.introduced_key)
  AND (r.fixed_key IS NULL OR p.version_key < r.fixed_key)
  AND (r.last_affected_key IS NULL OR p.version_key <= r.last_affected_key)
UNION ALL
SELECT p.id, r.id, 'source_map'
FROM advisory_range r
JOIN package_source_map m ON m.os_release = r.os_release AND m.source_name = r.package_name
JOIN package p ON p.name = m.binary_name AND p.scheme = r.scheme
WHERE r.names_source
  AND (r.introduced_key IS NULL OR p.version_key >= r.introduced_key)
  AND (r.fixed_key IS NULL OR p.version_key < r.fixed_key)
  AND (r.last_affected_key IS NULL OR p.version_key <= r.last_affected_key)
UNION ALL
SELECT p.id, r.id, 'source_rpm'
FROM advisory_range r
JOIN package p ON p.source_name = r.package_name AND p.scheme = r.scheme
WHERE r.names_source
  AND NOT EXISTS (
      SELECT 1 FROM package_source_map m
      WHERE m.os_release = r.os_release AND m.binary_name = p.name)
  AND (r.introduced_key IS NULL OR p.version_key >= r.introduced_key)
  AND (r.fixed_key IS NULL OR p.version_key < r.fixed_key)
  AND (r.last_affected_key IS NULL OR p.version_key <= r.last_affected_key)
UNION ALL
SELECT p.id, r.id, 'same_name'
FROM advisory_range r
JOIN package p ON p.name = r.package_name AND p.scheme = r.scheme AND p.source_name IS NULL
WHERE r.names_source
  AND NOT EXISTS (
      SELECT 1 FROM package_source_map m
      WHERE m.os_release = r.os_release AND m.binary_name = p.name)
  AND (r.introduced_key IS NULL OR p.version_key >= r.introduced_key)
  AND (r.fixed_key IS NULL OR p.version_key < r.fixed_key)
  AND (r.last_affected_key IS NULL OR p.version_key <= r.last_affected_key);

-- The rows a write or an import locks to keep the findings whole (see
-- routines.sql): 'findings', shared by every package write and exclusive for
-- an import's matching; 'import', one import at a time.
CREATE TABLE IF NOT EXISTS inventory_lock (
    name VARCHAR(16) CHARACTER SET ascii NOT NULL,
    PRIMARY KEY (name)
) ENGINE=InnoDB;

INSERT IGNORE INTO inventory_lock (name) VALUES ('findings'), ('import');
