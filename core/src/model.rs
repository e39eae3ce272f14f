//! The domain model and its validation.
//!
//! Field names in validation errors are the HTTP API's (`aws_account`,
//! `packages[3].package_name`, ...) so a caller can tell which input was wrong.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::advisories::Release;
use crate::version::VersionScheme;

pub const MAX_INSTANCE_ID_LEN: usize = 255;
pub const MAX_PACKAGES: usize = 10_000;
pub const MAX_PACKAGE_NAME_LEN: usize = 255;
pub const MAX_PACKAGE_VERSION_LEN: usize = 128;
pub const MAX_PACKAGE_PUBLISHER_LEN: usize = 255;
pub const MAX_PACKAGE_ARCHITECTURE_LEN: usize = 32;
pub const MAX_PLATFORM_NAME_LEN: usize = 255;
pub const MAX_PLATFORM_VERSION_LEN: usize = 64;

/// Input that breaks a rule of the model; `field` names the offending input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Refuses text that an engine cannot store: PostgreSQL refuses the NUL
/// character in text (and in JSON strings); the others would store it, but
/// the same input must mean the same on every engine.
pub fn check_storable(field: &str, value: &str) -> Result<(), ValidationError> {
    if value.contains('\0') {
        return Err(ValidationError::new(
            field,
            "must not contain the NUL character (U+0000)",
        ));
    }
    Ok(())
}

/// The rule of a package name, wherever one comes in (a body's package, a
/// path, a query): storable, 1 to 255 characters.
pub fn check_package_name(field: &str, name: &str) -> Result<(), ValidationError> {
    check_storable(field, name)?;
    if name.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if name.chars().count() > MAX_PACKAGE_NAME_LEN {
        return Err(ValidationError::new(
            field,
            format!("must be 1 to {MAX_PACKAGE_NAME_LEN} characters"),
        ));
    }
    Ok(())
}

/// The rule of a package version: storable, at most 128 characters (a
/// package may report none).
pub fn check_package_version(field: &str, version: &str) -> Result<(), ValidationError> {
    check_storable(field, version)?;
    if version.chars().count() > MAX_PACKAGE_VERSION_LEN {
        return Err(ValidationError::new(
            field,
            format!("must be at most {MAX_PACKAGE_VERSION_LEN} characters"),
        ));
    }
    Ok(())
}

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

string_newtype!(
    /// An instance id: EC2 `i-…` and SSM managed `mi-…` ids from events, or any
    /// 1-255 letters, digits, `-`, `_`, `.`, `:` for manual backfill.
    InstanceId
);
string_newtype!(
    /// A 12-digit AWS account id.
    Account
);
string_newtype!(
    /// An AWS region name such as `us-east-1` or `us-gov-west-1`.
    Region
);

impl InstanceId {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        const FIELD: &str = "aws_instance_id";
        if s.is_empty() || s.len() > MAX_INSTANCE_ID_LEN {
            return Err(ValidationError::new(
                FIELD,
                format!("must be 1 to {MAX_INSTANCE_ID_LEN} characters"),
            ));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        {
            return Err(ValidationError::new(
                FIELD,
                "may contain only letters, digits, '-', '_', '.' and ':'",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

impl Account {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ValidationError::new(
                "aws_account",
                "must be a 12-digit AWS account id",
            ))
        }
    }
}

impl Region {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        if is_region_shape(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ValidationError::new(
                "aws_region",
                "must be an AWS region name such as us-east-1",
            ))
        }
    }
}

/// `xx-name-N` or `xx-partition-name-N` (us-east-1, us-gov-west-1, us-isob-east-1).
fn is_region_shape(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lower = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    match parts.as_slice() {
        [geo, middle @ .., number] if (1..=2).contains(&middle.len()) => {
            geo.len() == 2
                && lower(geo)
                && middle.iter().all(|p| lower(p))
                && (1..=2).contains(&number.len())
                && number.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    }
}

/// The EC2 instance lifecycle states of the state-change notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceState {
    Pending,
    Running,
    Stopping,
    Stopped,
    ShuttingDown,
    Terminated,
}

impl InstanceState {
    pub const ALL: [InstanceState; 6] = [
        Self::Pending,
        Self::Running,
        Self::Stopping,
        Self::Stopped,
        Self::ShuttingDown,
        Self::Terminated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
            Self::ShuttingDown => "shutting-down",
            Self::Terminated => "terminated",
        }
    }
}

impl fmt::Display for InstanceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InstanceState {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new(
                    "state",
                    "must be one of pending, running, stopping, stopped, shutting-down, terminated",
                )
            })
    }
}

/// Who wrote a record last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Event,
    Api,
    Sync,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Event => "event",
            Self::Api => "api",
            Self::Sync => "sync",
        }
    }
}

impl FromStr for Source {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Event, Self::Api, Self::Sync]
            .into_iter()
            .find(|source| source.as_str() == s)
            .ok_or_else(|| ValidationError::new("source", "must be event, api or sync"))
    }
}

