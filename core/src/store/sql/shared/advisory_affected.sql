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
    SELECT f.package_id, p.name, p.version, r.advisory_id, r.os_release,
           MIN(r.fixed_version) AS fixed_version, MIN(f.matched_by) AS matched_by
    FROM named n
    JOIN advisory_range r ON r.advisory_id = n.id
    JOIN package_finding f ON f.range_id = r.id
    JOIN package p ON p.id = f.package_id
    WHERE n.withdrawn IS NULL
    GROUP BY f.package_id, p.name, p.version, r.advisory_id, r.os_release
), affected AS (
    SELECT e.id AS ec2_id, h.name AS package_name, h.version AS package_version, h.advisory_id,
           h.fixed_version, h.matched_by
    FROM hits h
    JOIN ec2_package ep ON ep.package_id = h.package_id
    JOIN ec2 e ON e.id = ep.ec2_id AND e.os_release = h.os_release
    WHERE (:account IS NULL OR e.account = :account)
      AND (:region IS NULL OR e.region = :region)
      AND (e.state = :state OR (:state IS NULL AND (e.state IS NULL OR e.state <> 'terminated')))
      AND (:after_id IS NULL
        OR (e.id, h.name, h.version, h.advisory_id) > (:after_id, :after_name, :after_version,
            :after_advisory))
    ORDER BY e.id, h.name, h.version, h.advisory_id
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
