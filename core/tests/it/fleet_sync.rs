//! The whole fleet, not only new launches: the scheduled sync's walk through
//! EC2 `DescribeInstances` and SSM `DescribeInstanceInformation` (answered by
//! aws-smithy-mocks clients or the `events/fixtures` fleet), and association
//! events for unrecorded instances, against the local Data API on every
//! backend.

use crate::common;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ec2::operation::describe_instances::{DescribeInstancesError, DescribeInstancesOutput};
use aws_sdk_ec2::types::{Instance, InstanceStateName, Reservation, Tag};
use aws_sdk_ssm::operation::describe_instance_information::DescribeInstanceInformationOutput;
use aws_sdk_ssm::operation::list_inventory_entries::{
    ListInventoryEntriesError, ListInventoryEntriesOutput,
};
use aws_sdk_ssm::types::error::InvalidInstanceId;
use aws_sdk_ssm::types::{InstanceInformation, PingStatus};
use aws_smithy_mocks::{mock, mock_client, MockResponse, Rule, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use chrono::{DateTime, Utc};
use inventory_core::config::{FleetSettings, SyncSettings};
use inventory_core::events::{EventHandler, Outcome, PackagesOutcome, SyncFinding, WalkStop};
use inventory_core::model::{InstanceId, InstanceState, Package, Source, StateChange};
use inventory_core::query::ScopesQuery;
use inventory_core::sources::ec2::Ec2InstanceSource;
use inventory_core::sources::fixtures::FixtureSources;
use inventory_core::sources::scopes::OnePair;
use inventory_core::sources::ssm::SsmPackageSource;
use inventory_core::store::{Store, SyncLease};
use serde_json::{json, Value};

type AwsHandler = EventHandler<OnePair<SsmPackageSource, Ec2InstanceSource>>;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// Every `describe_instances` request's token, in order.
type Tokens = Arc<Mutex<Vec<Option<String>>>>;
/// `list_inventory_entries` requests per instance id.
type Reads = Arc<Mutex<BTreeMap<String, usize>>>;

fn id(s: &str) -> InstanceId {
    InstanceId::parse(s).unwrap()
}

fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
}

