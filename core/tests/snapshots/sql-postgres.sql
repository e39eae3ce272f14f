-- Every statement the store sends to postgres, rendered by the test
-- store::sql::tests::sql_snapshot (core/src/store/sql/mod.rs).
-- Regenerate: UPDATE_SQL_SNAPSHOT=1 cargo test -p inventory-core --lib sql_snapshot

-- call_write_instance
SELECT inventory_write_instance(
    CAST(:mode AS text), CAST(:id AS text), CAST(:account AS text), CAST(:region AS text),
    CAST(:state AS text), CAST(:instance_type AS text), CAST(:image_id AS text),
    CAST(:platform AS text), CAST(:launch_time AS timestamp), CAST(:tags AS jsonb),
    CAST(:source AS text), CAST(:now AS timestamp), CAST(:packages AS json)) AS written

-- call_replace_packages
SELECT inventory_replace_packages(
    CAST(:id AS text), CAST(:captured_at AS timestamp), CAST(:now AS timestamp),
    CAST(:source AS text), CAST(:packages AS json)) AS written

-- call_apply_state
SELECT state_applied, packages_written
FROM inventory_apply_state(
    CAST(:id AS text), CAST(:account AS text), CAST(:region AS text), CAST(:state AS text),
    CAST(:instance_type AS text), CAST(:image_id AS text), CAST(:platform AS text),
    CAST(:launch_time AS timestamp), CAST(:tags AS jsonb), CAST(:source AS text),
    CAST(:now AS timestamp), CAST(:time AS timestamp), CAST(:has_details AS bigint) = 1,
    CAST(:captured_at AS timestamp), CAST(:packages AS json))

-- call_link_packages
SELECT 1 FROM inventory_link_packages(
    CAST(:id AS text), CAST(:packages AS json), false, CAST(:source AS text),
    CAST(:at AS timestamp))

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
       inventory_captured_at, NULL AS packages
