-- Every statement the store sends to postgres, rendered by the test
-- store::sql::tests::sql_snapshot (core/src/store/sql/mod.rs).
-- Regenerate: UPDATE_SQL_SNAPSHOT=1 cargo test -p inventory-core --lib sql_snapshot

-- call_write_instance
SELECT inventory_write_instance(
    CAST(:mode AS text), CAST(:id AS text), CAST(:account AS text), CAST(:region AS text),
    CAST(:state AS text), CAST(:instance_type AS text), CAST(:image_id AS text),
    CAST(:platform AS text), CAST(:launch_time AS timestamp), CAST(:tags AS jsonb),
    CAST(:source AS text), CAST(:now AS timestamp), CAST(:packages AS json),
    CAST(:platform_name AS text), CAST(:platform_version AS text), CAST(:os_release AS text),
    CAST(:version_scheme AS text)) AS written

-- call_replace_packages
SELECT inventory_replace_packages(
    CAST(:id AS text), CAST(:captured_at AS timestamp), CAST(:now AS timestamp),
    CAST(:source AS text), CAST(:packages AS json),
    CAST(:platform_name AS text), CAST(:platform_version AS text), CAST(:os_release AS text),
    CAST(:version_scheme AS text)) AS written

-- call_apply_state
SELECT state_applied, packages_written
FROM inventory_apply_state(
    CAST(:id AS text), CAST(:account AS text), CAST(:region AS text), CAST(:state AS text),
    CAST(:instance_type AS text), CAST(:image_id AS text), CAST(:platform AS text),
    CAST(:launch_time AS timestamp), CAST(:tags AS jsonb), CAST(:source AS text),
    CAST(:now AS timestamp), CAST(:time AS timestamp), CAST(:has_details AS bigint) = 1,
    CAST(:captured_at AS timestamp), CAST(:packages AS json),
    CAST(:platform_name AS text), CAST(:platform_version AS text), CAST(:os_release AS text),
    CAST(:version_scheme AS text))

-- call_link_packages
SELECT 1 FROM inventory_link_packages(
    CAST(:id AS text), CAST(:packages AS json), false, CAST(:source AS text),
    CAST(:at AS timestamp), CAST(:version_scheme AS text))

-- routines_checksum_create
CREATE TABLE IF NOT EXISTS schema_routines (id integer PRIMARY KEY CHECK (id = 1), checksum varchar(64) NOT NULL, applied timestamp(6) NOT NULL)

-- routines_checksum_read
SELECT checksum FROM schema_routines WHERE id = 1

-- routines_checksum_record
INSERT INTO schema_routines (id, checksum, applied)
VALUES (1, :checksum, CAST(:applied AS timestamp))
ON CONFLICT (id) DO UPDATE SET checksum = EXCLUDED.checksum, applied = EXCLUDED.applied

-- get_instance
SELECT 0 AS part, account, region, state, instance_type, image_id, platform, launch_time,
       CAST(tags AS text) AS tags, source, created, updated, terminated_at, last_event_time,
       inventory_captured_at, platform_name, platform_version, os_release, version_scheme,
       NULL AS packages
FROM ec2 WHERE id = CAST(:id AS text)
UNION ALL SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL,
       CAST(array_to_json(array_agg(to_json(ARRAY[name, version, publisher, architecture, source_name]))) AS text)
FROM (
    SELECT p.name, p.version, p.publisher, p.architecture, p.source_name,
           SUM(octet_length(p.name || p.version || coalesce(p.publisher, '') || coalesce(p.architecture, '')
                            || coalesce(p.source_name, ''))
               + 16) OVER (ORDER BY p.id) AS running
    FROM ec2_package ep
    JOIN package p ON p.id = ep.package_id
    WHERE ep.ec2_id = CAST(:id AS text)
) s
GROUP BY running / 16384
ORDER BY 1

-- get_instance_row
SELECT account, region, state, instance_type, image_id, platform, launch_time,
       CAST(tags AS text) AS tags, source, created, updated, terminated_at, last_event_time,
       inventory_captured_at, platform_name, platform_version, os_release, version_scheme
FROM ec2
WHERE id = CAST(:id AS text)

-- get_packages_page
SELECT p.id, p.name, p.version, p.publisher, p.architecture, p.source_name
FROM ec2_package ep
JOIN package p ON p.id = ep.package_id
WHERE ep.ec2_id = CAST(:id AS text)
  AND p.id > CAST(:after AS bigint)
ORDER BY p.id
LIMIT CAST(:limit AS bigint)

-- delete_instance
DELETE FROM ec2 WHERE id = CAST(:id AS text)

-- stale_running
SELECT id, account, region
FROM ec2
WHERE state = 'running'
  AND (CAST(:account AS text) IS NULL OR account = CAST(:account AS text))
  AND (CAST(:region AS text) IS NULL OR region = CAST(:region AS text))
  AND (inventory_captured_at IS NULL OR inventory_captured_at < CAST(:older_than AS timestamp))
ORDER BY inventory_captured_at IS NOT NULL, inventory_captured_at, id
LIMIT CAST(:limit AS bigint)

-- package_versions
SELECT p.name, p.version, p.scheme, COUNT(*) AS instances
FROM package p
JOIN ec2_package ep ON ep.package_id = p.id
WHERE p.name = CAST(:name AS text)
GROUP BY p.id, p.name, p.version, p.scheme, p.version_key
ORDER BY p.scheme, p.version_key DESC, p.version

