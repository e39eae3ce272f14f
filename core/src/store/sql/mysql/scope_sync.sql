INSERT INTO scope_coverage (account, region, first_seen, last_sync_at, last_pass_at, last_error, last_error_at)
VALUES (:account, :region, :now, :synced_at, :pass_at, :error, :error_at)
ON DUPLICATE KEY UPDATE
    last_sync_at = COALESCE(VALUES(last_sync_at), last_sync_at),
    last_pass_at = COALESCE(VALUES(last_pass_at), last_pass_at),
    last_error = VALUES(last_error),
    last_error_at = VALUES(last_error_at)
