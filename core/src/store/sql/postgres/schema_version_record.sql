INSERT INTO schema_version (version, applied) VALUES (:version, CAST(:applied AS timestamp))