-- search
SELECT e.id, e.account, e.region, e.state, e.instance_type, e.updated
FROM ec2 e
WHERE (CAST(:account AS text) IS NULL OR e.account = CAST(:account AS text))
  AND (CAST(:region AS text) IS NULL OR e.region = CAST(:region AS text))
  AND (CAST(:state AS text) IS NULL OR e.state = CAST(:state AS text))
  AND e.id > coalesce(CAST(:after AS text), '')
  AND (CAST(:package_name AS text) IS NULL OR e.id IN (
      SELECT m.ec2_id
      FROM package p
      CROSS JOIN LATERAL (
          SELECT ep.ec2_id
          FROM ec2_package ep
          WHERE ep.package_id = p.id
            AND ep.ec2_id > coalesce(CAST(:after AS text), '')
            AND ((CAST(:account AS text) IS NULL AND CAST(:region AS text) IS NULL
                AND CAST(:state AS text) IS NULL)
              OR EXISTS (
                  SELECT 1
                  FROM ec2 f
                  WHERE f.id = ep.ec2_id
                    AND (CAST(:account AS text) IS NULL OR f.account = CAST(:account AS text))
                    AND (CAST(:region AS text) IS NULL OR f.region = CAST(:region AS text))
                    AND (CAST(:state AS text) IS NULL OR f.state = CAST(:state AS text))))
          ORDER BY ep.ec2_id
          LIMIT CAST(:limit AS bigint)) AS m
      WHERE p.name = CAST(:package_name AS text)
        AND (CAST(:package_version AS text) IS NULL
          OR p.version = CAST(:package_version AS text))
        AND (CAST(:ranged AS bigint) = 0
          OR (p.version_key >= CAST(:dpkg_from AS text) AND p.version_key < CAST(:dpkg_to AS text))
          OR (p.version_key >= CAST(:rpm_from AS text) AND p.version_key < CAST(:rpm_to AS text))
          OR (p.version_key >= CAST(:dotted_from AS text) AND p.version_key < CAST(:dotted_to AS text))
          OR (p.version_key >= CAST(:natural_from AS text) AND p.version_key < CAST(:natural_to AS text)))))
ORDER BY e.id
LIMIT CAST(:limit AS bigint)

-- sync_cursor_ensure
INSERT INTO sync_cursor (scope, passes_completed, updated)
VALUES (CAST(:scope AS text), 0, CAST(:now AS timestamp))
ON CONFLICT (scope) DO NOTHING

-- sync_cursor_acquire
UPDATE sync_cursor
SET lease_owner = CAST(:owner AS text), lease_until = CAST(:until AS timestamp), updated = CAST(:now AS timestamp)
WHERE scope = CAST(:scope AS text)
  AND (lease_owner IS NULL OR lease_until < CAST(:now AS timestamp))

-- sync_cursor_read
SELECT position, pass_started, passes_completed
FROM sync_cursor
WHERE scope = CAST(:scope AS text) AND lease_owner = CAST(:owner AS text)

-- sync_cursor_save
UPDATE sync_cursor
SET position = CAST(:position AS text), pass_started = CAST(:pass_started AS timestamp),
    passes_completed = CAST(:passes AS bigint), updated = CAST(:now AS timestamp)
WHERE scope = CAST(:scope AS text) AND lease_owner = CAST(:owner AS text)

-- sync_cursor_release
UPDATE sync_cursor
SET position = CAST(:position AS text), pass_started = CAST(:pass_started AS timestamp),
    passes_completed = CAST(:passes AS bigint), updated = CAST(:now AS timestamp),
    lease_owner = NULL, lease_until = NULL
WHERE scope = CAST(:scope AS text) AND lease_owner = CAST(:owner AS text)

-- recorded_in_range
SELECT id, state, inventory_captured_at, COALESCE(last_event_time, created) AS last_change
FROM ec2
WHERE account = CAST(:account AS text) AND region = CAST(:region AS text)
  AND id > CAST(:after AS text) AND id <= CAST(:upto AS text)
ORDER BY id
LIMIT CAST(:limit AS bigint)

-- recorded_instance
SELECT id, state, inventory_captured_at, COALESCE(last_event_time, created) AS last_change
FROM ec2
WHERE id = CAST(:id AS text)

-- instance_history
SELECT h.* FROM ec2_history h
WHERE h.ec2_id = CAST(:id AS text)
  AND h.changed_at >= CAST(:since AS timestamp)
  AND (h.changed_at, h.id) < (CAST(:until AS timestamp), CAST(:before_id AS bigint))
ORDER BY h.changed_at DESC, h.id DESC LIMIT CAST(:limit AS bigint)

-- package_history
SELECT h.* FROM ec2_history h
WHERE h.package_name = CAST(:name AS text)
  AND h.changed_at >= CAST(:since AS timestamp)
  AND (h.changed_at, h.id) < (CAST(:until AS timestamp), CAST(:before_id AS bigint))
ORDER BY h.changed_at DESC, h.id DESC LIMIT CAST(:limit AS bigint)

-- fleet_history
SELECT h.* FROM ec2_history h
WHERE h.changed_at >= CAST(:since AS timestamp)
  AND (h.changed_at, h.id) < (CAST(:until AS timestamp), CAST(:before_id AS bigint))
ORDER BY h.changed_at DESC, h.id DESC LIMIT CAST(:limit AS bigint)

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
    LIMIT CAST(:limit AS bigint)
) page ON true
WHERE t.id = 1
ORDER BY page.installs DESC, page.name

-- prune_history
DELETE FROM ec2_history
WHERE id IN (
    SELECT id FROM ec2_history
    WHERE changed_at < CAST(:before AS timestamp)
    ORDER BY changed_at
    LIMIT CAST(:limit AS bigint))

-- scope_event
INSERT INTO scope_coverage (account, region, first_seen, last_event_at, last_error, last_error_at)
VALUES (CAST(:account AS text), CAST(:region AS text), CAST(:now AS timestamp),
        CAST(:event_at AS timestamp), CAST(:error AS text), CAST(:error_at AS timestamp))
ON CONFLICT (account, region) DO UPDATE
SET last_event_at = GREATEST(scope_coverage.last_event_at, EXCLUDED.last_event_at),
    last_error = COALESCE(EXCLUDED.last_error, scope_coverage.last_error),
    last_error_at = COALESCE(EXCLUDED.last_error_at, scope_coverage.last_error_at)

-- scope_sync
INSERT INTO scope_coverage (account, region, first_seen, last_sync_at, last_pass_at, last_error, last_error_at)
VALUES (CAST(:account AS text), CAST(:region AS text), CAST(:now AS timestamp),
        CAST(:synced_at AS timestamp), CAST(:pass_at AS timestamp),
        CAST(:error AS text), CAST(:error_at AS timestamp))
ON CONFLICT (account, region) DO UPDATE
SET last_sync_at = COALESCE(EXCLUDED.last_sync_at, scope_coverage.last_sync_at),
    last_pass_at = COALESCE(EXCLUDED.last_pass_at, scope_coverage.last_pass_at),
    last_error = EXCLUDED.last_error,
    last_error_at = EXCLUDED.last_error_at

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
WHERE k.account COLLATE "C" > CAST(:after_account AS text)
   OR (k.account = CAST(:after_account AS text) AND k.region COLLATE "C" > CAST(:after_region AS text))
