-- Schema 008: what the central functions heard from each account and region
-- (a "scope"): the newest event, the last sync run that reached the scope,
-- the last complete pass of its fleet walk, and the last failure (cleared by
-- the next sync run that succeeds). A scope with no row yet is known only
-- from its recorded instances. Written by the state-change function and
-- `inventory sync`, read by `GET /accounts`.

CREATE TABLE scope_coverage (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_event_at TEXT,
    last_sync_at TEXT,
    last_pass_at TEXT,
    last_error TEXT,
    last_error_at TEXT,
    PRIMARY KEY (account, region)
);
