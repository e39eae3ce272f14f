//! The state-change handling (`EventHandler::handle_json`, what the Lambda and
//! `inventory replay` call) on the sample events in `events/`, against the local
//! Data API on every backend (see `common`), with SSM and EC2 answered by the
//! `events/fixtures` files or by aws-smithy-mocks clients.

use crate::common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_ec2::operation::describe_instances::DescribeInstancesError;
use aws_sdk_ssm::config::retry::RetryConfig;
use aws_sdk_ssm::operation::list_inventory_entries::{
    ListInventoryEntriesError, ListInventoryEntriesInput, ListInventoryEntriesOutput,
};
use aws_sdk_ssm::types::error::InvalidInstanceId;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;
use chrono::{DateTime, Utc};
use inventory_core::config::SyncSettings;
use inventory_core::events::{Action, EventHandler, HandleError, Outcome, PackagesOutcome};
use inventory_core::model::{InstanceDetails, InstanceId, InstanceRecord, InstanceState, Source};
use inventory_core::sources::ec2::Ec2InstanceSource;
use inventory_core::sources::fixtures::FixtureSources;
use inventory_core::sources::fleet::{Ec2Fleet, FleetPage, ListedInstance, ManagedNodes};
use inventory_core::sources::scopes::OnePair;
use inventory_core::sources::ssm::SsmPackageSource;
use inventory_core::sources::{InstanceSource, Inventory, PackageSource, SourceError};
use inventory_core::store::{DbTarget, Dialect, RetryPolicy, Store};
use serde_json::{json, Value};

/// Debian web server: 300 packages over 6 SSM pages.
const WEB: &str = "i-0a1b2c3d4e5f60718";
/// Amazon Linux worker: 18 packages on 1 page.
const WORKER: &str = "i-0b2c3d4e5f6071829";
/// An id neither EC2 nor SSM knows.
const GHOST: &str = "i-0ffffffffffffffff";

fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
}

