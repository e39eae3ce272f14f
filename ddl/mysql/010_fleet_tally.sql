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
-- `advisory`. `package_spread` has no unique name: the collation ignores
-- trailing spaces, and names that differ only in them are counted apart.

CREATE TABLE IF NOT EXISTS fleet_tally (
    id TINYINT NOT NULL PRIMARY KEY CHECK (id = 1),
    counted_at DATETIME(6) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT IGNORE INTO fleet_tally (id) VALUES (1);

CREATE TABLE IF NOT EXISTS advisory_exposure (
    advisory_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    account CHAR(12) CHARACTER SET ascii NOT NULL,
    region VARCHAR(32) CHARACTER SET ascii NOT NULL,
    state VARCHAR(16) CHARACTER SET ascii NULL,
    instances BIGINT NOT NULL,
    KEY advisory_exposure_advisory (advisory_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS package_spread (
    name VARCHAR(255) NOT NULL,
    installs BIGINT NOT NULL,
    instances BIGINT NOT NULL,
    versions BIGINT NOT NULL,
    KEY package_spread_installs (installs, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
