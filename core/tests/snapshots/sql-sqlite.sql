-- Every statement the store sends to sqlite, rendered by the test
-- store::sql::tests::sql_snapshot (core/src/store/sql/mod.rs).
-- Regenerate: UPDATE_SQL_SNAPSHOT=1 cargo test -p inventory-core --lib sql_snapshot

-- write_instance
INSERT INTO ec2 (id, account, region, state, instance_type, image_id, platform, launch_time,
                 tags, source, created, updated, terminated_at, last_event_time,
                 inventory_captured_at)
VALUES (:id, :account, :region, :state, :instance_type, :image_id, :platform, :launch_time,
        :tags, :source, :now, :now, CASE WHEN :state = 'terminated' THEN :now END, NULL,
        :now)
ON CONFLICT (id) DO UPDATE SET
    account = EXCLUDED.account,
    region = EXCLUDED.region,
    state = EXCLUDED.state,
    instance_type = EXCLUDED.instance_type,
    image_id = EXCLUDED.image_id,
    platform = EXCLUDED.platform,
    launch_time = EXCLUDED.launch_time,
    tags = EXCLUDED.tags,
    source = EXCLUDED.source,
    updated = EXCLUDED.updated,
    terminated_at = CASE WHEN EXCLUDED.state = 'terminated'
                         THEN COALESCE(ec2.terminated_at, EXCLUDED.terminated_at) END,
    inventory_captured_at = EXCLUDED.inventory_captured_at
WHERE :mode = 'put'
RETURNING id, created = :now AS created

-- set_captured
UPDATE ec2
SET inventory_captured_at = :captured_at, updated = :now, source = :source
WHERE id = :id
  AND (inventory_captured_at IS NULL OR inventory_captured_at < :captured_at)

-- set_captured_after_state
UPDATE ec2
SET inventory_captured_at = :captured_at, updated = :now, source = :source
WHERE id = :id
  AND state = 'running'
  AND last_event_time = :time
  AND (:state_applied = 1 OR inventory_captured_at IS NULL)
  AND (inventory_captured_at IS NULL OR inventory_captured_at < :captured_at)

-- unlink_packages
DELETE FROM ec2_package WHERE ec2_id = :id

-- upsert_packages
INSERT INTO package (name, version, publisher, architecture, version_key)
SELECT json_extract(j.value, '$.n'), json_extract(j.value, '$.v'),
       json_extract(j.value, '$.p'), json_extract(j.value, '$.a'), json_extract(j.value, '$.k')
FROM json_each(:packages) AS j
WHERE true
ORDER BY j.key
ON CONFLICT (name, version) DO UPDATE SET
    publisher = COALESCE(excluded.publisher, package.publisher),
    architecture = COALESCE(excluded.architecture, package.architecture),
    version_key = COALESCE(package.version_key, excluded.version_key)

-- link_packages
INSERT INTO ec2_package (ec2_id, package_id)
SELECT :id, p.id
FROM json_each(:packages) AS j
JOIN package p ON p.name = json_extract(j.value, '$.n') AND p.version = json_extract(j.value, '$.v')

-- upsert_state
INSERT INTO ec2 (id, account, region, state, instance_type, image_id, platform, launch_time,
                 tags, source, created, updated, terminated_at, last_event_time,
                 inventory_captured_at)
VALUES (:id, :account, :region, :state, :instance_type, :image_id, :platform, :launch_time,
        :tags, :source, :now, :now, CASE WHEN :state = 'terminated' THEN :time END, :time,
        NULL)
ON CONFLICT (id) DO UPDATE SET
    account = EXCLUDED.account,
    region = EXCLUDED.region,
    state = EXCLUDED.state,
    instance_type = CASE WHEN :has_details = 1 THEN EXCLUDED.instance_type ELSE ec2.instance_type END,
    image_id = CASE WHEN :has_details = 1 THEN EXCLUDED.image_id ELSE ec2.image_id END,
    platform = CASE WHEN :has_details = 1 THEN EXCLUDED.platform ELSE ec2.platform END,
    launch_time = CASE WHEN :has_details = 1 THEN EXCLUDED.launch_time ELSE ec2.launch_time END,
    tags = CASE WHEN :has_details = 1 THEN EXCLUDED.tags ELSE ec2.tags END,
    source = EXCLUDED.source,
    updated = EXCLUDED.updated,
    terminated_at = CASE WHEN EXCLUDED.state = 'terminated'
                         THEN COALESCE(ec2.terminated_at, EXCLUDED.terminated_at)
                         ELSE ec2.terminated_at END,
    last_event_time = EXCLUDED.last_event_time
