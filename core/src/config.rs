//! Settings read from the environment, shared by the Lambda handlers and the CLI.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `INVENTORY_CLUSTER_ARN` | Aurora cluster ARN (Data API `resourceArn`) | required |
//! | `INVENTORY_SECRET_ARN` | Secrets Manager ARN of the database credentials (`secretArn`) | required |
//! | `INVENTORY_DATABASE` | database name (`database`) | none: the secret's default database |
//! | `INVENTORY_DIALECT` | `postgres`, `mysql` or `sqlite` | `postgres` |
//! | `INVENTORY_SYNC_MAX_AGE_HOURS` | scheduled sync re-reads inventories older than this | `24` |
//! | `INVENTORY_SYNC_BATCH` | stale inventories the scheduled sync re-reads per run | `50` |
//! | `INVENTORY_SYNC_FLEET_BATCH` | instances the scheduled sync's fleet walk visits per run | `2000` |
//! | `INVENTORY_SYNC_TIME_BUDGET_SECONDS` | time after which a run starts no further visit | `180` |
//! | `INVENTORY_HISTORY_RETENTION_DAYS` | the scheduled sync prunes history older than this; `0` keeps it all | `365` |
//! | `INVENTORY_ORGANIZATION_ID` | organization mode: the organization's ACTIVE accounts are allowed | none |
//! | `INVENTORY_ALLOWED_ACCOUNTS` | organization mode with exactly these accounts (comma-separated) | none |
//! | `INVENTORY_MEMBER_ROLE_NAME` | the role assumed in each member account | `ec2-inventory-member` |
//! | `INVENTORY_SYNC_REGIONS` | the regions the sync walks in each account (comma-separated) | the function's region |
//! | `INVENTORY_SILENT_AFTER_HOURS` | a scope unheard of for longer is silent | `24` |
//! | `INVENTORY_METRICS_NAMESPACE` | CloudWatch namespace of the sync's metrics | `EC2Inventory` |
//! | `INVENTORY_ADVISORY_FEEDS` | the scheduled advisory import's feeds: `osv:<Ecosystem>`, `alas:2`, `alas:2023`, comma-separated | required by `advisories-fetch` |
//! | `INVENTORY_OSV_BASE_URL` | base of OSV's per-ecosystem `all.zip` | `https://osv-vulnerabilities.storage.googleapis.com` |
//! | `INVENTORY_ALAS_BASE_URL` | base of the Amazon Linux repositories' `mirror.list` | `https://cdn.amazonlinux.com` |
//! | `INVENTORY_FEED_DIR` | where feeds are downloaded before their import | the temporary directory (`/tmp`) |
//!
//! `AWS_ENDPOINT_URL_RDS_DATA` (honoured by the SDK itself) points the Data API
//! client at the local endpoint.

use std::collections::BTreeSet;

use crate::model::{Account, Region};
use crate::store::{DbTarget, Dialect, UnknownDialect};

pub const ENV_CLUSTER_ARN: &str = "INVENTORY_CLUSTER_ARN";
pub const ENV_SECRET_ARN: &str = "INVENTORY_SECRET_ARN";
pub const ENV_DATABASE: &str = "INVENTORY_DATABASE";
pub const ENV_DIALECT: &str = "INVENTORY_DIALECT";
pub const ENV_SYNC_MAX_AGE_HOURS: &str = "INVENTORY_SYNC_MAX_AGE_HOURS";
pub const ENV_SYNC_BATCH: &str = "INVENTORY_SYNC_BATCH";

pub const ENV_SYNC_FLEET_BATCH: &str = "INVENTORY_SYNC_FLEET_BATCH";
pub const ENV_SYNC_TIME_BUDGET_SECONDS: &str = "INVENTORY_SYNC_TIME_BUDGET_SECONDS";
pub const ENV_HISTORY_RETENTION_DAYS: &str = "INVENTORY_HISTORY_RETENTION_DAYS";
/// The scheduled advisory import (`feeds::fetch::FetchSettings`).
pub const ENV_ADVISORY_FEEDS: &str = "INVENTORY_ADVISORY_FEEDS";
pub const ENV_OSV_BASE_URL: &str = "INVENTORY_OSV_BASE_URL";
pub const ENV_ALAS_BASE_URL: &str = "INVENTORY_ALAS_BASE_URL";
pub const ENV_FEED_DIR: &str = "INVENTORY_FEED_DIR";

