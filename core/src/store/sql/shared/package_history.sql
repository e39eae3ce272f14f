SELECT h.* FROM ec2_history h
WHERE h.package_name = :name
  AND h.changed_at >= :since AND (h.changed_at < :until OR (h.changed_at = :until AND h.id < :before_id))
  AND (:account IS NULL AND :region IS NULL
    OR EXISTS (SELECT 1 FROM ec2 e WHERE e.id = h.ec2_id
      AND (:account IS NULL OR e.account = :account)
      AND (:region IS NULL OR e.region = :region)))
ORDER BY h.changed_at DESC, h.id DESC LIMIT :limit
