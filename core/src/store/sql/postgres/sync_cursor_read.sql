SELECT position, pass_started, passes_completed
FROM sync_cursor
WHERE scope = CAST(:scope AS text) AND lease_owner = CAST(:owner AS text)
