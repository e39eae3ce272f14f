SELECT position, pass_started, passes_completed
FROM sync_cursor
WHERE scope = :scope AND lease_owner = :owner
