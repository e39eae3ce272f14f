//! Events per second and Data API calls per event for a burst of launch
//! events (each a `running` state change with a 300-package inventory),
//! through `EventHandler::handle_json` against the local Data API on SQLite,
//! and PostgreSQL / MariaDB when `INVENTORY_TEST_POSTGRES_URL` /
//! `INVENTORY_TEST_MYSQL_URL` are set.
//!
//! `cargo bench -p inventory-core --bench events [-- EVENTS PACKAGES CONCURRENCY]`
//! (defaults 200, 300, 1 and 8). SSM and EC2 answer in memory, so the figures
//! are the handling and the database's share, not AWS latency.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::generated_fleet::generated_inventory;
use futures::stream::{self, StreamExt};
use inventory_core::config::SyncSettings;
use inventory_core::events::{EventHandler, Outcome, PackagesOutcome};
use inventory_core::model::{InstanceDetails, InstanceId};
use inventory_core::sources::fleet::{Ec2Fleet, FleetPage, ListedInstance, ManagedNodes};
use inventory_core::sources::{InstanceSource, Inventory, PackageSource, SourceError};
use serde_json::{json, Value};

/// SSM and EC2 answering from memory: `packages` packages per instance.
struct Synthetic {
    packages: usize,
}

impl PackageSource for Synthetic {
    async fn inventory(&self, id: &InstanceId) -> Result<Option<Inventory>, SourceError> {
        Ok(Some(generated_inventory(
            id,
            self.packages,
            "2026-11-24T10:00:00Z",
        )))
    }
}

impl InstanceSource for Synthetic {
    async fn describe(&self, _id: &InstanceId) -> Result<Option<InstanceDetails>, SourceError> {
        Ok(Some(InstanceDetails {
            instance_type: Some("t3.medium".into()),
            image_id: Some("ami-064519b8c76274859".into()),
            platform: Some("Linux/UNIX".into()),
            launch_time: Some("2026-11-24T09:55:00Z".parse().unwrap()),
            tags: [("Name".to_string(), "bench".to_string())].into(),
        }))
    }
}

/// Launch events only: no fleet to walk.
impl Ec2Fleet for Synthetic {
    async fn instances_page(&self, _token: Option<String>) -> Result<FleetPage, SourceError> {
        Ok(FleetPage::default())
    }
}

impl ManagedNodes for Synthetic {
    async fn nodes_page(&self, _token: Option<String>) -> Result<FleetPage, SourceError> {
        Ok(FleetPage::default())
    }

    async fn describe_node(&self, _id: &InstanceId) -> Result<Option<ListedInstance>, SourceError> {
        Ok(None)
    }
}

fn launch_event(n: usize) -> Value {
    json!({
        "version": "0",
        "id": format!("00000000-0000-4000-8000-{n:012}"),
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "123456789012",
        "time": "2026-11-24T09:55:31Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"instance-id": format!("i-{n:017x}"), "state": "running"}
    })
}

#[tokio::main]
async fn main() {
    let events = common::bench_arg(1, 200);
    let packages = common::bench_arg(2, 300);
    let concurrency: Vec<usize> = match std::env::args().filter(|a| !a.starts_with('-')).nth(3) {
        Some(c) => vec![c.parse().expect("CONCURRENCY")],
        None => vec![1, 8],
    };
    println!("burst of {events} launch events, {packages} packages each");
    println!(
        "{:<9} {:>11} {:>10} {:>12} {:>16} {:>10}",
        "backend", "concurrency", "seconds", "events/s", "Data API/event", "written"
    );
    for db in common::backends().await {
        for &parallel in &concurrency {
            let handler = EventHandler::new(
                db.fresh_store(),
                Synthetic { packages },
                Synthetic { packages },
                SyncSettings::default(),
            );
            // Each round uses its own instance ids, so every event writes.
            let base = parallel * 1_000_000;
            let started = Instant::now();
            let outcomes: Vec<Outcome> = stream::iter(0..events)
                .map(|n| {
                    let handler = &handler;
                    async move {
                        handler
                            .handle_json(launch_event(base + n))
                            .await
                            .unwrap_or_else(|e| panic!("{}: {e}", db.name))
                    }
                })
                .buffer_unordered(parallel)
                .collect()
                .await;
            let seconds = started.elapsed().as_secs_f64();
            let written = outcomes
                .iter()
                .filter(|o| matches!(o.instances[0].packages, PackagesOutcome::Written { .. }))
                .count();
            println!(
                "{:<9} {:>11} {:>10.2} {:>12.1} {:>16.2} {:>10}",
                db.name,
                parallel,
                seconds,
                events as f64 / seconds,
                handler.store().data_api_calls() as f64 / events as f64,
                written
            );
        }
        db.finish().await;
    }
}
