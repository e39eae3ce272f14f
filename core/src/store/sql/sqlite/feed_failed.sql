INSERT INTO feed_state (feed, checked_at, failed_at, error)
VALUES (:feed, :now, :now, :error)
ON CONFLICT (feed) DO UPDATE
SET checked_at = excluded.checked_at, failed_at = excluded.failed_at, error = excluded.error