/// The variables every handler reads to reach the database.
pub const DATABASE_VARS: [&str; 4] = [ENV_CLUSTER_ARN, ENV_SECRET_ARN, ENV_DATABASE, ENV_DIALECT];

/// Hours after which a watched account and region nobody heard from is silent.
pub const DEFAULT_SILENT_AFTER_HOURS: u32 = 24;

pub const ENV_ACCOUNT_ID: &str = "INVENTORY_ACCOUNT_ID";
pub const ENV_ORGANIZATION_ID: &str = "INVENTORY_ORGANIZATION_ID";
pub const ENV_ALLOWED_ACCOUNTS: &str = "INVENTORY_ALLOWED_ACCOUNTS";
pub const ENV_MEMBER_ROLE_NAME: &str = "INVENTORY_MEMBER_ROLE_NAME";
pub const ENV_SYNC_REGIONS: &str = "INVENTORY_SYNC_REGIONS";
pub const ENV_SILENT_AFTER_HOURS: &str = "INVENTORY_SILENT_AFTER_HOURS";
pub const ENV_COUNTS_MAX_AGE_SECONDS: &str = "INVENTORY_COUNTS_MAX_AGE_SECONDS";
/// The longest [`ENV_COUNTS_MAX_AGE_SECONDS`]: a day.
pub const MAX_COUNTS_MAX_AGE_SECONDS: u32 = 86_400;
pub const ENV_METRICS_NAMESPACE: &str = "INVENTORY_METRICS_NAMESPACE";
pub const DEFAULT_MEMBER_ROLE_NAME: &str = "ec2-inventory-member";
pub const DEFAULT_METRICS_NAMESPACE: &str = "EC2Inventory";
/// The variables the scheduled sync reads, on top of [`DATABASE_VARS`].
pub const SYNC_VARS: [&str; 5] = [
    ENV_SYNC_MAX_AGE_HOURS,
    ENV_SYNC_BATCH,
    ENV_SYNC_FLEET_BATCH,
    ENV_SYNC_TIME_BUDGET_SECONDS,
    ENV_HISTORY_RETENTION_DAYS,
];

pub const DEFAULT_SYNC_MAX_AGE_HOURS: u32 = 24;
pub const DEFAULT_SYNC_BATCH: u32 = 50;
/// Largest sync batch: one run must finish well inside the function's timeout.
pub const MAX_SYNC_BATCH: u32 = 1000;
pub const DEFAULT_HISTORY_RETENTION_DAYS: u32 = 365;
/// About 270 years: further back than any time the databases hold.
pub const MAX_HISTORY_RETENTION_DAYS: u32 = 100_000;

/// A setting that is missing or unusable; the message names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Reads a variable from the process environment (the lookup the binaries use;
/// tests pass their own).
pub fn from_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Where the Data API calls go, from the settings `lookup` yields.
/// Empty or blank values count as unset.
pub fn db_target(lookup: impl Fn(&str) -> Option<String>) -> Result<DbTarget, ConfigError> {
    let get = |name: &str| {
        lookup(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let required = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));
    let dialect = match get(ENV_DIALECT) {
        None => Dialect::Postgres,
        Some(raw) => raw
            .parse()
            .map_err(|e: UnknownDialect| ConfigError::Invalid {
                name: ENV_DIALECT,
                reason: format!("{raw:?} {e}"),
            })?,
    };
    Ok(DbTarget {
        resource_arn: required(ENV_CLUSTER_ARN)?,
        secret_arn: required(ENV_SECRET_ARN)?,
        database: get(ENV_DATABASE),
        dialect,
    })
}

