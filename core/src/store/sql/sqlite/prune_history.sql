DELETE FROM ec2_history
WHERE id IN (
    SELECT id FROM ec2_history
    WHERE changed_at < :before
    ORDER BY changed_at
    LIMIT :limit)
