SELECT t.counted_at, page.*
FROM fleet_tally t
LEFT JOIN (
    SELECT s.name, s.installs, s.instances, s.versions
    FROM package_spread s
    ORDER BY s.installs DESC, s.name
    LIMIT :limit
) page ON 1 = 1
WHERE t.id = 1
ORDER BY page.installs DESC, page.name
