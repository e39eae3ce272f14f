-- Every statement the store sends to sqlite, rendered by the test
-- store::sql::tests::sql_snapshot (core/src/store/sql/mod.rs).
-- Regenerate: UPDATE_SQL_SNAPSHOT=1 cargo test -p inventory-core --lib sql_snapshot

-- write_instance
INSERT INTO ec2 (id, account, region, state, instance_type, image_id, platform, launch_time,
                 tags, source, created, updated, terminated_at, last_event_time,
                 inventory_captured_at, platform_name, platform_version, os_release,
                 version_scheme)
VALUES (:id, :account, :region, :state, :instance_type, :image_id, :platform, :launch_time,
        :tags, :source, :now, :now, CASE WHEN :state = 'terminated' THEN :now END, NULL,
        :now, :platform_name, :platform_version, :os_release, :version_scheme)
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
    inventory_captured_at = EXCLUDED.inventory_captured_at,
    platform_name = EXCLUDED.platform_name,
    platform_version = EXCLUDED.platform_version,
    os_release = EXCLUDED.os_release,
    version_scheme = EXCLUDED.version_scheme
WHERE :mode = 'put'
RETURNING id, created = :now AS created

-- set_captured
UPDATE ec2
SET inventory_captured_at = :captured_at, updated = :now, source = :source,
    platform_name = COALESCE(:platform_name, platform_name),
    platform_version = COALESCE(:platform_version, platform_version),
    os_release = COALESCE(:os_release, os_release), version_scheme = :version_scheme
WHERE id = :id
  AND (inventory_captured_at IS NULL OR inventory_captured_at < :captured_at)

-- set_captured_after_state
UPDATE ec2
SET inventory_captured_at = :captured_at, updated = :now, source = :source,
    platform_name = COALESCE(:platform_name, platform_name),
    platform_version = COALESCE(:platform_version, platform_version),
    os_release = COALESCE(:os_release, os_release), version_scheme = :version_scheme
WHERE id = :id
  AND state = 'running'
  AND last_event_time = :time
  AND (:state_applied = 1 OR inventory_captured_at IS NULL)
  AND (inventory_captured_at IS NULL OR inventory_captured_at < :captured_at)

-- unlink_packages
DELETE FROM ec2_package WHERE ec2_id = :id

-- upsert_packages
INSERT INTO package (name, version, scheme, publisher, architecture, source_name, version_key)
SELECT json_extract(j.value, '$.n'), json_extract(j.value, '$.v'), :version_scheme,
       json_extract(j.value, '$.p'), json_extract(j.value, '$.a'), json_extract(j.value, '$.s'),
       json_extract(j.value, '$.k')
FROM json_each(:packages) AS j
WHERE true
ORDER BY j.key
ON CONFLICT (name, version, scheme) DO UPDATE SET
    publisher = COALESCE(excluded.publisher, package.publisher),
    architecture = COALESCE(excluded.architecture, package.architecture),
    source_name = COALESCE(excluded.source_name, package.source_name),
    version_key = COALESCE(package.version_key, excluded.version_key)

