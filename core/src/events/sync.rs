//! The scheduled sync's walk through the whole fleet of one account and
//! region: it records instances the store does not know, heals states whose
//! events were missed, and re-reads missing or stale inventories on the way.
//!
//! # Order and cursor
//!
//! The walk visits instance ids in ascending byte order, EC2 ids (`i-…`)
//! before hybrid nodes (`mi-…`), and keeps the last id visited in the
//! database (`sync_cursor`). Each run lists the fleet afresh (EC2
//! `DescribeInstances` at 1,000 a page; SSM `DescribeInstanceInformation`
//! only once the EC2 ids are through), keeps the `batch` smallest ids after
//! the cursor, merges in the recorded instances of that stretch, and visits
//! them in order until the batch or the time budget ends. So nothing is
//! visited twice before everything was visited once, whatever EC2's page
//! order, and an instance launched behind the cursor waits for the next pass
//! (its own events record it meanwhile).
//!
//! EC2 `NextToken`s are never stored: they expire, they are tied to one
//! listing's order, and an instance missing from the listing can only be
//! called gone after a complete listing. A listing costs 1 call per 1,000
//! instances per run, small next to the visits.
//!
//! # Time
//!
//! A listing is a snapshot that EC2 makes eventually consistent: the states
//! it reports are applied as events [`LISTING_SETTLE`] older than the
//! listing, so an event the store already holds from that window wins. A
//! recorded instance absent from a complete listing is terminated (EC2 lists
//! terminated instances for about an hour, then forgets them) once its last
//! change is older than [`ABSENT_GRACE`]. A listing that reports no instance
//! at all is not trusted with that (a misdirected or filtered listing must
//! not terminate a whole fleet).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use serde::Serialize;

use super::{
    EventHandler, HandleError, InstanceOutcome, PackagesOutcome, SourceError, SourcesOf,
    SYNC_CONCURRENCY,
};
use crate::model::{Account, InstanceId, InstanceState, Region, Scope, Source, StateChange};
use crate::query::{RecordedInstance, ScopeCoverage, ScopesQuery};
use crate::sources::fleet::{Ec2Fleet, FleetPage, ListedInstance, ManagedNodes};
use crate::sources::scopes::ScopeSources;
use crate::store::{ScopeSyncReport, SyncCursor, SyncLease};

/// How much older than its listing a listed state is applied.
pub const LISTING_SETTLE: chrono::Duration = chrono::Duration::minutes(5);
/// How long a recorded instance must have been unchanged before its absence
/// from a complete listing marks it terminated.
pub const ABSENT_GRACE: chrono::Duration = chrono::Duration::hours(1);
/// A lease outlives the time budget by what the function's timeout keeps
/// beyond it: the visits in flight, the last save, and a database resuming.
const LEASE_MARGIN: std::time::Duration =
    std::time::Duration::from_secs(crate::config::SYNC_TIMEOUT_HEADROOM_SECONDS as u64);
/// Visits between two saves of the cursor.
const CHECKPOINT_EVERY: usize = 100;
/// The first hybrid node id sorts after every EC2 id.
const FIRST_NODE_ID: &str = "mi-";

/// What the walk found about one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncFinding {
    /// Listed but not recorded: recorded now.
    Unrecorded,
    /// Recorded with another state than the listing's.
    StateDiffers,
    /// Recorded but absent from the listing: terminated.
    Absent,
    /// Recorded and listed alike; its missing or stale inventory was re-read.
    StaleInventory,
}

/// Why a run's walk stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WalkStop {
    /// Every instance was visited: the next run starts a new pass.
    #[default]
    EndOfPass,
    /// The run visited its batch of instances.
    Batch,
    /// The run's time budget ran out.
    TimeBudget,
    /// A visit failed transiently, or the scope's sources or listing
    /// failed: the next run resumes there.
    Failure,
    /// Another run holds the cursor (or took it over): nothing more walked.
    Busy,
}

