UPDATE sync_cursor
SET lease_owner = :owner, lease_until = :until, updated = :now
WHERE scope = :scope
  AND (lease_owner IS NULL OR lease_until < :now)
