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
