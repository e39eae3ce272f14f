//! Where packages and instance details come from: SSM Inventory and EC2
//! `DescribeInstances`, behind two small traits so the use cases run the same
//! against the AWS SDK ([`ssm`], [`ec2`]) and against sample files
//! ([`fixtures`], for `inventory replay` and tests).
//!
//! The two SDK adapters are behind the `aws-sources` feature (on by default,
//! enabled by the Lambda functions): without it the `inventory` CLI, which
//! replays fixtures, leaves out aws-sdk-ec2 and aws-sdk-ssm, the largest
//! crates of the build.

#[cfg(feature = "aws-sources")]
pub mod ec2;
pub mod fixtures;
pub mod fleet;
pub mod scopes;
#[cfg(feature = "aws-sources")]
pub mod ssm;

use std::collections::HashMap;
use std::future::Future;

#[cfg(feature = "aws-sources")]
use aws_smithy_runtime_api::client::{orchestrator::HttpResponse, result::SdkError};
#[cfg(feature = "aws-sources")]
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::model::{InstanceDetails, InstanceId, OsPlatform, Package, MAX_PACKAGES};
use crate::version::VersionScheme;

/// SSM's page size limit for `ListInventoryEntries`.
pub const MAX_INVENTORY_PAGE: i32 = 50;

pub(crate) const LIST_INVENTORY_ENTRIES: &str = "ListInventoryEntries";
pub(crate) const DESCRIBE_INSTANCES: &str = "DescribeInstances";

/// A failure of SSM or EC2 that is not "this instance is unknown".
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SourceError {
    /// Throttling, a 5xx, a timeout or a network failure (after the SDK's own
    /// retries): trying the event again later may succeed.
    #[error("{service} {operation} failed transiently: {message}")]
    Retryable {
        service: &'static str,
        operation: &'static str,
        message: String,
    },
    /// Anything else (access denied, validation, bad fixture): retrying the
    /// same call will not help.
    #[error("{service} {operation} failed: {message}")]
    Permanent {
        service: &'static str,
        operation: &'static str,
        message: String,
    },
}

impl SourceError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable { .. })
    }
}

/// The packages SSM Inventory holds for one instance. `captured_at` is `None`
/// and `packages` empty when no inventory has been collected yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    pub captured_at: Option<DateTime<Utc>>,
    pub packages: Vec<Package>,
    /// Pages read (`ListInventoryEntries` calls).
    pub pages: u32,
    /// Entries dropped: no name, or a field over the model's length limits.
    pub skipped: usize,
    /// How the packages' versions order, as their entries tell: `.deb` or
    /// `.rpm` package ids, or an RPM `Release`; `None` when none says.
    pub package_format: Option<VersionScheme>,
    /// The OS the instance reported (`AWS:InstanceInformation`), read with
    /// the packages; `None` when SSM has no such entry.
    pub os: Option<OsPlatform>,
}

impl Inventory {
    /// True when SSM has nothing for the instance: such an answer must never
    /// wipe packages that were stored before.
    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }
}

/// Reads an instance's installed software.
pub trait PackageSource: Send + Sync {
    /// `Ok(None)`: SSM does not know the instance (`InvalidInstanceId`).
    fn inventory(
        &self,
        id: &InstanceId,
    ) -> impl Future<Output = Result<Option<Inventory>, SourceError>> + Send;
}

/// Reads an instance's details.
pub trait InstanceSource: Send + Sync {
    /// `Ok(None)`: EC2 does not know the instance (`InvalidInstanceID.NotFound`
    /// or `.Malformed`, or an empty answer).
    fn describe(
        &self,
        id: &InstanceId,
    ) -> impl Future<Output = Result<Option<InstanceDetails>, SourceError>> + Send;
}

/// One `ListInventoryEntries` answer, from the SDK or from a fixture file.
#[derive(Debug, Clone, Default)]
pub(crate) struct InventoryPage {
    pub capture_time: Option<String>,
    pub entries: Vec<HashMap<String, String>>,
    pub next_token: Option<String>,
}

