//! The account's fleet as the scheduled sync walks it: EC2 instances from
//! `DescribeInstances` and hybrid managed nodes (`mi-…`) from SSM
//! `DescribeInstanceInformation`, one page at a time.

use std::future::Future;

use chrono::{DateTime, Utc};

use super::SourceError;
use crate::model::{InstanceDetails, InstanceId, InstanceState};

pub(crate) const DESCRIBE_INSTANCE_INFORMATION: &str = "DescribeInstanceInformation";

/// `DescribeInstances` page size: EC2's maximum, so 10,000 instances are 10 calls.
pub const EC2_PAGE_SIZE: i32 = 1000;
/// `DescribeInstanceInformation` page size: SSM's maximum.
pub const SSM_PAGE_SIZE: i32 = 50;

/// One instance or managed node as a listing reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedInstance {
    pub id: InstanceId,
    pub state: InstanceState,
    pub details: InstanceDetails,
}

/// One page of a listing; `next_token` is `None` on the last page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetPage {
    pub instances: Vec<ListedInstance>,
    pub next_token: Option<String>,
}

/// Lists the account's EC2 instances (every state EC2 still reports).
pub trait Ec2Fleet: Send + Sync {
    fn instances_page(
        &self,
        token: Option<String>,
    ) -> impl Future<Output = Result<FleetPage, SourceError>> + Send;
}

/// Lists and describes SSM hybrid managed nodes (`mi-…`); EC2 instances that
/// SSM also manages are left to [`Ec2Fleet`].
pub trait ManagedNodes: Send + Sync {
    fn nodes_page(
        &self,
        token: Option<String>,
    ) -> impl Future<Output = Result<FleetPage, SourceError>> + Send;

    /// `Ok(None)`: SSM does not know the node.
    fn describe_node(
        &self,
        id: &InstanceId,
    ) -> impl Future<Output = Result<Option<ListedInstance>, SourceError>> + Send;
}

/// The fields of SSM's `InstanceInformation` we keep, borrowed from the SDK's
/// or a fixture's answer.
pub(crate) struct NodeFields<'a> {
    pub id: Option<&'a str>,
    pub ping_status: Option<&'a str>,
    pub registration_date: Option<DateTime<Utc>>,
    pub name: Option<&'a str>,
    pub platform_name: Option<&'a str>,
    pub platform_version: Option<&'a str>,
    pub platform_type: Option<&'a str>,
}

impl NodeFields<'_> {
    /// A hybrid node has no EC2 lifecycle: `Online` is `running`, a node
    /// whose agent stopped answering (`ConnectionLost`, `Inactive`) is
    /// `stopped`. Its platform is "name version" (`Ubuntu 22.04`), its
    /// launch time the registration, and the name given at activation its
    /// `Name` tag. `None` for an id that is not a node id.
    pub(crate) fn into_listed(self) -> Option<ListedInstance> {
        let id = self.id.filter(|id| id.starts_with("mi-"))?;
        let id = InstanceId::parse(id).ok()?;
        let state = if self.ping_status == Some("Online") {
            InstanceState::Running
        } else {
            InstanceState::Stopped
        };
        fn some(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|v| !v.is_empty())
        }
        let platform = match (some(self.platform_name), some(self.platform_version)) {
            (Some(name), Some(version)) => Some(format!("{name} {version}")),
            (Some(name), None) => Some(name.to_owned()),
            _ => some(self.platform_type).map(str::to_owned),
        };
        let tags = some(self.name)
            .map(|name| ("Name".to_owned(), name.to_owned()))
            .into_iter()
            .collect();
        Some(ListedInstance {
            id,
            state,
            details: InstanceDetails {
                instance_type: None,
                image_id: None,
                platform,
                launch_time: self.registration_date,
                tags,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_map_ping_status_and_platform() {
        let node = |id, ping| NodeFields {
            id: Some(id),
            ping_status: ping,
            name: Some("lab-1"),
            platform_name: Some("Ubuntu"),
            platform_version: Some("22.04"),
            platform_type: Some("Linux"),
            registration_date: None,
        };
        let online = node("mi-0123456789abcdef0", Some("Online"))
            .into_listed()
            .unwrap();
        assert_eq!(online.state, InstanceState::Running);
        assert_eq!(online.details.platform.as_deref(), Some("Ubuntu 22.04"));
        assert_eq!(
            online.details.tags.get("Name").map(String::as_str),
            Some("lab-1")
        );
        for ping in [Some("ConnectionLost"), Some("Inactive"), None] {
            let node = node("mi-0123456789abcdef0", ping).into_listed().unwrap();
            assert_eq!(node.state, InstanceState::Stopped, "{ping:?}");
        }
        assert!(node("i-0123456789abcdef0", Some("Online"))
            .into_listed()
            .is_none());
    }
}
