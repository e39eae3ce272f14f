-- Every statement the store sends to mysql, rendered by the test
-- store::sql::tests::sql_snapshot (core/src/store/sql/mod.rs).
-- Regenerate: UPDATE_SQL_SNAPSHOT=1 cargo test -p inventory-core --lib sql_snapshot

-- call_write_instance
CALL inventory_write_instance(
    :mode, :id, :account, :region, :state, :instance_type, :image_id, :platform,
    :launch_time, :tags, :source, :now, :packages, :own_transaction)

-- call_replace_packages
CALL inventory_replace_packages(:id, :captured_at, :now, :source, :packages, :own_transaction)

-- call_apply_state
CALL inventory_apply_state(
    :id, :account, :region, :state, :instance_type, :image_id, :platform, :launch_time,
    :tags, :source, :now, :time, :has_details, :captured_at, :packages, :own_transaction)

-- call_link_packages
CALL inventory_link_packages(:id, :packages, FALSE, :source, :at)

-- routines_checksum_create
CREATE TABLE IF NOT EXISTS schema_routines (id INT NOT NULL PRIMARY KEY CHECK (id = 1), checksum VARCHAR(64) CHARACTER SET ascii NOT NULL, applied DATETIME(6) NOT NULL) ENGINE=InnoDB

-- routines_checksum_read
SELECT checksum FROM schema_routines WHERE id = 1

-- routines_checksum_record
INSERT INTO schema_routines (id, checksum, applied)
VALUES (1, :checksum, :applied)
ON DUPLICATE KEY UPDATE checksum = VALUES(checksum), applied = VALUES(applied)

-- get_instance
SELECT 0 AS part, account, region, state, instance_type, image_id, platform, launch_time,
       tags, source, created, updated, terminated_at, last_event_time, inventory_captured_at,
       NULL AS packages
FROM ec2 WHERE id = :id
UNION ALL SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       CAST(JSON_ARRAYAGG(JSON_ARRAY(name, version, publisher, architecture)) AS CHAR)
FROM (
    SELECT p.name, p.version, p.publisher, p.architecture,
           SUM(LENGTH(CONCAT_WS('', p.name, p.version, p.publisher, p.architecture)) + 16)
               OVER (ORDER BY p.id) AS running
    FROM ec2_package ep
    JOIN package p ON p.id = ep.package_id
    WHERE ep.ec2_id = :id
) s
GROUP BY running DIV 16384
ORDER BY 1

-- get_instance_row
SELECT account, region, state, instance_type, image_id, platform, launch_time,
       tags AS tags, source, created, updated, terminated_at, last_event_time,
       inventory_captured_at
FROM ec2
WHERE id = :id

-- get_packages_page
SELECT p.id, p.name, p.version, p.publisher, p.architecture
FROM ec2_package ep
JOIN package p ON p.id = ep.package_id
WHERE ep.ec2_id = :id
  AND p.id > :after
ORDER BY p.id
LIMIT :limit

-- delete_instance
DELETE FROM ec2 WHERE id = :id

-- stale_running
SELECT id, account, region
FROM ec2
WHERE state = 'running'
  AND (inventory_captured_at IS NULL OR inventory_captured_at < :older_than)
ORDER BY inventory_captured_at IS NOT NULL, inventory_captured_at, id
LIMIT :limit

-- package_versions
SELECT p.name, p.version, COUNT(*) AS instances
FROM package p
JOIN ec2_package ep ON ep.package_id = p.id
WHERE p.name = :name
GROUP BY p.id, p.name, p.version

