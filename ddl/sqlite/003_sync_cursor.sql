-- Schema 003: the scheduled sync's cursor over the fleet, one row per
-- account and region (`scope` = account, a colon, region). `position` is the
-- last instance id the current pass visited (NULL: the pass starts over);
-- a run holds the row through `lease_owner` until `lease_until`.

CREATE TABLE sync_cursor (
    scope TEXT NOT NULL PRIMARY KEY,
    position TEXT,
    pass_started TEXT,
    passes_completed INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until TEXT,
    updated TEXT NOT NULL
);

-- The walk reads the recorded instances of one account and region in id order.
CREATE INDEX ec2_account_region_id ON ec2 (account, region, id);
