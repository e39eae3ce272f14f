-- ec2-inventory schema, MySQL 8 / MariaDB 10.6+ (Aurora MySQL through the Data API).
-- MySQL commits each DDL statement, so every statement is idempotent
-- (IF NOT EXISTS) and a failed migration can simply run again.
-- Times are UTC DATETIME(6). Text is utf8mb4 with binary collation: package
-- names and versions are compared byte for byte ("OpenSSL" <> "openssl").
-- utf8mb4_bin still ignores trailing spaces, so package identity is the
-- SHA-256 of name NUL version (`name_version_hash`), which is exact.

CREATE TABLE IF NOT EXISTS ec2 (
    id VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    account CHAR(12) CHARACTER SET ascii NOT NULL,
    region VARCHAR(32) CHARACTER SET ascii NOT NULL,
    state VARCHAR(16) CHARACTER SET ascii NULL,
    instance_type VARCHAR(255) NULL,
    image_id VARCHAR(255) NULL,
    platform VARCHAR(255) NULL,
    launch_time DATETIME(6) NULL,
    tags LONGTEXT NOT NULL,
    source VARCHAR(8) CHARACTER SET ascii NOT NULL,
    created DATETIME(6) NOT NULL,
    updated DATETIME(6) NOT NULL,
    terminated_at DATETIME(6) NULL,
    last_event_time DATETIME(6) NULL,
    inventory_captured_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    KEY ec2_account_region (account, region),
    KEY ec2_state_captured (state, inventory_captured_at),
    CONSTRAINT ec2_state CHECK (state IN ('pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated')),
    CONSTRAINT ec2_source CHECK (source IN ('event', 'api', 'sync'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS package (
    id BIGINT NOT NULL AUTO_INCREMENT,
    name VARCHAR(255) NOT NULL,
    version VARCHAR(128) NOT NULL,
    publisher VARCHAR(255) NULL,
    architecture VARCHAR(32) NULL,
    name_version_hash BINARY(32) AS (UNHEX(SHA2(CONCAT(name, CHAR(0), version), 256))) STORED,
    PRIMARY KEY (id),
    UNIQUE KEY package_name_version_hash (name_version_hash),
    KEY package_name_version (name, version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS ec2_package (
    ec2_id VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    package_id BIGINT NOT NULL,
    PRIMARY KEY (ec2_id, package_id),
    KEY ec2_package_package (package_id, ec2_id),
    CONSTRAINT ec2_package_ec2 FOREIGN KEY (ec2_id) REFERENCES ec2 (id) ON DELETE CASCADE,
    CONSTRAINT ec2_package_package FOREIGN KEY (package_id) REFERENCES package (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