-- search
SELECT e.id, e.account, e.region, e.state, e.instance_type, e.updated
FROM ec2 e
WHERE (:account IS NULL OR e.account = :account)
  AND (:region IS NULL OR e.region = :region)
  AND (:state IS NULL OR e.state = :state)
  AND e.id > COALESCE(:after, '')
  AND (:package_name IS NULL OR e.id IN (
      SELECT ep.ec2_id
      FROM package p
      JOIN ec2_package ep ON ep.package_id = p.id
      WHERE p.name = :package_name AND LENGTH(p.name) = LENGTH(:package_name)
        AND (:package_version IS NULL
          OR (p.version = :package_version AND LENGTH(p.version) = LENGTH(:package_version)))
        AND (:ranged = 0
          OR (p.version_key >= :dpkg_from AND p.version_key < :dpkg_to)
          OR (p.version_key >= :rpm_from AND p.version_key < :rpm_to)
          OR (p.version_key >= :dotted_from AND p.version_key < :dotted_to)
          OR (p.version_key >= :natural_from AND p.version_key < :natural_to))))
ORDER BY e.id
LIMIT :limit

-- sync_cursor_ensure
INSERT INTO sync_cursor (scope, passes_completed, updated)
VALUES (:scope, 0, :now)
ON DUPLICATE KEY UPDATE scope = scope

-- sync_cursor_acquire
UPDATE sync_cursor
SET lease_owner = :owner, lease_until = :until, updated = :now
WHERE scope = :scope
  AND (lease_owner IS NULL OR lease_until < :now)

-- sync_cursor_read
SELECT position, pass_started, passes_completed
FROM sync_cursor
WHERE scope = :scope AND lease_owner = :owner

-- sync_cursor_save
UPDATE sync_cursor
SET position = :position, pass_started = :pass_started,
    passes_completed = :passes, updated = :now
WHERE scope = :scope AND lease_owner = :owner

-- sync_cursor_release
UPDATE sync_cursor
SET position = :position, pass_started = :pass_started,
    passes_completed = :passes, updated = :now,
    lease_owner = NULL, lease_until = NULL
WHERE scope = :scope AND lease_owner = :owner

-- recorded_in_range
SELECT id, state, inventory_captured_at, COALESCE(last_event_time, created) AS last_change
FROM ec2
WHERE account = :account AND region = :region
  AND id > :after AND id <= :upto
ORDER BY id
LIMIT :limit

-- recorded_instance
SELECT id, state, inventory_captured_at, COALESCE(last_event_time, created) AS last_change
FROM ec2
WHERE id = :id

-- instance_history
SELECT h.* FROM ec2_history h
WHERE h.ec2_id = :id
  AND h.changed_at >= :since AND (h.changed_at < :until OR (h.changed_at = :until AND h.id < :before_id))
ORDER BY h.changed_at DESC, h.id DESC LIMIT :limit

-- package_history
SELECT h.* FROM ec2_history h
WHERE h.package_name = :name
  AND h.changed_at >= :since AND (h.changed_at < :until OR (h.changed_at = :until AND h.id < :before_id))
ORDER BY h.changed_at DESC, h.id DESC LIMIT :limit

-- prune_history
DELETE FROM ec2_history
WHERE changed_at < :before
ORDER BY changed_at
LIMIT :limit

-- schema_version_create
CREATE TABLE IF NOT EXISTS schema_version (version INT NOT NULL PRIMARY KEY, applied DATETIME(6) NOT NULL) ENGINE=InnoDB

-- schema_version_read
SELECT COALESCE(MAX(version), 0) AS version FROM schema_version

-- schema_version_record
INSERT INTO schema_version (version, applied) VALUES (:version, :applied)

