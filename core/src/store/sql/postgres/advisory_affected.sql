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
