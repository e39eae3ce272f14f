UPDATE sync_cursor
SET position = :position, pass_started = :pass_started,
    passes_completed = :passes, updated = :now
WHERE scope = :scope AND lease_owner = :owner
