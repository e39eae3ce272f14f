-- Schema 003: the scheduled sync's cursor over the fleet, one row per
-- account and region (`scope` = account, a colon, region). `position` is the
-- last instance id the current pass visited (NULL: the pass starts over);
-- a run holds the row through `lease_owner` until `lease_until`.
-- The walk's read of one account and region in id order needs no new index:
-- InnoDB's `ec2_account_region` already ends with the primary key `id`.

CREATE TABLE IF NOT EXISTS sync_cursor (
    scope VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    position VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
    pass_started DATETIME(6) NULL,
    passes_completed BIGINT NOT NULL DEFAULT 0,
    lease_owner VARCHAR(36) CHARACTER SET ascii NULL,
    lease_until DATETIME(6) NULL,
    updated DATETIME(6) NOT NULL,
    PRIMARY KEY (scope)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
