SELECT e.id, e.account, e.region, e.state, e.instance_type, e.updated
FROM ec2 e
WHERE (:account IS NULL OR e.account = :account)
  AND (:region IS NULL OR e.region = :region)
  AND (:state IS NULL OR e.state = :state)
  AND (:after IS NULL OR e.id > :after)
  AND EXISTS (
      SELECT 1
      FROM ec2_package ep
      JOIN package p ON p.id = ep.package_id
      WHERE ep.ec2_id = e.id
        AND p.name = :package_name)
ORDER BY e.id
LIMIT :limit