fn sample(name: &str) -> Value {
    let bytes = std::fs::read(repo_path(&format!("events/{name}"))).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn schedule() -> Value {
    sample("scheduled-sync.json")
}

/// An EC2 instance as `DescribeInstances` lists it.
fn ec2_instance(id: &str, state: &str) -> Instance {
    Instance::builder()
        .instance_id(id)
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .image_id("ami-0abcdef1234567890")
        .platform_details("Linux/UNIX")
        .state(
            aws_sdk_ec2::types::InstanceState::builder()
                .name(InstanceStateName::from(state))
                .build(),
        )
        .tags(Tag::builder().key("Name").value(format!("n-{id}")).build())
        .build()
}

/// A fleet listed in pages of `(id, state)`, each page with the token of the
/// next; EC2's order is not the ids' order.
#[derive(Clone)]
struct Fleet {
    pages: Vec<Vec<(String, String)>>,
}

impl Fleet {
    fn new(pages: &[&[(&str, &str)]]) -> Self {
        Self {
            pages: pages
                .iter()
                .map(|p| {
                    p.iter()
                        .map(|(i, s)| (i.to_string(), s.to_string()))
                        .collect()
                })
                .collect(),
        }
    }

    fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .pages
            .iter()
            .flatten()
            .map(|(i, _)| i.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Page `n` with the token of the next.
    fn page(&self, n: usize) -> DescribeInstancesOutput {
        let mut reservation = Reservation::builder().owner_id(ACCOUNT);
        for (i, s) in &self.pages[n] {
            reservation = reservation.instances(ec2_instance(i, s));
        }
        let next = (n + 1 < self.pages.len()).then(|| format!("tok-{}", n + 1));
        DescribeInstancesOutput::builder()
            .reservations(reservation.build())
            .set_next_token(next)
            .build()
    }
}

fn ec2_error(code: &str) -> DescribeInstancesError {
    DescribeInstancesError::generic(ErrorMetadata::builder().code(code).build())
}

fn fast<B>(conf: B) -> B
where
    B: RetryConfigurable,
{
    conf.fast_retries()
}

/// Both SDK config builders, with standard retries at millisecond back-off.
trait RetryConfigurable {
    fn fast_retries(self) -> Self;
}

fn fast_retry_config() -> aws_sdk_ssm::config::retry::RetryConfig {
    aws_sdk_ssm::config::retry::RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

impl RetryConfigurable for aws_sdk_ssm::config::Builder {
    fn fast_retries(self) -> Self {
        self.retry_config(fast_retry_config())
    }
}

impl RetryConfigurable for aws_sdk_ec2::config::Builder {
    fn fast_retries(self) -> Self {
        self.retry_config(fast_retry_config())
    }
}

/// `DescribeInstances` over `fleet`, one rule per page (the mocks answer a
/// retry from the rule of its first attempt, without its input), recording
/// every first attempt's token. `throttled(page)` answers that page with
/// `RequestLimitExceeded` first: `Some(n)` times, `None` always.
fn ec2_rules(
    fleet: Arc<Mutex<Fleet>>,
    tokens: &Tokens,
    throttled: impl Fn(usize) -> Option<Option<usize>>,
) -> Vec<Rule> {
    let pages = fleet.lock().unwrap().pages.len();
    (0..pages)
        .map(|n| {
            let tokens = Arc::clone(tokens);
            let fleet = Arc::clone(&fleet);
            let token = (n > 0).then(|| format!("tok-{n}"));
            let rule = mock!(aws_sdk_ec2::Client::describe_instances).match_requests(move |r| {
                let ours = r.max_results() == Some(1000) && r.next_token() == token.as_deref();
                if ours {
                    tokens
                        .lock()
                        .unwrap()
                        .push(r.next_token().map(str::to_owned));
                }
                ours
            });
            let page = move || fleet.lock().unwrap().page(n);
            match throttled(n) {
                None => rule.then_output(page),
                Some(None) => rule
                    .sequence()
                    .error(|| ec2_error("RequestLimitExceeded"))
                    .repeatedly()
                    .build(),
                Some(Some(times)) => rule
                    .sequence()
                    .error(|| ec2_error("RequestLimitExceeded"))
                    .times(times)
                    .output(page)
                    .repeatedly()
                    .build(),
            }
        })
        .collect()
}

fn shared(fleet: Fleet) -> Arc<Mutex<Fleet>> {
    Arc::new(Mutex::new(fleet))
}

/// Hybrid nodes in one page each: `(id, ping status)`.
fn nodes_rule(nodes: &[(&str, &str)]) -> Rule {
    let nodes: Vec<(String, String)> = nodes
        .iter()
        .map(|(i, p)| (i.to_string(), p.to_string()))
        .collect();
    mock!(aws_sdk_ssm::Client::describe_instance_information)
        .match_requests(|r| {
            r.max_results() == Some(50)
                && r.filters().iter().any(|f| {
                    f.key() == "ResourceType" && f.values() == ["ManagedInstance".to_string()]
                })
        })
        .then_compute_output(move |r| {
            let n: usize = r.next_token().map_or(0, |t| t.parse().unwrap());
            let mut out = DescribeInstanceInformationOutput::builder();
            if let Some((i, ping)) = nodes.get(n) {
                out = out.instance_information_list(
                    InstanceInformation::builder()
                        .instance_id(i)
                        .ping_status(PingStatus::from(ping.as_str()))
                        .platform_name("Ubuntu")
                        .platform_version("22.04")
                        .name(format!("node-{i}"))
                        .build(),
                );
            }
            out.set_next_token((n + 1 < nodes.len()).then(|| (n + 1).to_string()))
                .build()
        })
}

/// Inventories: ids in `with_packages` have two packages captured
/// 2026-11-25 09:00, ids in `unknown` are unknown to SSM, others have none.
/// No instance reports its OS. `reads` counts the package listings.
fn inventory_rule(with_packages: &[&str], unknown: &[&str], reads: &Reads) -> Rule {
    let with_packages: Vec<String> = with_packages.iter().map(|s| s.to_string()).collect();
    let unknown: Vec<String> = unknown.iter().map(|s| s.to_string()).collect();
    let reads = Arc::clone(reads);
    mock!(aws_sdk_ssm::Client::list_inventory_entries).then_compute_response(move |r| {
        let i = r.instance_id().unwrap_or_default().to_string();
        if r.type_name() == Some("AWS:InstanceInformation") {
            return MockResponse::Output(
                ListInventoryEntriesOutput::builder()
                    .type_name("AWS:InstanceInformation")
                    .instance_id(&i)
                    .build(),
            );
        }
        *reads.lock().unwrap().entry(i.clone()).or_default() += 1;
        if unknown.contains(&i) {
            return MockResponse::Error(ListInventoryEntriesError::InvalidInstanceId(
                InvalidInstanceId::builder().build(),
            ));
        }
        if with_packages.contains(&i) {
            return MockResponse::Output(two_packages(&i));
        }
        MockResponse::Output(
            ListInventoryEntriesOutput::builder()
                .type_name("AWS:Application")
                .instance_id(&i)
                .build(),
        )
    })
}

/// `bash` and a package named after the instance, captured 2026-11-25 09:00.
fn two_packages(i: &str) -> ListInventoryEntriesOutput {
    let mut out = ListInventoryEntriesOutput::builder()
        .type_name("AWS:Application")
        .instance_id(i)
        .capture_time("2026-11-25T09:00:00Z");
    for (name, version) in [("bash", "5.2.15"), (i, "1.0")] {
        out = out.entries(HashMap::from([
            ("Name".to_string(), name.to_string()),
            ("Version".to_string(), version.to_string()),
        ]));
    }
    out.build()
}

fn throttled() -> aws_smithy_runtime_api::client::orchestrator::HttpResponse {
    aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
        aws_smithy_types::body::SdkBody::from(
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
        ),
    )
}

fn fleet_handler(store: &Store, ssm: &[&Rule], ec2: &[Rule], batch: u32) -> AwsHandler {
    let ssm = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, ssm.iter().copied(), fast);
    let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, ec2.iter(), fast);
    EventHandler::new(
        store.clone(),
        SsmPackageSource::new(ssm),
        Ec2InstanceSource::new(ec2),
        SyncSettings::default(),
    )
    .with_fleet(FleetSettings {
        batch,
        time_budget: Duration::from_secs(600),
        ..FleetSettings::default()
    })
}

