-- Schema 008: what the central functions heard from each account and region
-- (a "scope"): the newest event, the last sync run that reached the scope,
-- the last complete pass of its fleet walk, and the last failure (cleared by
-- the next sync run that succeeds). A scope with no row yet is known only
-- from its recorded instances. Written by the state-change function and
-- `inventory sync`, read by `GET /accounts`. Account and region have the
-- character set and collation of `ec2`'s, which the listing unites them with.

CREATE TABLE IF NOT EXISTS scope_coverage (
    account CHAR(12) CHARACTER SET ascii NOT NULL,
    region VARCHAR(32) CHARACTER SET ascii NOT NULL,
    first_seen DATETIME(6) NOT NULL,
    last_event_at DATETIME(6) NULL,
    last_sync_at DATETIME(6) NULL,
    last_pass_at DATETIME(6) NULL,
    last_error VARCHAR(1000) NULL,
    last_error_at DATETIME(6) NULL,
    PRIMARY KEY (account, region)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
