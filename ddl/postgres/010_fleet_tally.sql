-- Schema 10: the fleet's counts, recounted whole rather than kept on every
-- write. `GET /vulnerabilities` (and the page's overview) reads how many
-- instances each advisory affects from `advisory_exposure`, and the most
-- widespread packages from `package_spread`; counting them live takes
-- seconds at 10,000 instances (every instance-advisory pair). A read whose
-- counts are older than the configured age recounts both in one call of
-- `inventory_count_fleet` (routines.sql), which first claims the single
-- `fleet_tally` row, so concurrent readers recount once. An advisory import
-- clears `counted_at`, so the next read recounts.
--
-- `advisory_exposure` has one row per advisory and (account, region,
-- state): an instance is in exactly one, so the filters of the fleet
-- summary add rows up. Withdrawal and severity are read live from
-- `advisory`.

CREATE TABLE fleet_tally (
    id smallint PRIMARY KEY CHECK (id = 1),
    counted_at timestamp(6)
);

INSERT INTO fleet_tally (id) VALUES (1);

CREATE TABLE advisory_exposure (
    advisory_id varchar(128) COLLATE "C" NOT NULL,
    account varchar(12) NOT NULL,
    region varchar(32) NOT NULL,
    state varchar(16),
    instances bigint NOT NULL
);

CREATE INDEX advisory_exposure_advisory ON advisory_exposure (advisory_id);

-- Per package name: its links (`installs`), the instances with any version
-- of it, and its versions with at least one instance; only the names with
-- the most links, as many as a read may ask for.
CREATE TABLE package_spread (
    name varchar(255) COLLATE "C" PRIMARY KEY,
    installs bigint NOT NULL,
    instances bigint NOT NULL,
    versions bigint NOT NULL
);

CREATE INDEX package_spread_installs ON package_spread (installs DESC, name);
