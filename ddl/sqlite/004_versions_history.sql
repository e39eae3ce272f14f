-- Schema 004, SQLite: version sort keys and the history of changes (see
-- ddl/postgres/004_versions_history.sql for the model). The writes record
-- the history with statements of their own, in the write's transaction.

ALTER TABLE package ADD COLUMN version_key TEXT CHECK (length(CAST(version_key AS BLOB)) <= 700);

CREATE INDEX package_name_version_key ON package (name, version_key);

CREATE TABLE ec2_history (
    id INTEGER PRIMARY KEY,
    ec2_id TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('event', 'api', 'sync')),
    kind TEXT NOT NULL CHECK (kind IN ('installed', 'removed', 'changed', 'state')),
    package_name TEXT,
    old_version TEXT,
    new_version TEXT,
    old_state TEXT,
    new_state TEXT
);

CREATE INDEX ec2_history_instance ON ec2_history (ec2_id, changed_at, id);

CREATE INDEX ec2_history_package ON ec2_history (package_name, changed_at, id);

CREATE INDEX ec2_history_at ON ec2_history (changed_at);
