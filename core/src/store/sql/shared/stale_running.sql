SELECT id, account, region
FROM ec2
WHERE state = 'running'
  AND (:account IS NULL OR account = :account)
  AND (:region IS NULL OR region = :region)
  AND (inventory_captured_at IS NULL OR inventory_captured_at < :older_than)
ORDER BY inventory_captured_at IS NOT NULL, inventory_captured_at, id
LIMIT :limit
