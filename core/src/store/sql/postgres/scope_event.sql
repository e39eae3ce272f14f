INSERT INTO scope_coverage (account, region, first_seen, last_event_at, last_error, last_error_at)
VALUES (CAST(:account AS text), CAST(:region AS text), CAST(:now AS timestamp),
        CAST(:event_at AS timestamp), CAST(:error AS text), CAST(:error_at AS timestamp))
ON CONFLICT (account, region) DO UPDATE
SET last_event_at = GREATEST(scope_coverage.last_event_at, EXCLUDED.last_event_at),
    last_error = COALESCE(EXCLUDED.last_error, scope_coverage.last_error),
    last_error_at = COALESCE(EXCLUDED.last_error_at, scope_coverage.last_error_at)