/// An installed package. `version` may be empty where SSM reported none.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub publisher: Option<String>,
    pub architecture: Option<String>,
    /// The source package this build came from, where the inventory says
    /// (SSM's source RPM file name for an RPM): advisories that name source
    /// packages meet binary ones through it.
    pub source_name: Option<String>,
}

impl Package {
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            publisher: None,
            architecture: None,
            source_name: None,
        }
    }

    /// Checks the name and version rules and the other fields' lengths;
    /// `index` is the package's position in the input list.
    pub fn validate(&self, index: usize) -> Result<(), ValidationError> {
        let field = |name: &str| format!("packages[{index}].{name}");
        check_package_name(&field("package_name"), &self.name)?;
        check_package_version(&field("package_version"), &self.version)?;
        let limits = [
            (
                "publisher",
                self.publisher.as_ref(),
                MAX_PACKAGE_PUBLISHER_LEN,
            ),
            (
                "architecture",
                self.architecture.as_ref(),
                MAX_PACKAGE_ARCHITECTURE_LEN,
            ),
            (
                "source_name",
                self.source_name.as_ref(),
                MAX_PACKAGE_NAME_LEN,
            ),
        ];
        for (name, value, max) in limits {
            if let Some(v) = value {
                check_storable(&field(name), v)?;
            }
            if value.is_some_and(|v| v.chars().count() > max) {
                return Err(ValidationError::new(
                    field(name),
                    format!("must be at most {max} characters"),
                ));
            }
        }
        Ok(())
    }
}

/// Validates every package and the list's size.
pub fn validate_packages(packages: &[Package]) -> Result<(), ValidationError> {
    if packages.len() > MAX_PACKAGES {
        return Err(ValidationError::new(
            "packages",
            format!(
                "at most {MAX_PACKAGES} packages per instance ({} given)",
                packages.len()
            ),
        ));
    }
    packages
        .iter()
        .enumerate()
        .try_for_each(|(i, p)| p.validate(i))
}

/// The set of distinct (name, version) packages, sorted: a stable order for
/// writers (so concurrent writers lock shared rows in the same order) and the
/// first publisher/architecture seen for a duplicate.
pub fn distinct_packages(packages: &[Package]) -> Vec<Package> {
    let mut by_key: BTreeMap<(&str, &str), &Package> = BTreeMap::new();
    for p in packages {
        by_key.entry((&p.name, &p.version)).or_insert(p);
    }
    by_key.into_values().cloned().collect()
}

/// What EC2 `DescribeInstances` tells about an instance; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceDetails {
    pub instance_type: Option<String>,
    pub image_id: Option<String>,
    pub platform: Option<String>,
    pub launch_time: Option<DateTime<Utc>>,
    pub tags: BTreeMap<String, String>,
}

/// The operating system an instance reports: SSM's `AWS:InstanceInformation`
/// `PlatformName` and `PlatformVersion` ("Debian GNU/Linux", "12"), or a PUT's
/// `platform_name` and `platform_version`. The OS release it names decides
/// which advisories apply and how the instance's versions order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsPlatform {
    pub name: String,
    pub version: String,
}

impl OsPlatform {
    /// Checks lengths and storability; fields are named as the HTTP API names them.
    pub fn parse(name: &str, version: &str) -> Result<Self, ValidationError> {
        for (field, value, max) in [
            ("platform_name", name, MAX_PLATFORM_NAME_LEN),
            ("platform_version", version, MAX_PLATFORM_VERSION_LEN),
        ] {
            check_storable(field, value)?;
            if value.chars().count() > max {
                return Err(ValidationError::new(
                    field,
                    format!("must be at most {max} characters"),
                ));
            }
        }
        Ok(Self {
            name: name.to_owned(),
            version: version.to_owned(),
        })
    }

    /// The OS release, when it is one the advisory feeds know.
    pub fn release(&self) -> Option<Release> {
        Release::of_platform(&self.name, &self.version)
    }
}

/// A package set to write: the packages, the scheme their versions are keyed
/// in, and the OS the inventory reported with them (`None` keeps the stored one).
#[derive(Debug, Clone, Copy)]
pub struct PackageSet<'a> {
    pub packages: &'a [Package],
    pub scheme: VersionScheme,
    pub os: Option<&'a OsPlatform>,
}

impl<'a> PackageSet<'a> {
    /// Packages keyed in `scheme`, with no OS reported.
    pub fn new(packages: &'a [Package], scheme: VersionScheme) -> Self {
        Self {
            packages,
            scheme,
            os: None,
        }
    }

    pub fn with_os(mut self, os: Option<&'a OsPlatform>) -> Self {
        self.os = os;
        self
    }
}

/// An instance as written: identity, state, details and packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub id: InstanceId,
    pub account: Account,
    pub region: Region,
    pub state: Option<InstanceState>,
    pub details: InstanceDetails,
    /// The OS it reports (a PUT's, or SSM's); `None` when unknown.
    pub os: Option<OsPlatform>,
    pub source: Source,
    pub packages: Vec<Package>,
}

