INSERT INTO scope_coverage (account, region, first_seen, last_event_at, last_error, last_error_at)
VALUES (:account, :region, :now, :event_at, :error, :error_at)
ON DUPLICATE KEY UPDATE
    last_event_at = GREATEST(COALESCE(last_event_at, VALUES(last_event_at)),
                             COALESCE(VALUES(last_event_at), last_event_at)),
    last_error = COALESCE(VALUES(last_error), last_error),
    last_error_at = COALESCE(VALUES(last_error_at), last_error_at)