/// The walk's state after a run (or, for `observe`, after each visit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FleetProgress {
    /// `<account>:<region>`.
    pub scope: String,
    pub stopped: WalkStop,
    /// Listing calls: EC2 `DescribeInstances` and SSM `DescribeInstanceInformation`.
    pub ec2_pages: u32,
    pub ssm_pages: u32,
    /// Listed instances after the cursor at the start of the run (hybrid
    /// nodes only counted once the listing reached them).
    pub ahead: usize,
    /// Instances this run visited, and what it did to them.
    pub visited: usize,
    pub recorded: usize,
    pub healed: usize,
    pub terminated_absent: usize,
    pub inventories_read: usize,
    pub failed: usize,
    /// The last id visited in the current pass (`None`: a pass starts next).
    pub position: Option<String>,
    pub passes_completed: u64,
    /// Why the scope failed this run (its sources, its listing, or the
    /// first instance that failed); recorded as its `last_error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A run's walk: the instances it changed and the failures to report.
pub(super) struct Walk {
    pub changed: Vec<InstanceOutcome>,
    pub failures: Vec<HandleError>,
    pub progress: FleetProgress,
}

/// One id of the stretch: what the listing and the store say about it.
#[derive(Debug, Default)]
struct Visit {
    listed: Option<ListedInstance>,
    recorded: Option<RecordedInstance>,
}

impl Visit {
    fn id(&self) -> Option<&InstanceId> {
        self.listed
            .as_ref()
            .map(|l| &l.id)
            .or(self.recorded.as_ref().map(|r| &r.id))
    }
}

/// Which listings of this run reported any instance at all.
#[derive(Debug, Clone, Copy, Default)]
struct Listed {
    ec2: bool,
    nodes: bool,
}

impl Listed {
    fn trusts_absence_of(self, id: &InstanceId) -> bool {
        if id.as_str().starts_with(FIRST_NODE_ID) {
            self.nodes
        } else {
            self.ec2
        }
    }
}

/// What one run walks for: the scope, the event's time, the instances the
/// stale step read already, and when the scope's walk began.
struct Run<'a> {
    account: &'a Account,
    region: &'a Region,
    now: DateTime<Utc>,
    refreshed: &'a HashSet<InstanceId>,
    started: Instant,
    budget: Duration,
}

/// The `batch` smallest listed ids after the cursor.
struct Window {
    after: Option<String>,
    batch: usize,
    listed: BTreeMap<String, ListedInstance>,
    ahead: usize,
}

impl Window {
    fn offer(&mut self, instance: ListedInstance) {
        let id = instance.id.as_str();
        if self.after.as_deref().is_some_and(|after| id <= after) {
            return;
        }
        self.ahead += 1;
        self.listed.insert(id.to_owned(), instance);
        if self.listed.len() > self.batch {
            self.listed.pop_last();
        }
    }

    fn is_full(&self) -> bool {
        self.listed.len() >= self.batch
    }

    /// The largest id the window may hold for sure: its last when full
    /// (more may follow), else none (the listing is through).
    fn bound(&self) -> Option<String> {
        self.is_full()
            .then(|| self.listed.last_key_value().map(|(id, _)| id.clone()))
            .flatten()
    }
}

/// True for the ids a listing can report: EC2 and hybrid node ids. Records
/// written through the API under other ids are left alone.
fn is_fleet_id(id: &str) -> bool {
    id.starts_with("i-") || id.starts_with(FIRST_NODE_ID)
}

/// A scope's share of a run's time budget never drops below this by
/// default ([`FleetSettings::min_scope_budget`](crate::config::FleetSettings)):
/// a run whose budget cannot give every scope so much leaves the last ones
/// (those synced most recently) to the next run.
pub const MIN_SCOPE_BUDGET: Duration = Duration::from_secs(10);

/// The silence threshold, and where each sync run's metrics go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageSettings {
    /// A scope nobody heard from for longer is silent.
    pub silent_after_hours: u32,
    /// The CloudWatch namespace of the metrics line (EMF) each sync run
    /// prints on stdout; `None` prints none (the CLI).
    pub metrics_namespace: Option<String>,
}

impl Default for CoverageSettings {
    fn default() -> Self {
        Self {
            silent_after_hours: crate::config::DEFAULT_SILENT_AFTER_HOURS,
            metrics_namespace: None,
        }
    }
}

