INSERT INTO feed_state (feed, checked_at, failed_at, error)
VALUES (CAST(:feed AS text), CAST(:now AS timestamp), CAST(:now AS timestamp), CAST(:error AS text))
ON CONFLICT (feed) DO UPDATE
SET checked_at = EXCLUDED.checked_at, failed_at = EXCLUDED.failed_at, error = EXCLUDED.error
