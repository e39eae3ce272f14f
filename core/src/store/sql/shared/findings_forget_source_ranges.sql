DELETE FROM package_finding
WHERE range_id IN (
    SELECT id FROM advisory_range
    WHERE os_release = :release AND names_source)