ORDER BY k.account COLLATE "C", k.region COLLATE "C"
LIMIT CAST(:limit AS bigint)

-- schema_version_create
CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied timestamp(6) NOT NULL)

-- schema_version_read
SELECT COALESCE(MAX(version), 0) AS version FROM schema_version

-- schema_version_record
INSERT INTO schema_version (version, applied) VALUES (:version, CAST(:applied AS timestamp))

-- advisory_range_watermark
SELECT COALESCE(MAX(id), 0) AS id FROM advisory_range

-- advisory_delete_older
DELETE FROM advisory a
USING json_to_recordset(CAST(:advisories AS json)) AS j(id text, modified timestamp)
WHERE a.id = j.id AND a.modified < j.modified

-- advisory_insert
INSERT INTO advisory (id, feed, summary, severity, severity_rank, aliases, published, modified,
                      withdrawn, imported)
SELECT j.id, j.feed, j.summary, j.severity, j.severity_rank, CAST(j.aliases_json AS jsonb),
       j.published, j.modified, j.withdrawn, CAST(:imported AS timestamp)
FROM json_to_recordset(CAST(:advisories AS json))
    AS j(id text, feed text, summary text, severity text, severity_rank smallint, aliases_json text,
         published timestamp, modified timestamp, withdrawn timestamp)
ON CONFLICT (id) DO NOTHING

-- advisory_alias_insert
INSERT INTO advisory_alias (alias, advisory_id)
SELECT j.alias, j.advisory_id
FROM json_to_recordset(CAST(:aliases AS json)) AS j(alias text, advisory_id text)
JOIN advisory a ON a.id = j.advisory_id AND a.imported = CAST(:imported AS timestamp)
ON CONFLICT DO NOTHING

-- advisory_range_insert
INSERT INTO advisory_range (advisory_id, os_release, scheme, package_name, names_source,
                            introduced_key, fixed_key, fixed_version, last_affected_key)
SELECT j.advisory_id, j.os_release, j.scheme, j.package_name, j.names_source, j.introduced_key,
       j.fixed_key, j.fixed_version, j.last_affected_key
FROM json_to_recordset(CAST(:ranges AS json))
    AS j(advisory_id text, os_release text, scheme text, package_name text, names_source boolean,
         introduced_key text, fixed_key text, fixed_version text, last_affected_key text)
JOIN advisory a ON a.id = j.advisory_id AND a.imported = CAST(:imported AS timestamp)

-- source_map_clear
DELETE FROM package_source_map WHERE os_release = CAST(:release AS text)

-- source_map_insert
INSERT INTO package_source_map (os_release, binary_name, source_name)
SELECT CAST(:release AS text), j.binary_name, j.source_name
FROM json_to_recordset(CAST(:pairs AS json)) AS j(binary_name text, source_name text)
ON CONFLICT (os_release, binary_name) DO UPDATE SET source_name = EXCLUDED.source_name

-- findings_forget_source_ranges
DELETE FROM package_finding
WHERE range_id IN (
    SELECT id FROM advisory_range
    WHERE os_release = CAST(:release AS text) AND names_source)

-- findings_match_source_ranges
INSERT INTO package_finding (package_id, range_id, matched_by)
SELECT m.package_id, m.range_id, m.matched_by
FROM package_match m
WHERE m.range_id IN (
    SELECT id FROM advisory_range
    WHERE os_release = CAST(:release AS text) AND names_source
      AND id <= CAST(:watermark AS bigint))
ON CONFLICT DO NOTHING

-- findings_match_new_ranges
INSERT INTO package_finding (package_id, range_id, matched_by)
SELECT m.package_id, m.range_id, m.matched_by
FROM package_match m
WHERE m.range_id > CAST(:watermark AS bigint)
ON CONFLICT DO NOTHING

-- advisory_affected
WITH named AS (
    SELECT a.id, a.feed, a.summary, a.severity, a.aliases, a.published, a.modified, a.withdrawn
    FROM advisory a
    WHERE a.id = CAST(:id AS text)
       OR a.id IN (SELECT al.advisory_id FROM advisory_alias al WHERE al.alias = CAST(:id AS text))
), affected AS (
    SELECT e.id AS ec2_id, p.name AS package_name, p.version AS package_version, r.advisory_id,
           min(r.fixed_version) AS fixed_version, min(f.matched_by) AS matched_by
    FROM named n
    JOIN advisory_range r ON r.advisory_id = n.id
    JOIN package_finding f ON f.range_id = r.id
    JOIN ec2_package ep ON ep.package_id = f.package_id
    JOIN ec2 e ON e.id = ep.ec2_id AND e.os_release = r.os_release
    JOIN package p ON p.id = f.package_id
    WHERE n.withdrawn IS NULL
      AND (CAST(:account AS text) IS NULL OR e.account = CAST(:account AS text))
      AND (CAST(:region AS text) IS NULL OR e.region = CAST(:region AS text))
      AND (e.state = CAST(:state AS text)
        OR (CAST(:state AS text) IS NULL AND e.state IS DISTINCT FROM 'terminated'))
      AND (CAST(:after_id AS text) IS NULL
        OR (e.id, p.name, p.version, r.advisory_id) > (CAST(:after_id AS text),
            CAST(:after_name AS text), CAST(:after_version AS text), CAST(:after_advisory AS text)))
    GROUP BY e.id, p.name, p.version, r.advisory_id
    ORDER BY e.id, p.name, p.version, r.advisory_id
    LIMIT CAST(:limit AS bigint)
)
SELECT 0 AS part, n.id AS advisory_id, n.feed, n.summary, n.severity,
       CAST(n.aliases AS text) AS aliases, n.published, n.modified, n.withdrawn,
       NULL AS ec2_id, NULL AS package_name, NULL AS package_version, NULL AS fixed_version,
       NULL AS matched_by
FROM named n
UNION ALL
SELECT 1, f.advisory_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, f.ec2_id, f.package_name,
       f.package_version, f.fixed_version, f.matched_by
FROM affected f
ORDER BY part, ec2_id, package_name, package_version, advisory_id

-- instance_vulnerabilities
SELECT a.id AS advisory_id, CAST(a.aliases AS text) AS aliases, a.severity, a.severity_rank,
       p.name AS package_name, p.version AS package_version,
       min(r.fixed_version) AS fixed_version, min(f.matched_by) AS matched_by
