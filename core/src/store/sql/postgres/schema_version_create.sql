CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied timestamp(6) NOT NULL)
