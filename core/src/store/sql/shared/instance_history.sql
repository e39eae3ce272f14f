SELECT h.id, h.ec2_id, h.changed_at, h.source, h.kind, h.package_name, h.old_version, h.new_version, h.old_state, h.new_state
FROM ec2_history h
WHERE h.ec2_id = :id
  AND h.changed_at >= :since AND (h.changed_at < :until OR (h.changed_at = :until AND h.id < :before_id))
ORDER BY h.changed_at DESC, h.id DESC
LIMIT :limit
