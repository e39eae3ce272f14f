//! SSM and EC2 answered from sample files, for `inventory replay` and tests.
//!
//! Layout under the fixtures directory (JSON in the APIs' own shapes, as the
//! AWS CLI prints them):
//!
//! - `ssm/<instance-id>/page-1.json`, `page-2.json`, …: `ListInventoryEntries`
//!   answers (`CaptureTime`, `Entries`, `NextToken`). A page with a `NextToken`
//!   continues with the next-numbered file. No directory: SSM does not know the
//!   instance (`InvalidInstanceId`). `instance-information.json` beside them:
//!   the `AWS:InstanceInformation` answer (the OS); none, no OS reported.
//! - `ec2/<instance-id>.json`: a `DescribeInstances` answer (`Reservations[].
//!   Instances[]`). No file: the instance is looked up in the fleet pages,
//!   and is `InvalidInstanceID.NotFound` if they do not list it either.
//! - `fleet/ec2/page-1.json`, `page-2.json`, …: the account's `DescribeInstances`
//!   pages, and `fleet/ssm/page-N.json`: its `DescribeInstanceInformation`
//!   pages (`InstanceInformationList`), as the scheduled sync lists them. A
//!   page with a `NextToken` continues with the next-numbered file; no
//!   `page-1.json`: an empty fleet.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::fleet::{
    Ec2Fleet, FleetPage, ListedInstance, ManagedNodes, NodeFields, DESCRIBE_INSTANCE_INFORMATION,
};
use super::{
    collect_inventory, os_of, InstanceFields, InstanceSource, Inventory, InventoryPage,
    PackageSource, SourceError, DESCRIBE_INSTANCES, LIST_INVENTORY_ENTRIES,
};
use crate::model::{InstanceDetails, InstanceId};

/// The page a fixture token names: the fixture answers `page-<n>` as the
/// token of the next file, whatever `NextToken` the file holds.
const PAGE_TOKEN_PREFIX: &str = "page-";

/// The instance's `AWS:InstanceInformation` listing, beside its pages; no
/// file: SSM reports no OS.
const INSTANCE_INFORMATION_FILE: &str = "instance-information.json";

/// Both sources over one fixtures directory.
#[derive(Debug, Clone)]
pub struct FixtureSources {
    dir: PathBuf,
}

