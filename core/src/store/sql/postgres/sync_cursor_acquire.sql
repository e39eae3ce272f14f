UPDATE sync_cursor
SET lease_owner = CAST(:owner AS text), lease_until = CAST(:until AS timestamp), updated = CAST(:now AS timestamp)
WHERE scope = CAST(:scope AS text)
  AND (lease_owner IS NULL OR lease_until < CAST(:now AS timestamp))