async fn sync(h: &AwsHandler, db: &str) -> Outcome {
    h.handle_json(schedule())
        .await
        .unwrap_or_else(|e| panic!("{db}: {e:?}"))
}

/// The ids whose outcome carries `finding`, sorted.
fn found(o: &Outcome, finding: SyncFinding) -> Vec<String> {
    let mut ids: Vec<String> = o
        .instances
        .iter()
        .filter(|i| i.finding == Some(finding))
        .map(|i| i.instance_id.to_string())
        .collect();
    ids.sort();
    ids
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

async fn record_running(store: &Store, i: &str, account: &str, time: DateTime<Utc>) {
    store
        .apply_state(&StateChange {
            id: id(i),
            account: account.parse().unwrap(),
            region: REGION.parse().unwrap(),
            state: InstanceState::Running,
            time,
            details: None,
        })
        .await
        .unwrap();
}

const A: &str = "i-0000000000000000a";
const B: &str = "i-0000000000000000b";
const C: &str = "i-0000000000000000c";
const D: &str = "i-0000000000000000d";
const E: &str = "i-0000000000000000e";
const F: &str = "i-0000000000000000f";
const G: &str = "i-00000000000000010";
const NODE_ONLINE: &str = "mi-0000000000000000a";
const NODE_LOST: &str = "mi-0000000000000000b";

/// Seven EC2 instances over three pages, not in id order.
fn seven() -> Fleet {
    Fleet::new(&[
        &[(E, "running"), (B, "stopped"), (G, "running")],
        &[(A, "running"), (F, "terminated")],
        &[(D, "running"), (C, "pending")],
    ])
}

#[tokio::test]
async fn a_paged_fleet_without_any_record_is_recorded_in_one_run() {
    for db in common::backends().await {
        let tokens = Tokens::default();
        let reads = Reads::default();
        let ec2 = ec2_rules(shared(seven()), &tokens, |_| None);
        let nodes = nodes_rule(&[(NODE_LOST, "ConnectionLost"), (NODE_ONLINE, "Online")]);
        // A and the online node have inventories, D has none yet, G no agent.
        let inventory = inventory_rule(&[A, NODE_ONLINE], &[G], &reads);
        let h = fleet_handler(&db.store, &[&nodes, &inventory], &ec2, 2000);

        let first = sync(&h, db.name).await;
        let fleet = first.fleet.clone().unwrap();
        let mut all = seven().ids();
        all.extend([NODE_ONLINE.to_string(), NODE_LOST.to_string()]);
        all.sort();
        assert_eq!(found(&first, SyncFinding::Unrecorded), all, "{}", db.name);
        assert_eq!(fleet.stopped, WalkStop::EndOfPass, "{}", db.name);
        assert_eq!(
            (fleet.ec2_pages, fleet.ssm_pages, fleet.ahead, fleet.visited),
            (3, 2, 9, 9),
            "{}",
            db.name
        );
        assert_eq!((fleet.passes_completed, fleet.position), (1, None));
        assert_eq!(
            *tokens.lock().unwrap(),
            [None, Some("tok-1".to_string()), Some("tok-2".to_string())]
        );
        // Inventories are read for running instances only: never for the
        // stopped B, the terminated F, the pending C or the disconnected node.
        let read: Vec<String> = reads.lock().unwrap().keys().cloned().collect();
        assert_eq!(read, [A, D, E, G, NODE_ONLINE], "{}", db.name);

        for (i, state) in [
            (A, InstanceState::Running),
            (B, InstanceState::Stopped),
            (C, InstanceState::Pending),
            (F, InstanceState::Terminated),
            (NODE_ONLINE, InstanceState::Running),
            (NODE_LOST, InstanceState::Stopped),
        ] {
            let rec = db.record(&id(i)).await;
            assert_eq!(rec.instance.state, Some(state), "{}: {i}", db.name);
            assert_eq!(rec.instance.account.as_str(), ACCOUNT);
        }
        let a = db.record(&id(A)).await;
        assert_eq!(
            a.instance.details.instance_type.as_deref(),
            Some("t3.micro")
        );
        assert_eq!(
            a.instance.details.tags.get("Name").map(String::as_str),
            Some("n-i-0000000000000000a")
        );
        assert_eq!(
            a.instance.packages,
            [Package::new("bash", "5.2.15"), Package::new(A, "1.0")]
        );
        assert_eq!(a.instance.source, Source::Sync, "{}", db.name);
        assert!(a.terminated.is_none());
        assert!(db.record(&id(F)).await.terminated.is_some());
        let node = db.record(&id(NODE_ONLINE)).await;
        assert_eq!(
            node.instance.details.platform.as_deref(),
            Some("Ubuntu 22.04")
        );
        assert_eq!(node.instance.packages.len(), 2, "{}", db.name);
        assert!(db.record(&id(D)).await.instance.packages.is_empty());

        // The next run starts a new pass and finds nothing to change; only
        // the instances still without inventory (D, E, and G unknown to SSM)
        // are asked again, by the stale-inventory step before the walk.
        let before: Vec<_> = records(&db.store, &all).await;
        let second = sync(&h, db.name).await;
        assert!(
            second.instances.iter().all(|i| i.state_applied.is_none()
                && !matches!(i.packages, PackagesOutcome::Written { .. })),
            "{}: {:?}",
            db.name,
            second.instances
        );
        let asked: Vec<String> = second
            .instances
            .iter()
            .map(|i| i.instance_id.to_string())
            .collect();
        assert_eq!(asked, [D, E, G], "{}", db.name);
        assert_eq!(records(&db.store, &all).await, before, "{}", db.name);
        assert_eq!(second.fleet.unwrap().passes_completed, 2);
        db.finish().await;
    }
}

async fn records(
    store: &Store,
    ids: &[String],
) -> Vec<Option<inventory_core::model::InstanceRecord>> {
    let mut out = Vec::new();
    for i in ids {
        out.push(store.get_instance(&id(i)).await.unwrap());
    }
    out
}

#[tokio::test]
async fn missed_state_changes_are_healed_and_newer_events_win() {
    for db in common::backends().await {
        let long_ago = at("2026-11-24T10:00:00Z");
        // A ran, but EC2 now reports it terminated (the event was lost).
        record_running(&db.store, A, ACCOUNT, long_ago).await;
        // B's running event is newer than the listing can be: it stays.
        record_running(&db.store, B, ACCOUNT, Utc::now()).await;
        // C and D are gone from the listing: C long ago, D only just recorded.
        record_running(&db.store, C, ACCOUNT, long_ago).await;
        record_running(&db.store, D, ACCOUNT, Utc::now()).await;
        // Another account's instance, and a manual id, are never this
        // listing's to judge.
        record_running(&db.store, E, "210987654321", long_ago).await;
        record_running(&db.store, "srv-build-1", ACCOUNT, long_ago).await;

        let tokens = Tokens::default();
        let reads = Reads::default();
        let fleet = Fleet::new(&[&[(A, "terminated")], &[(B, "pending"), (G, "running")]]);
        let ec2 = ec2_rules(shared(fleet), &tokens, |_| None);
        let nodes = nodes_rule(&[]);
        let inventory = inventory_rule(&[G], &[], &reads);
        let h = fleet_handler(&db.store, &[&nodes, &inventory], &ec2, 2000);
        let outcome = sync(&h, db.name).await;

        assert_eq!(found(&outcome, SyncFinding::StateDiffers), [A, B]);
        assert_eq!(found(&outcome, SyncFinding::Absent), [C], "{}", db.name);
        assert_eq!(found(&outcome, SyncFinding::Unrecorded), [G]);
        let state = |o: &Outcome, i: &str| {
            let i = o
                .instances
                .iter()
                .find(|x| x.instance_id.as_str() == i && x.finding.is_some())
                .unwrap();
            (i.state, i.state_applied)
        };
        assert_eq!(
            state(&outcome, A),
            (Some(InstanceState::Terminated), Some(true))
        );
        assert_eq!(
            state(&outcome, B),
            (Some(InstanceState::Pending), Some(false)),
            "{}: the newer running event wins",
            db.name
        );
        let a = db.record(&id(A)).await;
        assert_eq!(a.instance.state, Some(InstanceState::Terminated));
        let terminated_at = a.terminated.unwrap();
        assert!(terminated_at > long_ago && terminated_at < Utc::now());
        assert_eq!(
            db.record(&id(B)).await.instance.state,
            Some(InstanceState::Running)
        );
        let c = db.record(&id(C)).await;
        assert_eq!(c.instance.state, Some(InstanceState::Terminated));
        for untouched in [D, E, "srv-build-1"] {
            assert_eq!(
                db.record(&id(untouched)).await.instance.state,
                Some(InstanceState::Running),
                "{}: {untouched}",
                db.name
            );
        }
        // A healed termination is applied once: the next pass changes nothing
        // (B's newer event still wins).
        let again = sync(&h, db.name).await;
        assert!(
            again
                .instances
                .iter()
                .all(|i| i.state_applied != Some(true)),
            "{}: {:?}",
            db.name,
            again.instances
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn throttling_mid_listing_is_retried_with_the_same_token() {
    for db in common::backends().await {
        let tokens = Tokens::default();
        let reads = Reads::default();
        // The second page's first request is throttled; the SDK retries it.
        let ec2 = ec2_rules(shared(seven()), &tokens, |n| (n == 1).then_some(Some(1)));
        let nodes = nodes_rule(&[]);
        let inventory = inventory_rule(&[], &[], &reads);
        let h = fleet_handler(&db.store, &[&nodes, &inventory], &ec2, 2000);
        let outcome = sync(&h, db.name).await;
        assert_eq!(found(&outcome, SyncFinding::Unrecorded), seven().ids());
        let tok = |s: &str| Some(s.to_string());
        assert_eq!(
            *tokens.lock().unwrap(),
            [None, tok("tok-1"), tok("tok-2")],
            "{}",
            db.name
        );
        // The page's rule answered twice: the throttle, then the same
        // request again (the SDK's retry).
        assert_eq!(ec2[1].num_calls(), 2, "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_listing_that_stays_throttled_fails_the_scope_before_any_visit() {
    for db in common::backends().await {
        let tokens = Tokens::default();
        let reads = Reads::default();
        let stuck = ec2_rules(shared(seven()), &tokens, |n| (n == 2).then_some(None));
        let nodes = nodes_rule(&[]);
        let inventory = inventory_rule(&[], &[], &reads);
        let h = fleet_handler(&db.store, &[&nodes, &inventory], &stuck, 2000);
        // The scope's failure, recorded as its last error: the invocation
        // itself succeeds, and the next run retries the scope.
        let failed = sync(&h, db.name).await.fleet.unwrap();
        assert_eq!(failed.stopped, WalkStop::Failure, "{}", db.name);
        assert!(failed.error.is_some(), "{}: {failed:?}", db.name);
        let coverage = db.store.scopes(&ScopesQuery::default()).await.unwrap();
        assert_eq!(coverage.scopes[0].last_error, failed.error, "{}", db.name);
        for i in seven().ids() {
            assert!(db.store.get_instance(&id(&i)).await.unwrap().is_none());
        }
        // The lease was given back: the next run (EC2 recovered) walks at once.
        let healthy = ec2_rules(shared(seven()), &Tokens::default(), |_| None);
        let h = fleet_handler(&db.store, &[&nodes, &inventory], &healthy, 2000);
        let outcome = sync(&h, db.name).await;
        assert_eq!(found(&outcome, SyncFinding::Unrecorded), seven().ids());
        db.finish().await;
    }
}

#[tokio::test]
async fn throttling_mid_walk_resumes_at_the_failed_instance() {
    for db in common::backends().await {
        let reads = Reads::default();
        let ec2 = ec2_rules(shared(seven()), &Tokens::default(), |_| None);
        let nodes = nodes_rule(&[]);
        let everyone = seven().ids();
        let with_packages: Vec<&str> = everyone.iter().map(String::as_str).collect();
        // D's inventory is throttled through the SDK's 3 attempts, once.
        let d_throttled = mock!(aws_sdk_ssm::Client::list_inventory_entries)
            .match_requests(|r| {
                r.instance_id() == Some(D) && r.type_name() == Some("AWS:Application")
            })
            .sequence()
            .http_response(throttled)
            .times(3)
            .output(move || two_packages(D))
            .build();
        let inventory = inventory_rule(&with_packages, &[], &reads);
        let h = fleet_handler(&db.store, &[&nodes, &d_throttled, &inventory], &ec2, 2000);
        let first = sync(&h, db.name).await.fleet.unwrap();
        assert_eq!(first.stopped, WalkStop::Failure, "{}", db.name);
        assert!(first.error.is_some(), "{}: {first:?}", db.name);
        for i in [A, B, C, D] {
            db.record(&id(i)).await;
        }

        let second = sync(&h, db.name).await;
        assert_eq!(second.fleet.as_ref().unwrap().stopped, WalkStop::EndOfPass);
        let changed: Vec<String> = second
            .instances
            .iter()
            .map(|i| i.instance_id.to_string())
            .collect();
        assert!(
            changed.iter().all(|i| i.as_str() > C) && changed.iter().any(|i| i == D),
            "{}: the second run resumes at D: {changed:?}",
            db.name
        );
        assert_eq!(db.record(&id(D)).await.instance.packages.len(), 2);
        // Every running instance's inventory was read once; D's after its
        // throttled attempts (3, the SDK's retries); the others never.
        let reads = reads.lock().unwrap().clone();
        for i in [A, E, G] {
            assert_eq!(reads.get(i), Some(&1), "{}: {i}: {reads:?}", db.name);
        }
        assert_eq!(reads.get(D), None, "{}: {reads:?}", db.name);
        assert_eq!(d_throttled.num_calls(), 4, "{}", db.name);
        assert_eq!(reads.len(), 3, "{}: {reads:?}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_budget_that_ends_mid_fleet_is_completed_without_visiting_anything_twice() {
    for db in common::backends().await {
        let reads = Reads::default();
        let tokens = Tokens::default();
        let fleet = shared(seven());
        let ec2 = ec2_rules(Arc::clone(&fleet), &tokens, |_| None);
        let nodes = nodes_rule(&[(NODE_ONLINE, "Online"), (NODE_LOST, "ConnectionLost")]);
        let all_ids: Vec<String> = seven().ids();
        // Every running instance has an inventory, so the stale step reads none.
        let launched = ["i-00000000000000001", "i-00000000000000011", NODE_ONLINE];
        let with: Vec<&str> = all_ids.iter().map(String::as_str).chain(launched).collect();
        let inventory = inventory_rule(&with, &[], &reads);
        let h = fleet_handler(&db.store, &[&nodes, &inventory], &ec2, 4);

        let mut visited: Vec<Vec<String>> = Vec::new();
        let mut stops = Vec::new();
        for run in 0..3 {
            if run == 1 {
                // Launched between runs: one behind the cursor, one ahead.
                let mut f = fleet.lock().unwrap();
                f.pages[0].push(("i-00000000000000001".into(), "running".into()));
                f.pages[2].push(("i-00000000000000011".into(), "running".into()));
            }
            let o = sync(&h, db.name).await;
            visited.push(found(&o, SyncFinding::Unrecorded));
            stops.push(o.fleet.unwrap().stopped);
        }
        assert_eq!(
            stops,
            [WalkStop::Batch, WalkStop::Batch, WalkStop::EndOfPass],
            "{}",
            db.name
        );
        assert_eq!(visited[0], [A, B, C, D], "{}", db.name);
        assert_eq!(visited[1], [E, F, G, "i-00000000000000011"], "{}", db.name);
        assert_eq!(visited[2], [NODE_ONLINE, NODE_LOST], "{}", db.name);
        // Each listed instance's inventory was read exactly once.
        let reads = reads.lock().unwrap().clone();
        assert!(reads.values().all(|&n| n == 1), "{}: {reads:?}", db.name);
        // The instance launched behind the cursor waits for the next pass.
        assert!(db
            .store
            .get_instance(&id("i-00000000000000001"))
            .await
            .unwrap()
            .is_none());
        let next_pass = sync(&h, db.name).await;
        assert_eq!(
            found(&next_pass, SyncFinding::Unrecorded),
            ["i-00000000000000001"],
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_run_never_walks_while_another_holds_the_cursor() {
    for db in common::backends().await {
        let ec2 = ec2_rules(shared(seven()), &Tokens::default(), |_| None);
        let nodes = nodes_rule(&[]);
        let inventory = inventory_rule(&[], &[], &Reads::default());
        let h = fleet_handler(&db.store, &[&nodes, &inventory], &ec2, 2000);
        let other = SyncLease::new(&ACCOUNT.parse().unwrap(), &REGION.parse().unwrap());
        let now = Utc::now();
        let held = db
            .store
            .acquire_sync_cursor(&other, now, now + chrono::Duration::minutes(5))
            .await
            .unwrap();
        assert!(held.is_some());
        let busy = sync(&h, db.name).await;
        assert_eq!(busy.fleet.unwrap().stopped, WalkStop::Busy, "{}", db.name);
        assert!(busy.instances.is_empty());
        assert!(db.store.get_instance(&id(A)).await.unwrap().is_none());
        assert!(db
            .store
            .release_sync_cursor(&other, &Default::default())
            .await
            .unwrap());
        let walked = sync(&h, db.name).await;
        assert_eq!(found(&walked, SyncFinding::Unrecorded), seven().ids());
        db.finish().await;
    }
}

fn fixtures() -> FixtureSources {
    FixtureSources::new(repo_path("events/fixtures"))
}

/// Every instance and node of the fixture fleet, by id.
const FIXTURE_FLEET: [(&str, InstanceState, usize); 9] = [
    ("i-09a8b7c6d5e4f3a21", InstanceState::Running, 0),
    ("i-0a1b2c3d4e5f60718", InstanceState::Running, 300),
    ("i-0b2c3d4e5f6071829", InstanceState::Running, 18),
    ("i-0c3d4e5f60718293a", InstanceState::Stopped, 0),
    ("i-0d4e5f60718293a4b", InstanceState::Running, 4),
    ("i-0e5f60718293a4b5c", InstanceState::Terminated, 0),
    ("i-0f1e2d3c4b5a69788", InstanceState::Running, 0),
    ("mi-0123456789abcdef0", InstanceState::Running, 3),
    ("mi-0fedcba9876543210", InstanceState::Stopped, 0),
];

#[tokio::test]
async fn the_sample_schedule_records_the_whole_fixture_fleet() {
    for db in common::backends().await {
        let h = EventHandler::new(
            db.store.clone(),
            fixtures(),
            fixtures(),
            SyncSettings::default(),
        );
        let outcome = h
            .handle_json(schedule())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", db.name));
        let fleet = outcome.fleet.unwrap();
        assert_eq!((fleet.ec2_pages, fleet.ssm_pages), (3, 2), "{}", db.name);
        assert_eq!(fleet.recorded, FIXTURE_FLEET.len(), "{}", db.name);
        for (i, state, packages) in FIXTURE_FLEET {
            let rec = db.record(&id(i)).await;
            assert_eq!(rec.instance.state, Some(state), "{}: {i}", db.name);
            assert_eq!(rec.instance.packages.len(), packages, "{}: {i}", db.name);
        }
        db.finish().await;
    }
}

#[tokio::test]
async fn an_inventory_for_an_unrecorded_instance_records_it() {
    for db in common::backends().await {
        let h = EventHandler::new(
            db.store.clone(),
            fixtures(),
            fixtures(),
            SyncSettings::default(),
        );
        let event = sample("ssm-inventory-association-success.json");
        let outcome = h.handle_json(event.clone()).await.unwrap();
        let worker = &outcome.instances[0];
        assert_eq!(
            (worker.state, worker.state_applied, worker.described),
            (Some(InstanceState::Running), Some(true), Some(true)),
            "{}",
            db.name
        );
        assert!(
            matches!(worker.packages, PackagesOutcome::Written { count: 18, .. }),
            "{}: {worker:?}",
            db.name
        );
        let rec = db.record(&id("i-0b2c3d4e5f6071829")).await;
        assert_eq!(
            rec.instance.details.instance_type.as_deref(),
            Some("m7g.large")
        );
        assert_eq!(rec.instance.packages.len(), 18);
        assert_eq!(rec.last_event_time, Some(at("2026-11-24T10:02:47Z")));

        // A hybrid node: details from SSM's DescribeInstanceInformation.
        let mut node_event = event.clone();
        node_event["detail"]["instance-id"] = json!("mi-0123456789abcdef0");
        let node = h.handle_json(node_event.clone()).await.unwrap();
        assert_eq!(node.instances[0].described, Some(true), "{}", db.name);
        let rec = db.record(&id("mi-0123456789abcdef0")).await;
        assert_eq!(
            rec.instance.details.platform.as_deref(),
            Some("Ubuntu 22.04")
        );
        assert_eq!(
            rec.instance.details.tags.get("Name").map(String::as_str),
            Some("lab-server-1")
        );
        assert_eq!(rec.instance.packages.len(), 3, "{}", db.name);

        // Delivered again: a recorded instance with this capture; no change.
        let again = h.handle_json(node_event).await.unwrap();
        assert_eq!(again.instances[0].state_applied, None);
        assert!(matches!(
            again.instances[0].packages,
            PackagesOutcome::NotWritten { .. }
        ));
        assert_eq!(db.record(&id("mi-0123456789abcdef0")).await, rec);
        db.finish().await;
    }
}

/// The cursor is saved every 100 visits while 4 visits run at a time. Saving
/// it while visits were in flight stopped polling them; on SQLite a visit
/// holds its transaction's write lock across calls, so the save waited for a
/// lock that was never released, and the run failed after its retries (in 3
/// of 4 runs of this fleet before the fix). The walk must record every
/// instance of a fleet of several checkpoints, on every backend.
#[tokio::test]
async fn checkpoints_never_wait_on_a_visit_in_flight() {
    use common::generated_fleet::GeneratedFleet;
    let fleet = GeneratedFleet {
        instances: 1000,
        packages: 20,
    };
    common::on_each_backend(async |db| {
        let handler = EventHandler::new(
            db.fresh_store(),
            fleet.clone(),
            fleet.clone(),
            SyncSettings::default(),
        )
        .with_fleet(FleetSettings {
            batch: 2000,
            time_budget: Duration::from_secs(3600),
            ..FleetSettings::default()
        });
        let outcome = handler
            .handle_json(sample("scheduled-sync.json"))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", db.name));
        let walked = outcome.fleet.expect("a fleet walk");
        assert_eq!(walked.stopped, WalkStop::EndOfPass, "{}", db.name);
        assert_eq!(
            (walked.visited, walked.recorded),
            (1000, 1000),
            "{}",
            db.name
        );
    })
    .await;
}
