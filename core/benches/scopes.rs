//! Onboarding an organization: scopes × instances recorded per second and
//! Data API calls per instance when the scheduled sync walks scopes the store
//! has never seen, run after run until every scope ends its first pass, on
//! SQLite, and PostgreSQL / MariaDB when `INVENTORY_TEST_POSTGRES_URL` /
//! `INVENTORY_TEST_MYSQL_URL` are set.
//!
//! `cargo test -p inventory-core --bench scopes [-- ACCOUNTS REGIONS INSTANCES PACKAGES]`
//! (defaults 10, 5, 200 and 20). The fixtures are generated into a temp dir
//! in the layout of `events/fixtures` (`accounts/<account>/<region>/`: one
//! EC2 listing page of the scope's instances, one SSM page and the
//! `AWS:InstanceInformation` answer per instance) and read through
//! `FixtureScopes` with the default sync settings, so the figures are the
//! walk, the fixture reads and the database's share, not AWS latency.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use inventory_core::config::SyncSettings;
use inventory_core::events::{EventHandler, WalkStop};
use inventory_core::model::Scope;
use inventory_core::sources::scopes::{FixtureScopes, FIXTURE_SCOPES_DIR};
use serde_json::{json, Value};

const REGIONS: [&str; 8] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
    "ca-central-1",
];
/// A safety stop: the runs one sync may take to end every scope's pass.
const MAX_RUNS: usize = 1000;

struct Size {
    accounts: usize,
    regions: usize,
    instances: usize,
    packages: usize,
}

fn account(a: usize) -> String {
    format!("{:012}", 100_000_000_000 + a)
}

fn write(path: &Path, value: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_vec(value).unwrap()).unwrap();
}

/// Writes every scope's fixtures under a new temp dir.
fn generate(size: &Size) -> PathBuf {
    let root = std::env::temp_dir().join(format!("scopes-bench-{}", uuid::Uuid::new_v4()));
    // Captured now: the sync re-reads inventories older than its maximum age
    // (24 h), so a fixed date would have every run after the first re-read
    // every instance recorded so far.
    let captured = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for a in 0..size.accounts {
        for (r, region) in REGIONS.iter().take(size.regions).enumerate() {
            let dir = root.join(FIXTURE_SCOPES_DIR).join(account(a)).join(region);
            let mut reservations = Vec::new();
            for i in 0..size.instances {
                let n = (a * size.regions + r) * size.instances + i;
                let id = format!("i-{n:017x}");
                reservations.push(json!({
                    "ReservationId": format!("r-{n:017x}"),
                    "OwnerId": account(a),
                    "Instances": [{
                        "ImageId": "ami-0453ec754f44f9a4a",
                        "InstanceId": id,
                        "InstanceType": "t3.medium",
                        "LaunchTime": "2026-11-21T08:03:20+00:00",
                        "State": {"Code": 16, "Name": "running"},
                        "PlatformDetails": "Linux/UNIX",
                        "Tags": [{"Key": "Name", "Value": format!("web-{n}")}]
                    }]
                }));
                let entries: Vec<Value> = (0..size.packages)
                    .map(|p| {
                        json!({
                            "Name": format!("pkg-{p}"),
                            "Version": format!("1.{}.{}", p % 7, n % 5),
                            "Release": "1.amzn2023",
                            "Architecture": "x86_64",
                            "Publisher": "Amazon Linux",
                            "Epoch": ""
                        })
                    })
                    .collect();
                let ssm = dir.join("ssm").join(&id);
                write(
                    &ssm.join("page-1.json"),
                    &json!({"TypeName": "AWS:Application", "InstanceId": id,
                            "CaptureTime": captured, "Entries": entries}),
                );
                write(
                    &ssm.join("instance-information.json"),
                    &json!({"TypeName": "AWS:InstanceInformation", "InstanceId": id,
                            "CaptureTime": captured, "Entries": [{
                                "InstanceId": id, "PlatformName": "Amazon Linux",
                                "PlatformType": "Linux", "PlatformVersion": "2023",
                                "ResourceType": "EC2Instance"}]}),
                );
            }
            write(
                &dir.join("fleet/ec2/page-1.json"),
                &json!({ "Reservations": reservations }),
            );
        }
    }
    root
}

#[tokio::main]
async fn main() {
    let size = Size {
        accounts: common::bench_arg(1, 10),
        regions: common::bench_arg(2, 5).min(REGIONS.len()),
        instances: common::bench_arg(3, 200),
        packages: common::bench_arg(4, 20),
    };
    let scopes = size.accounts * size.regions;
    let total = scopes * size.instances;
    let root = generate(&size);
    let home = Scope {
        account: account(0).parse().unwrap(),
        region: REGIONS[0].parse().unwrap(),
    };
    println!(
        "onboarding {} accounts × {} regions = {scopes} scopes × {} instances ({total}), {} packages each, run after run to the end of the pass",
        size.accounts, size.regions, size.instances, size.packages
    );
    println!(
        "{:<9} {:>6} {:>9} {:>5} {:>9} {:>12} {:>14} {:>19} {:>14}",
        "backend",
        "scopes",
        "instances",
        "runs",
        "seconds",
        "instances/s",
        "Data API calls",
        "Data API/instance",
        "AWS/instance"
    );
    for (name, var) in [
        ("postgres", "INVENTORY_TEST_POSTGRES_URL"),
        ("mysql", "INVENTORY_TEST_MYSQL_URL"),
    ] {
        if std::env::var(var).map_or(true, |v| v.is_empty()) {
            println!("{name:<9} SKIPPED ({var} not set)");
        }
    }
    for db in common::backends().await {
        let store = db.fresh_store();
        let handler = EventHandler::with_sources(
            store.clone(),
            FixtureScopes::new(&root),
            SyncSettings::default(),
        );
        let before = store.data_api_calls();
        let (mut runs, mut recorded, mut aws) = (0, 0, 0);
        let mut passed = std::collections::BTreeSet::new();
        let started = Instant::now();
        loop {
            runs += 1;
            let run = handler
                .sync(&home, chrono::Utc::now(), &|_| {})
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", db.name));
            assert_eq!(run.failed_scopes, 0, "{}: {:?}", db.name, run.failures);
            for p in &run.scopes {
                recorded += p.recorded;
                // Listing pages, and per inventory read its one
                // `AWS:Application` page and its `AWS:InstanceInformation`.
                aws += p.ec2_pages as usize + p.ssm_pages as usize + 2 * p.inventories_read;
            }
            passed.extend(
                run.scopes
                    .iter()
                    .filter(|p| p.stopped == WalkStop::EndOfPass)
                    .map(|p| p.scope.clone()),
            );
            let done = passed.len() == scopes;
            if done || runs == MAX_RUNS {
                break;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let calls = store.data_api_calls() - before;
        println!(
            "{:<9} {:>6} {:>9} {:>5} {:>9.2} {:>12.1} {:>14} {:>19.2} {:>14.2}",
            db.name,
            scopes,
            recorded,
            runs,
            seconds,
            recorded as f64 / seconds,
            calls,
            calls as f64 / recorded.max(1) as f64,
            aws as f64 / recorded.max(1) as f64
        );
        db.finish().await;
    }
    std::fs::remove_dir_all(&root).unwrap();
}
