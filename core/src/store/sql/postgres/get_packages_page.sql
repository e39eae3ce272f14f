SELECT p.id, p.name, p.version, p.publisher, p.architecture, p.source_name
FROM ec2_package ep
JOIN package p ON p.id = ep.package_id
WHERE ep.ec2_id = CAST(:id AS text)
  AND p.id > CAST(:after AS bigint)
ORDER BY p.id
LIMIT CAST(:limit AS bigint)