impl CoverageSettings {
    /// The run's `SilentScopes` and `FailedScopes` as one CloudWatch Embedded
    /// Metric Format line, without dimensions; `None` without a namespace.
    pub fn metrics_line(&self, run: &ScopesRun, now: DateTime<Utc>) -> Option<String> {
        let namespace = self.metrics_namespace.as_deref()?;
        let line = serde_json::json!({
            "_aws": {
                "Timestamp": now.timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": namespace,
                    "Dimensions": [[]],
                    "Metrics": [
                        {"Name": "SilentScopes", "Unit": "Count"},
                        {"Name": "FailedScopes", "Unit": "Count"},
                    ],
                }],
            },
            "SilentScopes": run.silent_scopes,
            "FailedScopes": run.failed_scopes,
        });
        Some(line.to_string())
    }
}

/// What one sync run did to the scopes it walked.
#[derive(Debug, Default)]
pub struct ScopesRun {
    /// What changed, over all scopes.
    pub instances: Vec<InstanceOutcome>,
    /// Each scope reached, in the order walked.
    pub scopes: Vec<FleetProgress>,
    /// The failures of instances and of whole scopes that their scope's
    /// coverage records (`last_error`): the next run retries them.
    pub failures: Vec<HandleError>,
    /// Failures no coverage records: those of a scope whose walk another
    /// run held, which leaves the coverage to that run.
    pub unrecorded_failures: Vec<HandleError>,
    /// Scopes that failed this run (recorded with their error).
    pub failed_scopes: usize,
    /// Scopes the sync walks that nobody heard from for longer than the
    /// threshold, and that this run did not reach.
    pub silent_scopes: usize,
    /// Scopes the run's time budget left for the next run.
    pub left_for_next_run: usize,
}

impl ScopesRun {
    /// The changes and each scope's walk, or the unrecorded failures as one
    /// error (retryable if any was). A failure its scope's coverage records
    /// is the scope's, not the run's: `GET /accounts` and `FailedScopes`
    /// report it and the next run retries that scope, whereas failing the
    /// scheduled invocation would have Lambda run every scope again and
    /// send the schedule's event to the dead-letter queue.
    pub fn into_result(self) -> Result<(Vec<InstanceOutcome>, Vec<FleetProgress>), HandleError> {
        match self.unrecorded_failures.first() {
            None => Ok((self.instances, self.scopes)),
            Some(first) => Err(HandleError::Sync {
                failed: self.unrecorded_failures.len(),
                total: self.instances.len(),
                retryable: self
                    .unrecorded_failures
                    .iter()
                    .any(HandleError::is_retryable),
                first: first.to_string(),
            }),
        }
    }
}

/// One scope's part of a run.
struct ScopeWalk {
    instances: Vec<InstanceOutcome>,
    failures: Vec<HandleError>,
    progress: FleetProgress,
    /// The scope's coverage records this part (and its first failure).
    recorded: bool,
}

