INSERT IGNORE INTO package_finding (package_id, range_id, matched_by)
SELECT m.package_id, m.range_id, m.matched_by
FROM package_match m
WHERE m.range_id > :watermark
