SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(inventory_import_lock())) AS l