impl<S: ScopeSources> EventHandler<S> {
    /// The scheduled sync: every scope the sources name, those heard from
    /// least recently by a sync first, each re-reading the stale inventories
    /// of its running instances and walking on through its fleet from its
    /// own cursor, within an equal share of what is left of the run's time
    /// budget (a scope done early leaves its time to the next ones). A scope
    /// that fails is recorded with its error and the others go on; a store
    /// failure stops the run. `observe` sees each walk's progress after each
    /// visit.
    pub async fn sync(
        &self,
        home: &Scope,
        now: DateTime<Utc>,
        observe: &(dyn Fn(&FleetProgress) + Sync),
    ) -> Result<ScopesRun, HandleError> {
        let started = Instant::now();
        let scopes = self.sources.scopes(home).await?;
        let coverage = self.coverage_by_scope().await?;
        let order = walk_order(scopes, &coverage);
        let mut run = ScopesRun::default();
        let mut reached = HashSet::new();
        for (i, scope) in order.iter().enumerate() {
            let left = self.fleet.time_budget.saturating_sub(started.elapsed());
            let min_share = self.fleet.min_scope_budget;
            if i > 0 && left < min_share {
                run.left_for_next_run = order.len() - i;
                tracing::info!(
                    left = run.left_for_next_run,
                    "time budget spent: the next run starts with the scopes left"
                );
                break;
            }
            let remaining = u32::try_from(order.len() - i).unwrap_or(u32::MAX);
            let budget = (left / remaining).max(min_share).min(left);
            let walk = self.sync_scope(scope, now, budget, observe).await?;
            reached.insert(scope.clone());
            if walk.progress.error.is_some() {
                run.failed_scopes += 1;
            }
            run.instances.extend(walk.instances);
            if walk.recorded {
                run.failures.extend(walk.failures);
            } else {
                run.unrecorded_failures.extend(walk.failures);
            }
            run.scopes.push(walk.progress);
        }
        self.prune_history(now).await?;
        let silent_before = Utc::now()
            .checked_sub_signed(chrono::Duration::hours(
                self.coverage.silent_after_hours.into(),
            ))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        // Only the scopes the sync walks: one it no longer walks (an account
        // that left the organization, a Region dropped from the sync's) keeps
        // its coverage, but would otherwise raise the alarm for ever.
        run.silent_scopes = order
            .iter()
            .filter(|scope| !reached.contains(*scope))
            .filter_map(|scope| coverage.get(scope))
            .filter(|c| c.is_silent(silent_before))
            .count();
        Ok(run)
    }

    /// Every known scope's coverage, 1 call per 1,000 scopes.
    async fn coverage_by_scope(&self) -> Result<HashMap<Scope, ScopeCoverage>, HandleError> {
        let mut all = HashMap::new();
        let mut query = ScopesQuery::default();
        loop {
            let page = self.store.scopes(&query).await?;
            all.extend(page.scopes.into_iter().map(|c| (c.scope.clone(), c)));
            match page.next_token {
                Some(token) => query.next_token = Some(token),
                None => return Ok(all),
            }
        }
    }

    /// One scope's part of the run, recorded in its coverage. Failures of
    /// its sources or its listing fail the scope; a store failure fails the
    /// run.
    async fn sync_scope(
        &self,
        scope: &Scope,
        now: DateTime<Utc>,
        budget: Duration,
        observe: &(dyn Fn(&FleetProgress) + Sync),
    ) -> Result<ScopeWalk, HandleError> {
        let mut walk = ScopeWalk {
            instances: Vec::new(),
            failures: Vec::new(),
            progress: FleetProgress {
                scope: scope.to_string(),
                ..FleetProgress::default()
            },
            recorded: false,
        };
        let result = async {
            let src = self.sources.sources(scope).await?;
            let (instances, failures) = self.refresh_stale(&src, scope, now).await?;
            walk.instances = instances;
            walk.failures = failures;
            let refreshed: HashSet<InstanceId> = walk
                .instances
                .iter()
                .map(|i| i.instance_id.clone())
                .collect();
            self.walk_fleet(&src, scope, now, budget, &refreshed, observe)
                .await
        }
        .await;
        let scope_error = |e: HandleError| match e {
            HandleError::Source(error) => HandleError::ScopeSource {
                scope: scope.clone(),
                error,
            },
            other => other,
        };
        match result {
            Ok(fleet) => {
                walk.instances.extend(fleet.changed);
                walk.failures
                    .extend(fleet.failures.into_iter().map(scope_error));
                walk.progress = fleet.progress;
            }
            Err(e @ HandleError::Store(_)) => return Err(e),
            Err(e) => {
                walk.failures.push(scope_error(e));
                walk.progress.stopped = WalkStop::Failure;
            }
        }
        walk.progress.error = walk.failures.first().map(ToString::to_string);
        if let Some(error) = &walk.progress.error {
            tracing::warn!(scope = %scope, error = %error, "the sync of a scope failed; the next run retries it");
        }
        tracing::info!(progress = %serde_json::to_string(&walk.progress).unwrap_or_default(), "fleet walk");
        if walk.progress.stopped != WalkStop::Busy {
            let report = ScopeSyncReport {
                at: Utc::now(),
                reached: walk.progress.ec2_pages + walk.progress.ssm_pages > 0,
                // The walk reached the fleet's end. An instance that failed
                // for good was passed and is the error reported with it: it
                // must not hold back the pass of every other instance.
                pass_completed: walk.progress.stopped == WalkStop::EndOfPass,
                error: walk.progress.error.clone(),
            };
            self.store.record_scope_sync(scope, &report).await?;
            walk.recorded = true;
        }
        Ok(walk)
    }
}

