-- Schema 006, SQLite: the OS release of an instance, packages ordered in
-- their own instance's scheme, and security advisories matched to them (see
-- ddl/postgres/006_advisories.sql for the model).
--
-- A package's identity becomes (name, version, scheme). SQLite cannot drop
-- the old UNIQUE (name, version), so the table is rebuilt under the same ids;
-- the links' foreign keys are checked at commit (`defer_foreign_keys`), when
-- the new table carries the old name again.

ALTER TABLE ec2 ADD COLUMN platform_name TEXT CHECK (length(platform_name) <= 255);

ALTER TABLE ec2 ADD COLUMN platform_version TEXT CHECK (length(platform_version) <= 64);

ALTER TABLE ec2 ADD COLUMN os_release TEXT CHECK (length(os_release) <= 32);

ALTER TABLE ec2 ADD COLUMN version_scheme TEXT CHECK (version_scheme IN ('dpkg', 'rpm', 'dotted', 'natural'));

PRAGMA defer_foreign_keys = ON;

CREATE TABLE package_new (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    version TEXT NOT NULL CHECK (length(version) <= 128),
    scheme TEXT NOT NULL CHECK (scheme IN ('dpkg', 'rpm', 'dotted', 'natural')),
    publisher TEXT CHECK (length(publisher) <= 255),
    architecture TEXT CHECK (length(architecture) <= 32),
    version_key TEXT CHECK (length(CAST(version_key AS BLOB)) <= 700),
    source_name TEXT CHECK (length(source_name) <= 255),
    UNIQUE (name, version, scheme)
);

INSERT INTO package_new (id, name, version, scheme, publisher, architecture, version_key)
SELECT id, name, version,
       CASE substr(version_key, 1, 1)
           WHEN 'd' THEN 'dpkg' WHEN 'r' THEN 'rpm' WHEN 'w' THEN 'dotted' ELSE 'natural' END,
       publisher, architecture, version_key
FROM package;

DROP TABLE package;

ALTER TABLE package_new RENAME TO package;

CREATE INDEX package_name_version_key ON package (name, version_key);

CREATE INDEX package_source_name ON package (source_name) WHERE source_name IS NOT NULL;

CREATE TABLE advisory (
    id TEXT NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
    feed TEXT NOT NULL CHECK (feed IN ('osv', 'alas')),
    summary TEXT CHECK (length(summary) <= 1000),
    severity TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'unknown')),
    severity_rank INTEGER NOT NULL,
    aliases TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(aliases)),
    published TEXT,
    modified TEXT NOT NULL,
    withdrawn TEXT,
    imported TEXT NOT NULL
);

CREATE TABLE advisory_alias (
    alias TEXT NOT NULL,
    advisory_id TEXT NOT NULL REFERENCES advisory (id) ON DELETE CASCADE,
    PRIMARY KEY (alias, advisory_id)
) WITHOUT ROWID;

CREATE INDEX advisory_alias_advisory ON advisory_alias (advisory_id);

CREATE TABLE advisory_range (
    id INTEGER PRIMARY KEY,
    advisory_id TEXT NOT NULL REFERENCES advisory (id) ON DELETE CASCADE,
    os_release TEXT NOT NULL,
    scheme TEXT NOT NULL,
    package_name TEXT NOT NULL,
    names_source INTEGER NOT NULL,
    introduced_key TEXT,
    fixed_key TEXT,
    fixed_version TEXT,
    last_affected_key TEXT
);

CREATE INDEX advisory_range_package ON advisory_range (package_name, os_release);

CREATE INDEX advisory_range_advisory ON advisory_range (advisory_id);

CREATE TABLE package_source_map (
    os_release TEXT NOT NULL,
    binary_name TEXT NOT NULL,
    source_name TEXT NOT NULL,
    PRIMARY KEY (os_release, binary_name)
) WITHOUT ROWID;

CREATE INDEX package_source_map_source ON package_source_map (os_release, source_name);

CREATE INDEX package_source_map_binary ON package_source_map (binary_name);