FROM ec2 e
JOIN ec2_package ep ON ep.ec2_id = e.id
JOIN package_finding f ON f.package_id = ep.package_id
JOIN advisory_range r ON r.id = f.range_id AND r.os_release = e.os_release
JOIN advisory a ON a.id = r.advisory_id
JOIN package p ON p.id = ep.package_id
WHERE e.id = CAST(:id AS text)
  AND a.withdrawn IS NULL
  AND (CAST(:after_rank AS bigint) IS NULL
    OR a.severity_rank < CAST(:after_rank AS bigint)
    OR (a.severity_rank = CAST(:after_rank AS bigint)
      AND (a.id, p.name, p.version) > (CAST(:after_advisory AS text), CAST(:after_name AS text),
          CAST(:after_version AS text))))
GROUP BY a.id, a.aliases, a.severity, a.severity_rank, p.name, p.version
ORDER BY a.severity_rank DESC, a.id, p.name, p.version
LIMIT CAST(:limit AS bigint)

-- fleet_vulnerabilities
SELECT t.counted_at, page.*
FROM fleet_tally t
LEFT JOIN (
    SELECT a.id AS advisory_id, CAST(a.aliases AS text) AS aliases, a.severity, a.severity_rank,
           a.summary, c.instances
    FROM (
        SELECT x.advisory_id, sum(x.instances) AS instances
        FROM advisory_exposure x
        WHERE (CAST(:account AS text) IS NULL OR x.account = CAST(:account AS text))
          AND (CAST(:region AS text) IS NULL OR x.region = CAST(:region AS text))
          AND (x.state = CAST(:state AS text)
            OR (CAST(:state AS text) IS NULL AND x.state IS DISTINCT FROM 'terminated'))
        GROUP BY x.advisory_id
    ) c
    JOIN advisory a ON a.id = c.advisory_id
    WHERE a.withdrawn IS NULL
      AND (CAST(:severity AS text) IS NULL OR a.severity = CAST(:severity AS text))
      AND (CAST(:after_rank AS bigint) IS NULL
        OR a.severity_rank < CAST(:after_rank AS bigint)
        OR (a.severity_rank = CAST(:after_rank AS bigint)
          AND (c.instances < CAST(:after_instances AS bigint)
            OR (c.instances = CAST(:after_instances AS bigint)
              AND a.id > CAST(:after_advisory AS text)))))
    ORDER BY a.severity_rank DESC, c.instances DESC, a.id
    LIMIT CAST(:limit AS bigint)
) page ON true
WHERE t.id = 1
ORDER BY page.severity_rank DESC, page.instances DESC, page.advisory_id

-- import_lock
SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(inventory_import_lock())) AS l

-- feed_state_read
SELECT feed, url, etag, last_modified, checked_at, succeeded_at, failed_at, error
FROM feed_state
ORDER BY feed

-- feed_succeeded
INSERT INTO feed_state (feed, url, etag, last_modified, checked_at, succeeded_at, failed_at, error)
VALUES (CAST(:feed AS text), CAST(:url AS text), CAST(:etag AS text),
        CAST(:last_modified AS text), CAST(:now AS timestamp), CAST(:now AS timestamp), NULL, NULL)
ON CONFLICT (feed) DO UPDATE
SET url = EXCLUDED.url, etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified,
    checked_at = EXCLUDED.checked_at, succeeded_at = EXCLUDED.succeeded_at, error = NULL

-- feed_failed
INSERT INTO feed_state (feed, checked_at, failed_at, error)
VALUES (CAST(:feed AS text), CAST(:now AS timestamp), CAST(:now AS timestamp), CAST(:error AS text))
ON CONFLICT (feed) DO UPDATE
SET checked_at = EXCLUDED.checked_at, failed_at = EXCLUDED.failed_at, error = EXCLUDED.error

-- findings_lock
SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(inventory_findings_lock())) AS l

-- fleet_tally_clear
UPDATE fleet_tally SET counted_at = NULL WHERE id = 1

-- count_fleet
SELECT counted
FROM inventory_count_fleet(CAST(:stale_before AS timestamp), CAST(:now AS timestamp),
    CAST(:names AS bigint))

-- schema version 1, statement 1
CREATE TABLE ec2 (
id varchar(255) COLLATE "C" PRIMARY KEY,
account varchar(12) NOT NULL,
region varchar(32) NOT NULL,
state varchar(16) CHECK (state IN ('pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated')),
instance_type varchar(255),
image_id varchar(255),
platform varchar(255),
launch_time timestamp(6),
tags jsonb NOT NULL DEFAULT '{}',
source varchar(8) NOT NULL CHECK (source IN ('event', 'api', 'sync')),
created timestamp(6) NOT NULL,
updated timestamp(6) NOT NULL,
terminated_at timestamp(6),
last_event_time timestamp(6),
inventory_captured_at timestamp(6)
)

-- schema version 1, statement 2
CREATE INDEX ec2_account_region ON ec2 (account, region)

-- schema version 1, statement 3
CREATE INDEX ec2_state_captured ON ec2 (state, inventory_captured_at)

-- schema version 1, statement 4
CREATE TABLE package (
id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
name varchar(255) COLLATE "C" NOT NULL,
version varchar(128) COLLATE "C" NOT NULL,
publisher varchar(255),
architecture varchar(32),
CONSTRAINT package_name_version UNIQUE (name, version)
)

-- schema version 1, statement 5
CREATE TABLE ec2_package (
ec2_id varchar(255) COLLATE "C" NOT NULL REFERENCES ec2 (id) ON DELETE CASCADE,
package_id bigint NOT NULL REFERENCES package (id),
PRIMARY KEY (ec2_id, package_id)
)

-- schema version 1, statement 6
CREATE INDEX ec2_package_package ON ec2_package (package_id, ec2_id)

-- schema version 3, statement 1
CREATE TABLE sync_cursor (
scope varchar(64) COLLATE "C" PRIMARY KEY,
position varchar(255) COLLATE "C",
pass_started timestamp(6),
passes_completed bigint NOT NULL DEFAULT 0,
lease_owner varchar(36),
lease_until timestamp(6),
updated timestamp(6) NOT NULL
)

-- schema version 3, statement 2
CREATE INDEX ec2_account_region_id ON ec2 (account, region, id)

-- schema version 4, statement 1
ALTER TABLE package ADD COLUMN version_key varchar(700) COLLATE "C"

