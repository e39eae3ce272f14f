-- Every statement the store sends to mysql, rendered by the test
-- store::sql::tests::sql_snapshot (core/src/store/sql/mod.rs).
-- Regenerate: UPDATE_SQL_SNAPSHOT=1 cargo test -p inventory-core --lib sql_snapshot

-- call_write_instance
CALL inventory_write_instance(
    :mode, :id, :account, :region, :state, :instance_type, :image_id, :platform,
    :launch_time, :tags, :source, :now, :packages,
    :platform_name, :platform_version, :os_release, :version_scheme, :own_transaction)

-- call_replace_packages
CALL inventory_replace_packages(
    :id, :captured_at, :now, :source, :packages,
    :platform_name, :platform_version, :os_release, :version_scheme, :own_transaction)

-- call_apply_state
CALL inventory_apply_state(
    :id, :account, :region, :state, :instance_type, :image_id, :platform, :launch_time,
    :tags, :source, :now, :time, :has_details, :captured_at, :packages,
    :platform_name, :platform_version, :os_release, :version_scheme, :own_transaction)

-- call_link_packages
CALL inventory_link_packages(:id, :packages, FALSE, :source, :at, :version_scheme)

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
       platform_name, platform_version, os_release, version_scheme, NULL AS packages
FROM ec2 WHERE id = :id
UNION ALL SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL,
       CAST(JSON_ARRAYAGG(JSON_ARRAY(name, version, publisher, architecture, source_name)) AS CHAR)
