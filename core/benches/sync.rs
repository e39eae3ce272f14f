//! Onboarding a fleet: instances recorded per second and Data API calls per
//! instance when the scheduled sync walks a fleet the store has never seen,
//! through `EventHandler::handle_json` against the local Data API on SQLite,
//! and PostgreSQL / MariaDB when `INVENTORY_TEST_POSTGRES_URL` /
//! `INVENTORY_TEST_MYSQL_URL` are set.
//!
//! `cargo bench -p inventory-core --bench sync [-- INSTANCES PACKAGES]`
//! (defaults 1,000 and 300). The fleet is generated here: EC2 lists it 1,000
//! a page, SSM answers every running instance's inventory from memory, so the
//! figures are the walk and the database's share, not AWS latency.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::generated_fleet::GeneratedFleet;
use inventory_core::config::{FleetSettings, SyncSettings};
use inventory_core::events::EventHandler;
use serde_json::json;

#[tokio::main]
async fn main() {
    let fleet = GeneratedFleet {
        instances: common::bench_arg(1, 1000),
        packages: common::bench_arg(2, 300),
    };
    let schedule = json!({
        "version": "0", "id": "bench", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-25T10:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {}
    });
    println!(
        "onboarding {} instances, {} packages each, one run",
        fleet.instances, fleet.packages
    );
    println!(
        "{:<9} {:>10} {:>12} {:>19} {:>10}",
        "backend", "seconds", "instances/s", "Data API/instance", "recorded"
    );
    for db in common::backends().await {
        let handler = EventHandler::new(
            db.fresh_store(),
            fleet.clone(),
            fleet.clone(),
            SyncSettings::default(),
        )
        .with_fleet(FleetSettings {
            batch: fleet.instances as u32,
            time_budget: std::time::Duration::from_secs(3600),
            ..FleetSettings::default()
        });
        let started = Instant::now();
        let outcome = handler
            .handle_json(schedule.clone())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", db.name));
        let seconds = started.elapsed().as_secs_f64();
        let recorded = outcome.fleet.map_or(0, |f| f.recorded);
        println!(
            "{:<9} {:>10.2} {:>12.1} {:>19.2} {:>10}",
            db.name,
            seconds,
            recorded as f64 / seconds,
            outcome.data_api_calls as f64 / recorded.max(1) as f64,
            recorded
        );
        db.finish().await;
    }
}
