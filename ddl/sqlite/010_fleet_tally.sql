-- Schema 10: the fleet's counts, recounted whole rather than kept on every
-- write. `GET /vulnerabilities` (and the page's overview) reads how many
-- instances each advisory affects from `advisory_exposure`, and the most
-- widespread packages from `package_spread`. A read whose counts are older
-- than the configured age recounts both in one transaction, which first
-- claims the single `fleet_tally` row, so concurrent readers recount once.
-- An advisory import clears `counted_at`, so the next read recounts.
--
-- `advisory_exposure` has one row per advisory and (account, region,
-- state): an instance is in exactly one, so the filters of the fleet
-- summary add rows up. Withdrawal and severity are read live from
-- `advisory`.

CREATE TABLE fleet_tally (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    counted_at TEXT
);

INSERT INTO fleet_tally (id) VALUES (1);

CREATE TABLE advisory_exposure (
    advisory_id TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    state TEXT,
    instances INTEGER NOT NULL
);

CREATE INDEX advisory_exposure_advisory ON advisory_exposure (advisory_id);

CREATE TABLE package_spread (
    name TEXT NOT NULL PRIMARY KEY,
    installs INTEGER NOT NULL,
    instances INTEGER NOT NULL,
    versions INTEGER NOT NULL
);

CREATE INDEX package_spread_installs ON package_spread (installs DESC, name);