pub const DEFAULT_SYNC_FLEET_BATCH: u32 = 2000;
/// Largest walk per run: bounds the memory and the store read of one run.
pub const MAX_SYNC_FLEET_BATCH: u32 = 50_000;
/// What a sync run's time budget leaves of the function's timeout: a
/// database resuming, the visits in flight and the cursor's last save.
pub const SYNC_TIMEOUT_HEADROOM_SECONDS: u32 = 120;
/// The template's `Timeout: 300` less the headroom.
pub const DEFAULT_SYNC_TIME_BUDGET_SECONDS: u32 = 300 - SYNC_TIMEOUT_HEADROOM_SECONDS;
/// 14 minutes: Lambda stops any function at 15.
pub const MAX_SYNC_TIME_BUDGET_SECONDS: u32 = 840;

/// Reads a whole number from 1 to `max` from `lookup`; unset or blank is `default`.
fn bounded_number(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u32,
    max: u32,
) -> Result<u32, ConfigError> {
    number_in(lookup, name, default, 1, max)
}

/// Reads a whole number from `min` to `max`; unset or blank is `default`.
fn number_in(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, ConfigError> {
    let Some(raw) = lookup(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(default);
    };
    match raw.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError::Invalid {
            name,
            reason: format!("{raw:?} is not a whole number from {min} to {max}"),
        }),
    }
}

/// Budget of one run of the scheduled sync's walk over the whole fleet
/// (discovering unrecorded instances, healing missed state changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FleetSettings {
    /// Instances visited per run, 1..=[`MAX_SYNC_FLEET_BATCH`].
    pub batch: u32,
    /// No visit starts after this long into a run.
    pub time_budget: std::time::Duration,
    /// A scope's share of the time budget never drops below this; a run
    /// that cannot give the next scope so much leaves the rest to the next
    /// run ([`MIN_SCOPE_BUDGET`](crate::events::sync::MIN_SCOPE_BUDGET);
    /// not an environment setting).
    pub min_scope_budget: std::time::Duration,
}

impl Default for FleetSettings {
    fn default() -> Self {
        Self {
            batch: DEFAULT_SYNC_FLEET_BATCH,
            time_budget: std::time::Duration::from_secs(DEFAULT_SYNC_TIME_BUDGET_SECONDS.into()),
            min_scope_budget: crate::events::sync::MIN_SCOPE_BUDGET,
        }
    }
}

impl FleetSettings {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let seconds = bounded_number(
            &lookup,
            ENV_SYNC_TIME_BUDGET_SECONDS,
            DEFAULT_SYNC_TIME_BUDGET_SECONDS,
            MAX_SYNC_TIME_BUDGET_SECONDS,
        )?;
        Ok(Self {
            batch: bounded_number(
                &lookup,
                ENV_SYNC_FLEET_BATCH,
                DEFAULT_SYNC_FLEET_BATCH,
                MAX_SYNC_FLEET_BATCH,
            )?,
            time_budget: std::time::Duration::from_secs(seconds.into()),
            ..Self::default()
        })
    }
}

/// Settings of the scheduled sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncSettings {
    /// Inventories captured longer ago than this are re-read.
    pub max_age_hours: u32,
    /// Instances handled per run, 1..=[`MAX_SYNC_BATCH`].
    pub batch: u32,
    /// History older than this many days is pruned; 0 keeps it all.
    pub history_retention_days: u32,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            max_age_hours: DEFAULT_SYNC_MAX_AGE_HOURS,
            batch: DEFAULT_SYNC_BATCH,
            history_retention_days: DEFAULT_HISTORY_RETENTION_DAYS,
        }
    }
}

impl SyncSettings {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let number = |name, default, max| bounded_number(&lookup, name, default, max);
        Ok(Self {
            max_age_hours: number(ENV_SYNC_MAX_AGE_HOURS, DEFAULT_SYNC_MAX_AGE_HOURS, u32::MAX)?,
            batch: number(ENV_SYNC_BATCH, DEFAULT_SYNC_BATCH, MAX_SYNC_BATCH)?,
            history_retention_days: retention_days(&lookup)?,
        })
    }
}

