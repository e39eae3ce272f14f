UPDATE sync_cursor
SET position = CAST(:position AS text), pass_started = CAST(:pass_started AS timestamp),
    passes_completed = CAST(:passes AS bigint), updated = CAST(:now AS timestamp),
    lease_owner = NULL, lease_until = NULL
WHERE scope = CAST(:scope AS text) AND lease_owner = CAST(:owner AS text)