-- schema version 1, statement 1
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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- schema version 1, statement 2
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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- schema version 1, statement 3
CREATE TABLE IF NOT EXISTS ec2_package (
ec2_id VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
package_id BIGINT NOT NULL,
PRIMARY KEY (ec2_id, package_id),
KEY ec2_package_package (package_id, ec2_id),
CONSTRAINT ec2_package_ec2 FOREIGN KEY (ec2_id) REFERENCES ec2 (id) ON DELETE CASCADE,
CONSTRAINT ec2_package_package FOREIGN KEY (package_id) REFERENCES package (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- schema version 3, statement 1
CREATE TABLE IF NOT EXISTS sync_cursor (
scope VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
position VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
pass_started DATETIME(6) NULL,
passes_completed BIGINT NOT NULL DEFAULT 0,
lease_owner VARCHAR(36) CHARACTER SET ascii NULL,
lease_until DATETIME(6) NULL,
updated DATETIME(6) NOT NULL,
PRIMARY KEY (scope)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- schema version 4, statement 1
DROP PROCEDURE IF EXISTS inventory_add_version_key

-- schema version 4, statement 2
CREATE PROCEDURE inventory_add_version_key()
BEGIN
IF NOT EXISTS (
SELECT 1 FROM information_schema.columns
WHERE table_schema = DATABASE() AND table_name = 'package' AND column_name = 'version_key'
) THEN
ALTER TABLE package ADD COLUMN version_key VARBINARY(700) NULL,
ADD KEY package_name_version_key (name, version_key);
END IF;
END

-- schema version 4, statement 3
CALL inventory_add_version_key()

-- schema version 4, statement 4
DROP PROCEDURE inventory_add_version_key

-- schema version 4, statement 5
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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- routines, statement 1
DROP PROCEDURE IF EXISTS inventory_link_packages

-- routines, statement 2
DROP PROCEDURE IF EXISTS inventory_lock_instance

-- routines, statement 3
DROP PROCEDURE IF EXISTS inventory_write_instance

-- routines, statement 4
DROP PROCEDURE IF EXISTS inventory_replace_packages

-- routines, statement 5
DROP PROCEDURE IF EXISTS inventory_apply_state

-- routines, statement 6
CREATE PROCEDURE inventory_link_packages(
IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_packages LONGTEXT, IN p_replace BOOLEAN,
IN p_source VARCHAR(8), IN p_at DATETIME(6))
BEGIN
DECLARE v_changed INT;
INSERT IGNORE INTO package (name, version, publisher, architecture, version_key)
SELECT j.name, j.version, j.publisher, j.architecture, j.version_key
FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (ord FOR ORDINALITY, h CHAR(64) PATH '$.h',
name VARCHAR(255) PATH '$.n', version VARCHAR(128) PATH '$.v',
publisher VARCHAR(255) PATH '$.p', architecture VARCHAR(32) PATH '$.a',
version_key VARCHAR(700) PATH '$.k')) AS j
WHERE NOT EXISTS (
SELECT 1 FROM package k
WHERE k.name_version_hash = UNHEX(j.h))
ORDER BY j.ord;
SELECT COUNT(*) INTO v_changed
FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (h CHAR(64) PATH '$.h',
publisher VARCHAR(255) PATH '$.p', architecture VARCHAR(32) PATH '$.a',
version_key VARCHAR(700) PATH '$.k')) AS j
STRAIGHT_JOIN package p ON p.name_version_hash = UNHEX(j.h)
WHERE (j.publisher IS NOT NULL AND NOT (j.publisher <=> p.publisher))
OR (j.architecture IS NOT NULL AND NOT (j.architecture <=> p.architecture))
OR (p.version_key IS NULL AND j.version_key IS NOT NULL);
IF v_changed > 0 THEN
UPDATE JSON_TABLE(p_packages, '$[*]' COLUMNS (h CHAR(64) PATH '$.h',
publisher VARCHAR(255) PATH '$.p', architecture VARCHAR(32) PATH '$.a',
version_key VARCHAR(700) PATH '$.k')) AS j
STRAIGHT_JOIN package p
ON p.name_version_hash = UNHEX(j.h)
SET p.publisher = COALESCE(j.publisher, p.publisher),
p.architecture = COALESCE(j.architecture, p.architecture),
p.version_key = COALESCE(p.version_key, j.version_key);
END IF;
IF NOT EXISTS (SELECT 1 FROM ec2_package WHERE ec2_id = p_id) THEN
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version,
new_version)
SELECT p_id, p_at, p_source, 'installed', p.name, NULL, p.version
FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (h CHAR(64) PATH '$.h')) AS j
STRAIGHT_JOIN package p ON p.name_version_hash = UNHEX(j.h);
INSERT INTO ec2_package (ec2_id, package_id)
SELECT p_id, p.id
FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (h CHAR(64) PATH '$.h')) AS j
STRAIGHT_JOIN package p ON p.name_version_hash = UNHEX(j.h);
ELSE
DROP TEMPORARY TABLE IF EXISTS inventory_wanted, inventory_gone, inventory_came;
CREATE TEMPORARY TABLE inventory_wanted (
id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL,
version VARCHAR(128) NOT NULL
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO inventory_wanted (id, name, version)
SELECT p.id, p.name, p.version
FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (h CHAR(64) PATH '$.h')) AS j
STRAIGHT_JOIN package p ON p.name_version_hash = UNHEX(j.h);
CREATE TEMPORARY TABLE inventory_came (
id BIGINT NOT NULL, name VARCHAR(255) NOT NULL, version VARCHAR(128) NOT NULL,
KEY (name)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO inventory_came (id, name, version)
SELECT w.id, w.name, w.version
FROM inventory_wanted w
WHERE NOT EXISTS (
SELECT 1 FROM ec2_package ep WHERE ep.ec2_id = p_id AND ep.package_id = w.id);
IF p_replace THEN
CREATE TEMPORARY TABLE inventory_gone LIKE inventory_came;
INSERT INTO inventory_gone (id, name, version)
SELECT p.id, p.name, p.version
FROM ec2_package ep
JOIN package p ON p.id = ep.package_id
WHERE ep.ec2_id = p_id
AND NOT EXISTS (SELECT 1 FROM inventory_wanted w WHERE w.id = ep.package_id);
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version,
new_version)
SELECT p_id, p_at, p_source, 'changed', g.name, MIN(g.version), MIN(c.version)
FROM inventory_gone g
JOIN inventory_came c ON c.name = g.name
GROUP BY g.name
HAVING COUNT(DISTINCT g.version) = 1 AND COUNT(DISTINCT c.version) = 1;
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version,
new_version)
SELECT p_id, p_at, p_source, 'removed', g.name, g.version, NULL
FROM inventory_gone g
WHERE NOT EXISTS (
SELECT 1 FROM ec2_history h
WHERE h.package_name = g.name AND h.changed_at = p_at AND h.ec2_id = p_id
AND h.kind = 'changed');
DELETE ep FROM ec2_package ep
LEFT JOIN inventory_wanted w ON w.id = ep.package_id
WHERE ep.ec2_id = p_id AND w.id IS NULL;
END IF;
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version,
new_version)
SELECT p_id, p_at, p_source, 'installed', c.name, NULL, c.version
FROM inventory_came c
WHERE NOT EXISTS (
SELECT 1 FROM ec2_history h
WHERE h.package_name = c.name AND h.changed_at = p_at AND h.ec2_id = p_id
AND ((p_replace AND h.kind = 'changed')
OR (NOT p_replace AND h.kind IN ('removed', 'changed')
AND h.old_version = c.version)));
IF NOT p_replace AND EXISTS (
SELECT 1 FROM ec2_history h
WHERE h.ec2_id = p_id AND h.changed_at = p_at AND h.kind IN ('removed', 'changed')
) THEN
DELETE h FROM inventory_came c
STRAIGHT_JOIN ec2_history h
ON h.package_name = c.name AND h.changed_at = p_at AND h.ec2_id = p_id
AND h.kind = 'removed' AND h.old_version = c.version;
UPDATE inventory_came c
STRAIGHT_JOIN ec2_history h
ON h.package_name = c.name AND h.changed_at = p_at AND h.ec2_id = p_id
AND h.kind = 'changed' AND h.old_version = c.version
SET h.kind = 'installed', h.old_version = NULL;
END IF;
INSERT INTO ec2_package (ec2_id, package_id)
SELECT p_id, c.id
FROM inventory_came c;
DROP TEMPORARY TABLE IF EXISTS inventory_wanted, inventory_gone, inventory_came;
END IF;
END