impl<S: ScopeSources> EventHandler<S> {
    /// One run of the walk of `scope` under its lease, for at most `budget`;
    /// the cursor is saved every [`CHECKPOINT_EVERY`] visits and at the end,
    /// failed or not.
    async fn walk_fleet(
        &self,
        src: &SourcesOf<S>,
        scope: &Scope,
        now: DateTime<Utc>,
        budget: Duration,
        refreshed: &HashSet<InstanceId>,
        observe: &(dyn Fn(&FleetProgress) + Sync),
    ) -> Result<Walk, HandleError> {
        let started = Instant::now();
        let (account, region) = (&scope.account, &scope.region);
        let lease = SyncLease::new(account, region);
        let mut walk = Walk {
            changed: Vec::new(),
            failures: Vec::new(),
            progress: FleetProgress {
                scope: lease.scope.clone(),
                ..FleetProgress::default()
            },
        };
        let lease_for =
            chrono::Duration::from_std(budget + LEASE_MARGIN).unwrap_or(chrono::Duration::MAX);
        let clock = Utc::now();
        let until = clock.checked_add_signed(lease_for).unwrap_or(clock);
        let Some(mut cursor) = self.store.acquire_sync_cursor(&lease, clock, until).await? else {
            tracing::info!(scope = %lease.scope, "another run holds the sync cursor");
            walk.progress.stopped = WalkStop::Busy;
            return Ok(walk);
        };
        walk.progress.passes_completed = cursor.passes_completed;
        walk.progress.position = cursor.position.clone();
        let run = Run {
            account,
            region,
            now,
            refreshed,
            started,
            budget,
        };
        let result = self
            .walk_stretch(src, &run, &lease, &mut cursor, &mut walk, observe)
            .await;
        // Whatever happened, keep what was visited and let the next run in.
        let released = self.store.release_sync_cursor(&lease, &cursor).await;
        result?;
        if !released? {
            walk.progress.stopped = WalkStop::Busy;
        }
        walk.progress.position = cursor.position.clone();
        walk.progress.passes_completed = cursor.passes_completed;
        Ok(walk)
    }

