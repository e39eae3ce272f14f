WITH counts AS (
    SELECT r.advisory_id, count(DISTINCT ep.ec2_id) AS instances
    FROM advisory_range r
    JOIN advisory a ON a.id = r.advisory_id
    JOIN package_finding f ON f.range_id = r.id
    JOIN ec2_package ep ON ep.package_id = f.package_id
    JOIN ec2 e ON e.id = ep.ec2_id AND e.os_release = r.os_release
    WHERE a.withdrawn IS NULL
      AND (CAST(:severity AS text) IS NULL OR a.severity = CAST(:severity AS text))
      AND (CAST(:account AS text) IS NULL OR e.account = CAST(:account AS text))
      AND (CAST(:region AS text) IS NULL OR e.region = CAST(:region AS text))
      AND (e.state = CAST(:state AS text)
        OR (CAST(:state AS text) IS NULL AND e.state IS DISTINCT FROM 'terminated'))
    GROUP BY r.advisory_id
)
SELECT a.id AS advisory_id, CAST(a.aliases AS text) AS aliases, a.severity, a.severity_rank,
       a.summary, c.instances
FROM counts c
JOIN advisory a ON a.id = c.advisory_id
WHERE CAST(:after_rank AS bigint) IS NULL
   OR a.severity_rank < CAST(:after_rank AS bigint)
   OR (a.severity_rank = CAST(:after_rank AS bigint)
     AND (c.instances < CAST(:after_instances AS bigint)
       OR (c.instances = CAST(:after_instances AS bigint)
         AND a.id > CAST(:after_advisory AS text))))
ORDER BY a.severity_rank DESC, c.instances DESC, a.id
LIMIT CAST(:limit AS bigint)