CREATE TABLE package_finding (
    package_id INTEGER NOT NULL REFERENCES package (id),
    range_id INTEGER NOT NULL REFERENCES advisory_range (id) ON DELETE CASCADE,
    matched_by TEXT NOT NULL CHECK (matched_by IN ('package', 'source_map', 'source_rpm', 'same_name')),
    PRIMARY KEY (package_id, range_id)
) WITHOUT ROWID;

CREATE INDEX package_finding_range ON package_finding (range_id, package_id);

-- The matching rule, whole (see the PostgreSQL file); SQLite pushes a
-- condition on `package_id` or `range_id` into each branch.
CREATE VIEW package_match AS
SELECT p.id AS package_id, r.id AS range_id, 'package' AS matched_by
FROM advisory_range r
JOIN package p ON p.name = r.package_name AND p.scheme = r.scheme
WHERE NOT r.names_source
  AND (r.introduced_key IS NULL OR p.version_key >= r.introduced_key)
  AND (r.fixed_key IS NULL OR p.version_key < r.fixed_key)
  AND (r.last_affected_key IS NULL OR p.version_key <= r.last_affected_key)
UNION ALL
SELECT p.id, r.id, 'source_map'
FROM advisory_range r
JOIN package_source_map m ON m.os_release = r.os_release AND m.source_name = r.package_name
JOIN package p ON p.name = m.binary_name AND p.scheme = r.scheme
WHERE r.names_source
  AND (r.introduced_key IS NULL OR p.version_key >= r.introduced_key)
  AND (r.fixed_key IS NULL OR p.version_key < r.fixed_key)
  AND (r.last_affected_key IS NULL OR p.version_key <= r.last_affected_key)
UNION ALL
SELECT p.id, r.id, 'source_rpm'
FROM advisory_range r
JOIN package p ON p.source_name = r.package_name AND p.scheme = r.scheme
WHERE r.names_source
  AND NOT EXISTS (
      SELECT 1 FROM package_source_map m
      WHERE m.os_release = r.os_release AND m.binary_name = p.name)
  AND (r.introduced_key IS NULL OR p.version_key >= r.introduced_key)
  AND (r.fixed_key IS NULL OR p.version_key < r.fixed_key)
  AND (r.last_affected_key IS NULL OR p.version_key <= r.last_affected_key)
UNION ALL
SELECT p.id, r.id, 'same_name'
FROM advisory_range r
JOIN package p ON p.name = r.package_name AND p.scheme = r.scheme AND p.source_name IS NULL
WHERE r.names_source
  AND NOT EXISTS (
      SELECT 1 FROM package_source_map m
      WHERE m.os_release = r.os_release AND m.binary_name = p.name)
  AND (r.introduced_key IS NULL OR p.version_key >= r.introduced_key)
  AND (r.fixed_key IS NULL OR p.version_key < r.fixed_key)
  AND (r.last_affected_key IS NULL OR p.version_key <= r.last_affected_key);

-- SQLite (local only, one writer at a time) keeps the findings with
-- triggers: a package row that appears, or whose sort key or source changes,
-- gets its findings again. PostgreSQL and MySQL do the same in their write
-- routines, for a whole write at once.
CREATE TRIGGER package_findings_on_insert AFTER INSERT ON package
BEGIN
    INSERT OR IGNORE INTO package_finding (package_id, range_id, matched_by)
    SELECT m.package_id, m.range_id, m.matched_by FROM package_match m WHERE m.package_id = NEW.id;
END;

CREATE TRIGGER package_findings_on_update AFTER UPDATE OF version_key, source_name ON package
WHEN OLD.version_key IS NOT NEW.version_key OR OLD.source_name IS NOT NEW.source_name
BEGIN
    DELETE FROM package_finding WHERE package_id = NEW.id;
    INSERT OR IGNORE INTO package_finding (package_id, range_id, matched_by)
    SELECT m.package_id, m.range_id, m.matched_by FROM package_match m WHERE m.package_id = NEW.id;
END;