-- schema version 4, statement 2
CREATE INDEX package_name_version_key ON package (name, version_key)

-- schema version 4, statement 3
CREATE TABLE ec2_history (
id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
ec2_id varchar(255) COLLATE "C" NOT NULL,
changed_at timestamp(6) NOT NULL,
source varchar(8) NOT NULL CHECK (source IN ('event', 'api', 'sync')),
kind varchar(9) NOT NULL CHECK (kind IN ('installed', 'removed', 'changed', 'state')),
package_name varchar(255) COLLATE "C",
old_version varchar(128) COLLATE "C",
new_version varchar(128) COLLATE "C",
old_state varchar(16),
new_state varchar(16)
)

-- schema version 4, statement 4
CREATE INDEX ec2_history_instance ON ec2_history (ec2_id, changed_at, id)

-- schema version 4, statement 5
CREATE INDEX ec2_history_package ON ec2_history (package_name, changed_at, id)

-- schema version 4, statement 6
CREATE INDEX ec2_history_at ON ec2_history (changed_at)

-- schema version 4, statement 7
DROP FUNCTION IF EXISTS inventory_link_packages(text, json, boolean)

-- schema version 6, statement 1
ALTER TABLE ec2 ADD COLUMN platform_name varchar(255),
ADD COLUMN platform_version varchar(64),
ADD COLUMN os_release varchar(32) COLLATE "C",
ADD COLUMN version_scheme varchar(8) CHECK (version_scheme IN ('dpkg', 'rpm', 'dotted', 'natural'))

-- schema version 6, statement 2
ALTER TABLE package ADD COLUMN scheme varchar(8),
ADD COLUMN source_name varchar(255) COLLATE "C"

-- schema version 6, statement 3
UPDATE package SET scheme = CASE left(version_key, 1)
WHEN 'd' THEN 'dpkg' WHEN 'r' THEN 'rpm' WHEN 'w' THEN 'dotted' ELSE 'natural' END

-- schema version 6, statement 4
ALTER TABLE package ALTER COLUMN scheme SET NOT NULL,
ADD CONSTRAINT package_scheme CHECK (scheme IN ('dpkg', 'rpm', 'dotted', 'natural')),
DROP CONSTRAINT package_name_version,
ADD CONSTRAINT package_identity UNIQUE (name, version, scheme)

-- schema version 6, statement 5
CREATE INDEX package_source_name ON package (source_name) WHERE source_name IS NOT NULL

-- schema version 6, statement 6
CREATE TABLE advisory (
id varchar(128) COLLATE "C" PRIMARY KEY,
feed varchar(8) NOT NULL CHECK (feed IN ('osv', 'alas')),
summary varchar(1000),
severity varchar(8) NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'unknown')),
severity_rank smallint NOT NULL,
aliases jsonb NOT NULL DEFAULT '[]',
published timestamp(6),
modified timestamp(6) NOT NULL,
withdrawn timestamp(6),
imported timestamp(6) NOT NULL
)

-- schema version 6, statement 7
CREATE TABLE advisory_alias (
alias varchar(128) COLLATE "C" NOT NULL,
advisory_id varchar(128) COLLATE "C" NOT NULL REFERENCES advisory (id) ON DELETE CASCADE,
PRIMARY KEY (alias, advisory_id)
)

-- schema version 6, statement 8
CREATE INDEX advisory_alias_advisory ON advisory_alias (advisory_id)

-- schema version 6, statement 9
CREATE TABLE advisory_range (
id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
advisory_id varchar(128) COLLATE "C" NOT NULL REFERENCES advisory (id) ON DELETE CASCADE,
os_release varchar(32) COLLATE "C" NOT NULL,
scheme varchar(8) NOT NULL,
package_name varchar(255) COLLATE "C" NOT NULL,
names_source boolean NOT NULL,
introduced_key varchar(700) COLLATE "C",
fixed_key varchar(700) COLLATE "C",
fixed_version varchar(128) COLLATE "C",
last_affected_key varchar(700) COLLATE "C"
)

-- schema version 6, statement 10
CREATE INDEX advisory_range_package ON advisory_range (package_name, os_release)

-- schema version 6, statement 11
CREATE INDEX advisory_range_advisory ON advisory_range (advisory_id)

-- schema version 6, statement 12
CREATE TABLE package_source_map (
os_release varchar(32) COLLATE "C" NOT NULL,
binary_name varchar(255) COLLATE "C" NOT NULL,
source_name varchar(255) COLLATE "C" NOT NULL,
PRIMARY KEY (os_release, binary_name)
)

-- schema version 6, statement 13
CREATE INDEX package_source_map_source ON package_source_map (os_release, source_name)

-- schema version 6, statement 14
CREATE INDEX package_source_map_binary ON package_source_map (binary_name)

-- schema version 6, statement 15
CREATE TABLE package_finding (
package_id bigint NOT NULL REFERENCES package (id),
range_id bigint NOT NULL REFERENCES advisory_range (id) ON DELETE CASCADE,
matched_by varchar(10) NOT NULL CHECK (matched_by IN ('package', 'source_map', 'source_rpm', 'same_name')),
PRIMARY KEY (package_id, range_id)
)

-- schema version 6, statement 16
CREATE INDEX package_finding_range ON package_finding (range_id, package_id)

-- schema version 6, statement 17
CREATE VIEW package_match AS
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

-- schema version 6, statement 18
DROP FUNCTION IF EXISTS inventory_link_packages(text, json, boolean, text, timestamp)

-- schema version 6, statement 19
DROP FUNCTION IF EXISTS inventory_lock_instance(text, text, text, text, text, text, text, timestamp, jsonb, text, timestamp, timestamp, timestamp, timestamp)

-- schema version 6, statement 20
DROP FUNCTION IF EXISTS inventory_write_instance(text, text, text, text, text, text, text, text, timestamp, jsonb, text, timestamp, json)

-- schema version 6, statement 21
DROP FUNCTION IF EXISTS inventory_replace_packages(text, timestamp, timestamp, text, json)

-- schema version 6, statement 22
DROP FUNCTION IF EXISTS inventory_apply_state(text, text, text, text, text, text, text, timestamp, jsonb, text, timestamp, timestamp, boolean, timestamp, json)

-- schema version 7, statement 1
ALTER TABLE ec2_package DROP CONSTRAINT IF EXISTS ec2_package_package_id_fkey

