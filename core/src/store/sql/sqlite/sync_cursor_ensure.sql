INSERT INTO sync_cursor (scope, passes_completed, updated)
VALUES (:scope, 0, :now)
ON CONFLICT (scope) DO NOTHING
