-- Schema 008: what the central functions heard from each account and region
-- (a "scope"): the newest event, the last sync run that reached the scope,
-- the last complete pass of its fleet walk, and the last failure (cleared by
-- the next sync run that succeeds). A scope with no row yet is known only
-- from its recorded instances. Written by the state-change function and
-- `inventory sync`, read by `GET /accounts`.

CREATE TABLE scope_coverage (
    account varchar(12) NOT NULL,
    region varchar(32) NOT NULL,
    first_seen timestamp(6) NOT NULL,
    last_event_at timestamp(6),
    last_sync_at timestamp(6),
    last_pass_at timestamp(6),
    last_error varchar(1000),
    last_error_at timestamp(6),
    PRIMARY KEY (account, region)
);