-- schema version 7, statement 2
ALTER TABLE ec2_package DROP CONSTRAINT IF EXISTS ec2_package_ec2_id_fkey

-- schema version 7, statement 3
CREATE FUNCTION inventory_unlink_deleted() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
BEGIN
DELETE FROM ec2_package WHERE ec2_id = OLD.id;
RETURN NULL;
END
$$

-- schema version 7, statement 4
CREATE TRIGGER ec2_unlink_deleted AFTER DELETE ON ec2
FOR EACH ROW EXECUTE FUNCTION inventory_unlink_deleted();

-- schema version 8, statement 1
CREATE TABLE scope_coverage (
account varchar(12) NOT NULL,
region varchar(32) NOT NULL,
first_seen timestamp(6) NOT NULL,
last_event_at timestamp(6),
last_sync_at timestamp(6),
last_pass_at timestamp(6),
last_error varchar(1000),
last_error_at timestamp(6),
PRIMARY KEY (account, region)
)

-- schema version 9, statement 1
CREATE TABLE feed_state (
feed varchar(100) COLLATE "C" PRIMARY KEY,
url text,
etag text,
last_modified text,
checked_at timestamp(6) NOT NULL,
succeeded_at timestamp(6),
failed_at timestamp(6),
error text
)

-- schema version 10, statement 1
CREATE TABLE fleet_tally (
id smallint PRIMARY KEY CHECK (id = 1),
counted_at timestamp(6)
)

-- schema version 10, statement 2
INSERT INTO fleet_tally (id) VALUES (1)

-- schema version 10, statement 3
CREATE TABLE advisory_exposure (
advisory_id varchar(128) COLLATE "C" NOT NULL,
account varchar(12) NOT NULL,
region varchar(32) NOT NULL,
state varchar(16),
instances bigint NOT NULL
)

-- schema version 10, statement 4
CREATE INDEX advisory_exposure_advisory ON advisory_exposure (advisory_id)

-- schema version 10, statement 5
CREATE TABLE package_spread (
name varchar(255) COLLATE "C" PRIMARY KEY,
installs bigint NOT NULL,
instances bigint NOT NULL,
versions bigint NOT NULL
)

-- schema version 10, statement 6
CREATE INDEX package_spread_installs ON package_spread (installs DESC, name)

-- routines, statement 1
CREATE OR REPLACE FUNCTION inventory_findings_lock() RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT 7411960006 $$

-- routines, statement 2
CREATE OR REPLACE FUNCTION inventory_import_lock() RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT 7411960007 $$