/// The `DescribeInstances` fields we keep, borrowed from the SDK's or a
/// fixture's instance.
pub(crate) struct InstanceFields<'a> {
    pub instance_type: Option<&'a str>,
    pub image_id: Option<&'a str>,
    pub platform_details: Option<&'a str>,
    pub platform: Option<&'a str>,
    pub launch_time: Option<DateTime<Utc>>,
}

impl InstanceFields<'_> {
    /// `PlatformDetails` (`Linux/UNIX`, `Windows`, `Red Hat Enterprise Linux`)
    /// says more than `Platform`, which EC2 sets only for Windows.
    pub(crate) fn into_details<'t>(
        self,
        tags: impl Iterator<Item = (Option<&'t str>, Option<&'t str>)>,
    ) -> InstanceDetails {
        let owned = |s: Option<&str>| s.filter(|v| !v.is_empty()).map(str::to_owned);
        InstanceDetails {
            instance_type: owned(self.instance_type),
            image_id: owned(self.image_id),
            platform: owned(self.platform_details).or_else(|| owned(self.platform)),
            launch_time: self.launch_time,
            tags: tags
                .filter_map(|(k, v)| Some((k?.to_owned(), v.unwrap_or_default().to_owned())))
                .collect(),
        }
    }
}

/// Reads `AWS:Application` pages until `NextToken` runs out; `fetch(token)`
/// returns `Ok(None)` when the instance is unknown. Shared by the SSM adapter
/// and the fixture source so both page and convert identically.
pub(crate) async fn collect_inventory<F, Fut>(
    service: &'static str,
    mut fetch: F,
) -> Result<Option<Inventory>, SourceError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Option<InventoryPage>, SourceError>>,
{
    let mut inventory = Inventory::default();
    let mut token = None;
    loop {
        let Some(page) = fetch(token.take()).await? else {
            return Ok(None);
        };
        inventory.pages += 1;
        if let Some(raw) = page.capture_time.as_deref().filter(|s| !s.is_empty()) {
            let at = parse_capture_time(raw).ok_or_else(|| SourceError::Permanent {
                service,
                operation: LIST_INVENTORY_ENTRIES,
                message: format!("unreadable CaptureTime {raw:?}"),
            })?;
            // Pages of one listing share a capture time; keep the newest if not.
            inventory.captured_at = inventory.captured_at.max(Some(at));
        }
        for entry in &page.entries {
            inventory.package_format = inventory.package_format.or_else(|| package_format(entry));
            match package_from_entry(entry) {
                Some(package) => inventory.packages.push(package),
                None => inventory.skipped += 1,
            }
        }
        match page.next_token.filter(|t| !t.is_empty()) {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    if inventory.packages.len() > MAX_PACKAGES {
        tracing::warn!(
            packages = inventory.packages.len(),
            kept = MAX_PACKAGES,
            "inventory larger than the model allows; keeping the first packages by name"
        );
        inventory.packages = crate::model::distinct_packages(&inventory.packages);
        inventory.skipped += inventory.packages.len().saturating_sub(MAX_PACKAGES);
        inventory.packages.truncate(MAX_PACKAGES);
    }
    if inventory.packages.is_empty() {
        // No packages: nothing was captured that could replace stored ones.
        inventory.captured_at = None;
    }
    Ok(Some(inventory))
}

/// SSM writes `CaptureTime` as ISO 8601 (`2026-11-24T10:00:00Z`).
fn parse_capture_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// An entry's attribute, trimmed; `None` when missing or blank.
fn attribute(entry: &HashMap<String, String>, key: &str) -> Option<String> {
    entry
        .get(key)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The OS an `AWS:InstanceInformation` listing reports (`PlatformName`,
/// `PlatformVersion` of its one entry); `None` when missing, blank, or over
/// the model's limits.
pub(crate) fn os_of(entries: &[HashMap<String, String>]) -> Option<OsPlatform> {
    let entry = entries.first()?;
    let name = attribute(entry, "PlatformName")?;
    let version = attribute(entry, "PlatformVersion").unwrap_or_default();
    OsPlatform::parse(&name, &version)
        .inspect_err(|err| tracing::warn!(error = %err, "ignoring an OS the model cannot hold"))
        .ok()
}

/// The source package of an RPM, from its source RPM file name as SSM
/// reports it in `PackageId` (`openssl-3.0.8-1.amzn2023.0.12.src.rpm` ->
/// `openssl`: name, version and release are split at the last two dashes).
fn source_rpm_name(package_id: &str) -> Option<String> {
    let nvr = package_id.strip_suffix(".src.rpm")?;
    let mut parts = nvr.rsplitn(3, '-');
    let (_release, _version, name) = (parts.next()?, parts.next()?, parts.next()?);
    (!name.is_empty()).then(|| name.to_owned())
}

/// The version ordering an entry's own attributes imply.
fn package_format(entry: &HashMap<String, String>) -> Option<VersionScheme> {
    attribute(entry, "PackageId")
        .and_then(|id| VersionScheme::from_package_id(&id))
        .or_else(|| attribute(entry, "Release").map(|_| VersionScheme::Rpm))
}

/// An `AWS:Application` entry as a package. Every attribute may be missing:
/// no `Name` drops the entry; no `Version` is an empty version. RPM reports the
/// release apart (`Version` 3.0.8, `Release` 1.amzn2023): it joins the version,
/// as `rpm -q` prints it, so two builds of one version stay apart; and so does
/// a non-zero `Epoch` (`1:3.0.8-1.amzn2023`), which orders before everything
/// else in RPM's comparison.
fn package_from_entry(entry: &HashMap<String, String>) -> Option<Package> {
    let attr = |key: &str| attribute(entry, key);
    let name = attr("Name")?;
    let mut version = attr("Version").unwrap_or_default();
    if let Some(release) = attr("Release") {
        version = if version.is_empty() {
            release
        } else {
            format!("{version}-{release}")
        };
    }
    if let Some(epoch) = attr("Epoch").filter(|e| e.bytes().any(|b| b != b'0') && e != "(none)") {
        version = format!("{epoch}:{version}");
    }
    let package = Package {
        name,
        version,
        publisher: attr("Publisher"),
        architecture: attr("Architecture"),
        source_name: attr("PackageId").as_deref().and_then(source_rpm_name),
    };
    match package.validate(0) {
        Ok(()) => Some(package),
        Err(err) => {
            tracing::warn!(error = %err, "skipping an inventory entry the model cannot hold");
            None
        }
    }
}

/// Sorts an SDK failure into retryable or permanent.
#[cfg(feature = "aws-sources")]
pub fn sdk_failure<E>(
    service: &'static str,
    operation: &'static str,
    err: &SdkError<E, HttpResponse>,
) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let message = aws_smithy_types::error::display::DisplayErrorContext(err).to_string();
    let retryable = match err {
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            status >= 500 || status == 429 || is_retryable_code(err.code().unwrap_or_default())
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        _ => false,
    };
    if retryable {
        SourceError::Retryable {
            service,
            operation,
            message,
        }
    } else {
        SourceError::Permanent {
            service,
            operation,
            message,
        }
    }
}

/// Throttling and server-side codes of SSM and EC2 (the SDK retried them
/// already; the event is retried later as a whole).
#[cfg(feature = "aws-sources")]
fn is_retryable_code(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "RequestThrottled"
            | "EC2ThrottledException"
            | "InternalError"
            | "InternalServerError"
            | "ServiceUnavailable"
            | "Unavailable"
            | "RequestTimeout"
            | "RequestTimeoutException"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// SSM's `PackageId` of an RPM is its source RPM (`%{SOURCERPM}`), of a
    /// deb `name_version_arch.deb`: only the first names a source package.
    #[test]
    fn source_packages_from_source_rpms() {
        let libs = package_from_entry(&entry(&[
            ("Name", "openssl-libs"),
            ("Version", "3.0.8"),
            ("Release", "1.amzn2023.0.12"),
            ("Epoch", "1"),
            ("PackageId", "openssl-3.0.8-1.amzn2023.0.12.src.rpm"),
        ]))
        .unwrap();
        assert_eq!(libs.version, "1:3.0.8-1.amzn2023.0.12");
        assert_eq!(libs.source_name.as_deref(), Some("openssl"));
        for (id, source) in [
            (
                "python3-dnf-plugin-versionlock-4.3.0-13.amzn2023.0.4.src.rpm",
                Some("python3-dnf-plugin-versionlock"),
            ),
            ("libssl3_3.0.11-1~deb12u2_amd64.deb", None),
            ("bash-5.2.15-1.amzn2023.0.2.x86_64.rpm", None),
            ("nodash.src.rpm", None),
            ("a-1.src.rpm", None),
            ("-1-2.src.rpm", None),
        ] {
            assert_eq!(source_rpm_name(id).as_deref(), source, "{id}");
        }
    }

    #[test]
    fn the_os_of_instance_information() {
        let os = os_of(&[entry(&[
            ("PlatformName", "Ubuntu"),
            ("PlatformVersion", "22.04"),
        ])]);
        assert_eq!(
            os.and_then(|os| os.release()).map(|r| r.key()).as_deref(),
            Some("ubuntu:22.04")
        );
        assert_eq!(os_of(&[]), None);
        assert_eq!(os_of(&[entry(&[("PlatformVersion", "12")])]), None);
        let long = "x".repeat(crate::model::MAX_PLATFORM_VERSION_LEN + 1);
        assert_eq!(
            os_of(&[entry(&[
                ("PlatformName", "Debian"),
                ("PlatformVersion", &long)
            ])]),
            None
        );
    }

    #[test]
    fn entries_with_missing_attributes() {
        let full = package_from_entry(&entry(&[
            ("Name", "openssl"),
            ("Version", "3.0.8"),
            ("Release", "1.amzn2023.0.14"),
            ("Publisher", "Amazon Linux"),
            ("Architecture", "x86_64"),
        ]))
        .unwrap();
        assert_eq!(full.version, "3.0.8-1.amzn2023.0.14");
        assert_eq!(full.publisher.as_deref(), Some("Amazon Linux"));
        let bare = package_from_entry(&entry(&[("Name", "tzdata"), ("Publisher", "")])).unwrap();
        assert_eq!(bare, Package::new("tzdata", ""));
        assert!(package_from_entry(&entry(&[("Version", "1")])).is_none());
        assert!(package_from_entry(&entry(&[("Name", "  ")])).is_none());
        let long = "x".repeat(crate::model::MAX_PACKAGE_NAME_LEN + 1);
        assert!(package_from_entry(&entry(&[("Name", &long)])).is_none());
    }

    #[test]
    fn capture_times() {
        let at = parse_capture_time("2026-11-24T10:00:00Z").unwrap();
        assert_eq!(at.to_rfc3339(), "2026-11-24T10:00:00+00:00");
        assert_eq!(parse_capture_time("2026-11-24T10:00:00"), Some(at));
        assert!(parse_capture_time("yesterday").is_none());
    }

    #[tokio::test]
    async fn pages_are_followed_and_empty_inventory_has_no_capture_time() {
        let pages = [
            InventoryPage {
                capture_time: Some("2026-11-24T10:00:00Z".into()),
                entries: vec![entry(&[("Name", "a")]), entry(&[("Version", "1")])],
                next_token: Some("t1".into()),
            },
            InventoryPage {
                capture_time: Some("2026-11-24T10:00:00Z".into()),
                entries: vec![entry(&[("Name", "b"), ("Version", "2")])],
                next_token: None,
            },
        ];
        let mut seen = Vec::new();
        let inv = collect_inventory("test", |token| {
            seen.push(token.clone());
            let index = usize::from(token.is_some());
            let page = pages[index].clone();
            async move { Ok(Some(page)) }
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(seen, vec![None, Some("t1".to_string())]);
        assert_eq!(inv.pages, 2);
        assert_eq!(inv.skipped, 1);
        assert_eq!(
            inv.packages,
            vec![Package::new("a", ""), Package::new("b", "2")]
        );
        assert!(inv.captured_at.is_some());

        let empty = collect_inventory("test", |_| async {
            Ok(Some(InventoryPage {
                capture_time: Some("2026-11-24T10:00:00Z".into()),
                ..Default::default()
            }))
        })
        .await
        .unwrap()
        .unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.captured_at, None);

        let unknown = collect_inventory("test", |_| async { Ok(None) })
            .await
            .unwrap();
        assert!(unknown.is_none());
    }
}
