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

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use serde::Serialize;

use super::{
    EventHandler, HandleError, InstanceOutcome, PackagesOutcome, SourceError, SYNC_CONCURRENCY,
};
use crate::model::{Account, InstanceId, InstanceState, Region, Source, StateChange};
use crate::query::RecordedInstance;
use crate::sources::fleet::{Ec2Fleet, FleetPage, ListedInstance, ManagedNodes};
use crate::sources::{InstanceSource, PackageSource};
use crate::store::{SyncCursor, SyncLease};

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
    /// A visit failed transiently: the next run resumes with it.
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
/// stale step read already, and when the run began.
struct Run<'a> {
    account: &'a Account,
    region: &'a Region,
    now: DateTime<Utc>,
    refreshed: &'a HashSet<InstanceId>,
    started: Instant,
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

impl<P, I> EventHandler<P, I>
where
    P: PackageSource + ManagedNodes,
    I: InstanceSource + Ec2Fleet,
{
    /// One run of the walk under the scope's lease; the cursor is saved every
    /// [`CHECKPOINT_EVERY`] visits and at the end, failed or not.
    pub(super) async fn walk_fleet(
        &self,
        account: &Account,
        region: &Region,
        now: DateTime<Utc>,
        refreshed: &HashSet<InstanceId>,
        observe: &(dyn Fn(&FleetProgress) + Sync),
    ) -> Result<Walk, HandleError> {
        let started = Instant::now();
        let lease = SyncLease::new(account, region);
        let mut walk = Walk {
            changed: Vec::new(),
            failures: Vec::new(),
            progress: FleetProgress {
                scope: lease.scope.clone(),
                ..FleetProgress::default()
            },
        };
        let lease_for = chrono::Duration::from_std(self.fleet.time_budget + LEASE_MARGIN)
            .unwrap_or(chrono::Duration::MAX);
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
        };
        let result = self
            .walk_stretch(&run, &lease, &mut cursor, &mut walk, observe)
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
            let (pages, seen) = list(|t| self.instances.instances_page(t), &mut window).await?;
            walk.progress.ec2_pages = pages;
            listed.ec2 = seen > 0;
        }
        if !window.is_full() {
            let (pages, seen) = list(|t| self.packages.nodes_page(t), &mut window).await?;
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
        let deadline = run.started + self.fleet.time_budget;
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
                        .visit(&visit, run, listed, observed_at, stale_before)
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
                    self.refresh_packages(id, Source::Sync).await?
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
