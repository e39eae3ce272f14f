SELECT e.id, e.account, e.region, e.state, e.instance_type, e.updated
FROM ec2 e
WHERE (CAST(:account AS text) IS NULL OR e.account = CAST(:account AS text))
  AND (CAST(:region AS text) IS NULL OR e.region = CAST(:region AS text))
  AND (CAST(:state AS text) IS NULL OR e.state = CAST(:state AS text))
  AND e.id > coalesce(CAST(:after AS text), '')
  AND (CAST(:package_name AS text) IS NULL OR e.id IN (
      SELECT m.ec2_id
      FROM package p
      CROSS JOIN LATERAL (
          SELECT ep.ec2_id
          FROM ec2_package ep
          WHERE ep.package_id = p.id
            AND ep.ec2_id > coalesce(CAST(:after AS text), '')
            AND ((CAST(:account AS text) IS NULL AND CAST(:region AS text) IS NULL
                AND CAST(:state AS text) IS NULL)
              OR EXISTS (
                  SELECT 1
                  FROM ec2 f
                  WHERE f.id = ep.ec2_id
                    AND (CAST(:account AS text) IS NULL OR f.account = CAST(:account AS text))
                    AND (CAST(:region AS text) IS NULL OR f.region = CAST(:region AS text))
                    AND (CAST(:state AS text) IS NULL OR f.state = CAST(:state AS text))))
          ORDER BY ep.ec2_id
          LIMIT CAST(:limit AS bigint)) AS m
      WHERE p.name = CAST(:package_name AS text)
        AND (CAST(:package_version AS text) IS NULL
          OR p.version = CAST(:package_version AS text))
        AND (CAST(:ranged AS bigint) = 0
          OR (p.version_key >= CAST(:dpkg_from AS text) AND p.version_key < CAST(:dpkg_to AS text))
          OR (p.version_key >= CAST(:rpm_from AS text) AND p.version_key < CAST(:rpm_to AS text))
          OR (p.version_key >= CAST(:dotted_from AS text) AND p.version_key < CAST(:dotted_to AS text))
          OR (p.version_key >= CAST(:natural_from AS text) AND p.version_key < CAST(:natural_to AS text)))))
ORDER BY e.id
LIMIT CAST(:limit AS bigint)
