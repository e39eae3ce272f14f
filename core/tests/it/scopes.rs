//! One inventory over many accounts and regions: events handled with the
//! sources of their own scope, refused from accounts outside the allowed set,
//! and the scheduled sync walking every scope of the fixtures
//! (`events/fixtures` and its `accounts/<account>/<region>/`), a failing
//! scope recorded while the others complete, on every backend.

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use inventory_core::config::{FleetSettings, SyncSettings};
use inventory_core::events::{
    Action, CoverageSettings, EventHandler, HandleError, ScopesRun, WalkStop,
};
use inventory_core::model::{Account, InstanceDetails, InstanceId, Scope};
use inventory_core::query::{ScopeCoverage, ScopesQuery};
use inventory_core::sources::fixtures::FixtureSources;
use inventory_core::sources::fleet::{Ec2Fleet, FleetPage, ListedInstance, ManagedNodes};
use inventory_core::sources::scopes::{FixtureScopes, ScopeSources, Sources};
use inventory_core::sources::{InstanceSource, Inventory, PackageSource, SourceError};
use inventory_core::store::Store;
use serde_json::{json, Value};

const HOME: (&str, &str) = ("123456789012", "us-east-1");
/// The fixture scopes: the root's and those under `accounts/`.
const SCOPES: [(&str, &str); 6] = [
    ("123456789012", "us-east-1"),
    ("123456789012", "eu-west-1"),
    ("210987654321", "us-east-1"),
    ("210987654321", "eu-west-1"),
    ("345678901234", "us-east-1"),
    ("345678901234", "eu-west-1"),
];
/// An instance of 210987654321 in eu-west-1, from its own fixtures.
const WEST_WORKER: &str = "i-02220a1b2c3d4e5f6";

fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
}

fn scope((account, region): (&str, &str)) -> Scope {
    Scope {
        account: account.parse().unwrap(),
        region: region.parse().unwrap(),
    }
}

fn handler(store: &Store, sources: FixtureScopes) -> EventHandler<FixtureScopes> {
    EventHandler::with_sources(store.clone(), sources, SyncSettings::default())
}

/// The sample launch event, from `account` and `region`, about `id`.
fn launch(id: &str, (account, region): (&str, &str)) -> Value {
    let path = repo_path("events/ec2-running.json");
    let mut event: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    event["detail"]["instance-id"] = json!(id);
    event["account"] = json!(account);
    event["region"] = json!(region);
    event
}

/// The sample schedule event: HOME's.
fn schedule() -> Value {
    serde_json::from_slice(&std::fs::read(repo_path("events/scheduled-sync.json")).unwrap())
        .unwrap()
}

async fn coverage(store: &Store) -> Vec<ScopeCoverage> {
    store.scopes(&ScopesQuery::default()).await.unwrap().scopes
}

async fn sync(h: &EventHandler<FixtureScopes>) -> ScopesRun {
    h.sync(&scope(HOME), chrono::Utc::now(), &|_| {})
        .await
        .unwrap()
}

/// Copies the fixtures (the root's own files and every scope) to a temp dir.
fn copy_fixtures() -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let dir = std::env::temp_dir().join(format!("scopes-{}", uuid::Uuid::new_v4()));
    copy(&repo_path("events/fixtures"), &dir);
    dir
}

/// A copy of the fixtures whose file `rel` is not JSON, and that file.
fn fixtures_breaking(rel: &str) -> (PathBuf, PathBuf) {
    let dir = copy_fixtures();
    let broken = dir.join(rel);
    std::fs::write(&broken, "{ not json").unwrap();
    (dir, broken)
}

/// A handler over `dir` whose sync prints its metrics in the namespace `Test`.
fn metered(store: &Store, dir: &Path) -> EventHandler<FixtureScopes> {
    handler(store, FixtureScopes::new(dir)).with_coverage(CoverageSettings {
        metrics_namespace: Some("Test".into()),
        ..CoverageSettings::default()
    })
}

