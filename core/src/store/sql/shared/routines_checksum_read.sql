SELECT checksum FROM schema_routines WHERE id = 1
