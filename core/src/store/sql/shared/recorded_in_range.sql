SELECT id, state, inventory_captured_at, COALESCE(last_event_time, created) AS last_change
FROM ec2
WHERE account = :account AND region = :region
  AND id > :after AND id <= :upto
ORDER BY id
LIMIT :limit
