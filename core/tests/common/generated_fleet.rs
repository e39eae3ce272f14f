//! A fleet generated in memory for the sync's bench and tests: EC2 lists it
//! 1,000 a page, SSM answers every instance's inventory, no hybrid nodes.

use inventory_core::model::{InstanceDetails, InstanceId, InstanceState, Package};
use inventory_core::sources::fleet::{Ec2Fleet, FleetPage, ListedInstance, ManagedNodes};
use inventory_core::sources::{InstanceSource, Inventory, PackageSource, SourceError};

/// A generated fleet: `instances` running EC2 instances, `packages` each.
#[derive(Clone)]
pub struct GeneratedFleet {
    pub instances: usize,
    pub packages: usize,
}

const PAGE: usize = 1000;

impl Ec2Fleet for GeneratedFleet {
    async fn instances_page(&self, token: Option<String>) -> Result<FleetPage, SourceError> {
        let page: usize = token.map_or(0, |t| t.parse().unwrap_or(0));
        let ids = page * PAGE..((page + 1) * PAGE).min(self.instances);
        Ok(FleetPage {
            instances: ids
                .map(|n| ListedInstance {
                    id: InstanceId::parse(&format!("i-{n:017x}")).expect("id"),
                    state: InstanceState::Running,
                    details: InstanceDetails {
                        instance_type: Some("t3.medium".into()),
                        platform: Some("Linux/UNIX".into()),
                        ..InstanceDetails::default()
                    },
                })
                .collect(),
            next_token: ((page + 1) * PAGE < self.instances).then(|| (page + 1).to_string()),
        })
    }
}

impl ManagedNodes for GeneratedFleet {
    async fn nodes_page(&self, _token: Option<String>) -> Result<FleetPage, SourceError> {
        Ok(FleetPage::default())
    }

    async fn describe_node(&self, _id: &InstanceId) -> Result<Option<ListedInstance>, SourceError> {
        Ok(None)
    }
}

impl PackageSource for GeneratedFleet {
    async fn inventory(&self, id: &InstanceId) -> Result<Option<Inventory>, SourceError> {
        Ok(Some(generated_inventory(
            id,
            self.packages,
            "2026-11-25T09:00:00Z",
        )))
    }
}

/// `packages` packages of instance `id` captured at `captured_at`: half are
/// shared across the fleet, half are the instance's own.
pub fn generated_inventory(id: &InstanceId, packages: usize, captured_at: &str) -> Inventory {
    let list = (0..packages)
        .map(|i| match i % 2 {
            0 => Package::new(format!("shared-{i:04}"), "1.0"),
            _ => Package::new(format!("pkg-{i:04}"), format!("2.{}", &id.as_str()[2..])),
        })
        .collect();
    Inventory {
        captured_at: Some(captured_at.parse().expect("time")),
        packages: list,
        pages: packages.div_ceil(50) as u32,
        skipped: 0,
        package_format: None,
        os: None,
    }
}

impl InstanceSource for GeneratedFleet {
    async fn describe(&self, _id: &InstanceId) -> Result<Option<InstanceDetails>, SourceError> {
        Ok(None)
    }
}