/// An instance as stored, with the times the store keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRecord {
    pub instance: Instance,
    /// The OS release its platform names (`debian:12`), as the findings use it.
    pub os_release: Option<String>,
    /// The scheme its packages' versions were keyed in by the last write.
    pub version_scheme: Option<VersionScheme>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub terminated: Option<DateTime<Utc>>,
    /// Time of the last state event applied; older events never overwrite it.
    pub last_event_time: Option<DateTime<Utc>>,
    /// When the package inventory was last captured (SSM capture time or write time).
    pub inventory_captured_at: Option<DateTime<Utc>>,
}

/// A state change from an EC2 event (or the sync), as the store applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub id: InstanceId,
    pub account: Account,
    pub region: Region,
    pub state: InstanceState,
    pub time: DateTime<Utc>,
    pub details: Option<InstanceDetails>,
}

/// One account and region: where events come from, what one sync walk
/// covers, and the unit of coverage (`<account>:<region>`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    pub account: Account,
    pub region: Region,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.account, self.region)
    }
}

/// Enough to find an instance's inventory in SSM.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstanceKey {
    pub id: InstanceId,
    pub account: Account,
    pub region: Region,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids() {
        for ok in [
            "i-01aaae43feb712345",
            "mi-0123456789abcdef0",
            "instance-002",
            "a:b.c_d",
        ] {
            assert_eq!(InstanceId::parse(ok).unwrap().as_str(), ok);
        }
        let long = "a".repeat(256);
        for bad in ["", "a b", "i-1/2", "é", long.as_str()] {
            let err = InstanceId::parse(bad).unwrap_err();
            assert_eq!(err.field, "aws_instance_id", "{bad}");
        }
        assert!(InstanceId::parse(&"a".repeat(255)).is_ok());
    }

    #[test]
    fn accounts() {
        assert!(Account::parse("123456789012").is_ok());
        for bad in ["12345678901", "1234567890123", "12345678901a", ""] {
            assert_eq!(Account::parse(bad).unwrap_err().field, "aws_account");
        }
    }

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "ap-southeast-4",
            "us-gov-west-1",
            "cn-north-1",
            "us-isob-east-1",
            "il-central-1",
        ] {
            assert!(Region::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "us-east",
            "US-EAST-1",
            "useast1",
            "u-east-1",
            "us-east-123",
            "us--1",
            "",
        ] {
            assert_eq!(Region::parse(bad).unwrap_err().field, "aws_region", "{bad}");
        }
    }

    #[test]
    fn states_round_trip() {
        for state in InstanceState::ALL {
            assert_eq!(state.as_str().parse::<InstanceState>().unwrap(), state);
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
        }
        assert!("rebooting".parse::<InstanceState>().is_err());
    }

    #[test]
    fn package_validation_names_the_field() {
        let mut packages = vec![Package::new("openssl", "3.0.2"); 2];
        assert!(validate_packages(&packages).is_ok());
        packages[1].version = "v".repeat(MAX_PACKAGE_VERSION_LEN + 1);
        assert_eq!(
            validate_packages(&packages).unwrap_err().field,
            "packages[1].package_version"
        );
        packages[1] = Package::new("", "1");
        assert_eq!(
            validate_packages(&packages).unwrap_err().field,
            "packages[1].package_name"
        );
        let too_many = vec![Package::new("a", "1"); MAX_PACKAGES + 1];
        assert_eq!(validate_packages(&too_many).unwrap_err().field, "packages");
        // Length counts characters, not bytes.
        assert!(Package::new("é".repeat(MAX_PACKAGE_NAME_LEN), "1")
            .validate(0)
            .is_ok());
    }

    #[test]
    fn text_an_engine_cannot_store_is_refused() {
        let mut p = Package::new("a\0b", "1");
        assert_eq!(p.validate(2).unwrap_err().field, "packages[2].package_name");
        p = Package::new("a", "1\0");
        assert_eq!(
            p.validate(0).unwrap_err().field,
            "packages[0].package_version"
        );
        p = Package::new("a", "1");
        p.publisher = Some("\0".into());
        assert_eq!(p.validate(0).unwrap_err().field, "packages[0].publisher");
        p.publisher = None;
        p.architecture = Some("x86\u{0}64".into());
        assert_eq!(p.validate(0).unwrap_err().field, "packages[0].architecture");
        assert!(InstanceId::parse("i-\0").is_err());
        assert!(check_storable("x", "caf\u{e9} \u{1F600} \u{1}").is_ok());
    }

    #[test]
    fn distinct_packages_sorts_and_dedups() {
        let mut first = Package::new("b", "1");
        first.publisher = Some("first".into());
        let mut second = first.clone();
        second.publisher = Some("second".into());
        let out = distinct_packages(&[first, Package::new("a", "2"), second]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].name, "a");
        assert_eq!(out[1].publisher.as_deref(), Some("first"));
    }
}
