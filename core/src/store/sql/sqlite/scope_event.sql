INSERT INTO scope_coverage (account, region, first_seen, last_event_at, last_error, last_error_at)
VALUES (:account, :region, :now, :event_at, :error, :error_at)
ON CONFLICT (account, region) DO UPDATE
SET last_event_at = MAX(COALESCE(last_event_at, excluded.last_event_at),
                        COALESCE(excluded.last_event_at, last_event_at)),
    last_error = COALESCE(excluded.last_error, last_error),
    last_error_at = COALESCE(excluded.last_error_at, last_error_at)