FROM (
    SELECT p.name, p.version, p.publisher, p.architecture, p.source_name,
           SUM(LENGTH(CONCAT_WS('', p.name, p.version, p.publisher, p.architecture, p.source_name)) + 16)
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
       inventory_captured_at, platform_name, platform_version, os_release, version_scheme
FROM ec2
WHERE id = :id

-- get_packages_page
SELECT p.id, p.name, p.version, p.publisher, p.architecture, p.source_name
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
  AND (:account IS NULL OR account = :account)
  AND (:region IS NULL OR region = :region)
  AND (inventory_captured_at IS NULL OR inventory_captured_at < :older_than)
ORDER BY inventory_captured_at IS NOT NULL, inventory_captured_at, id
LIMIT :limit

-- package_versions
SELECT p.name, p.version, p.scheme, COUNT(*) AS instances
FROM package p
JOIN ec2_package ep ON ep.package_id = p.id
WHERE p.name = :name
GROUP BY p.id, p.name, p.version, p.scheme, p.version_key
ORDER BY p.scheme, p.version_key DESC, p.version

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

-- fleet_history
SELECT h.* FROM ec2_history h
WHERE h.changed_at >= :since AND (h.changed_at < :until OR (h.changed_at = :until AND h.id < :before_id))
ORDER BY h.changed_at DESC, h.id DESC LIMIT :limit

-- fleet_counts
SELECT 'account' AS dimension, e.account AS value, COUNT(*) AS instances FROM ec2 e GROUP BY e.account
UNION ALL
SELECT 'region' AS dimension, e.region AS value, COUNT(*) AS instances FROM ec2 e GROUP BY e.region
UNION ALL
SELECT 'state' AS dimension, e.state AS value, COUNT(*) AS instances FROM ec2 e GROUP BY e.state
UNION ALL
SELECT 'platform' AS dimension, e.platform AS value, COUNT(*) AS instances FROM ec2 e GROUP BY e.platform

-- widespread_packages
SELECT t.counted_at, page.*
FROM fleet_tally t
LEFT JOIN (
    SELECT s.name, s.installs, s.instances, s.versions
    FROM package_spread s
    ORDER BY s.installs DESC, s.name
    LIMIT :limit
) page ON 1 = 1
WHERE t.id = 1
ORDER BY page.installs DESC, page.name

-- prune_history
DELETE FROM ec2_history
WHERE changed_at < :before
ORDER BY changed_at
LIMIT :limit

-- scope_event
INSERT INTO scope_coverage (account, region, first_seen, last_event_at, last_error, last_error_at)
VALUES (:account, :region, :now, :event_at, :error, :error_at)
ON DUPLICATE KEY UPDATE
    last_event_at = GREATEST(COALESCE(last_event_at, VALUES(last_event_at)),
                             COALESCE(VALUES(last_event_at), last_event_at)),
    last_error = COALESCE(VALUES(last_error), last_error),
    last_error_at = COALESCE(VALUES(last_error_at), last_error_at)

-- scope_sync
INSERT INTO scope_coverage (account, region, first_seen, last_sync_at, last_pass_at, last_error, last_error_at)
VALUES (:account, :region, :now, :synced_at, :pass_at, :error, :error_at)
ON DUPLICATE KEY UPDATE
    last_sync_at = COALESCE(VALUES(last_sync_at), last_sync_at),
    last_pass_at = COALESCE(VALUES(last_pass_at), last_pass_at),
    last_error = VALUES(last_error),
    last_error_at = VALUES(last_error_at)

-- scopes
SELECT k.account, k.region,
       COALESCE(c.total_count, 0) AS total_count,
       COALESCE(c.pending_count, 0) AS pending_count,
       COALESCE(c.running_count, 0) AS running_count,
       COALESCE(c.stopping_count, 0) AS stopping_count,
       COALESCE(c.stopped_count, 0) AS stopped_count,
       COALESCE(c.shutting_down_count, 0) AS shutting_down_count,
       COALESCE(c.terminated_count, 0) AS terminated_count,
       s.first_seen, s.last_event_at, s.last_sync_at, s.last_pass_at, s.last_error, s.last_error_at
FROM (SELECT account, region FROM ec2
      UNION
      SELECT account, region FROM scope_coverage) k
LEFT JOIN (SELECT account, region, COUNT(*) AS total_count,
                  COUNT(CASE WHEN state = 'pending' THEN 1 END) AS pending_count,
                  COUNT(CASE WHEN state = 'running' THEN 1 END) AS running_count,
                  COUNT(CASE WHEN state = 'stopping' THEN 1 END) AS stopping_count,
                  COUNT(CASE WHEN state = 'stopped' THEN 1 END) AS stopped_count,
                  COUNT(CASE WHEN state = 'shutting-down' THEN 1 END) AS shutting_down_count,
                  COUNT(CASE WHEN state = 'terminated' THEN 1 END) AS terminated_count
           FROM ec2
           GROUP BY account, region) c
       ON c.account = k.account AND c.region = k.region
LEFT JOIN scope_coverage s ON s.account = k.account AND s.region = k.region
WHERE k.account > :after_account
   OR (k.account = :after_account AND k.region > :after_region)
ORDER BY k.account, k.region
LIMIT :limit

-- schema_version_create
CREATE TABLE IF NOT EXISTS schema_version (version INT NOT NULL PRIMARY KEY, applied DATETIME(6) NOT NULL) ENGINE=InnoDB

-- schema_version_read
SELECT COALESCE(MAX(version), 0) AS version FROM schema_version

-- schema_version_record
INSERT INTO schema_version (version, applied) VALUES (:version, :applied)

-- advisory_range_watermark
SELECT COALESCE(MAX(id), 0) AS id FROM advisory_range

-- advisory_delete_older
DELETE a
FROM JSON_TABLE(:advisories, '$[*]' COLUMNS (
        id VARCHAR(128) PATH '$.id', modified DATETIME(6) PATH '$.modified')) AS j
STRAIGHT_JOIN advisory a ON a.id = CONVERT(j.id USING ascii)
WHERE a.modified < j.modified

-- advisory_insert
INSERT IGNORE INTO advisory (id, feed, summary, severity, severity_rank, aliases, published,
                             modified, withdrawn, imported)
SELECT j.id, j.feed, j.summary, j.severity, j.severity_rank, j.aliases, j.published, j.modified,
       j.withdrawn, :imported
FROM JSON_TABLE(:advisories, '$[*]' COLUMNS (
        id VARCHAR(128) PATH '$.id', feed VARCHAR(8) PATH '$.feed',
        summary VARCHAR(1000) PATH '$.summary', severity VARCHAR(8) PATH '$.severity',
        severity_rank SMALLINT PATH '$.severity_rank', aliases LONGTEXT PATH '$.aliases_json',
        published DATETIME(6) PATH '$.published', modified DATETIME(6) PATH '$.modified',
        withdrawn DATETIME(6) PATH '$.withdrawn')) AS j

-- advisory_alias_insert
INSERT IGNORE INTO advisory_alias (alias, advisory_id)
SELECT j.alias, j.advisory_id
FROM JSON_TABLE(:aliases, '$[*]' COLUMNS (
        alias VARCHAR(128) PATH '$.alias', advisory_id VARCHAR(128) PATH '$.advisory_id')) AS j
STRAIGHT_JOIN advisory a ON a.id = CONVERT(j.advisory_id USING ascii) AND a.imported = :imported

-- advisory_range_insert
INSERT INTO advisory_range (advisory_id, os_release, scheme, package_name, names_source,
                            introduced_key, fixed_key, fixed_version, last_affected_key)
SELECT j.advisory_id, j.os_release, j.scheme, j.package_name, j.names_source, j.introduced_key,
       j.fixed_key, j.fixed_version, j.last_affected_key
FROM JSON_TABLE(:ranges, '$[*]' COLUMNS (
        advisory_id VARCHAR(128) PATH '$.advisory_id', os_release VARCHAR(32) PATH '$.os_release',
        scheme VARCHAR(8) PATH '$.scheme', package_name VARCHAR(255) PATH '$.package_name',
        names_source BOOLEAN PATH '$.names_source',
        introduced_key VARCHAR(700) PATH '$.introduced_key',
        fixed_key VARCHAR(700) PATH '$.fixed_key', fixed_version VARCHAR(128) PATH '$.fixed_version',
        last_affected_key VARCHAR(700) PATH '$.last_affected_key')) AS j
STRAIGHT_JOIN advisory a ON a.id = CONVERT(j.advisory_id USING ascii) AND a.imported = :imported

-- source_map_clear
DELETE FROM package_source_map WHERE os_release = :release

-- source_map_insert
INSERT INTO package_source_map (os_release, binary_name, source_name)
SELECT :release, j.binary_name, j.source_name
FROM JSON_TABLE(:pairs, '$[*]' COLUMNS (
        binary_name VARCHAR(255) PATH '$.binary_name',
        source_name VARCHAR(255) PATH '$.source_name')) AS j
ON DUPLICATE KEY UPDATE source_name = VALUES(source_name)

-- findings_forget_source_ranges
DELETE FROM package_finding
WHERE range_id IN (
    SELECT id FROM advisory_range
    WHERE os_release = :release AND names_source)

-- findings_match_source_ranges
INSERT IGNORE INTO package_finding (package_id, range_id, matched_by)
SELECT m.package_id, m.range_id, m.matched_by
FROM package_match m
WHERE m.range_id IN (
    SELECT id FROM advisory_range
    WHERE os_release = :release AND names_source AND id <= :watermark)

-- findings_match_new_ranges
INSERT IGNORE INTO package_finding (package_id, range_id, matched_by)
SELECT m.package_id, m.range_id, m.matched_by
FROM package_match m
WHERE m.range_id > :watermark

-- advisory_affected
WITH named AS (
    SELECT a.id, a.feed, a.summary, a.severity, a.aliases, a.published, a.modified, a.withdrawn
    FROM advisory a
    WHERE a.id = :id
    UNION
    SELECT a.id, a.feed, a.summary, a.severity, a.aliases, a.published, a.modified, a.withdrawn
    FROM advisory_alias al
    JOIN advisory a ON a.id = al.advisory_id
    WHERE al.alias = :id
), hits AS (
    SELECT f.package_id, r.advisory_id, r.os_release,
           MIN(r.fixed_version) AS fixed_version, MIN(f.matched_by) AS matched_by
    FROM named n
    JOIN advisory_range r ON r.advisory_id = n.id
    JOIN package_finding f ON f.range_id = r.id
    WHERE n.withdrawn IS NULL
    GROUP BY f.package_id, r.advisory_id, r.os_release
), affected AS (
    SELECT e.id AS ec2_id, p.name AS package_name, p.version AS package_version, h.advisory_id,
           h.fixed_version, h.matched_by
    FROM hits h
    JOIN ec2_package ep ON ep.package_id = h.package_id
    JOIN ec2 e ON e.id = ep.ec2_id AND e.os_release = h.os_release
    JOIN package p ON p.id = h.package_id
    WHERE (:account IS NULL OR e.account = :account)
      AND (:region IS NULL OR e.region = :region)
      AND (e.state = :state OR (:state IS NULL AND (e.state IS NULL OR e.state <> 'terminated')))
      AND (:after_id IS NULL
        OR (e.id, p.name, p.version, h.advisory_id) > (:after_id, :after_name, :after_version,
            :after_advisory))
    ORDER BY e.id, p.name, p.version, h.advisory_id
    LIMIT :limit
)
SELECT 0 AS part, n.id AS advisory_id, n.feed, n.summary, n.severity, n.aliases, n.published,
       n.modified, n.withdrawn, NULL AS ec2_id, NULL AS package_name, NULL AS package_version,
       NULL AS fixed_version, NULL AS matched_by
FROM named n
UNION ALL
SELECT 1, f.advisory_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, f.ec2_id, f.package_name,
       f.package_version, f.fixed_version, f.matched_by
FROM affected f
ORDER BY part, ec2_id, package_name, package_version, advisory_id

-- instance_vulnerabilities
SELECT a.id AS advisory_id, a.aliases, a.severity, a.severity_rank, p.name AS package_name,
       p.version AS package_version, MIN(r.fixed_version) AS fixed_version,
       MIN(f.matched_by) AS matched_by
FROM ec2 e
JOIN ec2_package ep ON ep.ec2_id = e.id
JOIN package_finding f ON f.package_id = ep.package_id
JOIN advisory_range r ON r.id = f.range_id AND r.os_release = e.os_release
JOIN advisory a ON a.id = r.advisory_id
JOIN package p ON p.id = ep.package_id
WHERE e.id = :id
  AND a.withdrawn IS NULL
  AND (:after_rank IS NULL
    OR a.severity_rank < :after_rank
    OR (a.severity_rank = :after_rank
      AND (a.id, p.name, p.version) > (:after_advisory, :after_name, :after_version)))
GROUP BY a.id, a.aliases, a.severity, a.severity_rank, p.name, p.version
ORDER BY a.severity_rank DESC, a.id, p.name, p.version
LIMIT :limit

-- fleet_vulnerabilities
SELECT t.counted_at, page.*
FROM fleet_tally t
LEFT JOIN (
    SELECT a.id AS advisory_id, a.aliases, a.severity, a.severity_rank, a.summary, c.instances
    FROM (
        SELECT x.advisory_id, SUM(x.instances) AS instances
        FROM advisory_exposure x
        WHERE (:account IS NULL OR x.account = :account)
          AND (:region IS NULL OR x.region = :region)
          AND (x.state = :state OR (:state IS NULL AND (x.state IS NULL OR x.state <> 'terminated')))
        GROUP BY x.advisory_id
    ) c
    JOIN advisory a ON a.id = c.advisory_id
    WHERE a.withdrawn IS NULL
      AND (:severity IS NULL OR a.severity = :severity)
      AND (:after_rank IS NULL
        OR a.severity_rank < :after_rank
        OR (a.severity_rank = :after_rank
          AND (c.instances < :after_instances
            OR (c.instances = :after_instances AND a.id > :after_advisory))))
    ORDER BY a.severity_rank DESC, c.instances DESC, a.id
    LIMIT :limit
) page ON 1 = 1
WHERE t.id = 1
ORDER BY page.severity_rank DESC, page.instances DESC, page.advisory_id

-- import_lock
SELECT 1 AS locked FROM inventory_lock WHERE name = 'import' FOR UPDATE

-- feed_state_read
SELECT feed, url, etag, last_modified, checked_at, succeeded_at, failed_at, error
FROM feed_state
ORDER BY feed

-- feed_succeeded
INSERT INTO feed_state (feed, url, etag, last_modified, checked_at, succeeded_at, failed_at, error)
VALUES (:feed, :url, :etag, :last_modified, :now, :now, NULL, NULL)
ON DUPLICATE KEY UPDATE
    url = VALUES(url), etag = VALUES(etag), last_modified = VALUES(last_modified),
    checked_at = VALUES(checked_at), succeeded_at = VALUES(succeeded_at), error = NULL

-- feed_failed
INSERT INTO feed_state (feed, checked_at, failed_at, error)
VALUES (:feed, :now, :now, :error)
ON DUPLICATE KEY UPDATE
    checked_at = VALUES(checked_at), failed_at = VALUES(failed_at), error = VALUES(error)

-- findings_lock
SELECT 1 AS locked FROM inventory_lock WHERE name = 'findings' FOR UPDATE

-- fleet_tally_clear
UPDATE fleet_tally SET counted_at = NULL WHERE id = 1

-- count_fleet
CALL inventory_count_fleet(:stale_before, :now, :names)

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

-- schema version 6, statement 1
DROP PROCEDURE IF EXISTS inventory_migrate_006

-- schema version 6, statement 2
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
END

-- schema version 6, statement 3
CALL inventory_migrate_006()

-- schema version 6, statement 4
DROP PROCEDURE inventory_migrate_006

-- schema version 6, statement 5
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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- schema version 6, statement 6
CREATE TABLE IF NOT EXISTS advisory_alias (
alias VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
advisory_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
PRIMARY KEY (alias, advisory_id),
KEY advisory_alias_advisory (advisory_id),
CONSTRAINT advisory_alias_advisory FOREIGN KEY (advisory_id) REFERENCES advisory (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- schema version 6, statement 7
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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- schema version 6, statement 8
CREATE TABLE IF NOT EXISTS package_source_map (
os_release VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
binary_name VARCHAR(255) NOT NULL,
source_name VARCHAR(255) NOT NULL,
PRIMARY KEY (os_release, binary_name),
KEY package_source_map_source (os_release, source_name),
KEY package_source_map_binary (binary_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- schema version 6, statement 9
CREATE TABLE IF NOT EXISTS package_finding (
package_id BIGINT NOT NULL,
range_id BIGINT NOT NULL,
matched_by VARCHAR(10) CHARACTER SET ascii NOT NULL,
PRIMARY KEY (package_id, range_id),
KEY package_finding_range (range_id, package_id),
CONSTRAINT package_finding_package FOREIGN KEY (package_id) REFERENCES package (id),
CONSTRAINT package_finding_range FOREIGN KEY (range_id) REFERENCES advisory_range (id) ON DELETE CASCADE,
CONSTRAINT package_finding_matched_by CHECK (matched_by IN ('package', 'source_map', 'source_rpm', 'same_name'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- schema version 6, statement 10
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
AND (r.last_affected_key IS NULL OR p.version_key <= r.last_affected_key)

-- schema version 6, statement 11
CREATE TABLE IF NOT EXISTS inventory_lock (
name VARCHAR(16) CHARACTER SET ascii NOT NULL,
PRIMARY KEY (name)
) ENGINE=InnoDB

-- schema version 6, statement 12
INSERT IGNORE INTO inventory_lock (name) VALUES ('findings'), ('import')

-- schema version 8, statement 1
CREATE TABLE IF NOT EXISTS scope_coverage (
account CHAR(12) CHARACTER SET ascii NOT NULL,
region VARCHAR(32) CHARACTER SET ascii NOT NULL,
first_seen DATETIME(6) NOT NULL,
last_event_at DATETIME(6) NULL,
last_sync_at DATETIME(6) NULL,
last_pass_at DATETIME(6) NULL,
last_error VARCHAR(1000) NULL,
last_error_at DATETIME(6) NULL,
PRIMARY KEY (account, region)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- schema version 9, statement 1
CREATE TABLE IF NOT EXISTS feed_state (
feed VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
url TEXT NULL,
etag TEXT NULL,
last_modified VARCHAR(100) NULL,
checked_at DATETIME(6) NOT NULL,
succeeded_at DATETIME(6) NULL,
failed_at DATETIME(6) NULL,
error TEXT NULL,
PRIMARY KEY (feed)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- schema version 10, statement 1
CREATE TABLE IF NOT EXISTS fleet_tally (
id TINYINT NOT NULL PRIMARY KEY CHECK (id = 1),
counted_at DATETIME(6) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- schema version 10, statement 2
INSERT IGNORE INTO fleet_tally (id) VALUES (1)

-- schema version 10, statement 3
CREATE TABLE IF NOT EXISTS advisory_exposure (
advisory_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
account CHAR(12) CHARACTER SET ascii NOT NULL,
region VARCHAR(32) CHARACTER SET ascii NOT NULL,
state VARCHAR(16) CHARACTER SET ascii NULL,
instances BIGINT NOT NULL,
KEY advisory_exposure_advisory (advisory_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- schema version 10, statement 4
CREATE TABLE IF NOT EXISTS package_spread (
name VARCHAR(255) NOT NULL,
installs BIGINT NOT NULL,
instances BIGINT NOT NULL,
versions BIGINT NOT NULL,
KEY package_spread_installs (installs, name)
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
DROP PROCEDURE IF EXISTS inventory_count_fleet

-- routines, statement 7
CREATE PROCEDURE inventory_link_packages(
IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_packages LONGTEXT, IN p_replace BOOLEAN,
IN p_source VARCHAR(8), IN p_at DATETIME(6), IN p_scheme VARCHAR(8))
BEGIN
DECLARE v_wanted INT;
DECLARE v_new INT;
DECLARE v_stale INT;
DECLARE v_links INT;
DECLARE v_kept INT;
DECLARE v_looked INT DEFAULT 0;
DECLARE v_locked INT;
DECLARE v_before BIGINT;
DECLARE v_package BIGINT;
SELECT 1 INTO v_locked FROM inventory_lock WHERE name = 'findings' LOCK IN SHARE MODE;
DROP TEMPORARY TABLE IF EXISTS inventory_wanted, inventory_gone, inventory_came;
CREATE TEMPORARY TABLE inventory_wanted (
ord INT NOT NULL PRIMARY KEY, id BIGINT NULL, stale BOOLEAN NOT NULL, KEY (id)
);
WHILE v_looked = 0 OR (v_looked = 1 AND v_new > 0) DO
IF v_looked = 1 THEN
SELECT COALESCE(MAX(id), 0) INTO v_before FROM package;
INSERT IGNORE INTO package (name, version, scheme, publisher, architecture,
source_name, version_key)
SELECT j.name, j.version, p_scheme, j.publisher, j.architecture, j.source_name,
j.version_key
FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (ord FOR ORDINALITY,
name VARCHAR(255) PATH '$.n', version VARCHAR(128) PATH '$.v',
publisher VARCHAR(255) PATH '$.p', architecture VARCHAR(32) PATH '$.a',
source_name VARCHAR(255) PATH '$.s', version_key VARCHAR(700) PATH '$.k')) AS j
STRAIGHT_JOIN inventory_wanted w ON w.ord = j.ord
WHERE w.id IS NULL
ORDER BY j.ord;
IF ROW_COUNT() > 0 THEN
INSERT IGNORE INTO package_finding (package_id, range_id, matched_by)
SELECT m.package_id, m.range_id, m.matched_by
FROM package_match m
WHERE m.package_id > v_before;
END IF;
DELETE FROM inventory_wanted;
END IF;
INSERT INTO inventory_wanted (ord, id, stale)
SELECT j.ord, p.id,
(j.publisher IS NOT NULL AND NOT (j.publisher <=> p.publisher))
OR (j.architecture IS NOT NULL AND NOT (j.architecture <=> p.architecture))
OR (j.source_name IS NOT NULL AND NOT (j.source_name <=> p.source_name))
OR (p.version_key IS NULL AND j.version_key IS NOT NULL)
FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (ord FOR ORDINALITY, h CHAR(64) PATH '$.h',
publisher VARCHAR(255) PATH '$.p', architecture VARCHAR(32) PATH '$.a',
source_name VARCHAR(255) PATH '$.s', version_key VARCHAR(700) PATH '$.k')) AS j
LEFT JOIN package p ON p.identity_hash = UNHEX(j.h);
SELECT COUNT(*), COUNT(*) - COUNT(id), SUM(stale)
INTO v_wanted, v_new, v_stale
FROM inventory_wanted;
SET v_looked = v_looked + 1;
END WHILE;
IF v_stale > 0 THEN
UPDATE JSON_TABLE(p_packages, '$[*]' COLUMNS (ord FOR ORDINALITY,
publisher VARCHAR(255) PATH '$.p', architecture VARCHAR(32) PATH '$.a',
source_name VARCHAR(255) PATH '$.s', version_key VARCHAR(700) PATH '$.k')) AS j
STRAIGHT_JOIN inventory_wanted w ON w.ord = j.ord
STRAIGHT_JOIN package p ON p.id = w.id
SET p.publisher = COALESCE(j.publisher, p.publisher),
p.architecture = COALESCE(j.architecture, p.architecture),
p.source_name = COALESCE(j.source_name, p.source_name),
p.version_key = COALESCE(p.version_key, j.version_key)
WHERE w.stale;
SELECT MIN(id) INTO v_package FROM inventory_wanted WHERE stale;
WHILE v_package IS NOT NULL DO
DELETE FROM package_finding WHERE package_id = v_package;
INSERT IGNORE INTO package_finding (package_id, range_id, matched_by)
SELECT m.package_id, m.range_id, m.matched_by
FROM package_match m
WHERE m.package_id = v_package;
SELECT MIN(id) INTO v_package FROM inventory_wanted WHERE stale AND id > v_package;
END WHILE;
END IF;
SELECT COUNT(*) INTO v_links FROM ec2_package WHERE ec2_id = p_id;
IF v_links = 0 THEN
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version,
new_version)
SELECT p_id, p_at, p_source, 'installed', p.name, NULL, p.version
FROM inventory_wanted w STRAIGHT_JOIN package p ON p.id = w.id;
INSERT INTO ec2_package (ec2_id, package_id)
SELECT p_id, w.id FROM inventory_wanted w;
ELSE
SELECT COUNT(*) INTO v_kept
FROM ec2_package ep STRAIGHT_JOIN inventory_wanted w ON w.id = ep.package_id
WHERE ep.ec2_id = p_id;
END IF;
IF v_links > 0 AND (v_kept < v_wanted OR (p_replace AND v_kept < v_links)) THEN
CREATE TEMPORARY TABLE inventory_came (
id BIGINT NOT NULL, name VARCHAR(255) NOT NULL, version VARCHAR(128) NOT NULL,
same BOOLEAN NOT NULL DEFAULT FALSE, KEY (name)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO inventory_came (id, name, version)
SELECT p.id, p.name, p.version
FROM inventory_wanted w STRAIGHT_JOIN package p ON p.id = w.id
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
UPDATE inventory_came c
JOIN inventory_gone g ON g.name = c.name AND g.version = c.version
SET c.same = TRUE, g.same = TRUE;
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version,
new_version)
SELECT p_id, p_at, p_source, 'changed', g.name, MIN(g.version), MIN(c.version)
FROM inventory_gone g
JOIN inventory_came c ON c.name = g.name AND NOT c.same
WHERE NOT g.same
GROUP BY g.name
HAVING COUNT(DISTINCT g.version) = 1 AND COUNT(DISTINCT c.version) = 1;
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version,
new_version)
SELECT p_id, p_at, p_source, 'removed', g.name, g.version, NULL
FROM inventory_gone g
WHERE NOT g.same AND NOT EXISTS (
SELECT 1 FROM ec2_history h
WHERE h.package_name = g.name AND h.changed_at = p_at AND h.ec2_id = p_id
AND h.kind = 'changed');
DELETE ep FROM inventory_gone g
STRAIGHT_JOIN ec2_package ep ON ep.ec2_id = p_id AND ep.package_id = g.id;
END IF;
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version,
new_version)
SELECT p_id, p_at, p_source, 'installed', c.name, NULL, c.version
FROM inventory_came c
WHERE NOT c.same AND NOT EXISTS (
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
END IF;
DROP TEMPORARY TABLE IF EXISTS inventory_wanted, inventory_gone, inventory_came;
END

-- routines, statement 8
CREATE PROCEDURE inventory_lock_instance(
IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_account VARCHAR(12), IN p_region VARCHAR(32),
IN p_state VARCHAR(16), IN p_instance_type VARCHAR(255), IN p_image_id VARCHAR(255),
IN p_platform VARCHAR(255), IN p_launch_time DATETIME(6), IN p_tags LONGTEXT,
IN p_source VARCHAR(8), IN p_now DATETIME(6), IN p_at DATETIME(6),
IN p_captured_at DATETIME(6), IN p_event_time DATETIME(6),
IN p_platform_name VARCHAR(255), IN p_platform_version VARCHAR(64),
IN p_os_release VARCHAR(32), IN p_version_scheme VARCHAR(8),
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
inventory_captured_at, last_event_time, platform_name, platform_version,
os_release, version_scheme)
VALUES (p_id, p_account, p_region, p_state, p_instance_type, p_image_id, p_platform,
p_launch_time, p_tags, p_source, p_now, p_now,
IF(p_state = 'terminated', p_at, NULL), p_captured_at, p_event_time,
p_platform_name, p_platform_version, p_os_release, p_version_scheme);
END;
IF v_raced THEN
SELECT MAX(state) INTO p_old_state FROM ec2 WHERE id = p_id FOR UPDATE;
ELSE
SET p_inserted = TRUE;
END IF;
END IF;
END

-- routines, statement 9
CREATE PROCEDURE inventory_write_instance(
IN p_mode VARCHAR(8), IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_account VARCHAR(12),
IN p_region VARCHAR(32), IN p_state VARCHAR(16), IN p_instance_type VARCHAR(255),
IN p_image_id VARCHAR(255), IN p_platform VARCHAR(255), IN p_launch_time DATETIME(6),
IN p_tags LONGTEXT, IN p_source VARCHAR(8), IN p_now DATETIME(6), IN p_packages LONGTEXT,
IN p_platform_name VARCHAR(255), IN p_platform_version VARCHAR(64),
IN p_os_release VARCHAR(32), IN p_version_scheme VARCHAR(8), IN p_own_transaction BOOLEAN)
BEGIN
DECLARE v_written VARCHAR(8) DEFAULT 'created';
DECLARE v_old_state VARCHAR(16);
DECLARE v_inserted BOOLEAN;
DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN IF p_own_transaction THEN ROLLBACK; END IF; RESIGNAL; END;
IF p_own_transaction THEN SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION; END IF;
CALL inventory_lock_instance(p_id, p_account, p_region, p_state, p_instance_type, p_image_id,
p_platform, p_launch_time, p_tags, p_source, p_now, p_now, p_now, NULL,
p_platform_name, p_platform_version, p_os_release, p_version_scheme, v_old_state, v_inserted);
IF NOT v_inserted AND p_mode = 'create' THEN
SET v_written = 'skipped';
ELSEIF NOT v_inserted THEN
UPDATE ec2 SET account = p_account, region = p_region, state = p_state,
instance_type = p_instance_type, image_id = p_image_id, platform = p_platform,
launch_time = p_launch_time, tags = p_tags, source = p_source, updated = p_now,
terminated_at = IF(p_state = 'terminated', COALESCE(terminated_at, p_now), NULL),
inventory_captured_at = p_now, platform_name = p_platform_name,
platform_version = p_platform_version, os_release = p_os_release,
version_scheme = p_version_scheme
WHERE id = p_id;
SET v_written = 'replaced';
END IF;
IF v_written <> 'skipped' THEN
IF NOT (v_old_state <=> p_state) THEN
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, old_state, new_state)
VALUES (p_id, p_now, p_source, 'state', v_old_state, p_state);
END IF;
CALL inventory_link_packages(p_id, p_packages, NOT v_inserted, p_source, p_now,
p_version_scheme);
END IF;
IF p_own_transaction THEN COMMIT; END IF;
SELECT v_written AS written;
END

-- routines, statement 10
CREATE PROCEDURE inventory_apply_state(
IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_account VARCHAR(12), IN p_region VARCHAR(32),
IN p_state VARCHAR(16), IN p_instance_type VARCHAR(255), IN p_image_id VARCHAR(255),
IN p_platform VARCHAR(255), IN p_launch_time DATETIME(6), IN p_tags LONGTEXT,
IN p_source VARCHAR(8), IN p_now DATETIME(6), IN p_time DATETIME(6), IN p_has_details BOOLEAN,
IN p_captured_at DATETIME(6), IN p_packages LONGTEXT,
IN p_platform_name VARCHAR(255), IN p_platform_version VARCHAR(64),
IN p_os_release VARCHAR(32), IN p_version_scheme VARCHAR(8), IN p_own_transaction BOOLEAN)
BEGIN
DECLARE v_applied BOOLEAN;
DECLARE v_written BOOLEAN DEFAULT FALSE;
DECLARE v_old_state VARCHAR(16);
DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN IF p_own_transaction THEN ROLLBACK; END IF; RESIGNAL; END;
IF p_own_transaction THEN SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION; END IF;
CALL inventory_lock_instance(p_id, p_account, p_region, p_state, p_instance_type, p_image_id,
p_platform, p_launch_time, p_tags, p_source, p_now, p_time, NULL, p_time,
NULL, NULL, NULL, NULL, v_old_state, v_applied);
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
UPDATE ec2 SET inventory_captured_at = p_captured_at, updated = p_now, source = p_source,
platform_name = COALESCE(p_platform_name, platform_name),
platform_version = COALESCE(p_platform_version, platform_version),
os_release = COALESCE(p_os_release, os_release), version_scheme = p_version_scheme
WHERE id = p_id AND state = 'running' AND last_event_time = p_time
AND (v_applied OR inventory_captured_at IS NULL)
AND (inventory_captured_at IS NULL OR inventory_captured_at < p_captured_at);
IF ROW_COUNT() > 0 THEN
CALL inventory_link_packages(p_id, p_packages, TRUE, p_source, p_captured_at,
p_version_scheme);
SET v_written = TRUE;
END IF;
END IF;
IF p_own_transaction THEN COMMIT; END IF;
SELECT v_applied AS state_applied, v_written AS packages_written;
END

-- routines, statement 11
CREATE PROCEDURE inventory_replace_packages(
IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_captured_at DATETIME(6), IN p_now DATETIME(6),
IN p_source VARCHAR(8), IN p_packages LONGTEXT,
IN p_platform_name VARCHAR(255), IN p_platform_version VARCHAR(64),
IN p_os_release VARCHAR(32), IN p_version_scheme VARCHAR(8), IN p_own_transaction BOOLEAN)
BEGIN
DECLARE v_written VARCHAR(8) DEFAULT 'skipped';
DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN IF p_own_transaction THEN ROLLBACK; END IF; RESIGNAL; END;
IF p_own_transaction THEN SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION; END IF;
UPDATE ec2 SET inventory_captured_at = p_captured_at, updated = p_now, source = p_source,
platform_name = COALESCE(p_platform_name, platform_name),
platform_version = COALESCE(p_platform_version, platform_version),
os_release = COALESCE(p_os_release, os_release), version_scheme = p_version_scheme
WHERE id = p_id
AND (inventory_captured_at IS NULL OR inventory_captured_at < p_captured_at);
IF ROW_COUNT() > 0 THEN
CALL inventory_link_packages(p_id, p_packages, TRUE, p_source, p_captured_at,
p_version_scheme);
SET v_written = 'replaced';
END IF;
IF p_own_transaction THEN COMMIT; END IF;
SELECT v_written AS written;
END

-- routines, statement 12
CREATE PROCEDURE inventory_count_fleet(
IN p_stale_before DATETIME(6), IN p_now DATETIME(6), IN p_names BIGINT)
BEGIN
DECLARE v_counted BOOLEAN DEFAULT FALSE;
DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
START TRANSACTION;
UPDATE fleet_tally SET counted_at = p_now
WHERE id = 1 AND (counted_at IS NULL OR counted_at < p_stale_before);
IF ROW_COUNT() > 0 THEN
SET v_counted = TRUE;
DELETE FROM advisory_exposure;
INSERT INTO advisory_exposure (advisory_id, account, region, state, instances)
SELECT r.advisory_id, e.account, e.region, e.state, COUNT(DISTINCT ep.ec2_id)
FROM advisory_range r
JOIN package_finding f ON f.range_id = r.id
JOIN ec2_package ep ON ep.package_id = f.package_id
JOIN ec2 e ON e.id = ep.ec2_id AND e.os_release = r.os_release
GROUP BY r.advisory_id, e.account, e.region, e.state;
DELETE FROM package_spread;
INSERT INTO package_spread (name, installs, instances, versions)
SELECT r.name, r.installs,
(SELECT COUNT(DISTINCT ep.ec2_id)
FROM package p JOIN ec2_package ep ON ep.package_id = p.id
WHERE p.name = r.name AND LENGTH(p.name) = r.name_length),
r.versions
FROM (
SELECT p.name, LENGTH(p.name) AS name_length, SUM(links.installs) AS installs,
COUNT(*) AS versions
FROM (SELECT ep.package_id, COUNT(*) AS installs
FROM ec2_package ep GROUP BY ep.package_id) links
JOIN package p ON p.id = links.package_id
GROUP BY p.name, LENGTH(p.name)
ORDER BY installs DESC, p.name
LIMIT p_names
) r;
END IF;
COMMIT;
SELECT v_counted AS counted;
END
