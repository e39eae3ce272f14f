SELECT h.* FROM ec2_history h
WHERE h.changed_at >= :since AND (h.changed_at < :until OR (h.changed_at = :until AND h.id < :before_id))
ORDER BY h.changed_at DESC, h.id DESC LIMIT :limit