-- link_packages
INSERT INTO ec2_package (ec2_id, package_id)
SELECT :id, p.id
FROM json_each(:packages) AS j
JOIN package p ON p.name = json_extract(j.value, '$.n') AND p.version = json_extract(j.value, '$.v')
    AND p.scheme = :version_scheme

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
    AND p.scheme = :version_scheme
), unlinked AS (
    SELECT p.name, p.version
    FROM ec2_package ep
    JOIN package p ON p.id = ep.package_id
    WHERE ep.ec2_id = :id AND ep.package_id NOT IN (SELECT id FROM wanted)
), linked AS (
    SELECT w.name, w.version
    FROM wanted w
    WHERE NOT EXISTS (SELECT 1 FROM ec2_package ep WHERE ep.ec2_id = :id AND ep.package_id = w.id)
), gone AS (
    SELECT name, version FROM unlinked EXCEPT SELECT name, version FROM linked
), came AS (
    SELECT name, version FROM linked EXCEPT SELECT name, version FROM unlinked
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
    AND p.scheme = :version_scheme
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
       platform_name, platform_version, os_release, version_scheme, NULL AS packages
FROM ec2 WHERE id = :id
UNION ALL SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL,
       json_group_array(json_array(name, version, publisher, architecture, source_name))
FROM (
    SELECT p.name, p.version, p.publisher, p.architecture, p.source_name,
           SUM(length(CAST(p.name || p.version || coalesce(p.publisher, '') || coalesce(p.architecture, '')
                           || coalesce(p.source_name, '') AS BLOB))
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
WHERE id IN (
    SELECT id FROM ec2_history
    WHERE changed_at < :before
    ORDER BY changed_at
    LIMIT :limit)

-- scope_event
INSERT INTO scope_coverage (account, region, first_seen, last_event_at, last_error, last_error_at)
VALUES (:account, :region, :now, :event_at, :error, :error_at)
ON CONFLICT (account, region) DO UPDATE
SET last_event_at = MAX(COALESCE(last_event_at, excluded.last_event_at),
                        COALESCE(excluded.last_event_at, last_event_at)),
    last_error = COALESCE(excluded.last_error, last_error),
    last_error_at = COALESCE(excluded.last_error_at, last_error_at)

-- scope_sync
INSERT INTO scope_coverage (account, region, first_seen, last_sync_at, last_pass_at, last_error, last_error_at)
VALUES (:account, :region, :now, :synced_at, :pass_at, :error, :error_at)
ON CONFLICT (account, region) DO UPDATE
SET last_sync_at = COALESCE(excluded.last_sync_at, last_sync_at),
    last_pass_at = COALESCE(excluded.last_pass_at, last_pass_at),
    last_error = excluded.last_error,
    last_error_at = excluded.last_error_at

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
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)

-- schema_version_read
SELECT COALESCE(MAX(version), 0) AS version FROM schema_version

-- schema_version_record
INSERT INTO schema_version (version, applied) VALUES (:version, :applied)

-- advisory_range_watermark
SELECT COALESCE(MAX(id), 0) AS id FROM advisory_range

-- advisory_delete_older
DELETE FROM advisory
WHERE id IN (
    SELECT a.id
    FROM json_each(:advisories) AS j
    JOIN advisory a ON a.id = json_extract(j.value, '$.id')
    WHERE a.modified < json_extract(j.value, '$.modified'))

-- advisory_insert
INSERT INTO advisory (id, feed, summary, severity, severity_rank, aliases, published, modified,
                      withdrawn, imported)
SELECT json_extract(j.value, '$.id'), json_extract(j.value, '$.feed'),
       json_extract(j.value, '$.summary'), json_extract(j.value, '$.severity'),
       json_extract(j.value, '$.severity_rank'), json_extract(j.value, '$.aliases_json'),
       json_extract(j.value, '$.published'), json_extract(j.value, '$.modified'),
       json_extract(j.value, '$.withdrawn'), :imported
FROM json_each(:advisories) AS j
WHERE true
ON CONFLICT (id) DO NOTHING

-- advisory_alias_insert
INSERT OR IGNORE INTO advisory_alias (alias, advisory_id)
SELECT json_extract(j.value, '$.alias'), a.id
FROM json_each(:aliases) AS j
JOIN advisory a ON a.id = json_extract(j.value, '$.advisory_id') AND a.imported = :imported

-- advisory_range_insert
INSERT INTO advisory_range (advisory_id, os_release, scheme, package_name, names_source,
                            introduced_key, fixed_key, fixed_version, last_affected_key)
SELECT a.id, json_extract(j.value, '$.os_release'), json_extract(j.value, '$.scheme'),
       json_extract(j.value, '$.package_name'), json_extract(j.value, '$.names_source'),
       json_extract(j.value, '$.introduced_key'), json_extract(j.value, '$.fixed_key'),
       json_extract(j.value, '$.fixed_version'), json_extract(j.value, '$.last_affected_key')
FROM json_each(:ranges) AS j
JOIN advisory a ON a.id = json_extract(j.value, '$.advisory_id') AND a.imported = :imported

-- source_map_clear
DELETE FROM package_source_map WHERE os_release = :release

-- source_map_insert
INSERT INTO package_source_map (os_release, binary_name, source_name)
SELECT :release, json_extract(j.value, '$.binary_name'), json_extract(j.value, '$.source_name')
FROM json_each(:pairs) AS j
WHERE true
ON CONFLICT (os_release, binary_name) DO UPDATE SET source_name = excluded.source_name

-- findings_forget_source_ranges
DELETE FROM package_finding
WHERE range_id IN (
    SELECT id FROM advisory_range
    WHERE os_release = :release AND names_source)

-- findings_match_source_ranges
INSERT OR IGNORE INTO package_finding (package_id, range_id, matched_by)
SELECT m.package_id, m.range_id, m.matched_by
FROM package_match m
WHERE m.range_id IN (
    SELECT id FROM advisory_range
    WHERE os_release = :release AND names_source AND id <= :watermark)

-- findings_match_new_ranges
INSERT OR IGNORE INTO package_finding (package_id, range_id, matched_by)
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
DELETE FROM advisory WHERE 0

-- feed_state_read
SELECT feed, url, etag, last_modified, checked_at, succeeded_at, failed_at, error
FROM feed_state
ORDER BY feed

-- feed_succeeded
INSERT INTO feed_state (feed, url, etag, last_modified, checked_at, succeeded_at, failed_at, error)
VALUES (:feed, :url, :etag, :last_modified, :now, :now, NULL, NULL)
ON CONFLICT (feed) DO UPDATE
SET url = excluded.url, etag = excluded.etag, last_modified = excluded.last_modified,
    checked_at = excluded.checked_at, succeeded_at = excluded.succeeded_at, error = NULL

-- feed_failed
INSERT INTO feed_state (feed, checked_at, failed_at, error)
VALUES (:feed, :now, :now, :error)
ON CONFLICT (feed) DO UPDATE
SET checked_at = excluded.checked_at, failed_at = excluded.failed_at, error = excluded.error

-- fleet_tally_clear
UPDATE fleet_tally SET counted_at = NULL WHERE id = 1

-- fleet_tally_claim
UPDATE fleet_tally SET counted_at = :now
WHERE id = 1 AND (counted_at IS NULL OR counted_at < :stale_before)

-- advisory_exposure_clear
DELETE FROM advisory_exposure

-- advisory_exposure_count
INSERT INTO advisory_exposure (advisory_id, account, region, state, instances)
SELECT r.advisory_id, e.account, e.region, e.state, COUNT(DISTINCT ep.ec2_id)
FROM advisory_range r
JOIN package_finding f ON f.range_id = r.id
JOIN ec2_package ep ON ep.package_id = f.package_id
JOIN ec2 e ON e.id = ep.ec2_id AND e.os_release = r.os_release
GROUP BY r.advisory_id, e.account, e.region, e.state

-- package_spread_clear
DELETE FROM package_spread

-- package_spread_count
INSERT INTO package_spread (name, installs, instances, versions)
SELECT r.name, r.installs,
    (SELECT COUNT(DISTINCT ep.ec2_id)
     FROM package p JOIN ec2_package ep ON ep.package_id = p.id
     WHERE p.name = r.name),
    r.versions
FROM (
    SELECT p.name, SUM(links.installs) AS installs, COUNT(*) AS versions
    FROM (SELECT ep.package_id, COUNT(*) AS installs FROM ec2_package ep GROUP BY ep.package_id) links
    JOIN package p ON p.id = links.package_id
    GROUP BY p.name
    ORDER BY installs DESC, p.name
    LIMIT :names
) r

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

-- schema version 6, statement 1
ALTER TABLE ec2 ADD COLUMN platform_name TEXT CHECK (length(platform_name) <= 255)

-- schema version 6, statement 2
ALTER TABLE ec2 ADD COLUMN platform_version TEXT CHECK (length(platform_version) <= 64)

-- schema version 6, statement 3
ALTER TABLE ec2 ADD COLUMN os_release TEXT CHECK (length(os_release) <= 32)

-- schema version 6, statement 4
ALTER TABLE ec2 ADD COLUMN version_scheme TEXT CHECK (version_scheme IN ('dpkg', 'rpm', 'dotted', 'natural'))

-- schema version 6, statement 5
PRAGMA defer_foreign_keys = ON

-- schema version 6, statement 6
CREATE TABLE package_new (
id INTEGER PRIMARY KEY,
name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
version TEXT NOT NULL CHECK (length(version) <= 128),
scheme TEXT NOT NULL CHECK (scheme IN ('dpkg', 'rpm', 'dotted', 'natural')),
publisher TEXT CHECK (length(publisher) <= 255),
architecture TEXT CHECK (length(architecture) <= 32),
version_key TEXT CHECK (length(CAST(version_key AS BLOB)) <= 700),
source_name TEXT CHECK (length(source_name) <= 255),
UNIQUE (name, version, scheme)
)

-- schema version 6, statement 7
INSERT INTO package_new (id, name, version, scheme, publisher, architecture, version_key)
SELECT id, name, version,
CASE substr(version_key, 1, 1)
WHEN 'd' THEN 'dpkg' WHEN 'r' THEN 'rpm' WHEN 'w' THEN 'dotted' ELSE 'natural' END,
publisher, architecture, version_key
FROM package

-- schema version 6, statement 8
DROP TABLE package

-- schema version 6, statement 9
ALTER TABLE package_new RENAME TO package

-- schema version 6, statement 10
CREATE INDEX package_name_version_key ON package (name, version_key)

-- schema version 6, statement 11
CREATE INDEX package_source_name ON package (source_name) WHERE source_name IS NOT NULL

-- schema version 6, statement 12
CREATE TABLE advisory (
id TEXT NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
feed TEXT NOT NULL CHECK (feed IN ('osv', 'alas')),
summary TEXT CHECK (length(summary) <= 1000),
severity TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'unknown')),
severity_rank INTEGER NOT NULL,
aliases TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(aliases)),
published TEXT,
modified TEXT NOT NULL,
withdrawn TEXT,
imported TEXT NOT NULL
)

