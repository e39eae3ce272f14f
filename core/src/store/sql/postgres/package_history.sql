SELECT h.* FROM ec2_history h
WHERE h.package_name = CAST(:name AS text)
  AND h.changed_at >= CAST(:since AS timestamp)
  AND (h.changed_at, h.id) < (CAST(:until AS timestamp), CAST(:before_id AS bigint))
  AND (CAST(:account AS text) IS NULL AND CAST(:region AS text) IS NULL
    OR EXISTS (SELECT 1 FROM ec2 e WHERE e.id = h.ec2_id
      AND (CAST(:account AS text) IS NULL OR e.account = CAST(:account AS text))
      AND (CAST(:region AS text) IS NULL OR e.region = CAST(:region AS text))))
ORDER BY h.changed_at DESC, h.id DESC LIMIT CAST(:limit AS bigint)