FROM ec2 WHERE id = CAST(:id AS text)
UNION ALL SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       CAST(array_to_json(array_agg(to_json(ARRAY[name, version, publisher, architecture]))) AS text)
FROM (
    SELECT p.name, p.version, p.publisher, p.architecture,
           SUM(octet_length(p.name || p.version || coalesce(p.publisher, '') || coalesce(p.architecture, ''))
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
       inventory_captured_at
FROM ec2
WHERE id = CAST(:id AS text)

-- get_packages_page
SELECT p.id, p.name, p.version, p.publisher, p.architecture
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
  AND (inventory_captured_at IS NULL OR inventory_captured_at < CAST(:older_than AS timestamp))
ORDER BY inventory_captured_at IS NOT NULL, inventory_captured_at, id
LIMIT CAST(:limit AS bigint)

-- package_versions
SELECT p.name, p.version, COUNT(*) AS instances
FROM package p
JOIN ec2_package ep ON ep.package_id = p.id
WHERE p.name = CAST(:name AS text)
GROUP BY p.id, p.name, p.version

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

-- prune_history
DELETE FROM ec2_history
WHERE id IN (
    SELECT id FROM ec2_history
    WHERE changed_at < CAST(:before AS timestamp)
    ORDER BY changed_at
    LIMIT CAST(:limit AS bigint))

-- schema_version_create
CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied timestamp(6) NOT NULL)

-- schema_version_read
SELECT COALESCE(MAX(version), 0) AS version FROM schema_version

-- schema_version_record
INSERT INTO schema_version (version, applied) VALUES (:version, CAST(:applied AS timestamp))

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

-- routines, statement 1
CREATE OR REPLACE FUNCTION inventory_link_packages(
p_id text, p_packages json, p_replace boolean, p_source text, p_at timestamp)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
v_names text[];
v_versions text[];
v_publishers text[];
v_architectures text[];
v_keys text[];
v_ids bigint[];
v_linked bigint[];
BEGIN
SELECT coalesce(array_agg(j.e ->> 'n' ORDER BY j.ord), '{}'),
coalesce(array_agg(j.e ->> 'v' ORDER BY j.ord), '{}'),
coalesce(array_agg(j.e ->> 'p' ORDER BY j.ord), '{}'),
coalesce(array_agg(j.e ->> 'a' ORDER BY j.ord), '{}'),
coalesce(array_agg(j.e ->> 'k' ORDER BY j.ord), '{}')
INTO v_names, v_versions, v_publishers, v_architectures, v_keys
FROM json_array_elements(p_packages) WITH ORDINALITY AS j(e, ord);
INSERT INTO package (name, version, publisher, architecture, version_key)
SELECT u.name, u.version, u.publisher, u.architecture, u.version_key
FROM unnest(v_names, v_versions, v_publishers, v_architectures, v_keys) WITH ORDINALITY
AS u(name, version, publisher, architecture, version_key, ord)
ORDER BY u.ord
ON CONFLICT (name, version) DO NOTHING;
UPDATE package p
SET publisher = coalesce(u.publisher, p.publisher),
architecture = coalesce(u.architecture, p.architecture),
version_key = coalesce(p.version_key, u.version_key)
FROM unnest(v_names, v_versions, v_publishers, v_architectures, v_keys)
AS u(name, version, publisher, architecture, version_key)
WHERE p.name = u.name AND p.version = u.version
AND ((u.publisher IS NOT NULL AND p.publisher IS DISTINCT FROM u.publisher)
OR (u.architecture IS NOT NULL AND p.architecture IS DISTINCT FROM u.architecture)
OR (p.version_key IS NULL AND u.version_key IS NOT NULL));
SELECT coalesce(array_agg(p.id), '{}') INTO v_ids
FROM unnest(v_names, v_versions) AS u(name, version)
JOIN package p ON p.name = u.name AND p.version = u.version;
SELECT coalesce(array_agg(ep.package_id), '{}') INTO v_linked
FROM ec2_package ep WHERE ep.ec2_id = p_id;
IF v_linked = '{}' THEN
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version, new_version)
SELECT p_id, p_at, p_source, 'installed', p.name, NULL, p.version
FROM unnest(v_ids) AS w(id) JOIN package p ON p.id = w.id;
ELSIF p_replace THEN
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version, new_version)
WITH gone AS (
SELECT p.name, p.version
FROM (SELECT unnest(v_linked) EXCEPT SELECT unnest(v_ids)) AS g(id)
JOIN package p ON p.id = g.id
), came AS (
SELECT p.name, p.version
FROM (SELECT unnest(v_ids) EXCEPT SELECT unnest(v_linked)) AS c(id)
JOIN package p ON p.id = c.id
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
DELETE FROM ec2_package
WHERE ec2_id = p_id AND package_id NOT IN (SELECT unnest(v_ids));
ELSE
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version, new_version)
SELECT p_id, p_at, p_source, 'installed', p.name, NULL, p.version
FROM (SELECT unnest(v_ids) EXCEPT SELECT unnest(v_linked)) AS c(id)
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
SELECT p_id, c.id
FROM (SELECT unnest(v_ids) EXCEPT SELECT unnest(v_linked)) AS c(id)
ON CONFLICT DO NOTHING;
END
$$

-- routines, statement 2
CREATE OR REPLACE FUNCTION inventory_lock_instance(
p_id text, p_account text, p_region text, p_state text,
p_instance_type text, p_image_id text, p_platform text, p_launch_time timestamp,
p_tags jsonb, p_source text, p_now timestamp, p_at timestamp,
p_captured_at timestamp, p_event_time timestamp,
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
last_event_time)
VALUES (p_id, p_account, p_region, p_state, p_instance_type, p_image_id, p_platform,
p_launch_time, p_tags, p_source, p_now, p_now,
CASE WHEN p_state = 'terminated' THEN p_at END, p_captured_at, p_event_time)
ON CONFLICT (id) DO NOTHING
RETURNING true INTO inserted;
IF inserted IS NULL THEN
inserted = false;
SELECT e.state INTO old_state FROM ec2 e WHERE e.id = p_id FOR UPDATE;
END IF;
END
$$