-- schema version 6, statement 13
CREATE TABLE advisory_alias (
alias TEXT NOT NULL,
advisory_id TEXT NOT NULL REFERENCES advisory (id) ON DELETE CASCADE,
PRIMARY KEY (alias, advisory_id)
) WITHOUT ROWID

-- schema version 6, statement 14
CREATE INDEX advisory_alias_advisory ON advisory_alias (advisory_id)

-- schema version 6, statement 15
CREATE TABLE advisory_range (
id INTEGER PRIMARY KEY,
advisory_id TEXT NOT NULL REFERENCES advisory (id) ON DELETE CASCADE,
os_release TEXT NOT NULL,
scheme TEXT NOT NULL,
package_name TEXT NOT NULL,
names_source INTEGER NOT NULL,
introduced_key TEXT,
fixed_key TEXT,
fixed_version TEXT,
last_affected_key TEXT
)

-- schema version 6, statement 16
CREATE INDEX advisory_range_package ON advisory_range (package_name, os_release)

-- schema version 6, statement 17
CREATE INDEX advisory_range_advisory ON advisory_range (advisory_id)

-- schema version 6, statement 18
CREATE TABLE package_source_map (
os_release TEXT NOT NULL,
binary_name TEXT NOT NULL,
source_name TEXT NOT NULL,
PRIMARY KEY (os_release, binary_name)
) WITHOUT ROWID

