DELETE FROM ec2_history
WHERE id IN (
    SELECT id FROM ec2_history
    WHERE changed_at < CAST(:before AS timestamp)
    ORDER BY changed_at
    LIMIT CAST(:limit AS bigint))
