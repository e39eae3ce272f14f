-- ec2-inventory schema, SQLite (the local stack). Times are UTC text in one
-- fixed-width format, `YYYY-MM-DD HH:MM:SS.ffffff`, so they compare and sort
-- as text. Foreign keys must be on (sqlx turns them on for every connection).

CREATE TABLE ec2 (
    id TEXT NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
    account TEXT NOT NULL CHECK (length(account) = 12),
    region TEXT NOT NULL CHECK (length(region) <= 32),
    state TEXT CHECK (state IN ('pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated')),
    instance_type TEXT,
    image_id TEXT,
    platform TEXT,
    launch_time TEXT,
    tags TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(tags)),
    source TEXT NOT NULL CHECK (source IN ('event', 'api', 'sync')),
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    terminated_at TEXT,
    last_event_time TEXT,
    inventory_captured_at TEXT
);

CREATE INDEX ec2_account_region ON ec2 (account, region);

CREATE INDEX ec2_state_captured ON ec2 (state, inventory_captured_at);

CREATE TABLE package (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    version TEXT NOT NULL CHECK (length(version) <= 128),
    publisher TEXT CHECK (length(publisher) <= 255),
    architecture TEXT CHECK (length(architecture) <= 32),
    UNIQUE (name, version)
);

CREATE TABLE ec2_package (
    ec2_id TEXT NOT NULL REFERENCES ec2 (id) ON DELETE CASCADE,
    package_id INTEGER NOT NULL REFERENCES package (id),
    PRIMARY KEY (ec2_id, package_id)
) WITHOUT ROWID;

CREATE INDEX ec2_package_package ON ec2_package (package_id, ec2_id);
