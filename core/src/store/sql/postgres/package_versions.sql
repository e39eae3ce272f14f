SELECT p.name, p.version, p.scheme, COUNT(*) AS instances
FROM package p
JOIN ec2_package ep ON ep.package_id = p.id
WHERE p.name = CAST(:name AS text)
GROUP BY p.id, p.name, p.version, p.scheme, p.version_key
ORDER BY p.scheme, p.version_key DESC, p.version