    /// Lists, merges in the recorded instances, and visits the stretch after
    /// the cursor in id order, moving the cursor over each settled visit.
    async fn walk_stretch(
        &self,
        src: &SourcesOf<S>,
        run: &Run<'_>,
        lease: &SyncLease,
        cursor: &mut SyncCursor,
        walk: &mut Walk,
        observe: &(dyn Fn(&FleetProgress) + Sync),
    ) -> Result<(), HandleError> {
        let observed_at = Utc::now();
        let batch = self.fleet.batch as usize;
        let mut window = Window {
            after: cursor.position.clone(),
            batch,
            listed: BTreeMap::new(),
            ahead: 0,
        };
        let before_nodes = cursor.position.as_deref().is_none_or(|p| p < FIRST_NODE_ID);
        let mut listed = Listed::default();
        if before_nodes {
            let (pages, seen) = list(|t| src.instances.instances_page(t), &mut window).await?;
            walk.progress.ec2_pages = pages;
            listed.ec2 = seen > 0;
        }
        if !window.is_full() {
            let (pages, seen) = list(|t| src.packages.nodes_page(t), &mut window).await?;
            walk.progress.ssm_pages = pages;
            listed.nodes = seen > 0;
        }
        walk.progress.ahead = window.ahead;
        let mut bound = window.bound();
        let recorded = self
            .store
            .recorded_in_range(
                run.account,
                run.region,
                cursor.position.as_deref(),
                bound.as_deref(),
                self.fleet.batch,
            )
            .await?;
        if recorded.len() >= batch {
            // More recorded ids may follow the last one read.
            let last = recorded.last().map(|r| r.id.as_str().to_owned());
            bound = match (bound, last) {
                (Some(b), Some(l)) => Some(b.min(l)),
                (b, l) => b.or(l),
            };
        }
        let mut stretch: BTreeMap<String, Visit> = BTreeMap::new();
        for (id, listed) in window.listed {
            stretch.entry(id).or_default().listed = Some(listed);
        }
        for r in recorded.into_iter().filter(|r| is_fleet_id(r.id.as_str())) {
            let key = r.id.as_str().to_owned();
            stretch.entry(key).or_default().recorded = Some(r);
        }
        if let Some(b) = &bound {
            stretch.retain(|id, _| id <= b);
        }
        if stretch.len() > batch {
            // Listed and recorded ids together: the batch ends the stretch.
            while stretch.len() > batch {
                stretch.pop_last();
            }
            bound = stretch.last_key_value().map(|(id, _)| id.clone());
        }
        if cursor.position.is_none() && cursor.pass_started.is_none() {
            cursor.pass_started = Some(observed_at);
        }
        let deadline = run.started + run.budget;
        let halt = AtomicBool::new(false);
        let total = stretch.len();
        let stale_before = self.stale_before(run.now);
        // The visits run SYNC_CONCURRENCY at a time, in chunks of CHECKPOINT_EVERY; the cursor
        // is saved between chunks, when no visit is in flight. Awaiting the save while visits
        // are in flight would stop polling them: on SQLite a visit holds its transaction's write
        // lock across calls, so the save would wait for a lock that is never released.
        let mut ahead = stretch
            .into_values()
            .filter_map(|visit| visit.id().cloned().map(|id| (id, visit)))
            .peekable();
        let mut settled = 0;
        let mut halted = false;
        loop {
            let chunk: Vec<(InstanceId, Visit)> = ahead.by_ref().take(CHECKPOINT_EVERY).collect();
            if chunk.is_empty() || halted || Instant::now() >= deadline {
                break;
            }
            let mut visits = stream::iter(chunk)
                .take_while(|_| {
                    let go = !halt.load(Ordering::Relaxed) && Instant::now() < deadline;
                    std::future::ready(go)
                })
                .map(|(id, visit)| async move {
                    let result = self
                        .visit(src, &visit, run, listed, observed_at, stale_before)
                        .await;
                    (id, result)
                })
                .buffered(SYNC_CONCURRENCY);
            while let Some((id, result)) = visits.next().await {
                if halted {
                    // Visited after a failure: the next run revisits it, in order.
                    continue;
                }
                let progress = &mut walk.progress;
                match result {
                    Ok(outcome) => {
                        if let Some(outcome) = outcome {
                            count(progress, &outcome);
                            walk.changed.push(outcome);
                        }
                    }
                    Err(e) if e.is_retryable() => {
                        tracing::warn!(instance_id = %id, error = %e, "fleet walk stops at a transient failure");
                        halt.store(true, Ordering::Relaxed);
                        halted = true;
                        progress.failed += 1;
                        progress.stopped = WalkStop::Failure;
                        walk.failures.push(e);
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(instance_id = %id, error = %e, "fleet walk skips an instance");
                        progress.failed += 1;
                        walk.changed.push(InstanceOutcome::packages_only(
                            id.clone(),
                            PackagesOutcome::Failed {
                                error: e.to_string(),
                            },
                        ));
                        walk.failures.push(e);
                    }
                }
                settled += 1;
                progress.visited = settled;
                cursor.position = Some(id.as_str().to_owned());
                progress.position = cursor.position.clone();
                observe(progress);
            }
            // (After the last chunk, releasing the cursor saves it.)
            let more = ahead.peek().is_some();
            if more && !halted && !self.store.save_sync_cursor(lease, cursor).await? {
                tracing::warn!(scope = %lease.scope, "lost the sync cursor to another run");
                halt.store(true, Ordering::Relaxed);
                halted = true;
                walk.progress.stopped = WalkStop::Busy;
            }
        }
        if halted {
            return Ok(());
        }
        walk.progress.stopped = if settled < total {
            WalkStop::TimeBudget
        } else if bound.is_some() {
            WalkStop::Batch
        } else {
            cursor.position = None;
            cursor.pass_started = None;
            cursor.passes_completed += 1;
            WalkStop::EndOfPass
        };
        Ok(())
    }