WHERE ec2.last_event_time IS NULL OR ec2.last_event_time < EXCLUDED.last_event_time

-- record_changes
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version, new_version)
WITH wanted AS (
    SELECT p.id, p.name, p.version
    FROM json_each(:packages) AS j
    JOIN package p ON p.name = json_extract(j.value, '$.n') AND p.version = json_extract(j.value, '$.v')
), gone AS (
    SELECT p.name, p.version
    FROM ec2_package ep
    JOIN package p ON p.id = ep.package_id
    WHERE ep.ec2_id = :id AND ep.package_id NOT IN (SELECT id FROM wanted)
), came AS (
    SELECT w.name, w.version
    FROM wanted w
    WHERE NOT EXISTS (SELECT 1 FROM ec2_package ep WHERE ep.ec2_id = :id AND ep.package_id = w.id)
), changed AS (
    SELECT g.name, MIN(g.version) AS old_version, MIN(c.version) AS new_version
    FROM gone g JOIN came c ON c.name = g.name
    GROUP BY g.name HAVING COUNT(DISTINCT g.version) = 1 AND COUNT(DISTINCT c.version) = 1
)
SELECT :id, :at, :source, 'changed', name, old_version, new_version FROM changed
UNION ALL
SELECT :id, :at, :source, 'removed', name, version, NULL FROM gone
WHERE name NOT IN (SELECT name FROM changed)
UNION ALL
SELECT :id, :at, :source, 'installed', name, NULL, version FROM came
WHERE name NOT IN (SELECT name FROM changed)

-- record_installs
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version, new_version)
SELECT :id, :at, :source, 'installed', p.name, NULL, p.version
FROM json_each(:packages) AS j
JOIN package p ON p.name = json_extract(j.value, '$.n') AND p.version = json_extract(j.value, '$.v')
WHERE NOT EXISTS (SELECT 1 FROM ec2_package ep WHERE ep.ec2_id = :id AND ep.package_id = p.id)
  AND NOT EXISTS (
      SELECT 1 FROM ec2_history h
      WHERE h.ec2_id = :id AND h.changed_at = :at AND h.kind IN ('removed', 'changed')
        AND h.package_name = p.name AND h.old_version = p.version)

-- take_back_removals
DELETE FROM ec2_history
WHERE ec2_id = :id AND changed_at = :at AND kind = 'removed'
  AND EXISTS (
      SELECT 1 FROM json_each(:packages) AS j
      WHERE json_extract(j.value, '$.n') = ec2_history.package_name
        AND json_extract(j.value, '$.v') = ec2_history.old_version)

-- take_back_changes
UPDATE ec2_history SET kind = 'installed', old_version = NULL
WHERE ec2_id = :id AND changed_at = :at AND kind = 'changed'
  AND EXISTS (
      SELECT 1 FROM json_each(:packages) AS j
      WHERE json_extract(j.value, '$.n') = ec2_history.package_name
        AND json_extract(j.value, '$.v') = ec2_history.old_version)

-- record_state_write
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, old_state, new_state)
SELECT :id, :now, :source, 'state', stored.state, :state
FROM (SELECT (SELECT state FROM ec2 WHERE id = :id) AS state,
             EXISTS (SELECT 1 FROM ec2 WHERE id = :id) AS known) AS stored
WHERE stored.state IS NOT :state AND NOT (stored.known AND :mode = 'create')

-- record_state_event
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, old_state, new_state)
SELECT :id, :time, :source, 'state', (SELECT state FROM ec2 WHERE id = :id), :state
WHERE NOT EXISTS (
    SELECT 1 FROM ec2
    WHERE id = :id AND (state IS :state OR last_event_time >= :time))

-- get_instance
SELECT 0 AS part, account, region, state, instance_type, image_id, platform, launch_time,
       tags, source, created, updated, terminated_at, last_event_time, inventory_captured_at,
       NULL AS packages
