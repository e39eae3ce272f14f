SELECT e.id, e.account, e.region, e.state, e.instance_type, e.updated
FROM ec2 e
WHERE (:account IS NULL OR e.account = :account)
  AND (:region IS NULL OR e.region = :region)
  AND (:state IS NULL OR e.state = :state)
  AND e.id > COALESCE(:after, '')
  AND (:package_name IS NULL OR e.id IN (
      SELECT ep.ec2_id
      FROM package p
      JOIN ec2_package ep ON ep.package_id = p.id
      WHERE p.name = :package_name AND LENGTH(p.name) = LENGTH(:package_name)
        AND (:package_version IS NULL
          OR (p.version = :package_version AND LENGTH(p.version) = LENGTH(:package_version)))
        AND (:ranged = 0
          OR (p.version_key >= :dpkg_from AND p.version_key < :dpkg_to)
          OR (p.version_key >= :rpm_from AND p.version_key < :rpm_to)
          OR (p.version_key >= :dotted_from AND p.version_key < :dotted_to)
          OR (p.version_key >= :natural_from AND p.version_key < :natural_to))))
ORDER BY e.id
LIMIT :limit
