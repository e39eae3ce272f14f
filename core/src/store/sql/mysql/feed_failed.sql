INSERT INTO feed_state (feed, checked_at, failed_at, error)
VALUES (:feed, :now, :now, :error)
ON DUPLICATE KEY UPDATE
    checked_at = VALUES(checked_at), failed_at = VALUES(failed_at), error = VALUES(error)
