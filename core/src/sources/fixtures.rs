//! SSM and EC2 answered from sample files, for `inventory replay` and tests.
//!
//! Layout under the fixtures directory (JSON in the APIs' own shapes, as the
//! AWS CLI prints them):
//!
//! - `ssm/<instance-id>/page-1.json`, `page-2.json`, …: `ListInventoryEntries`
//!   answers (`CaptureTime`, `Entries`, `NextToken`). A page with a `NextToken`
//!   continues with the next-numbered file. No directory: SSM does not know the
//!   instance (`InvalidInstanceId`).
//! - `ec2/<instance-id>.json`: a `DescribeInstances` answer (`Reservations[].
//!   Instances[]`). No file: `InvalidInstanceID.NotFound`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::{
    collect_inventory, InstanceFields, InstanceSource, Inventory, InventoryPage, PackageSource,
    SourceError, DESCRIBE_INSTANCES, LIST_INVENTORY_ENTRIES,
};
use crate::model::{InstanceDetails, InstanceId};

/// Both sources over one fixtures directory.
#[derive(Debug, Clone)]
pub struct FixtureSources {
    dir: PathBuf,
}

impl FixtureSources {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
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
    #[serde(default)]
    tags: Vec<TagFile>,
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
        collect_inventory("fixture SSM", |_token| {
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
        .await
    }
}

impl InstanceSource for FixtureSources {
    async fn describe(&self, id: &InstanceId) -> Result<Option<InstanceDetails>, SourceError> {
        let Some(path) = self.path("ec2", &format!("{id}.json")) else {
            return Ok(None);
        };
        let Some(file) =
            read_json::<DescribeInstancesFile>(&path, "fixture EC2", DESCRIBE_INSTANCES).await?
        else {
            return Ok(None);
        };
        Ok(file
            .reservations
            .iter()
            .flat_map(|r| &r.instances)
            .find(|i| i.instance_id.as_deref() == Some(id.as_str()))
            .map(|i| {
                InstanceFields {
                    instance_type: i.instance_type.as_deref(),
                    image_id: i.image_id.as_deref(),
                    platform_details: i.platform_details.as_deref(),
                    platform: i.platform.as_deref(),
                    launch_time: i.launch_time,
                }
                .into_details(
                    i.tags
                        .iter()
                        .map(|t| (t.key.as_deref(), t.value.as_deref())),
                )
            }))
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
        assert!(!err.is_transient());
        assert!(err.to_string().contains("page-2.json"), "{err}");
    }
}
