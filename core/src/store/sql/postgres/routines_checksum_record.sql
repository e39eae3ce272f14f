INSERT INTO schema_routines (id, checksum, applied)
VALUES (1, :checksum, CAST(:applied AS timestamp))
ON CONFLICT (id) DO UPDATE SET checksum = EXCLUDED.checksum, applied = EXCLUDED.applied