FROM ec2 WHERE id = :id
UNION ALL SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       json_group_array(json_array(name, version, publisher, architecture))
FROM (
    SELECT p.name, p.version, p.publisher, p.architecture,
           SUM(length(CAST(p.name || p.version || coalesce(p.publisher, '') || coalesce(p.architecture, '') AS BLOB))
               + 16) OVER (ORDER BY p.id) AS running
    FROM ec2_package ep
    JOIN package p ON p.id = ep.package_id
    WHERE ep.ec2_id = :id
) s
GROUP BY running / 16384
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
ON CONFLICT (scope) DO NOTHING

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
WHERE id IN (
    SELECT id FROM ec2_history
    WHERE changed_at < :before
    ORDER BY changed_at
    LIMIT :limit)

-- schema_version_create
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)

-- schema_version_read
SELECT COALESCE(MAX(version), 0) AS version FROM schema_version

-- schema_version_record
INSERT INTO schema_version (version, applied) VALUES (:version, :applied)

-- schema version 1, statement 1
CREATE TABLE ec2 (
id TEXT NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
account TEXT NOT NULL CHECK (length(account) = 12),
region TEXT NOT NULL CHECK (length(region) <= 32),
state TEXT CHECK (state IN ('pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated')),
instance_type TEXT,
image_id TEXT,
platform TEXT,
launch_time TEXT,
tags TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(tags)),
source TEXT NOT NULL CHECK (source IN ('event', 'api', 'sync')),
created TEXT NOT NULL,
updated TEXT NOT NULL,
terminated_at TEXT,
last_event_time TEXT,
inventory_captured_at TEXT
)

-- schema version 1, statement 2
CREATE INDEX ec2_account_region ON ec2 (account, region)

-- schema version 1, statement 3
CREATE INDEX ec2_state_captured ON ec2 (state, inventory_captured_at)

-- schema version 1, statement 4
CREATE TABLE package (
id INTEGER PRIMARY KEY,
name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
version TEXT NOT NULL CHECK (length(version) <= 128),
publisher TEXT CHECK (length(publisher) <= 255),
architecture TEXT CHECK (length(architecture) <= 32),
UNIQUE (name, version)
)

-- schema version 1, statement 5
CREATE TABLE ec2_package (
ec2_id TEXT NOT NULL REFERENCES ec2 (id) ON DELETE CASCADE,
package_id INTEGER NOT NULL REFERENCES package (id),
PRIMARY KEY (ec2_id, package_id)
) WITHOUT ROWID

-- schema version 1, statement 6
CREATE INDEX ec2_package_package ON ec2_package (package_id, ec2_id)

-- schema version 3, statement 1
CREATE TABLE sync_cursor (
scope TEXT NOT NULL PRIMARY KEY,
position TEXT,
pass_started TEXT,
passes_completed INTEGER NOT NULL DEFAULT 0,
lease_owner TEXT,
lease_until TEXT,
updated TEXT NOT NULL
)

-- schema version 3, statement 2
CREATE INDEX ec2_account_region_id ON ec2 (account, region, id)

-- schema version 4, statement 1
ALTER TABLE package ADD COLUMN version_key TEXT CHECK (length(CAST(version_key AS BLOB)) <= 700)

-- schema version 4, statement 2
CREATE INDEX package_name_version_key ON package (name, version_key)

-- schema version 4, statement 3
CREATE TABLE ec2_history (
id INTEGER PRIMARY KEY,
ec2_id TEXT NOT NULL,
changed_at TEXT NOT NULL,
source TEXT NOT NULL CHECK (source IN ('event', 'api', 'sync')),
kind TEXT NOT NULL CHECK (kind IN ('installed', 'removed', 'changed', 'state')),
package_name TEXT,
old_version TEXT,
new_version TEXT,
old_state TEXT,
new_state TEXT
)

-- schema version 4, statement 4
CREATE INDEX ec2_history_instance ON ec2_history (ec2_id, changed_at, id)

-- schema version 4, statement 5
CREATE INDEX ec2_history_package ON ec2_history (package_name, changed_at, id)

-- schema version 4, statement 6
CREATE INDEX ec2_history_at ON ec2_history (changed_at)