/// `INVENTORY_HISTORY_RETENTION_DAYS`: 0 (keep all) is allowed, unlike the
/// other numbers.
fn retention_days(lookup: &impl Fn(&str) -> Option<String>) -> Result<u32, ConfigError> {
    let name = ENV_HISTORY_RETENTION_DAYS;
    match lookup(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
    {
        None => Ok(DEFAULT_HISTORY_RETENTION_DAYS),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|days| *days <= MAX_HISTORY_RETENTION_DAYS)
            .ok_or_else(|| ConfigError::Invalid {
                name,
                reason: format!(
                    "{raw:?} is not a whole number of days from 0 to {MAX_HISTORY_RETENTION_DAYS}"
                ),
            }),
    }
}

/// Which accounts and regions the state-change function serves
/// (organization mode, `docs/configuration.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSettings {
    /// The function's own account when set; otherwise it is read from the
    /// invoked function's ARN (local runtime emulators send no real ARN).
    pub own_account: Option<Account>,
    /// `o-…`: the organization's ACTIVE accounts are allowed.
    pub organization_id: Option<String>,
    /// Exactly these accounts are allowed (and, with an organization id,
    /// only those of them in the organization).
    pub allowed_accounts: Option<BTreeSet<Account>>,
    /// The role assumed in every account but the function's own.
    pub member_role_name: String,
    /// The regions the sync walks in each account; empty: the function's own.
    pub sync_regions: Vec<Region>,
}

impl Default for OrgSettings {
    fn default() -> Self {
        Self {
            own_account: None,
            organization_id: None,
            allowed_accounts: None,
            member_role_name: DEFAULT_MEMBER_ROLE_NAME.to_owned(),
            sync_regions: Vec::new(),
        }
    }
}

