SELECT id, account, region
FROM ec2
WHERE state = 'running'
  AND (CAST(:account AS text) IS NULL OR account = CAST(:account AS text))
  AND (CAST(:region AS text) IS NULL OR region = CAST(:region AS text))
  AND (inventory_captured_at IS NULL OR inventory_captured_at < CAST(:older_than AS timestamp))
ORDER BY inventory_captured_at IS NOT NULL, inventory_captured_at, id
LIMIT CAST(:limit AS bigint)