-- routines, statement 7
CREATE PROCEDURE inventory_lock_instance(
IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_account VARCHAR(12), IN p_region VARCHAR(32),
IN p_state VARCHAR(16), IN p_instance_type VARCHAR(255), IN p_image_id VARCHAR(255),
IN p_platform VARCHAR(255), IN p_launch_time DATETIME(6), IN p_tags LONGTEXT,
IN p_source VARCHAR(8), IN p_now DATETIME(6), IN p_at DATETIME(6),
IN p_captured_at DATETIME(6), IN p_event_time DATETIME(6),
OUT p_old_state VARCHAR(16), OUT p_inserted BOOLEAN)
BEGIN
DECLARE v_known INT;
DECLARE v_raced BOOLEAN DEFAULT FALSE;
SET p_inserted = FALSE;
SELECT COUNT(*), MAX(state) INTO v_known, p_old_state FROM ec2 WHERE id = p_id FOR UPDATE;
IF v_known = 0 THEN
BEGIN
DECLARE CONTINUE HANDLER FOR 1062 SET v_raced = TRUE;
INSERT INTO ec2 (id, account, region, state, instance_type, image_id, platform,
launch_time, tags, source, created, updated, terminated_at,
inventory_captured_at, last_event_time)
VALUES (p_id, p_account, p_region, p_state, p_instance_type, p_image_id, p_platform,
p_launch_time, p_tags, p_source, p_now, p_now,
IF(p_state = 'terminated', p_at, NULL), p_captured_at, p_event_time);
END;
IF v_raced THEN
SELECT MAX(state) INTO p_old_state FROM ec2 WHERE id = p_id FOR UPDATE;
ELSE
SET p_inserted = TRUE;
END IF;
END IF;
END