impl OrgSettings {
    /// True in organization mode (an organization id or an account list).
    pub fn is_organization(&self) -> bool {
        self.organization_id.is_some() || self.allowed_accounts.is_some()
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let invalid = |name, reason: String| ConfigError::Invalid { name, reason };
        let list = |raw: &str| -> Vec<String> {
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let own_account = get(ENV_ACCOUNT_ID)
            .map(|a| {
                Account::parse(&a)
                    .map_err(|e| invalid(ENV_ACCOUNT_ID, format!("{a:?}: {}", e.message)))
            })
            .transpose()?;
        let organization_id = match get(ENV_ORGANIZATION_ID) {
            None => None,
            Some(id) => {
                let body = id.strip_prefix("o-").unwrap_or_default();
                let ok = (10..=32).contains(&body.len())
                    && body
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
                if !ok {
                    return Err(invalid(
                        ENV_ORGANIZATION_ID,
                        format!("{id:?} is not o- and 10 to 32 lowercase letters or digits"),
                    ));
                }
                Some(id)
            }
        };
        let allowed_accounts = match get(ENV_ALLOWED_ACCOUNTS) {
            None => None,
            Some(raw) => Some(
                list(&raw)
                    .iter()
                    .map(|a| {
                        Account::parse(a).map_err(|e| {
                            invalid(ENV_ALLOWED_ACCOUNTS, format!("{a:?}: {}", e.message))
                        })
                    })
                    .collect::<Result<BTreeSet<_>, _>>()?,
            ),
        };
        let member_role_name =
            get(ENV_MEMBER_ROLE_NAME).unwrap_or_else(|| DEFAULT_MEMBER_ROLE_NAME.to_owned());
        // IAM role names: 1 to 64 letters, digits and +=,.@_-
        let role_ok = (1..=64).contains(&member_role_name.len())
            && member_role_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
        if !role_ok {
            return Err(invalid(
                ENV_MEMBER_ROLE_NAME,
                format!("{member_role_name:?} is not an IAM role name"),
            ));
        }
        let mut sync_regions = Vec::new();
        for r in get(ENV_SYNC_REGIONS)
            .as_deref()
            .map(list)
            .unwrap_or_default()
        {
            let region = Region::parse(&r)
                .map_err(|e| invalid(ENV_SYNC_REGIONS, format!("{r:?}: {}", e.message)))?;
            if !sync_regions.contains(&region) {
                sync_regions.push(region);
            }
        }
        Ok(Self {
            own_account,
            organization_id,
            allowed_accounts,
            member_role_name,
            sync_regions,
        })
    }
}

/// `INVENTORY_SILENT_AFTER_HOURS`: 1 hour to about 10 years.
pub fn silent_after_hours(lookup: impl Fn(&str) -> Option<String>) -> Result<u32, ConfigError> {
    bounded_number(
        &lookup,
        ENV_SILENT_AFTER_HOURS,
        DEFAULT_SILENT_AFTER_HOURS,
        24 * 3660,
    )
}

/// `INVENTORY_COUNTS_MAX_AGE_SECONDS`: how old the fleet's counts may be
/// before a read recounts them, 0 (every read) to a day; default
/// [`crate::store::DEFAULT_COUNTS_MAX_AGE`].
pub fn counts_max_age(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<std::time::Duration, ConfigError> {
    let default = crate::store::DEFAULT_COUNTS_MAX_AGE.as_secs() as u32;
    let seconds = number_in(
        &lookup,
        ENV_COUNTS_MAX_AGE_SECONDS,
        default,
        0,
        MAX_COUNTS_MAX_AGE_SECONDS,
    )?;
    Ok(std::time::Duration::from_secs(seconds.into()))
}

/// `INVENTORY_METRICS_NAMESPACE`, or `EC2Inventory`.
pub fn metrics_namespace(lookup: impl Fn(&str) -> Option<String>) -> String {
    lookup(ENV_METRICS_NAMESPACE)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn org_settings_default_parse_and_reject() {
        assert_eq!(
            OrgSettings::from_lookup(lookup(&[])).unwrap(),
            OrgSettings::default()
        );
        assert!(!OrgSettings::default().is_organization());
        let s = OrgSettings::from_lookup(lookup(&[
            (ENV_ORGANIZATION_ID, "o-abcdef1234"),
            (
                ENV_ALLOWED_ACCOUNTS,
                " 111122223333, 444455556666,111122223333 ",
            ),
            (ENV_MEMBER_ROLE_NAME, "inv-reader"),
            (ENV_SYNC_REGIONS, "eu-west-1,us-east-1,eu-west-1"),
            (ENV_ACCOUNT_ID, "123456789012"),
        ]))
        .unwrap();
        assert_eq!(
            s.own_account.as_ref().map(|a| a.as_str()),
            Some("123456789012")
        );
        assert!(s.is_organization());
        assert_eq!(s.organization_id.as_deref(), Some("o-abcdef1234"));
        assert_eq!(s.allowed_accounts.unwrap().len(), 2);
        assert_eq!(s.member_role_name, "inv-reader");
        let regions: Vec<&str> = s.sync_regions.iter().map(|r| r.as_str()).collect();
        assert_eq!(regions, ["eu-west-1", "us-east-1"]);
        for (name, raw) in [
            (ENV_ORGANIZATION_ID, "o-short"),
            (ENV_ORGANIZATION_ID, "r-abcdef1234"),
            (ENV_ORGANIZATION_ID, "o-ABCDEF1234"),
            (ENV_ALLOWED_ACCOUNTS, "1234"),
            (ENV_MEMBER_ROLE_NAME, "role/../x"),
            (ENV_SYNC_REGIONS, "eu-west-1,Mars"),
            (ENV_ACCOUNT_ID, "function-arn"),
        ] {
            let err = OrgSettings::from_lookup(lookup(&[(name, raw)])).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { name: n, .. } if *n == name),
                "{raw}: {err:?}"
            );
        }
        assert_eq!(silent_after_hours(lookup(&[])).unwrap(), 24);
        assert!(silent_after_hours(lookup(&[(ENV_SILENT_AFTER_HOURS, "0")])).is_err());
        assert_eq!(
            counts_max_age(lookup(&[])).unwrap(),
            crate::store::DEFAULT_COUNTS_MAX_AGE
        );
        let age = |raw| counts_max_age(lookup(&[(ENV_COUNTS_MAX_AGE_SECONDS, raw)]));
        assert_eq!(age(" 0 ").unwrap().as_secs(), 0);
        assert_eq!(age("86400").unwrap().as_secs(), 86_400);
        for bad in ["86401", "-1", "1.5", "a minute"] {
            assert!(age(bad).is_err(), "{bad}");
        }
        assert_eq!(metrics_namespace(lookup(&[])), "EC2Inventory");
    }

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const ARNS: [(&str, &str); 2] = [
        (
            ENV_CLUSTER_ARN,
            "arn:aws:rds:us-east-1:123456789012:cluster:inv",
        ),
        (
            ENV_SECRET_ARN,
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:inv-AbCdEf",
        ),
    ];