    /// Brings one instance in line with the listing; `None` when nothing
    /// needed a change.
    async fn visit(
        &self,
        src: &SourcesOf<S>,
        visit: &Visit,
        run: &Run<'_>,
        listed_any: Listed,
        observed_at: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<Option<InstanceOutcome>, HandleError> {
        let change = |id: &InstanceId, state, time, details| StateChange {
            id: id.clone(),
            account: run.account.clone(),
            region: run.region.clone(),
            state,
            time,
            details,
        };
        match (&visit.listed, &visit.recorded) {
            (Some(listed), recorded) => {
                let id = &listed.id;
                let finding = match recorded {
                    None => Some(SyncFinding::Unrecorded),
                    Some(r) if r.state != Some(listed.state) => Some(SyncFinding::StateDiffers),
                    Some(_) => None,
                };
                let state_applied = match finding {
                    Some(_) => Some(
                        self.store
                            .apply_state(&change(
                                id,
                                listed.state,
                                observed_at - LISTING_SETTLE,
                                Some(listed.details.clone()),
                            ))
                            .await?,
                    ),
                    None => None,
                };
                let stale = recorded
                    .as_ref()
                    .is_none_or(|r| r.inventory_captured_at.is_none_or(|at| at < stale_before));
                let read =
                    listed.state == InstanceState::Running && stale && !run.refreshed.contains(id);
                let packages = if read {
                    self.refresh_packages(src, id, Source::Sync).await?
                } else {
                    PackagesOutcome::NotRead
                };
                if finding.is_none() && !read {
                    return Ok(None);
                }
                Ok(Some(InstanceOutcome {
                    instance_id: id.clone(),
                    state: finding.map(|_| listed.state),
                    state_applied,
                    described: finding.map(|_| true),
                    finding: finding.or(Some(SyncFinding::StaleInventory)),
                    packages,
                }))
            }
            (None, Some(r)) => {
                let gone_since = observed_at - ABSENT_GRACE;
                if r.state == Some(InstanceState::Terminated)
                    || r.last_change >= gone_since
                    || !listed_any.trusts_absence_of(&r.id)
                {
                    return Ok(None);
                }
                let terminated = InstanceState::Terminated;
                let applied = self
                    .store
                    .apply_state(&change(&r.id, terminated, gone_since, None))
                    .await?;
                Ok(Some(InstanceOutcome {
                    instance_id: r.id.clone(),
                    state: Some(terminated),
                    state_applied: Some(applied),
                    described: Some(false),
                    finding: Some(SyncFinding::Absent),
                    packages: PackagesOutcome::NotRead,
                }))
            }
            (None, None) => Ok(None),
        }
    }
}

/// The scopes in walking order: those a run attempted least recently first
/// (never attempted before all), so runs that each reach only some scopes
/// take turns; ties keep the sources' order.
fn walk_order(scopes: Vec<Scope>, coverage: &HashMap<Scope, ScopeCoverage>) -> Vec<Scope> {
    let mut seen = HashSet::new();
    let mut order: Vec<Scope> = scopes
        .into_iter()
        .filter(|s| seen.insert(s.clone()))
        .collect();
    order.sort_by_key(|scope| {
        coverage
            .get(scope)
            .and_then(|c| c.last_sync_at.max(c.last_error_at))
    });
    order
}

/// Counts one changed instance into the run's figures.
fn count(progress: &mut FleetProgress, outcome: &InstanceOutcome) {
    match outcome.finding {
        Some(SyncFinding::Unrecorded) => progress.recorded += 1,
        Some(SyncFinding::StateDiffers) => progress.healed += 1,
        Some(SyncFinding::Absent) => progress.terminated_absent += 1,
        _ => {}
    }
    if !matches!(outcome.packages, PackagesOutcome::NotRead) {
        progress.inventories_read += 1;
    }
}

/// Pages through one listing into the window; the pages read and the
/// instances seen. A
/// failed page (after the SDK's retries, which reuse the fresh token) fails
/// the run before anything is visited: the next run lists afresh.
async fn list<F, Fut>(mut page: F, window: &mut Window) -> Result<(u32, usize), HandleError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<FleetPage, SourceError>>,
{
    let (mut pages, mut seen) = (0, 0);
    let mut token = None;
    loop {
        let answer = page(token.take()).await?;
        pages += 1;
        seen += answer.instances.len();
        for instance in answer.instances {
            window.offer(instance);
        }
        match answer.next_token {
            Some(next) => token = Some(next),
            None => return Ok((pages, seen)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::InstanceDetails;

    fn listed(id: &str) -> ListedInstance {
        ListedInstance {
            id: InstanceId::parse(id).unwrap(),
            state: InstanceState::Running,
            details: InstanceDetails::default(),
        }
    }

    #[test]
    fn scopes_attempted_least_recently_go_first() {
        let scope = |a: &str| Scope {
            account: a.parse().unwrap(),
            region: "eu-west-1".parse().unwrap(),
        };
        let at = |s: &str| Some(s.parse::<DateTime<Utc>>().unwrap());
        let coverage = |a: &str, synced, failed: Option<DateTime<Utc>>| ScopeCoverage {
            scope: scope(a),
            instances: Default::default(),
            first_seen: at("2026-11-01T00:00:00Z"),
            last_event_at: None,
            last_sync_at: synced,
            last_pass_at: None,
            last_error: failed.map(|_| "x".to_owned()),
            last_error_at: failed,
        };
        let known: HashMap<Scope, ScopeCoverage> = [
            coverage("111111111111", at("2026-11-25T10:00:00Z"), None),
            // Synced long ago but failed just now: attempted recently.
            coverage(
                "222222222222",
                at("2026-11-20T10:00:00Z"),
                at("2026-11-25T11:00:00Z"),
            ),
            coverage("333333333333", at("2026-11-25T09:00:00Z"), None),
        ]
        .into_iter()
        .map(|c| (c.scope.clone(), c))
        .collect();
        let listed = [
            "111111111111",
            "222222222222",
            "333333333333",
            "444444444444",
        ]
        .map(scope)
        .to_vec();
        let mut twice = listed.clone();
        twice.push(scope("111111111111"));
        let order: Vec<String> = walk_order(twice, &known)
            .iter()
            .map(|s| s.account.to_string())
            .collect();
        assert_eq!(
            order,
            [
                "444444444444",
                "333333333333",
                "111111111111",
                "222222222222"
            ]
        );
    }

    #[test]
    fn only_failures_no_coverage_records_fail_the_run() {
        let failure = || {
            HandleError::Source(SourceError::Permanent {
                service: "EC2",
                operation: "DescribeInstances",
                message: "UnauthorizedOperation".into(),
            })
        };
        let recorded = ScopesRun {
            failures: vec![failure()],
            failed_scopes: 1,
            ..ScopesRun::default()
        };
        assert!(recorded.into_result().is_ok());
        let unrecorded = ScopesRun {
            failures: vec![failure()],
            unrecorded_failures: vec![failure()],
            ..ScopesRun::default()
        };
        let err = unrecorded.into_result().unwrap_err();
        assert!(
            matches!(
                err,
                HandleError::Sync {
                    failed: 1,
                    retryable: false,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn the_window_keeps_the_smallest_ids_after_the_cursor() {
        let mut window = Window {
            after: Some("i-03".into()),
            batch: 2,
            listed: BTreeMap::new(),
            ahead: 0,
        };
        for id in ["i-05", "i-01", "mi-01", "i-04", "i-03", "i-06"] {
            window.offer(listed(id));
        }
        assert_eq!(window.ahead, 4);
        let ids: Vec<&String> = window.listed.keys().collect();
        assert_eq!(ids, ["i-04", "i-05"]);
        assert_eq!(window.bound().as_deref(), Some("i-05"));

        window.batch = 10;
        assert_eq!(window.bound(), None);
        assert!(is_fleet_id("mi-0123456789abcdef0") && !is_fleet_id("server-1"));
        assert!("i-fffffffffffffffff" < FIRST_NODE_ID);
    }
}
