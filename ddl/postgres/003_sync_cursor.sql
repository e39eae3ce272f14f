-- Schema 003: the scheduled sync's cursor over the fleet, one row per
-- account and region (`scope` = account, a colon, region). `position` is the
-- last instance id the current pass visited (NULL: the pass starts over);
-- a run holds the row through `lease_owner` until `lease_until`.

CREATE TABLE sync_cursor (
    scope varchar(64) COLLATE "C" PRIMARY KEY,
    position varchar(255) COLLATE "C",
    pass_started timestamp(6),
    passes_completed bigint NOT NULL DEFAULT 0,
    lease_owner varchar(36),
    lease_until timestamp(6),
    updated timestamp(6) NOT NULL
);

-- The walk reads the recorded instances of one account and region in id order.
CREATE INDEX ec2_account_region_id ON ec2 (account, region, id);
