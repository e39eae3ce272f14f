SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(inventory_findings_lock())) AS l
