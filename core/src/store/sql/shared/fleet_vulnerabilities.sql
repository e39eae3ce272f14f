WITH counts AS (
    SELECT r.advisory_id, COUNT(DISTINCT ep.ec2_id) AS instances
    FROM advisory_range r
    JOIN advisory a ON a.id = r.advisory_id
    JOIN package_finding f ON f.range_id = r.id
    JOIN ec2_package ep ON ep.package_id = f.package_id
    JOIN ec2 e ON e.id = ep.ec2_id AND e.os_release = r.os_release
    WHERE a.withdrawn IS NULL
      AND (:severity IS NULL OR a.severity = :severity)
      AND (:account IS NULL OR e.account = :account)
      AND (:region IS NULL OR e.region = :region)
      AND (e.state = :state OR (:state IS NULL AND (e.state IS NULL OR e.state <> 'terminated')))
    GROUP BY r.advisory_id
)
SELECT a.id AS advisory_id, a.aliases, a.severity, a.severity_rank, a.summary, c.instances
FROM counts c
JOIN advisory a ON a.id = c.advisory_id
WHERE :after_rank IS NULL
   OR a.severity_rank < :after_rank
   OR (a.severity_rank = :after_rank
     AND (c.instances < :after_instances
       OR (c.instances = :after_instances AND a.id > :after_advisory)))
ORDER BY a.severity_rank DESC, c.instances DESC, a.id
LIMIT :limit