impl FixtureSources {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The instance's entry under `service/`, or `None` for ids that could
    /// climb out of the directory (`..`).
    fn path(&self, service: &str, name: &str) -> Option<PathBuf> {
        (!name.starts_with('.')).then(|| self.dir.join(service).join(name))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInventoryEntriesFile {
    capture_time: Option<String>,
    #[serde(default)]
    entries: Vec<HashMap<String, String>>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeInstancesFile {
    #[serde(default)]
    reservations: Vec<ReservationFile>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeInstanceInformationFile {
    #[serde(default)]
    instance_information_list: Vec<NodeFile>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NodeFile {
    instance_id: Option<String>,
    ping_status: Option<String>,
    name: Option<String>,
    platform_name: Option<String>,
    platform_version: Option<String>,
    platform_type: Option<String>,
    registration_date: Option<DateTime<Utc>>,
}

impl NodeFile {
    fn listed(&self) -> Option<ListedInstance> {
        NodeFields {
            id: self.instance_id.as_deref(),
            ping_status: self.ping_status.as_deref(),
            name: self.name.as_deref(),
            platform_name: self.platform_name.as_deref(),
            platform_version: self.platform_version.as_deref(),
            platform_type: self.platform_type.as_deref(),
            registration_date: self.registration_date,
        }
        .into_listed()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReservationFile {
    #[serde(default)]
    instances: Vec<InstanceFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceFile {
    instance_id: Option<String>,
    instance_type: Option<String>,
    image_id: Option<String>,
    platform: Option<String>,
    platform_details: Option<String>,
    launch_time: Option<DateTime<Utc>>,
    state: Option<StateFile>,
    #[serde(default)]
    tags: Vec<TagFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StateFile {
    name: Option<String>,
}

impl InstanceFile {
    fn details(&self) -> InstanceDetails {
        InstanceFields {
            instance_type: self.instance_type.as_deref(),
            image_id: self.image_id.as_deref(),
            platform_details: self.platform_details.as_deref(),
            platform: self.platform.as_deref(),
            launch_time: self.launch_time,
        }
        .into_details(
            self.tags
                .iter()
                .map(|t| (t.key.as_deref(), t.value.as_deref())),
        )
    }

    fn listed(&self) -> Option<ListedInstance> {
        let state = self.state.as_ref()?.name.as_deref()?.parse().ok()?;
        Some(ListedInstance {
            id: InstanceId::parse(self.instance_id.as_deref()?).ok()?,
            state,
            details: self.details(),
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagFile {
    key: Option<String>,
    value: Option<String>,
}

/// Reads and parses one fixture; a missing file is `Ok(None)`.
async fn read_json<T: DeserializeOwned>(
    path: &Path,
    service: &'static str,
    operation: &'static str,
) -> Result<Option<T>, SourceError> {
    let failed = |message: String| SourceError::Permanent {
        service,
        operation,
        message,
    };
    let bytes = match tokio::fs::read(path).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(failed(format!("{}: {e}", path.display()))),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| failed(format!("{}: {e}", path.display())))
}

impl PackageSource for FixtureSources {
    async fn inventory(&self, id: &InstanceId) -> Result<Option<Inventory>, SourceError> {
        let Some(dir) = self.path("ssm", id.as_str()) else {
            return Ok(None);
        };
        if !tokio::fs::try_exists(&dir).await.unwrap_or(false) {
            return Ok(None);
        }
        let mut number = 0;
        let inventory = collect_inventory("fixture SSM", |_token| {
            number += 1;
            let path = dir.join(format!("page-{number}.json"));
            async move {
                let file: ListInventoryEntriesFile =
                    read_json(&path, "fixture SSM", LIST_INVENTORY_ENTRIES)
                        .await?
                        .ok_or_else(|| SourceError::Permanent {
                            service: "fixture SSM",
                            operation: LIST_INVENTORY_ENTRIES,
                            message: format!("{} is missing", path.display()),
                        })?;
                Ok(Some(InventoryPage {
                    capture_time: file.capture_time,
                    entries: file.entries,
                    next_token: file.next_token,
                }))
            }
        })
        .await?;
        let Some(mut inventory) = inventory else {
            return Ok(None);
        };
        if !inventory.is_empty() {
            let path = dir.join(INSTANCE_INFORMATION_FILE);
            let file: Option<ListInventoryEntriesFile> =
                read_json(&path, "fixture SSM", LIST_INVENTORY_ENTRIES).await?;
            inventory.os = file.and_then(|f| os_of(&f.entries));
        }
        Ok(Some(inventory))
    }
}

impl FixtureSources {
    /// One fleet page, `fleet/<service>/page-<n>.json` where the token names
    /// `n` (no token: 1); no first page is an empty fleet.
    async fn fleet_page<T: DeserializeOwned>(
        &self,
        service: &str,
        token: Option<String>,
        operation: &'static str,
    ) -> Result<Option<(T, u32)>, SourceError> {
        let failed = |message: String| SourceError::Permanent {
            service: "fixture fleet",
            operation,
            message,
        };
        let number = match token.as_deref() {
            None => 1,
            Some(t) => t
                .strip_prefix(PAGE_TOKEN_PREFIX)
                .and_then(|n| n.parse::<u32>().ok())
                .ok_or_else(|| failed(format!("unknown NextToken {t:?}")))?,
        };
        let path = self
            .dir
            .join("fleet")
            .join(service)
            .join(format!("{PAGE_TOKEN_PREFIX}{number}.json"));
        match read_json::<T>(&path, "fixture fleet", operation).await? {
            Some(file) => Ok(Some((file, number))),
            None if number == 1 => Ok(None),
            None => Err(failed(format!("{} is missing", path.display()))),
        }
    }

    /// Every page of a fleet listing, for lookups by id.
    async fn whole_fleet<F, Fut>(&self, mut page: F) -> Result<Vec<ListedInstance>, SourceError>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: std::future::Future<Output = Result<FleetPage, SourceError>>,
    {
        let mut all = Vec::new();
        let mut token = None;
        loop {
            let answer = page(token.take()).await?;
            all.extend(answer.instances);
            match answer.next_token {
                Some(next) => token = Some(next),
                None => return Ok(all),
            }
        }
    }
}

/// The fixture's token for the page after `number`, when the file has one.
fn next_page_token(next: Option<&str>, number: u32) -> Option<String> {
    next.filter(|t| !t.is_empty())
        .map(|_| format!("{PAGE_TOKEN_PREFIX}{}", number + 1))
}

impl InstanceSource for FixtureSources {
    async fn describe(&self, id: &InstanceId) -> Result<Option<InstanceDetails>, SourceError> {
        let Some(path) = self.path("ec2", &format!("{id}.json")) else {
            return Ok(None);
        };
        let Some(file) =
            read_json::<DescribeInstancesFile>(&path, "fixture EC2", DESCRIBE_INSTANCES).await?
        else {
            let fleet = self.whole_fleet(|t| self.instances_page(t)).await?;
            return Ok(fleet.into_iter().find(|i| &i.id == id).map(|i| i.details));
        };
        Ok(file
            .reservations
            .iter()
            .flat_map(|r| &r.instances)
            .find(|i| i.instance_id.as_deref() == Some(id.as_str()))
            .map(InstanceFile::details))
    }
}

impl Ec2Fleet for FixtureSources {
    async fn instances_page(&self, token: Option<String>) -> Result<FleetPage, SourceError> {
        let Some((file, number)) = self
            .fleet_page::<DescribeInstancesFile>("ec2", token, DESCRIBE_INSTANCES)
            .await?
        else {
            return Ok(FleetPage::default());
        };
        Ok(FleetPage {
            instances: file
                .reservations
                .iter()
                .flat_map(|r| &r.instances)
                .filter_map(InstanceFile::listed)
                .collect(),
            next_token: next_page_token(file.next_token.as_deref(), number),
        })
    }
}

impl ManagedNodes for FixtureSources {
    async fn nodes_page(&self, token: Option<String>) -> Result<FleetPage, SourceError> {
        let Some((file, number)) = self
            .fleet_page::<DescribeInstanceInformationFile>(
                "ssm",
                token,
                DESCRIBE_INSTANCE_INFORMATION,
            )
            .await?
        else {
            return Ok(FleetPage::default());
        };
        Ok(FleetPage {
            instances: file
                .instance_information_list
                .iter()
                .filter_map(NodeFile::listed)
                .collect(),
            next_token: next_page_token(file.next_token.as_deref(), number),
        })
    }

    async fn describe_node(&self, id: &InstanceId) -> Result<Option<ListedInstance>, SourceError> {
        let fleet = self.whole_fleet(|t| self.nodes_page(t)).await?;
        Ok(fleet.into_iter().find(|node| &node.id == id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/fixtures")
    }

    #[tokio::test]
    async fn sample_fixtures_answer_like_the_apis() {
        let sources = FixtureSources::new(sample_dir());
        let web = InstanceId::parse("i-0a1b2c3d4e5f60718").unwrap();
        let inv = sources.inventory(&web).await.unwrap().unwrap();
        assert_eq!((inv.pages, inv.packages.len(), inv.skipped), (6, 300, 0));
        assert!(inv.packages.iter().any(|p| p.publisher.is_none()));
        let details = sources.describe(&web).await.unwrap().unwrap();
        assert_eq!(details.instance_type.as_deref(), Some("t3.medium"));

        let ghost = InstanceId::parse("i-0ffffffffffffffff").unwrap();
        assert_eq!(sources.inventory(&ghost).await, Ok(None));
        assert_eq!(sources.describe(&ghost).await, Ok(None));
        // An id that would climb out of the directory is simply unknown.
        let climber = InstanceId::parse("..").unwrap();
        assert_eq!(sources.inventory(&climber).await, Ok(None));
    }

    #[tokio::test]
    async fn a_missing_next_page_is_a_permanent_error() {
        let dir = std::env::temp_dir().join(format!("fixtures-{}", uuid::Uuid::new_v4()));
        let id = InstanceId::parse("i-0123456789abcdef0").unwrap();
        let pages = dir.join("ssm").join(id.as_str());
        std::fs::create_dir_all(&pages).unwrap();
        std::fs::write(
            pages.join("page-1.json"),
            r#"{"CaptureTime":"2026-11-24T10:00:00Z","Entries":[{"Name":"a"}],"NextToken":"x"}"#,
        )
        .unwrap();
        let err = FixtureSources::new(&dir).inventory(&id).await.unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("page-2.json"), "{err}");
    }
}
