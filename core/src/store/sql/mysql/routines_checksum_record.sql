INSERT INTO schema_routines (id, checksum, applied)
VALUES (1, :checksum, :applied)
ON DUPLICATE KEY UPDATE checksum = VALUES(checksum), applied = VALUES(applied)
