INSERT INTO feed_state (feed, url, etag, last_modified, checked_at, succeeded_at, failed_at, error)
VALUES (CAST(:feed AS text), CAST(:url AS text), CAST(:etag AS text),
        CAST(:last_modified AS text), CAST(:now AS timestamp), CAST(:now AS timestamp), NULL, NULL)
ON CONFLICT (feed) DO UPDATE
SET url = EXCLUDED.url, etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified,
    checked_at = EXCLUDED.checked_at, succeeded_at = EXCLUDED.succeeded_at, error = NULL
