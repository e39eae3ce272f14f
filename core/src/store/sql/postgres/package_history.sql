SELECT h.id, h.ec2_id, h.changed_at, h.source, h.kind, h.package_name, h.old_version, h.new_version, h.old_state, h.new_state
FROM ec2_history h
WHERE h.package_name = CAST(:name AS text)
  AND h.changed_at >= CAST(:since AS timestamp)
  AND (h.changed_at < CAST(:until AS timestamp)
    OR (h.changed_at = CAST(:until AS timestamp) AND h.id < CAST(:before_id AS bigint)))
ORDER BY h.changed_at DESC, h.id DESC
LIMIT CAST(:limit AS bigint)
