SELECT e.id, e.account, e.region, e.state, e.instance_type, e.updated
FROM ec2 e
WHERE (CAST(:account AS text) IS NULL OR e.account = CAST(:account AS text))
  AND (CAST(:region AS text) IS NULL OR e.region = CAST(:region AS text))
  AND (CAST(:state AS text) IS NULL OR e.state = CAST(:state AS text))
  AND (CAST(:after AS text) IS NULL OR e.id > CAST(:after AS text))
  AND EXISTS (
      SELECT 1
      FROM ec2_package ep
      JOIN package p ON p.id = ep.package_id
      WHERE ep.ec2_id = e.id
        AND p.name = CAST(:package_name AS text))
ORDER BY e.id
LIMIT CAST(:limit AS bigint)