    #[test]
    fn db_target_reads_every_database_var() {
        let mut vars = ARNS.to_vec();
        vars.extend([(ENV_DATABASE, "inventory"), (ENV_DIALECT, "mysql")]);
        let t = db_target(lookup(&vars)).unwrap();
        assert_eq!(t.resource_arn, ARNS[0].1);
        assert_eq!(t.secret_arn, ARNS[1].1);
        assert_eq!(t.database.as_deref(), Some("inventory"));
        assert_eq!(t.dialect, Dialect::Mysql);
    }

    #[test]
    fn db_target_defaults_dialect_and_database() {
        let t = db_target(lookup(&[ARNS[0], ARNS[1], (ENV_DATABASE, " ")])).unwrap();
        assert_eq!(t.dialect, Dialect::Postgres);
        assert_eq!(t.database, None);
    }

    #[test]
    fn a_missing_required_var_is_named() {
        for (i, name) in [ENV_CLUSTER_ARN, ENV_SECRET_ARN].into_iter().enumerate() {
            let err = db_target(lookup(&[ARNS[1 - i], (name, "")])).unwrap_err();
            assert_eq!(err, ConfigError::Missing(name));
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn a_bad_dialect_is_named() {
        let err = db_target(lookup(&[ARNS[0], ARNS[1], (ENV_DIALECT, "oracle")])).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    name: ENV_DIALECT,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("oracle"), "{err}");
    }

    #[test]
    fn sync_settings_default_and_parse() {
        assert_eq!(
            SyncSettings::from_lookup(lookup(&[])).unwrap(),
            SyncSettings::default()
        );
        let s = SyncSettings::from_lookup(lookup(&[
            (ENV_SYNC_MAX_AGE_HOURS, "6"),
            (ENV_SYNC_BATCH, "10"),
            (ENV_HISTORY_RETENTION_DAYS, "0"),
        ]))
        .unwrap();
        assert_eq!(
            s,
            SyncSettings {
                max_age_hours: 6,
                batch: 10,
                history_retention_days: 0,
            }
        );
    }

    #[test]
    fn fleet_settings_default_parse_and_reject() {
        assert_eq!(
            FleetSettings::from_lookup(lookup(&[])).unwrap(),
            FleetSettings::default()
        );
        let s = FleetSettings::from_lookup(lookup(&[
            (ENV_SYNC_FLEET_BATCH, "100"),
            (ENV_SYNC_TIME_BUDGET_SECONDS, "60"),
        ]))
        .unwrap();
        assert_eq!(s.batch, 100);
        assert_eq!(s.time_budget.as_secs(), 60);
        for (name, raw) in [
            (ENV_SYNC_FLEET_BATCH, "0"),
            (ENV_SYNC_TIME_BUDGET_SECONDS, "900"),
        ] {
            let err = FleetSettings::from_lookup(lookup(&[(name, raw)])).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn sync_settings_reject_out_of_range_values() {
        for (name, raw) in [
            (ENV_SYNC_BATCH, "0"),
            (ENV_SYNC_BATCH, "1001"),
            (ENV_SYNC_MAX_AGE_HOURS, "-1"),
            (ENV_SYNC_MAX_AGE_HOURS, "1.5"),
            (ENV_HISTORY_RETENTION_DAYS, "-1"),
            (ENV_HISTORY_RETENTION_DAYS, "100001"),
            (ENV_HISTORY_RETENTION_DAYS, "a year"),
        ] {
            let err = SyncSettings::from_lookup(lookup(&[(name, raw)])).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { name: n, .. } if *n == name),
                "{err:?}"
            );
        }
    }
}
