CREATE TABLE IF NOT EXISTS schema_routines (id integer PRIMARY KEY CHECK (id = 1), checksum varchar(64) NOT NULL, applied timestamp(6) NOT NULL)
