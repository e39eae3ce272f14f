SELECT id, state, inventory_captured_at, COALESCE(last_event_time, created) AS last_change
FROM ec2
WHERE account = CAST(:account AS text) AND region = CAST(:region AS text)
  AND id > CAST(:after AS text) AND id <= CAST(:upto AS text)
ORDER BY id
LIMIT CAST(:limit AS bigint)
