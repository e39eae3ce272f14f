INSERT INTO schema_version (version, applied) VALUES (:version, :applied)
