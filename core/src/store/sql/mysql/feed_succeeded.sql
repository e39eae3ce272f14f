INSERT INTO feed_state (feed, url, etag, last_modified, checked_at, succeeded_at, failed_at, error)
VALUES (:feed, :url, :etag, :last_modified, :now, :now, NULL, NULL)
ON DUPLICATE KEY UPDATE
    url = VALUES(url), etag = VALUES(etag), last_modified = VALUES(last_modified),
    checked_at = VALUES(checked_at), succeeded_at = VALUES(succeeded_at), error = NULL