-- routines, statement 8
CREATE PROCEDURE inventory_write_instance(
IN p_mode VARCHAR(8), IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_account VARCHAR(12),
IN p_region VARCHAR(32), IN p_state VARCHAR(16), IN p_instance_type VARCHAR(255),
IN p_image_id VARCHAR(255), IN p_platform VARCHAR(255), IN p_launch_time DATETIME(6),
IN p_tags LONGTEXT, IN p_source VARCHAR(8), IN p_now DATETIME(6), IN p_packages LONGTEXT,
IN p_own_transaction BOOLEAN)
BEGIN
DECLARE v_written VARCHAR(8) DEFAULT 'created';
DECLARE v_old_state VARCHAR(16);
DECLARE v_inserted BOOLEAN;
DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN IF p_own_transaction THEN ROLLBACK; END IF; RESIGNAL; END;
IF p_own_transaction THEN SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION; END IF;
CALL inventory_lock_instance(p_id, p_account, p_region, p_state, p_instance_type, p_image_id,
p_platform, p_launch_time, p_tags, p_source, p_now, p_now, p_now, NULL, v_old_state, v_inserted);
IF NOT v_inserted AND p_mode = 'create' THEN
SET v_written = 'skipped';
ELSEIF NOT v_inserted THEN
UPDATE ec2 SET account = p_account, region = p_region, state = p_state,
instance_type = p_instance_type, image_id = p_image_id, platform = p_platform,
launch_time = p_launch_time, tags = p_tags, source = p_source, updated = p_now,
terminated_at = IF(p_state = 'terminated', COALESCE(terminated_at, p_now), NULL),
inventory_captured_at = p_now
WHERE id = p_id;
SET v_written = 'replaced';
END IF;
IF v_written <> 'skipped' THEN
IF NOT (v_old_state <=> p_state) THEN
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, old_state, new_state)
VALUES (p_id, p_now, p_source, 'state', v_old_state, p_state);
END IF;
CALL inventory_link_packages(p_id, p_packages, NOT v_inserted, p_source, p_now);
END IF;
IF p_own_transaction THEN COMMIT; END IF;
SELECT v_written AS written;
END