-- routines, statement 3
CREATE OR REPLACE FUNCTION inventory_link_packages(
p_id text, p_packages json, p_replace boolean, p_source text, p_at timestamp,
p_scheme text)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
v_names text[];
v_versions text[];
v_publishers text[];
v_architectures text[];
v_sources text[];
v_keys text[];
v_ids bigint[];
v_stale boolean[];
v_new boolean;
v_inserted bigint[] = '{}';
v_changed bigint[] = '{}';
v_linked bigint[];
v_came bigint[];
v_gone bigint[];
BEGIN
SELECT coalesce(array_agg(j.e ->> 'n' ORDER BY j.ord), '{}'),
coalesce(array_agg(j.e ->> 'v' ORDER BY j.ord), '{}'),
coalesce(array_agg(j.e ->> 'p' ORDER BY j.ord), '{}'),
coalesce(array_agg(j.e ->> 'a' ORDER BY j.ord), '{}'),
coalesce(array_agg(j.e ->> 's' ORDER BY j.ord), '{}'),
coalesce(array_agg(j.e ->> 'k' ORDER BY j.ord), '{}')
INTO v_names, v_versions, v_publishers, v_architectures, v_sources, v_keys
FROM json_array_elements(p_packages) WITH ORDINALITY AS j(e, ord);
FOR looked IN 1..2 LOOP
SELECT coalesce(array_agg(p.id ORDER BY u.ord), '{}'),
coalesce(array_agg(
(u.publisher IS NOT NULL AND p.publisher IS DISTINCT FROM u.publisher)
OR (u.architecture IS NOT NULL AND p.architecture IS DISTINCT FROM u.architecture)
OR (u.source_name IS NOT NULL AND p.source_name IS DISTINCT FROM u.source_name)
OR (p.version_key IS NULL AND u.version_key IS NOT NULL) ORDER BY u.ord), '{}'),
coalesce(bool_or(p.id IS NULL), false)
INTO v_ids, v_stale, v_new
FROM unnest(v_names, v_versions, v_publishers, v_architectures, v_sources, v_keys)
WITH ORDINALITY
AS u(name, version, publisher, architecture, source_name, version_key, ord)
LEFT JOIN package p ON p.name = u.name AND p.version = u.version AND p.scheme = p_scheme;
EXIT WHEN NOT v_new OR looked = 2;
WITH inserted AS (
INSERT INTO package (name, version, scheme, publisher, architecture, source_name,
version_key)
SELECT u.name, u.version, p_scheme, u.publisher, u.architecture, u.source_name,
u.version_key
FROM unnest(v_names, v_versions, v_publishers, v_architectures, v_sources, v_keys)
WITH ORDINALITY
AS u(name, version, publisher, architecture, source_name, version_key, ord)
WHERE v_ids[u.ord] IS NULL
ORDER BY u.ord
ON CONFLICT (name, version, scheme) DO NOTHING
RETURNING id
)
SELECT coalesce(array_agg(id), '{}') INTO v_inserted FROM inserted;
END LOOP;
IF true = ANY (v_stale) THEN
WITH changed AS (
UPDATE package p
SET publisher = coalesce(u.publisher, p.publisher),
architecture = coalesce(u.architecture, p.architecture),
source_name = coalesce(u.source_name, p.source_name),
version_key = coalesce(p.version_key, u.version_key)
FROM unnest(v_ids, v_stale, v_publishers, v_architectures, v_sources, v_keys)
AS u(id, stale, publisher, architecture, source_name, version_key)
WHERE p.id = u.id AND u.stale
RETURNING p.id
)
SELECT coalesce(array_agg(id), '{}') INTO v_changed FROM changed;
END IF;
IF v_inserted <> '{}' OR v_changed <> '{}' THEN
PERFORM pg_advisory_xact_lock_shared(inventory_findings_lock());
DELETE FROM package_finding WHERE package_id = ANY(v_changed);
INSERT INTO package_finding (package_id, range_id, matched_by)
SELECT m.package_id, m.range_id, m.matched_by
FROM package_match m
WHERE m.package_id = ANY(v_inserted || v_changed)
ON CONFLICT DO NOTHING;
END IF;
SELECT coalesce(array_agg(ep.package_id), '{}') INTO v_linked
FROM ec2_package ep WHERE ep.ec2_id = p_id;
IF v_linked = '{}' THEN
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version, new_version)
SELECT p_id, p_at, p_source, 'installed', u.name, NULL, u.version
FROM unnest(v_names, v_versions) AS u(name, version);
INSERT INTO ec2_package (ec2_id, package_id)
SELECT p_id, w.id FROM unnest(v_ids) AS w(id);
RETURN;
END IF;
v_came = ARRAY(SELECT unnest(v_ids) EXCEPT SELECT unnest(v_linked));
v_gone = CASE WHEN p_replace
THEN ARRAY(SELECT unnest(v_linked) EXCEPT SELECT unnest(v_ids)) ELSE '{}' END;
IF v_came = '{}' AND v_gone = '{}' THEN
RETURN;
END IF;
IF p_replace THEN
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version, new_version)
WITH unlinked AS (
SELECT p.name, p.version FROM unnest(v_gone) AS g(id) JOIN package p ON p.id = g.id
), linked AS (
SELECT p.name, p.version FROM unnest(v_came) AS c(id) JOIN package p ON p.id = c.id
), gone AS (
SELECT name, version FROM unlinked EXCEPT SELECT name, version FROM linked
), came AS (
SELECT name, version FROM linked EXCEPT SELECT name, version FROM unlinked
), changed AS (
SELECT g.name, min(g.version) AS old_version, min(c.version) AS new_version
FROM gone g JOIN came c ON c.name = g.name
GROUP BY g.name HAVING count(DISTINCT g.version) = 1 AND count(DISTINCT c.version) = 1
)
SELECT p_id, p_at, p_source, 'changed', name, old_version, new_version FROM changed
UNION ALL
SELECT p_id, p_at, p_source, 'removed', name, version, NULL FROM gone
WHERE name NOT IN (SELECT name FROM changed)
UNION ALL
SELECT p_id, p_at, p_source, 'installed', name, NULL, version FROM came
WHERE name NOT IN (SELECT name FROM changed);
DELETE FROM ec2_package ep
USING unnest(v_gone) AS g(id)
WHERE ep.ec2_id = p_id AND ep.package_id = g.id;
ELSE
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version, new_version)
SELECT p_id, p_at, p_source, 'installed', p.name, NULL, p.version
FROM unnest(v_came) AS c(id)
JOIN package p ON p.id = c.id
WHERE NOT EXISTS (
SELECT 1 FROM ec2_history h
WHERE h.ec2_id = p_id AND h.changed_at = p_at AND h.kind IN ('removed', 'changed')
AND h.package_name = p.name AND h.old_version = p.version);
IF EXISTS (
SELECT 1 FROM ec2_history h
WHERE h.ec2_id = p_id AND h.changed_at = p_at AND h.kind IN ('removed', 'changed')
) THEN
DELETE FROM ec2_history h
USING unnest(v_ids) AS w(id) JOIN package p ON p.id = w.id
WHERE h.ec2_id = p_id AND h.changed_at = p_at
AND h.kind = 'removed' AND h.package_name = p.name AND h.old_version = p.version;
UPDATE ec2_history h SET kind = 'installed', old_version = NULL
FROM unnest(v_ids) AS w(id) JOIN package p ON p.id = w.id
WHERE h.ec2_id = p_id AND h.changed_at = p_at
AND h.kind = 'changed' AND h.package_name = p.name AND h.old_version = p.version;
END IF;
END IF;
INSERT INTO ec2_package (ec2_id, package_id)
SELECT p_id, c.id FROM unnest(v_came) AS c(id);
END
$$

-- routines, statement 4
CREATE OR REPLACE FUNCTION inventory_lock_instance(
p_id text, p_account text, p_region text, p_state text,
p_instance_type text, p_image_id text, p_platform text, p_launch_time timestamp,
p_tags jsonb, p_source text, p_now timestamp, p_at timestamp,
p_captured_at timestamp, p_event_time timestamp,
p_platform_name text, p_platform_version text, p_os_release text, p_version_scheme text,
OUT old_state text, OUT inserted boolean)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
inserted = false;
SELECT e.state INTO old_state FROM ec2 e WHERE e.id = p_id FOR UPDATE;
IF FOUND THEN
RETURN;
END IF;
INSERT INTO ec2 (id, account, region, state, instance_type, image_id, platform,
launch_time, tags, source, created, updated, terminated_at, inventory_captured_at,
last_event_time, platform_name, platform_version, os_release, version_scheme)
VALUES (p_id, p_account, p_region, p_state, p_instance_type, p_image_id, p_platform,
p_launch_time, p_tags, p_source, p_now, p_now,
CASE WHEN p_state = 'terminated' THEN p_at END, p_captured_at, p_event_time,
p_platform_name, p_platform_version, p_os_release, p_version_scheme)
ON CONFLICT (id) DO NOTHING
RETURNING true INTO inserted;
IF inserted IS NULL THEN
inserted = false;
SELECT e.state INTO old_state FROM ec2 e WHERE e.id = p_id FOR UPDATE;
END IF;
END
$$

