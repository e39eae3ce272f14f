INSERT INTO feed_state (feed, url, etag, last_modified, checked_at, succeeded_at, failed_at, error)
VALUES (:feed, :url, :etag, :last_modified, :now, :now, NULL, NULL)
ON CONFLICT (feed) DO UPDATE
SET url = excluded.url, etag = excluded.etag, last_modified = excluded.last_modified,
    checked_at = excluded.checked_at, succeeded_at = excluded.succeeded_at, error = NULL