/// The metrics line `h` prints for `run`.
fn metrics(h: &EventHandler<FixtureScopes>, run: &ScopesRun) -> Value {
    let line = h.coverage_settings().metrics_line(run, chrono::Utc::now());
    serde_json::from_str(&line.unwrap()).unwrap()
}

#[tokio::test]
async fn a_launch_event_records_with_its_own_scope_and_sources() {
    common::on_each_backend(async |db| {
        let store = &db.store;
        let h = handler(store, FixtureScopes::new(repo_path("events/fixtures")));
        let west = ("210987654321", "eu-west-1");
        let outcome = h.handle_json(launch(WEST_WORKER, west)).await.unwrap();
        assert_eq!(outcome.action, Action::StateChange);
        // Details and packages from that scope's own fixtures.
        assert_eq!(outcome.instances[0].described, Some(true), "{outcome:?}");
        let id = InstanceId::parse(WEST_WORKER).unwrap();
        let record = store.get_instance(&id).await.unwrap().unwrap();
        assert_eq!(record.instance.account.as_str(), west.0);
        assert_eq!(record.instance.region.as_str(), west.1);
        assert!(!record.instance.packages.is_empty());
        let heard = coverage(store).await;
        assert_eq!(heard.len(), 1, "{heard:?}");
        assert_eq!(heard[0].scope, scope(west));
        assert!(heard[0].last_event_at.is_some() && heard[0].last_error.is_none());
    })
    .await;
}