-- routines, statement 5
CREATE OR REPLACE FUNCTION inventory_write_instance(
p_mode text, p_id text, p_account text, p_region text, p_state text,
p_instance_type text, p_image_id text, p_platform text, p_launch_time timestamp,
p_tags jsonb, p_source text, p_now timestamp, p_packages json,
p_platform_name text, p_platform_version text, p_os_release text, p_version_scheme text)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
v_old_state text;
v_inserted boolean;
BEGIN
SELECT l.old_state, l.inserted INTO v_old_state, v_inserted
FROM inventory_lock_instance(p_id, p_account, p_region, p_state, p_instance_type,
p_image_id, p_platform, p_launch_time, p_tags, p_source, p_now, p_now, p_now, NULL,
p_platform_name, p_platform_version, p_os_release, p_version_scheme) AS l;
IF NOT v_inserted AND p_mode = 'create' THEN
RETURN 'skipped';
ELSIF NOT v_inserted THEN
UPDATE ec2 SET account = p_account, region = p_region, state = p_state,
instance_type = p_instance_type, image_id = p_image_id, platform = p_platform,
launch_time = p_launch_time, tags = p_tags, source = p_source, updated = p_now,
terminated_at = CASE WHEN p_state = 'terminated'
THEN coalesce(terminated_at, p_now) END,
inventory_captured_at = p_now, platform_name = p_platform_name,
platform_version = p_platform_version, os_release = p_os_release,
version_scheme = p_version_scheme
WHERE id = p_id;
END IF;
IF v_old_state IS DISTINCT FROM p_state THEN
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, old_state, new_state)
VALUES (p_id, p_now, p_source, 'state', v_old_state, p_state);
END IF;
PERFORM inventory_link_packages(p_id, p_packages, NOT v_inserted, p_source, p_now,
p_version_scheme);
RETURN CASE WHEN v_inserted THEN 'created' ELSE 'replaced' END;
END
$$

-- routines, statement 6
CREATE OR REPLACE FUNCTION inventory_replace_packages(
p_id text, p_captured_at timestamp, p_now timestamp, p_source text, p_packages json,
p_platform_name text, p_platform_version text, p_os_release text, p_version_scheme text)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
UPDATE ec2 SET inventory_captured_at = p_captured_at, updated = p_now, source = p_source,
platform_name = coalesce(p_platform_name, platform_name),
platform_version = coalesce(p_platform_version, platform_version),
os_release = coalesce(p_os_release, os_release), version_scheme = p_version_scheme
WHERE id = p_id
AND (inventory_captured_at IS NULL OR inventory_captured_at < p_captured_at);
IF NOT FOUND THEN
RETURN 'skipped';
END IF;
PERFORM inventory_link_packages(p_id, p_packages, true, p_source, p_captured_at,
p_version_scheme);
RETURN 'replaced';
END
$$

-- routines, statement 7
CREATE OR REPLACE FUNCTION inventory_apply_state(
p_id text, p_account text, p_region text, p_state text,
p_instance_type text, p_image_id text, p_platform text, p_launch_time timestamp,
p_tags jsonb, p_source text, p_now timestamp, p_time timestamp, p_has_details boolean,
p_captured_at timestamp, p_packages json,
p_platform_name text, p_platform_version text, p_os_release text, p_version_scheme text)
RETURNS TABLE (state_applied boolean, packages_written boolean)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
v_old_state text;
BEGIN
SELECT l.old_state, l.inserted INTO v_old_state, state_applied
FROM inventory_lock_instance(p_id, p_account, p_region, p_state, p_instance_type,
p_image_id, p_platform, p_launch_time, p_tags, p_source, p_now, p_time, NULL, p_time,
NULL, NULL, NULL, NULL) AS l;
IF NOT state_applied THEN
UPDATE ec2 e SET account = p_account, region = p_region, state = p_state,
instance_type = CASE WHEN p_has_details THEN p_instance_type ELSE e.instance_type END,
image_id = CASE WHEN p_has_details THEN p_image_id ELSE e.image_id END,
platform = CASE WHEN p_has_details THEN p_platform ELSE e.platform END,
launch_time = CASE WHEN p_has_details THEN p_launch_time ELSE e.launch_time END,
tags = CASE WHEN p_has_details THEN p_tags ELSE e.tags END,
source = p_source, updated = p_now,
terminated_at = CASE WHEN p_state = 'terminated'
THEN coalesce(e.terminated_at, p_time) ELSE e.terminated_at END,
last_event_time = p_time
WHERE e.id = p_id AND (e.last_event_time IS NULL OR e.last_event_time < p_time);
state_applied = FOUND;
END IF;
IF state_applied AND v_old_state IS DISTINCT FROM p_state THEN
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, old_state, new_state)
VALUES (p_id, p_time, p_source, 'state', v_old_state, p_state);
END IF;
packages_written = false;
IF p_packages IS NOT NULL THEN
UPDATE ec2 e SET inventory_captured_at = p_captured_at, updated = p_now, source = p_source,
platform_name = coalesce(p_platform_name, e.platform_name),
platform_version = coalesce(p_platform_version, e.platform_version),
os_release = coalesce(p_os_release, e.os_release), version_scheme = p_version_scheme
WHERE e.id = p_id AND e.state = 'running' AND e.last_event_time = p_time
AND (state_applied OR e.inventory_captured_at IS NULL)
AND (e.inventory_captured_at IS NULL OR e.inventory_captured_at < p_captured_at);
IF FOUND THEN
PERFORM inventory_link_packages(p_id, p_packages, true, p_source, p_captured_at,
p_version_scheme);
packages_written = true;
END IF;
END IF;
RETURN NEXT;
END
$$

-- routines, statement 8
CREATE OR REPLACE FUNCTION inventory_count_fleet(
p_stale_before timestamp, p_now timestamp, p_names bigint)
RETURNS TABLE (counted boolean) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
UPDATE fleet_tally SET counted_at = p_now
WHERE id = 1 AND (counted_at IS NULL OR counted_at < p_stale_before);
counted = FOUND;
IF counted THEN
DELETE FROM advisory_exposure;
INSERT INTO advisory_exposure (advisory_id, account, region, state, instances)
SELECT r.advisory_id, e.account, e.region, e.state, count(DISTINCT ep.ec2_id)
FROM advisory_range r
JOIN package_finding f ON f.range_id = r.id
JOIN ec2_package ep ON ep.package_id = f.package_id
JOIN ec2 e ON e.id = ep.ec2_id AND e.os_release = r.os_release
GROUP BY r.advisory_id, e.account, e.region, e.state;
DELETE FROM package_spread;
INSERT INTO package_spread (name, installs, instances, versions)
SELECT r.name, r.installs,
(SELECT count(DISTINCT ep.ec2_id)
FROM package p JOIN ec2_package ep ON ep.package_id = p.id
WHERE p.name = r.name),
r.versions
FROM (
SELECT p.name, sum(links.installs) AS installs, count(*) AS versions
FROM (SELECT ep.package_id, count(*) AS installs
FROM ec2_package ep GROUP BY ep.package_id) links
JOIN package p ON p.id = links.package_id
GROUP BY p.name
ORDER BY installs DESC, p.name
LIMIT p_names
) r;
END IF;
RETURN NEXT;
END
$$