-- schema version 6, statement 19
CREATE INDEX package_source_map_source ON package_source_map (os_release, source_name)

-- schema version 6, statement 20
CREATE INDEX package_source_map_binary ON package_source_map (binary_name)

-- schema version 6, statement 21
CREATE TABLE package_finding (
package_id INTEGER NOT NULL REFERENCES package (id),
range_id INTEGER NOT NULL REFERENCES advisory_range (id) ON DELETE CASCADE,
matched_by TEXT NOT NULL CHECK (matched_by IN ('package', 'source_map', 'source_rpm', 'same_name')),
PRIMARY KEY (package_id, range_id)
) WITHOUT ROWID

-- schema version 6, statement 22
CREATE INDEX package_finding_range ON package_finding (range_id, package_id)

-- schema version 6, statement 23
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

-- schema version 6, statement 24
CREATE TRIGGER package_findings_on_insert AFTER INSERT ON package
BEGIN
INSERT OR IGNORE INTO package_finding (package_id, range_id, matched_by)
SELECT m.package_id, m.range_id, m.matched_by FROM package_match m WHERE m.package_id = NEW.id;
END

-- schema version 6, statement 25
CREATE TRIGGER package_findings_on_update AFTER UPDATE OF version_key, source_name ON package
WHEN OLD.version_key IS NOT NEW.version_key OR OLD.source_name IS NOT NEW.source_name
BEGIN
DELETE FROM package_finding WHERE package_id = NEW.id;
INSERT OR IGNORE INTO package_finding (package_id, range_id, matched_by)
SELECT m.package_id, m.range_id, m.matched_by FROM package_match m WHERE m.package_id = NEW.id;
END

-- schema version 8, statement 1
CREATE TABLE scope_coverage (
account TEXT NOT NULL,
region TEXT NOT NULL,
first_seen TEXT NOT NULL,
last_event_at TEXT,
last_sync_at TEXT,
last_pass_at TEXT,
last_error TEXT,
last_error_at TEXT,
PRIMARY KEY (account, region)
)

-- schema version 9, statement 1
CREATE TABLE feed_state (
feed TEXT NOT NULL PRIMARY KEY,
url TEXT,
etag TEXT,
last_modified TEXT,
checked_at TEXT NOT NULL,
succeeded_at TEXT,
failed_at TEXT,
error TEXT
)

-- schema version 10, statement 1
CREATE TABLE fleet_tally (
id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
counted_at TEXT
)

-- schema version 10, statement 2
INSERT INTO fleet_tally (id) VALUES (1)

-- schema version 10, statement 3
CREATE TABLE advisory_exposure (
advisory_id TEXT NOT NULL,
account TEXT NOT NULL,
region TEXT NOT NULL,
state TEXT,
instances INTEGER NOT NULL
)

-- schema version 10, statement 4
CREATE INDEX advisory_exposure_advisory ON advisory_exposure (advisory_id)

-- schema version 10, statement 5
CREATE TABLE package_spread (
name TEXT NOT NULL PRIMARY KEY,
installs INTEGER NOT NULL,
instances INTEGER NOT NULL,
versions INTEGER NOT NULL
)

-- schema version 10, statement 6
CREATE INDEX package_spread_installs ON package_spread (installs DESC, name)