#[tokio::test]
async fn an_event_from_an_account_outside_the_allowed_set_writes_nothing() {
    common::on_each_backend(async |db| {
        let store = &db.store;
        let allowed =
            FixtureScopes::new(repo_path("events/fixtures")).allowing([HOME.0.parse().unwrap()]);
        let h = handler(store, allowed);
        let before = store.data_api_calls();
        let err = h
            .handle_json(launch(WEST_WORKER, ("210987654321", "eu-west-1")))
            .await
            .unwrap_err();
        assert!(matches!(err, HandleError::Refused { .. }), "{err:?}");
        assert!(!err.is_retryable());
        assert_eq!(err.error_type(), "NonRetryable.RefusedAccount");
        assert!(err.to_string().contains("210987654321"), "{err}");
        assert_eq!(
            store.data_api_calls(),
            before,
            "a refused event touches no table"
        );
        assert!(coverage(store).await.is_empty());
        // The allowed account's own event goes through.
        h.handle_json(launch("i-0a1b2c3d4e5f60718", HOME))
            .await
            .unwrap();
        assert_eq!(coverage(store).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_sync_run_walks_every_scope_with_its_own_cursor() {
    common::on_each_backend(async |db| {
        let store = &db.store;
        let h = handler(store, FixtureScopes::new(repo_path("events/fixtures")));
        let run = sync(&h).await;
        let walked: Vec<&str> = run.scopes.iter().map(|p| p.scope.as_str()).collect();
        let mut expected: Vec<String> = SCOPES.iter().map(|s| scope(*s).to_string()).collect();
        let mut sorted = walked.clone();
        sorted.sort();
        expected.sort();
        assert_eq!(sorted, expected);
        assert_eq!((run.failed_scopes, run.left_for_next_run), (0, 0));
        assert!(run.failures.is_empty(), "{:?}", run.failures);
        for p in &run.scopes {
            assert_eq!(p.stopped, WalkStop::EndOfPass, "{p:?}");
            assert!(p.recorded >= 2, "{p:?}");
        }
        // Every instance is recorded under the scope that listed it.
        let west = store
            .get_instance(&InstanceId::parse(WEST_WORKER).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                west.instance.account.as_str(),
                west.instance.region.as_str()
            ),
            ("210987654321", "eu-west-1")
        );
        let heard = coverage(store).await;
        assert_eq!(heard.len(), 6);
        for c in &heard {
            assert!(c.last_pass_at.is_some() && c.last_error.is_none(), "{c:?}");
            assert!(c.instances.total >= 2, "{c:?}");
        }
        // The next run starts a second pass of each scope, from its own cursor.
        let again = sync(&h).await;
        assert!(again.scopes.iter().all(|p| p.passes_completed == 2));
    })
    .await;
}

#[tokio::test]
async fn a_failing_scope_is_recorded_and_retried_while_the_others_complete() {
    common::on_each_backend(async |db| {
        let store = &db.store;
        let (dir, broken) =
            fixtures_breaking("accounts/345678901234/eu-west-1/fleet/ec2/page-1.json");
        let h = metered(store, &dir);
        let run = sync(&h).await;
        assert_eq!(run.scopes.len(), 6);
        assert_eq!(run.failed_scopes, 1);
        let failed: Vec<_> = run.scopes.iter().filter(|p| p.error.is_some()).collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].scope, "345678901234:eu-west-1");
        let line = metrics(&h, &run);
        assert_eq!(line["FailedScopes"], 1);
        assert_eq!(line["SilentScopes"], 0);
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Test");
        // Recorded in its coverage, the failure is the scope's, not the run's.
        assert!(run.unrecorded_failures.is_empty());
        run.into_result().unwrap();

        let heard = coverage(store).await;
        let bad = heard
            .iter()
            .find(|c| c.scope == scope(("345678901234", "eu-west-1")))
            .unwrap();
        assert!(bad.last_error.as_deref().unwrap().contains("page-1.json"));
        assert!(bad.last_pass_at.is_none());
        let good: Vec<_> = heard.iter().filter(|c| c.last_error.is_none()).collect();
        assert_eq!(good.len(), 5);
        assert!(good.iter().all(|c| c.last_pass_at.is_some()));

        // Repaired, the next run retries it (in turn: by when each scope was
        // last attempted) and clears the error.
        std::fs::copy(
            repo_path("events/fixtures/accounts/345678901234/eu-west-1/fleet/ec2/page-1.json"),
            &broken,
        )
        .unwrap();
        let next = sync(&h).await;
        assert!(next
            .scopes
            .iter()
            .any(|p| p.scope == "345678901234:eu-west-1" && p.passes_completed == 1));
        assert_eq!(next.failed_scopes, 0);
        let repaired = coverage(store).await;
        assert!(repaired.iter().all(|c| c.last_error.is_none()));
        std::fs::remove_dir_all(&dir).unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_scheduled_sync_succeeds_when_its_failures_are_recorded_scope_failures() {
    common::on_each_backend(async |db| {
        let store = &db.store;
        let (dir, _) = fixtures_breaking("accounts/210987654321/us-east-1/fleet/ec2/page-1.json");
        let h = handler(store, FixtureScopes::new(&dir));
        // One invocation of the schedule: it must not fail (Lambda would run
        // every scope again, then park the schedule in the dead-letter queue).
        let outcome = h
            .handle_json(schedule())
            .await
            .unwrap_or_else(|e| panic!("{}: the run failed: {e}", db.name));
        assert_eq!(outcome.action, Action::Sync);
        assert_eq!(outcome.scopes.len(), 6, "{:?}", outcome.scopes);
        for p in &outcome.scopes {
            if p.scope == "210987654321:us-east-1" {
                let error = p.error.as_deref().unwrap_or_default();
                assert!(error.contains("page-1.json"), "{error}");
                assert_eq!(p.stopped, WalkStop::Failure, "{p:?}");
            } else {
                assert_eq!((p.error.as_deref(), p.stopped), (None, WalkStop::EndOfPass));
            }
        }
        // GET /accounts' source shows it, with its error.
        let failed: Vec<_> = coverage(store)
            .await
            .into_iter()
            .filter(|c| c.last_error.is_some())
            .map(|c| c.scope.to_string())
            .collect();
        assert_eq!(failed, ["210987654321:us-east-1"]);
        std::fs::remove_dir_all(&dir).unwrap();
    })
    .await;
}

#[tokio::test]
async fn an_instance_that_fails_for_good_does_not_hold_back_its_scopes_pass() {
    common::on_each_backend(async |db| {
        let store = &db.store;
        let (dir, _) = fixtures_breaking(&format!(
            "accounts/210987654321/eu-west-1/ssm/{WEST_WORKER}/page-1.json"
        ));
        let h = metered(store, &dir);
        let run = sync(&h).await;
        let west = run
            .scopes
            .iter()
            .find(|p| p.scope == "210987654321:eu-west-1")
            .unwrap();
        // The walk passed the instance and reached the fleet's end.
        assert_eq!(
            (west.stopped, west.failed),
            (WalkStop::EndOfPass, 1),
            "{west:?}"
        );
        assert!(west.visited >= 2, "{west:?}");
        // The scope still reports it: its error and the FailedScopes metric.
        assert!(
            west.error.as_deref().unwrap().contains(WEST_WORKER),
            "{west:?}"
        );
        assert_eq!(run.failed_scopes, 1);
        assert_eq!(metrics(&h, &run)["FailedScopes"], 1);
        let heard = coverage(store).await;
        let c = heard
            .iter()
            .find(|c| c.scope == scope(("210987654321", "eu-west-1")))
            .unwrap();
        assert!(c.last_pass_at.is_some(), "{c:?}");
        assert!(
            c.last_error.as_deref().unwrap().contains(WEST_WORKER),
            "{c:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    })
    .await;
}

#[tokio::test]
async fn only_scopes_the_sync_walks_count_as_silent() {
    common::on_each_backend(async |db| {
        let store = &db.store;
        let long_ago = chrono::Utc::now() - chrono::Duration::days(3);
        // Heard from three days ago: an account that has left (the sync no
        // longer walks it), and a walked scope this run will not reach.
        let retired = scope(("999999999999", "eu-west-1"));
        let unreached = scope(("345678901234", "eu-west-1"));
        for s in [&retired, &unreached] {
            store.record_scope_event(s, long_ago, None).await.unwrap();
        }
        // No time budget: the run reaches its first scope only.
        let h = handler(store, FixtureScopes::new(repo_path("events/fixtures"))).with_fleet(
            FleetSettings {
                time_budget: std::time::Duration::ZERO,
                ..FleetSettings::default()
            },
        );
        let run = sync(&h).await;
        assert_eq!(run.scopes.len(), 1, "{:?}", run.scopes);
        assert_eq!(run.left_for_next_run, 5);
        assert_eq!(run.silent_scopes, 1, "only {unreached} counts");
        // GET /accounts still shows both as silent.
        let day_ago = chrono::Utc::now() - chrono::Duration::hours(24);
        let silent: Vec<Scope> = coverage(store)
            .await
            .into_iter()
            .filter(|c| c.is_silent(day_ago))
            .map(|c| c.scope)
            .collect();
        assert_eq!(silent, [unreached, retired]);
    })
    .await;
}

/// Fixture sources whose inventory reads each take `delay`.
struct Slow {
    fixtures: FixtureSources,
    delay: Duration,
}

impl PackageSource for Slow {
    async fn inventory(&self, id: &InstanceId) -> Result<Option<Inventory>, SourceError> {
        tokio::time::sleep(self.delay).await;
        self.fixtures.inventory(id).await
    }
}

impl ManagedNodes for Slow {
    async fn nodes_page(&self, token: Option<String>) -> Result<FleetPage, SourceError> {
        self.fixtures.nodes_page(token).await
    }

    async fn describe_node(&self, id: &InstanceId) -> Result<Option<ListedInstance>, SourceError> {
        self.fixtures.describe_node(id).await
    }
}

impl InstanceSource for Slow {
    async fn describe(&self, id: &InstanceId) -> Result<Option<InstanceDetails>, SourceError> {
        self.fixtures.describe(id).await
    }
}

impl Ec2Fleet for Slow {
    async fn instances_page(&self, token: Option<String>) -> Result<FleetPage, SourceError> {
        self.fixtures.instances_page(token).await
    }
}

/// The fixture scopes, HOME's inventory reads taking 1 s each: a fleet too
/// large for its share of a short budget.
struct SlowHome(FixtureScopes);

impl ScopeSources for SlowHome {
    type Packages = Slow;
    type Instances = Slow;

    async fn admits(&self, account: &Account) -> Result<bool, SourceError> {
        self.0.admits(account).await
    }

    async fn scopes(&self, home: &Scope) -> Result<Vec<Scope>, SourceError> {
        self.0.scopes(home).await
    }

    async fn sources(&self, of: &Scope) -> Result<Arc<Sources<Slow, Slow>>, SourceError> {
        let fixtures = self.0.sources(of).await?;
        let slow = |delay| Slow {
            fixtures: fixtures.packages.clone(),
            delay,
        };
        let delay = if *of == scope(HOME) {
            Duration::from_secs(1)
        } else {
            Duration::ZERO
        };
        Ok(Arc::new(Sources {
            packages: slow(delay),
            instances: slow(Duration::ZERO),
        }))
    }
}

#[tokio::test]
async fn a_large_scope_takes_its_share_and_the_next_run_starts_with_the_scopes_left() {
    common::on_each_backend(async |db| {
        let store = &db.store;
        let run = async |budget_ms| {
            let h = EventHandler::with_sources(
                store.clone(),
                SlowHome(FixtureScopes::new(repo_path("events/fixtures"))),
                SyncSettings::default(),
            )
            .with_fleet(FleetSettings {
                time_budget: Duration::from_millis(budget_ms),
                min_scope_budget: Duration::from_millis(500),
                ..FleetSettings::default()
            });
            // At the fixtures' capture time: no inventory is stale, so each
            // scope's time is its walk's.
            let now = "2026-11-24T12:00:00Z".parse().unwrap();
            h.sync(&scope(HOME), now, &|_| {}).await.unwrap()
        };
        let home = scope(HOME).to_string();
        let mut others: Vec<String> = SCOPES[1..].iter().map(|s| scope(*s).to_string()).collect();
        others.sort();

        // 12 s for six scopes: HOME, never synced, goes first and stops at
        // its share (2 s: its reads take 1 s each), leaving about 10 s to
        // the five small scopes, which all end their pass. They need well
        // under 1 s on an idle machine; with 5 s in all, a loaded CI machine
        // once left the last of them no time.
        let first = run(12_000).await;
        let walked: Vec<&str> = first.scopes.iter().map(|p| p.scope.as_str()).collect();
        assert_eq!(walked[0], home, "{}", db.name);
        assert_eq!(walked.len(), 6, "{}: {walked:?}", db.name);
        assert_eq!(first.left_for_next_run, 0, "{}", db.name);
        let big = &first.scopes[0];
        assert_eq!(big.stopped, WalkStop::TimeBudget, "{}: {big:?}", db.name);
        assert!(big.visited < 9, "{}: {big:?}", db.name);
        for p in &first.scopes[1..] {
            assert_eq!(p.stopped, WalkStop::EndOfPass, "{}: {p:?}", db.name);
        }

        // 1 s: HOME, attempted least recently, uses it all; five are left.
        let second = run(1000).await;
        let walked: Vec<&str> = second.scopes.iter().map(|p| p.scope.as_str()).collect();
        assert_eq!(walked, [home.as_str()], "{}", db.name);
        assert_eq!(second.left_for_next_run, 5, "{}", db.name);

        // The next run starts with the five the last one did not reach.
        let third = run(60_000).await;
        let walked: Vec<String> = third.scopes.iter().map(|p| p.scope.clone()).collect();
        let mut first_five = walked[..5].to_vec();
        first_five.sort();
        assert_eq!(first_five, others, "{}: {walked:?}", db.name);
        assert_eq!(walked[5], home, "{}", db.name);
        assert_eq!(third.scopes[5].stopped, WalkStop::EndOfPass, "{}", db.name);
    })
    .await;
}
