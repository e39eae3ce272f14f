UPDATE ec2
SET inventory_captured_at = :captured_at, updated = :now, source = :source
WHERE id = :id
  AND (inventory_captured_at IS NULL OR inventory_captured_at < :captured_at)
