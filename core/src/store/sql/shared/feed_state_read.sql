SELECT feed, url, etag, last_modified, checked_at, succeeded_at, failed_at, error
FROM feed_state
ORDER BY feed
