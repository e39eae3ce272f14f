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
