INSERT INTO scope_coverage (account, region, first_seen, last_sync_at, last_pass_at, last_error, last_error_at)
VALUES (:account, :region, :now, :synced_at, :pass_at, :error, :error_at)
ON CONFLICT (account, region) DO UPDATE
SET last_sync_at = COALESCE(excluded.last_sync_at, last_sync_at),
    last_pass_at = COALESCE(excluded.last_pass_at, last_pass_at),
    last_error = excluded.last_error,
    last_error_at = excluded.last_error_at
