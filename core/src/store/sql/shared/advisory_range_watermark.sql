SELECT COALESCE(MAX(id), 0) AS id FROM advisory_range