fn sample(name: &str) -> Value {
    let path = repo_path(&format!("events/{name}"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

/// A sample event about another instance.
fn for_instance(mut event: Value, id: &str) -> Value {
    event["detail"]["instance-id"] = json!(id);
    event
}

fn fixtures() -> FixtureSources {
    FixtureSources::new(repo_path("events/fixtures"))
}

fn id(s: &str) -> InstanceId {
    InstanceId::parse(s).unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Sources that also list the fleet, as the handler needs for its sync.
trait Packages: PackageSource + ManagedNodes {}
impl<T: PackageSource + ManagedNodes> Packages for T {}
trait Instances: InstanceSource + Ec2Fleet {}
impl<T: InstanceSource + Ec2Fleet> Instances for T {}

/// The fixtures without their fleet listing: the sync only re-reads stale
/// inventories (the walk finds nothing listed, and trusts no empty listing
/// to terminate recorded instances).
#[derive(Clone)]
struct WithoutFleet(FixtureSources);

impl PackageSource for WithoutFleet {
    async fn inventory(&self, id: &InstanceId) -> Result<Option<Inventory>, SourceError> {
        self.0.inventory(id).await
    }
}

impl InstanceSource for WithoutFleet {
    async fn describe(&self, id: &InstanceId) -> Result<Option<InstanceDetails>, SourceError> {
        self.0.describe(id).await
    }
}

impl Ec2Fleet for WithoutFleet {
    async fn instances_page(&self, _token: Option<String>) -> Result<FleetPage, SourceError> {
        Ok(FleetPage::default())
    }
}

impl ManagedNodes for WithoutFleet {
    async fn nodes_page(&self, _token: Option<String>) -> Result<FleetPage, SourceError> {
        Ok(FleetPage::default())
    }

    async fn describe_node(&self, id: &InstanceId) -> Result<Option<ListedInstance>, SourceError> {
        self.0.describe_node(id).await
    }
}

fn handler<P: Packages, I: Instances>(
    store: &Store,
    packages: P,
    instances: I,
) -> EventHandler<OnePair<P, I>> {
    EventHandler::new(store.clone(), packages, instances, SyncSettings::default())
}

async fn record(store: &Store, s: &str) -> Option<InstanceRecord> {
    store.get_instance(&id(s)).await.unwrap()
}

async fn handle<P: Packages, I: Instances>(
    h: &EventHandler<OnePair<P, I>>,
    event: Value,
    db: &str,
) -> Outcome {
    h.handle_json(event)
        .await
        .unwrap_or_else(|e| panic!("{db}: {e:?}"))
}

/// Standard retries with millisecond back-off, as in production but fast.
fn fast_retries(conf: aws_sdk_ssm::config::Builder) -> aws_sdk_ssm::config::Builder {
    conf.retry_config(
        RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(1))
            .with_max_backoff(Duration::from_millis(5)),
    )
}

/// An SSM page of `range` packages named `pkg-<i>`; `next` continues.
fn ssm_page(range: std::ops::Range<usize>, next: Option<String>) -> ListInventoryEntriesOutput {
    let entries = range
        .map(|i| {
            HashMap::from([
                ("Name".to_string(), format!("pkg-{i:05}")),
                ("Version".to_string(), format!("1.{}", i % 7)),
            ])
        })
        .collect();
    ListInventoryEntriesOutput::builder()
        .type_name("AWS:Application")
        .capture_time("2026-11-24T10:04:00Z")
        .set_entries(Some(entries))
        .set_next_token(next)
        .build()
}

fn empty_ssm_page() -> ListInventoryEntriesOutput {
    ListInventoryEntriesOutput::builder()
        .type_name("AWS:Application")
        .build()
}

/// SSM's `AWS:InstanceInformation` listing without an OS entry: the
/// instance's OS is unknown.
fn no_os() -> Rule {
    mock!(aws_sdk_ssm::Client::list_inventory_entries)
        .match_requests(|r| r.type_name() == Some("AWS:InstanceInformation"))
        .then_output(|| {
            ListInventoryEntriesOutput::builder()
                .type_name("AWS:InstanceInformation")
                .build()
        })
}

/// Only `AWS:Application` listings.
fn packages_listing(r: &ListInventoryEntriesInput) -> bool {
    r.type_name() == Some("AWS:Application")
}

/// SSM answering the packages from `rules` (which match only package
/// listings), and no OS.
fn ssm_client(rules: &[&Rule]) -> SsmPackageSource {
    let os = no_os();
    SsmPackageSource::new(mock_client!(
        aws_sdk_ssm,
        RuleMode::MatchAny,
        rules.iter().copied().chain([&os]),
        fast_retries
    ))
}

#[tokio::test]
async fn sample_events_record_a_launch_and_its_end() {
    for db in common::backends().await {
        let h = handler(&db.store, fixtures(), fixtures());
        let name = db.name;

        let running = handle(&h, sample("ec2-running.json"), name).await;
        assert_eq!(
            running.event_id.as_deref(),
            Some("7bf73129-1428-4cd3-a780-95db273d1602")
        );
        let web = &running.instances[0];
        assert_eq!(
            (web.state_applied, web.described),
            (Some(true), Some(true)),
            "{name}"
        );
        // The state and its 300 packages: one routine call on PostgreSQL and
        // MySQL; SQLite: begin, the state's history, state, capture,
        // packages, their changes' history, unlink, links, commit. Then the
        // event in the scope's coverage: 1.
        let expected_calls = if db.dialect == Dialect::Sqlite { 10 } else { 2 };
        assert_eq!(running.data_api_calls, expected_calls, "{name}");
        assert_eq!(
            web.packages,
            PackagesOutcome::Written {
                count: 300,
                skipped: 0,
                pages: 6,
                captured_at: at("2026-11-24T09:58:12Z")
            },
            "{name}"
        );
        let rec = record(&db.store, WEB).await.expect("recorded");
        assert_eq!(rec.instance.state, Some(InstanceState::Running), "{name}");
        assert_eq!(rec.instance.account.as_str(), "123456789012");
        assert_eq!(rec.instance.region.as_str(), "us-east-1");
        assert_eq!(
            rec.instance.details.instance_type.as_deref(),
            Some("t3.medium"),
            "{name}"
        );
        assert_eq!(
            rec.instance.details.platform.as_deref(),
            Some("Linux/UNIX"),
            "{name}"
        );
        assert_eq!(
            rec.instance.details.tags.get("Name").map(String::as_str),
            Some("web-1")
        );
        assert_eq!(
            rec.instance.details.launch_time,
            Some(at("2026-11-24T09:55:00Z"))
        );
        assert_eq!(rec.instance.packages.len(), 300, "{name}");
        let openssl = rec
            .instance
            .packages
            .iter()
            .find(|p| p.name == "openssl")
            .unwrap();
        assert_eq!(openssl.version, "3.0.19-1~deb12u2", "{name}");
        assert_eq!(openssl.architecture.as_deref(), Some("amd64"), "{name}");
        assert_eq!(
            rec.inventory_captured_at,
            Some(at("2026-11-24T09:58:12Z")),
            "{name}"
        );
        assert_eq!(
            rec.last_event_time,
            Some(at("2026-11-24T09:55:31Z")),
            "{name}"
        );

        // The pending event is older than the running one: ignored, and EC2 is
        // still asked (details only come with launch states).
        let pending = handle(&h, sample("ec2-pending.json"), name).await;
        assert_eq!(pending.instances[0].state_applied, Some(false), "{name}");
        assert_eq!(pending.instances[0].packages, PackagesOutcome::NotRead);
        assert_eq!(
            record(&db.store, WEB).await.unwrap().instance.state,
            Some(InstanceState::Running)
        );

        let stopped = handle(&h, sample("ec2-stopped.json"), name).await;
        assert_eq!(stopped.instances[0].state_applied, Some(true), "{name}");
        assert_eq!(stopped.instances[0].described, None, "{name}: no EC2 call");
        let rec = record(&db.store, WEB).await.unwrap();
        assert_eq!(rec.instance.state, Some(InstanceState::Stopped), "{name}");
        assert_eq!(rec.instance.packages.len(), 300, "{name}: packages kept");
        assert_eq!(
            rec.instance.details.instance_type.as_deref(),
            Some("t3.medium"),
            "{name}"
        );

        let terminated = handle(&h, sample("ec2-terminated.json"), name).await;
        assert_eq!(terminated.instances[0].state_applied, Some(true), "{name}");
        let rec = record(&db.store, WEB).await.unwrap();
        assert_eq!(
            rec.instance.state,
            Some(InstanceState::Terminated),
            "{name}"
        );
        assert!(rec.terminated.is_some(), "{name}");
        assert_eq!(
            rec.last_event_time,
            Some(at("2026-11-24T18:30:41Z")),
            "{name}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn every_sample_event_twice_changes_nothing_the_second_time() {
    let files = [
        "ec2-pending.json",
        "ec2-running.json",
        "ssm-inventory-association-success.json",
        "scheduled-sync.json",
        "ec2-stopped.json",
        "ec2-terminated.json",
    ];
    for db in common::backends().await {
        let h = handler(&db.store, fixtures(), fixtures());
        // The worker must be recorded for its association event to matter.
        let worker_running = for_instance(sample("ec2-running.json"), WORKER);
        handle(&h, worker_running, db.name).await;
        for file in files {
            handle(&h, sample(file), db.name).await;
            let before = (
                record(&db.store, WEB).await,
                record(&db.store, WORKER).await,
            );
            let again = handle(&h, sample(file), db.name).await;
            let after = (
                record(&db.store, WEB).await,
                record(&db.store, WORKER).await,
            );
            assert_eq!(before, after, "{}: {file} twice", db.name);
            for i in &again.instances {
                assert_ne!(i.state_applied, Some(true), "{}: {file}: {i:?}", db.name);
                assert!(
                    !matches!(i.packages, PackagesOutcome::Written { .. }),
                    "{}: {file}: {i:?}",
                    db.name
                );
            }
        }
        let worker = record(&db.store, WORKER).await.unwrap();
        assert_eq!(worker.instance.packages.len(), 18, "{}", db.name);
        let openssl = worker
            .instance
            .packages
            .iter()
            .find(|p| p.name == "openssl")
            .unwrap();
        assert_eq!(
            openssl.version, "3.0.8-1.amzn2023.0.14",
            "{}: release joined",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn terminated_before_running_stays_terminated() {
    for db in common::backends().await {
        let h = handler(&db.store, fixtures(), fixtures());
        let terminated = handle(&h, sample("ec2-terminated.json"), db.name).await;
        assert_eq!(
            terminated.instances[0].state_applied,
            Some(true),
            "{}",
            db.name
        );
        for late in ["ec2-running.json", "ec2-stopped.json", "ec2-pending.json"] {
            let outcome = handle(&h, sample(late), db.name).await;
            assert_eq!(
                outcome.instances[0].state_applied,
                Some(false),
                "{}: {late}",
                db.name
            );
            // A late launch reads SSM (before it can know it is late: the
            // state and packages go in one call) but writes nothing.
            let packages = &outcome.instances[0].packages;
            assert!(
                matches!(
                    packages,
                    PackagesOutcome::NotRead | PackagesOutcome::NotWritten { .. }
                ),
                "{}: {late}: {packages:?}",
                db.name
            );
        }
        let rec = record(&db.store, WEB).await.unwrap();
        assert_eq!(
            rec.instance.state,
            Some(InstanceState::Terminated),
            "{}",
            db.name
        );
        assert_eq!(
            rec.last_event_time,
            Some(at("2026-11-24T18:30:41Z")),
            "{}",
            db.name
        );
        assert!(
            rec.instance.packages.is_empty(),
            "{}: a stale launch reads no packages",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn inventory_arriving_after_the_launch() {
    for db in common::backends().await {
        // SSM: nothing at launch, then one page, then nothing again.
        let ssm = mock!(aws_sdk_ssm::Client::list_inventory_entries)
            .match_requests(|r| r.instance_id() == Some(WORKER) && packages_listing(r))
            .sequence()
            .output(empty_ssm_page)
            .output(|| ssm_page(0..40, None))
            .output(empty_ssm_page)
            .build();
        let h = handler(&db.store, ssm_client(&[&ssm]), fixtures());
        let launch = handle(
            &h,
            for_instance(sample("ec2-running.json"), WORKER),
            db.name,
        )
        .await;
        assert_eq!(
            launch.instances[0].packages,
            PackagesOutcome::NoInventory { pages: 1 }
        );
        let rec = record(&db.store, WORKER).await.unwrap();
        assert_eq!(
            rec.instance.state,
            Some(InstanceState::Running),
            "{}",
            db.name
        );
        assert_eq!(
            rec.instance.details.instance_type.as_deref(),
            Some("m7g.large")
        );
        assert!(rec.instance.packages.is_empty(), "{}", db.name);
        assert_eq!(rec.inventory_captured_at, None, "{}", db.name);

        let collected = handle(
            &h,
            sample("ssm-inventory-association-success.json"),
            db.name,
        )
        .await;
        assert_eq!(collected.action, Action::InventoryCollected);
        assert!(
            matches!(
                collected.instances[0].packages,
                PackagesOutcome::Written { count: 40, .. }
            ),
            "{}: {:?}",
            db.name,
            collected.instances[0]
        );
        let rec = record(&db.store, WORKER).await.unwrap();
        assert_eq!(rec.instance.packages.len(), 40, "{}", db.name);
        assert_eq!(rec.inventory_captured_at, Some(at("2026-11-24T10:04:00Z")));
        assert_eq!(rec.instance.source, Source::Event, "{}", db.name);

        // An empty answer later never wipes what was stored.
        let empty = handle(
            &h,
            sample("ssm-inventory-association-success.json"),
            db.name,
        )
        .await;
        assert_eq!(
            empty.instances[0].packages,
            PackagesOutcome::NoInventory { pages: 1 }
        );
        assert_eq!(record(&db.store, WORKER).await.unwrap(), rec, "{}", db.name);
        assert_eq!(ssm.num_calls(), 3);
        db.finish().await;
    }
}

#[tokio::test]
async fn ten_thousand_packages_over_two_hundred_pages_cost_what_three_hundred_do() {
    for db in common::backends().await {
        let big = mock!(aws_sdk_ssm::Client::list_inventory_entries)
            .match_requests(|r| r.instance_id() == Some(WORKER) && r.max_results() == Some(50))
            .then_compute_output(|r| {
                let page: usize = r.next_token().map_or(0, |t| t.parse().unwrap());
                let next = (page < 199).then(|| (page + 1).to_string());
                ssm_page(page * 50..(page + 1) * 50, next)
            });
        let os = no_os();
        let ssm = SsmPackageSource::new(mock_client!(aws_sdk_ssm, RuleMode::MatchAny, [&big, &os]));
        let h = handler(&db.store, ssm, fixtures());
        let outcome = handle(
            &h,
            for_instance(sample("ec2-running.json"), WORKER),
            db.name,
        )
        .await;
        assert_eq!(big.num_calls(), 200, "{}", db.name);
        assert!(
            matches!(
                outcome.instances[0].packages,
                PackagesOutcome::Written {
                    count: 10_000,
                    pages: 200,
                    ..
                }
            ),
            "{}: {:?}",
            db.name,
            outcome.instances[0]
        );
        let rec = record(&db.store, WORKER).await.unwrap();
        assert_eq!(rec.instance.packages.len(), 10_000, "{}", db.name);
        assert_eq!(
            rec.instance.packages[9_999].name, "pkg-09999",
            "{}",
            db.name
        );

        // The same launch with 300 packages (fixtures) costs as many Data API calls.
        let small = handler(&db.store, fixtures(), fixtures());
        let web = handle(&small, sample("ec2-running.json"), db.name).await;
        assert_eq!(
            outcome.data_api_calls, web.data_api_calls,
            "{}: O(1) in packages",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn malformed_events_are_rejected_without_a_write() {
    let running = sample("ec2-running.json");
    let mut cases: Vec<(&str, Value)> = vec![
        ("array", json!([running.clone()])),
        ("no detail-type", {
            let mut e = running.clone();
            e.as_object_mut().unwrap().remove("detail-type");
            e
        }),
        ("unknown source", {
            let mut e = running.clone();
            e["source"] = json!("aws.s3");
            e
        }),
        ("unknown detail-type", {
            let mut e = running.clone();
            e["detail-type"] = json!("EC2 Spot Instance Interruption Warning");
            e
        }),
        (
            "bad instance id",
            for_instance(running.clone(), "i-'; DROP TABLE ec2; --"),
        ),
        ("detail without state", {
            let mut e = running.clone();
            e["detail"] = json!({"instance-id": WEB});
            e
        }),
        ("unknown state", {
            let mut e = running.clone();
            e["detail"]["state"] = json!("rebooting");
            e
        }),
        ("bad time", {
            let mut e = running.clone();
            e["time"] = json!("yesterday");
            e
        }),
    ];
    for (field, value) in [("account", "12345678901x"), ("region", "mars-north-1")] {
        let mut e = running.clone();
        e[field] = json!(value);
        cases.push((field, e));
    }
    let mut association = sample("ssm-inventory-association-success.json");
    association["detail"]
        .as_object_mut()
        .unwrap()
        .remove("instance-id");
    cases.push(("association without instance", association));

    for db in common::backends().await {
        let h = handler(&db.store, fixtures(), fixtures());
        let calls = db.store.data_api_calls();
        for (name, event) in &cases {
            let err = h.handle_json(event.clone()).await.unwrap_err();
            assert!(
                matches!(err, HandleError::Malformed(_)),
                "{}: {name}: {err:?}",
                db.name
            );
            assert!(!err.is_retryable(), "{}: {name}", db.name);
            assert_eq!(err.error_type(), "NonRetryable.MalformedEvent");
            // The error (and its log line) names the event.
            if let Some(event_id) = event.get("id").and_then(Value::as_str) {
                assert!(err.to_string().contains(event_id), "{name}: {err}");
            }
        }
        assert_eq!(
            db.store.data_api_calls(),
            calls,
            "{}: not even a read",
            db.name
        );
        assert_eq!(db.count("SELECT COUNT(*) FROM ec2").await, 0, "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn an_instance_unknown_to_ec2_and_ssm_is_recorded_from_the_event() {
    for db in common::backends().await {
        let not_found = mock!(aws_sdk_ec2::Client::describe_instances).then_error(|| {
            DescribeInstancesError::generic(
                ErrorMetadata::builder()
                    .code("InvalidInstanceID.NotFound")
                    .message("The instance ID 'i-0ffffffffffffffff' does not exist")
                    .build(),
            )
        });
        let invalid = mock!(aws_sdk_ssm::Client::list_inventory_entries).then_error(|| {
            ListInventoryEntriesError::InvalidInstanceId(InvalidInstanceId::builder().build())
        });
        let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&not_found]);
        let ssm = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, [&invalid]);
        let h = handler(
            &db.store,
            SsmPackageSource::new(ssm),
            Ec2InstanceSource::new(ec2),
        );
        let outcome = handle(&h, for_instance(sample("ec2-running.json"), GHOST), db.name).await;
        let ghost = &outcome.instances[0];
        assert_eq!(
            (ghost.state_applied, ghost.described),
            (Some(true), Some(false))
        );
        assert_eq!(ghost.packages, PackagesOutcome::UnknownToSsm, "{}", db.name);
        let rec = record(&db.store, GHOST).await.unwrap();
        assert_eq!(
            rec.instance.state,
            Some(InstanceState::Running),
            "{}",
            db.name
        );
        assert_eq!(rec.instance.details, Default::default(), "{}", db.name);

        // An association event for it is a no-op too, not an error.
        let assoc = for_instance(sample("ssm-inventory-association-success.json"), GHOST);
        let outcome = handle(&h, assoc, db.name).await;
        assert_eq!(outcome.instances[0].packages, PackagesOutcome::UnknownToSsm);
        assert_eq!(
            (not_found.num_calls(), invalid.num_calls()),
            (1, 2),
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn throttling_fails_retryably_and_the_redelivery_completes_the_launch() {
    let throttled = || {
        HttpResponse::new(
            StatusCode::try_from(400).unwrap(),
            SdkBody::from(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#),
        )
    };
    for db in common::backends().await {
        // Three throttled attempts (the SDK's retries) fail the first delivery.
        let ssm = mock!(aws_sdk_ssm::Client::list_inventory_entries)
            .match_requests(packages_listing)
            .sequence()
            .http_response(throttled)
            .times(3)
            .output(|| ssm_page(0..7, None))
            .build();
        let h = handler(&db.store, ssm_client(&[&ssm]), fixtures());
        let event = sample("ec2-running.json");
        let err = h.handle_json(event.clone()).await.unwrap_err();
        assert!(err.is_retryable(), "{}: {err}", db.name);
        assert_eq!(err.error_type(), "Retryable.SourceError");
        // The state was recorded; the packages wait for the redelivery.
        let rec = record(&db.store, WEB).await.unwrap();
        assert_eq!(
            rec.instance.state,
            Some(InstanceState::Running),
            "{}",
            db.name
        );
        assert_eq!(rec.inventory_captured_at, None, "{}", db.name);

        let retried = handle(&h, event, db.name).await;
        assert_eq!(
            retried.instances[0].state_applied,
            Some(false),
            "{}",
            db.name
        );
        assert!(
            matches!(
                retried.instances[0].packages,
                PackagesOutcome::Written { count: 7, .. }
            ),
            "{}: {:?}",
            db.name,
            retried.instances[0]
        );
        assert_eq!(ssm.num_calls(), 4, "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn an_unreachable_data_api_fails_retryably() {
    // Nothing listens there: every call is a connection failure.
    let client = common::unreachable_client().await;
    let store = Store::new(
        client,
        DbTarget {
            resource_arn: data_api_local::LOCAL_CLUSTER_ARN.into(),
            secret_arn: data_api_local::LOCAL_SECRET_ARN.into(),
            database: None,
            dialect: Dialect::Sqlite,
        },
    )
    .with_retry_policy(RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(2),
    });
    let h = handler(&store, fixtures(), fixtures());
    for file in [
        "ec2-stopped.json",
        "ssm-inventory-association-success.json",
        "scheduled-sync.json",
    ] {
        let err = h.handle_json(sample(file)).await.unwrap_err();
        assert!(err.is_retryable(), "{file}: {err}");
        assert!(err.error_type().starts_with("Retryable."), "{file}");
    }
}

#[tokio::test]
async fn the_schedule_syncs_running_instances_without_fresh_inventory() {
    for db in common::backends().await {
        // Both launch with SSM still empty; the web server then stops.
        let empty = mock!(aws_sdk_ssm::Client::list_inventory_entries).then_output(empty_ssm_page);
        let launches = handler(
            &db.store,
            SsmPackageSource::new(mock_client!(aws_sdk_ssm, RuleMode::MatchAny, [&empty])),
            WithoutFleet(fixtures()),
        );
        handle(&launches, sample("ec2-running.json"), db.name).await;
        handle(
            &launches,
            for_instance(sample("ec2-running.json"), WORKER),
            db.name,
        )
        .await;
        let ghost = for_instance(sample("ec2-running.json"), GHOST);
        handle(&launches, ghost, db.name).await;
        handle(&launches, sample("ec2-stopped.json"), db.name).await;

        // One instance per run, missing inventories first (by id): the worker
        // (from the fixtures), then the ghost (unknown to SSM); never the
        // stopped web server.
        let one_by_one = EventHandler::new(
            db.store.clone(),
            WithoutFleet(fixtures()),
            WithoutFleet(fixtures()),
            SyncSettings {
                max_age_hours: 24,
                batch: 1,
                ..SyncSettings::default()
            },
        );
        let ids = |o: &Outcome| -> Vec<String> {
            let mut ids: Vec<String> = o
                .instances
                .iter()
                .map(|i| i.instance_id.to_string())
                .collect();
            ids.sort();
            ids
        };
        let first = handle(&one_by_one, sample("scheduled-sync.json"), db.name).await;
        assert_eq!(first.action, Action::Sync);
        assert_eq!(ids(&first), [WORKER], "{}", db.name);
        assert!(
            matches!(
                first.instances[0].packages,
                PackagesOutcome::Written { count: 18, .. }
            ),
            "{}: {:?}",
            db.name,
            first.instances[0]
        );
        let worker = record(&db.store, WORKER).await.unwrap();
        assert_eq!(worker.instance.packages.len(), 18, "{}", db.name);
        assert_eq!(worker.instance.source, Source::Sync, "{}", db.name);
        assert_eq!(
            worker.inventory_captured_at,
            Some(at("2026-11-24T10:02:41Z"))
        );

        let second = handle(&one_by_one, sample("scheduled-sync.json"), db.name).await;
        assert_eq!(ids(&second), [GHOST], "{}", db.name);
        assert_eq!(
            second.instances[0].packages,
            PackagesOutcome::UnknownToSsm,
            "{}",
            db.name
        );

        // The worker's capture (10:02:41) is within 24 hours of the schedule
        // (next day 10:00), not within 1 hour.
        let daily = EventHandler::new(
            db.store.clone(),
            WithoutFleet(fixtures()),
            WithoutFleet(fixtures()),
            SyncSettings::default(),
        );
        let third = handle(&daily, sample("scheduled-sync.json"), db.name).await;
        assert_eq!(ids(&third), [GHOST], "{}", db.name);
        let hourly = EventHandler::new(
            db.store.clone(),
            WithoutFleet(fixtures()),
            WithoutFleet(fixtures()),
            SyncSettings {
                max_age_hours: 1,
                batch: 50,
                ..SyncSettings::default()
            },
        );
        let fourth = handle(&hourly, sample("scheduled-sync.json"), db.name).await;
        assert_eq!(ids(&fourth), [WORKER, GHOST], "{}", db.name);
        let worker_again = fourth
            .instances
            .iter()
            .find(|i| i.instance_id.as_str() == WORKER)
            .unwrap();
        assert!(
            matches!(
                worker_again.packages,
                PackagesOutcome::NotWritten { count: 18, .. }
            ),
            "{}: same capture: {worker_again:?}",
            db.name
        );
        assert_eq!(
            record(&db.store, WORKER).await.unwrap(),
            worker,
            "{}",
            db.name
        );
        assert!(record(&db.store, WEB)
            .await
            .unwrap()
            .instance
            .packages
            .is_empty());
        db.finish().await;
    }
}

/// The README's tour: the launch, then the next day's inventory with openssl
/// upgraded (`events/fixtures/upgrade`). The history holds the upgrade at its
/// capture time, redelivery adds nothing, and a range in dpkg's ordering
/// (from the `.deb` package ids) finds the instance.
#[tokio::test]
async fn the_next_days_inventory_records_the_upgrade() {
    use inventory_core::query::{ChangeKind, HistoryQuery, SearchQuery};
    use inventory_core::version::{Bound, VersionRange};
    common::on_each_backend(async |db| {
        let name = db.name;
        let launch = handler(&db.store, fixtures(), fixtures());
        handle(&launch, sample("ec2-running.json"), name).await;
        let upgrade_fixtures = FixtureSources::new(repo_path("events/fixtures/upgrade"));
        let next_day = handler(&db.store, upgrade_fixtures.clone(), upgrade_fixtures);
        for _ in 0..2 {
            handle(&next_day, sample("ssm-inventory-upgrade.json"), name).await;
        }
        let page = db
            .store
            .instance_history(&id(WEB), &HistoryQuery::default())
            .await
            .unwrap();
        // openssl and libssl3 (built from it) moved together.
        let upgraded: Vec<_> = page.changes[..2]
            .iter()
            .map(|c| c.package_name.as_deref().unwrap_or_default())
            .collect();
        assert!(upgraded.contains(&"libssl3"), "{name}: {upgraded:?}");
        let latest = page.changes[..2]
            .iter()
            .find(|c| c.package_name.as_deref() == Some("openssl"))
            .unwrap();
        assert_eq!(latest.kind, ChangeKind::Changed, "{name}: {latest:?}");
        assert_eq!(
            latest.old_version.as_deref(),
            Some("3.0.19-1~deb12u2"),
            "{name}"
        );
        assert_eq!(
            latest.new_version.as_deref(),
            Some("3.0.20-1~deb12u1"),
            "{name}"
        );
        assert_eq!(
            (latest.source, latest.at),
            (Source::Event, at("2026-11-25T09:58:12Z")),
            "{name}"
        );
        // The launch: its state and 300 installs; the upgrade: two changes.
        let all = db
            .count(&format!(
                "SELECT COUNT(*) FROM ec2_history WHERE ec2_id = '{WEB}'"
            ))
            .await;
        assert_eq!(all, 1 + 300 + 2, "{name}");
        // 3.0.20 > 3.0.19 > 3.0.9 in dpkg's ordering (not as text).
        let q = SearchQuery {
            package_name: Some("openssl".into()),
            version_range: VersionRange {
                lower: Some(Bound {
                    version: "3.0.9".into(),
                    inclusive: false,
                }),
                upper: None,
            },
            ..SearchQuery::default()
        };
        let found = db.store.search(&q).await.unwrap();
        assert_eq!(found.instances.len(), 1, "{name}");
        assert_eq!(found.instances[0].id.as_str(), WEB, "{name}");
    })
    .await;
}

/// The scheduled sync prunes history older than the retention (counted from
/// the schedule's time), and keeps everything with a retention of 0.
#[tokio::test]
async fn the_scheduled_sync_prunes_old_history() {
    common::on_each_backend(async |db| {
        let name = db.name;
        let change = |id: &str, time: &str| inventory_core::model::StateChange {
            id: self::id(id),
            account: "123456789012".parse().unwrap(),
            region: "us-east-1".parse().unwrap(),
            state: InstanceState::Stopped,
            time: at(time),
            details: None,
        };
        // The schedule runs at 2026-11-25 10:00: a year back is 2025-11-25 10:00.
        for (id, time) in [
            ("i-0000000000000001a", "2025-11-25T09:59:59Z"),
            ("i-0000000000000002b", "2025-11-25T10:00:01Z"),
        ] {
            assert!(
                db.store.apply_state(&change(id, time)).await.unwrap(),
                "{name}"
            );
        }
        let count = || db.count("SELECT COUNT(*) FROM ec2_history");
        let keep_all = EventHandler::new(
            db.store.clone(),
            WithoutFleet(fixtures()),
            WithoutFleet(fixtures()),
            SyncSettings {
                history_retention_days: 0,
                ..SyncSettings::default()
            },
        );
        let before = count().await;
        handle(&keep_all, sample("scheduled-sync.json"), name).await;
        let synced = count().await;
        assert!(synced >= before, "{name}: retention 0 keeps everything");
        let yearly = handler(
            &db.store,
            WithoutFleet(fixtures()),
            WithoutFleet(fixtures()),
        );
        handle(&yearly, sample("scheduled-sync.json"), name).await;
        assert_eq!(count().await, synced - 1, "{name}: only the older one goes");
        let left = db
            .count("SELECT COUNT(*) FROM ec2_history WHERE ec2_id = 'i-0000000000000002b'")
            .await;
        assert_eq!(left, 1, "{name}");
    })
    .await;
}
