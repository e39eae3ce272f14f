INSERT INTO package_spread (name, installs, instances, versions)
SELECT r.name, r.installs,
    (SELECT COUNT(DISTINCT ep.ec2_id)
     FROM package p JOIN ec2_package ep ON ep.package_id = p.id
     WHERE p.name = r.name),
    r.versions
FROM (
    SELECT p.name, SUM(links.installs) AS installs, COUNT(*) AS versions
    FROM (SELECT ep.package_id, COUNT(*) AS installs FROM ec2_package ep GROUP BY ep.package_id) links
    JOIN package p ON p.id = links.package_id
    GROUP BY p.name
    ORDER BY installs DESC, p.name
    LIMIT :names
) r
