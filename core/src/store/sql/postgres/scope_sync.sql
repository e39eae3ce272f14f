INSERT INTO scope_coverage (account, region, first_seen, last_sync_at, last_pass_at, last_error, last_error_at)
VALUES (CAST(:account AS text), CAST(:region AS text), CAST(:now AS timestamp),
        CAST(:synced_at AS timestamp), CAST(:pass_at AS timestamp),
        CAST(:error AS text), CAST(:error_at AS timestamp))
ON CONFLICT (account, region) DO UPDATE
SET last_sync_at = COALESCE(EXCLUDED.last_sync_at, scope_coverage.last_sync_at),
    last_pass_at = COALESCE(EXCLUDED.last_pass_at, scope_coverage.last_pass_at),
    last_error = EXCLUDED.last_error,
    last_error_at = EXCLUDED.last_error_at