-- routines, statement 3
CREATE OR REPLACE FUNCTION inventory_write_instance(
p_mode text, p_id text, p_account text, p_region text, p_state text,
p_instance_type text, p_image_id text, p_platform text, p_launch_time timestamp,
p_tags jsonb, p_source text, p_now timestamp, p_packages json)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
v_old_state text;
v_inserted boolean;
BEGIN
SELECT l.old_state, l.inserted INTO v_old_state, v_inserted
FROM inventory_lock_instance(p_id, p_account, p_region, p_state, p_instance_type,
p_image_id, p_platform, p_launch_time, p_tags, p_source, p_now, p_now, p_now, NULL) AS l;
IF NOT v_inserted AND p_mode = 'create' THEN
RETURN 'skipped';
ELSIF NOT v_inserted THEN
UPDATE ec2 SET account = p_account, region = p_region, state = p_state,
instance_type = p_instance_type, image_id = p_image_id, platform = p_platform,
launch_time = p_launch_time, tags = p_tags, source = p_source, updated = p_now,
terminated_at = CASE WHEN p_state = 'terminated'
THEN coalesce(terminated_at, p_now) END,
inventory_captured_at = p_now
WHERE id = p_id;
END IF;
IF v_old_state IS DISTINCT FROM p_state THEN
INSERT INTO ec2_history (ec2_id, changed_at, source, kind, old_state, new_state)
VALUES (p_id, p_now, p_source, 'state', v_old_state, p_state);
END IF;
PERFORM inventory_link_packages(p_id, p_packages, NOT v_inserted, p_source, p_now);
RETURN CASE WHEN v_inserted THEN 'created' ELSE 'replaced' END;
END
$$

-- routines, statement 4
CREATE OR REPLACE FUNCTION inventory_replace_packages(
p_id text, p_captured_at timestamp, p_now timestamp, p_source text, p_packages json)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
UPDATE ec2 SET inventory_captured_at = p_captured_at, updated = p_now, source = p_source
WHERE id = p_id
AND (inventory_captured_at IS NULL OR inventory_captured_at < p_captured_at);
IF NOT FOUND THEN
RETURN 'skipped';
END IF;
PERFORM inventory_link_packages(p_id, p_packages, true, p_source, p_captured_at);
RETURN 'replaced';
END
$$

-- routines, statement 5
CREATE OR REPLACE FUNCTION inventory_apply_state(
p_id text, p_account text, p_region text, p_state text,
p_instance_type text, p_image_id text, p_platform text, p_launch_time timestamp,
p_tags jsonb, p_source text, p_now timestamp, p_time timestamp, p_has_details boolean,
p_captured_at timestamp, p_packages json)
RETURNS TABLE (state_applied boolean, packages_written boolean)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
v_old_state text;
BEGIN
SELECT l.old_state, l.inserted INTO v_old_state, state_applied
FROM inventory_lock_instance(p_id, p_account, p_region, p_state, p_instance_type,
p_image_id, p_platform, p_launch_time, p_tags, p_source, p_now, p_time, NULL, p_time) AS l;
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
UPDATE ec2 e SET inventory_captured_at = p_captured_at, updated = p_now, source = p_source
WHERE e.id = p_id AND e.state = 'running' AND e.last_event_time = p_time
AND (state_applied OR e.inventory_captured_at IS NULL)
AND (e.inventory_captured_at IS NULL OR e.inventory_captured_at < p_captured_at);
IF FOUND THEN
PERFORM inventory_link_packages(p_id, p_packages, true, p_source, p_captured_at);
packages_written = true;
END IF;
END IF;
RETURN NEXT;
END
$$
