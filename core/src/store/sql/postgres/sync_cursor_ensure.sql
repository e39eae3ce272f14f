INSERT INTO sync_cursor (scope, passes_completed, updated)
VALUES (CAST(:scope AS text), 0, CAST(:now AS timestamp))
ON CONFLICT (scope) DO NOTHING
