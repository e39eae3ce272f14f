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