-- routines, statement 9
CREATE PROCEDURE inventory_apply_state(
IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_account VARCHAR(12), IN p_region VARCHAR(32),
IN p_state VARCHAR(16), IN p_instance_type VARCHAR(255), IN p_image_id VARCHAR(255),
IN p_platform VARCHAR(255), IN p_launch_time DATETIME(6), IN p_tags LONGTEXT,
IN p_source VARCHAR(8), IN p_now DATETIME(6), IN p_time DATETIME(6), IN p_has_details BOOLEAN,
IN p_captured_at DATETIME(6), IN p_packages LONGTEXT, IN p_own_transaction BOOLEAN)
BEGIN
DECLARE v_applied BOOLEAN;
DECLARE v_written BOOLEAN DEFAULT FALSE;
DECLARE v_old_state VARCHAR(16);
DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN IF p_own_transaction THEN ROLLBACK; END IF; RESIGNAL; END;
IF p_own_transaction THEN SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION; END IF;
CALL inventory_lock_instance(p_id, p_account, p_region, p_state, p_instance_type, p_image_id,
p_platform, p_launch_time, p_tags, p_source, p_now, p_time, NULL, p_time, v_old_state, v_applied);
IF NOT v_applied THEN
UPDATE ec2 SET account = p_account, region = p_region, state = p_state,
instance_type = IF(p_has_details, p_instance_type, instance_type),
image_id = IF(p_has_details, p_image_id, image_id),
platform = IF(p_has_details, p_platform, platform),
launch_time = IF(p_has_details, p_launch_time, launch_time),
tags = IF(p_has_details, p_tags, tags),
source = p_source, updated = p_now,
terminated_at = IF(p_state = 'terminated', COALESCE(terminated_at, p_time),
terminated_at),
last_event_time = p_time
WHERE id = p_id AND (last_event_time IS NULL OR last_event_time < p_time);
SET v_applied = ROW_COUNT() > 0;
END IF;
IF v_applied AND NOT (v_old_state <=> p_state) THEN
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, old_state, new_state)
VALUES (p_id, p_time, p_source, 'state', v_old_state, p_state);
END IF;
IF p_packages IS NOT NULL THEN
UPDATE ec2 SET inventory_captured_at = p_captured_at, updated = p_now, source = p_source
WHERE id = p_id AND state = 'running' AND last_event_time = p_time
AND (v_applied OR inventory_captured_at IS NULL)
AND (inventory_captured_at IS NULL OR inventory_captured_at < p_captured_at);
IF ROW_COUNT() > 0 THEN
CALL inventory_link_packages(p_id, p_packages, TRUE, p_source, p_captured_at);
SET v_written = TRUE;
END IF;
END IF;
IF p_own_transaction THEN COMMIT; END IF;
SELECT v_applied AS state_applied, v_written AS packages_written;
END

-- routines, statement 10
CREATE PROCEDURE inventory_replace_packages(
IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_captured_at DATETIME(6), IN p_now DATETIME(6),
IN p_source VARCHAR(8), IN p_packages LONGTEXT, IN p_own_transaction BOOLEAN)
BEGIN
DECLARE v_written VARCHAR(8) DEFAULT 'skipped';
DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN IF p_own_transaction THEN ROLLBACK; END IF; RESIGNAL; END;
IF p_own_transaction THEN SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION; END IF;
UPDATE ec2 SET inventory_captured_at = p_captured_at, updated = p_now, source = p_source
WHERE id = p_id
AND (inventory_captured_at IS NULL OR inventory_captured_at < p_captured_at);
IF ROW_COUNT() > 0 THEN
CALL inventory_link_packages(p_id, p_packages, TRUE, p_source, p_captured_at);
SET v_written = 'replaced';
END IF;
IF p_own_transaction THEN COMMIT; END IF;
SELECT v_written AS written;
END
