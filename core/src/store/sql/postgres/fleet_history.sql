SELECT h.* FROM ec2_history h
WHERE h.changed_at >= CAST(:since AS timestamp)
  AND (h.changed_at, h.id) < (CAST(:until AS timestamp), CAST(:before_id AS bigint))
ORDER BY h.changed_at DESC, h.id DESC LIMIT CAST(:limit AS bigint)
