//! What the state-change function does with each event, between the event
//! and the store: record a launch, a state, a freshly collected inventory
//! (recording the instance if it is unknown), or, on a schedule, re-read
//! stale inventories and walk on through the whole fleet ([`sync`]). The
//! Lambda binary, `inventory replay` and `inventory sync` all call
//! [`EventHandler`]. (The HTTP API calls the store directly; advisory feeds
//! come in through [`crate::feeds`].)
//!
//! Delivery is at least once and unordered, so every step is idempotent and
//! ordered by the event's `time`: the store applies a state only when it is
//! newer than the last one applied, and packages only when their SSM capture is
//! newer than the stored one.

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;
use tracing::Instrument;

pub mod sync;

use crate::config::{FleetSettings, SyncSettings};
use crate::eventbridge::{self, Command, Event, MalformedEvent, Target};
use crate::model::{
    Account, InstanceDetails, InstanceId, InstanceState, PackageSet, Region, Scope, Source,
    StateChange,
};
use crate::sources::fleet::{Ec2Fleet, ManagedNodes};
use crate::sources::scopes::{OnePair, ScopeSources, Sources};
use crate::sources::{InstanceSource, Inventory, PackageSource, SourceError};
use crate::store::{Store, StoreError};
use crate::version::VersionScheme;
pub use sync::{CoverageSettings, FleetProgress, ScopesRun, SyncFinding, WalkStop};

/// The sources of one scope of `S`.
type SourcesOf<S> = Sources<<S as ScopeSources>::Packages, <S as ScopeSources>::Instances>;

/// Instances the scheduled sync reads from SSM at the same time.
const SYNC_CONCURRENCY: usize = 4;
/// Changes the scheduled sync prunes per run at most: one statement that a
/// database deletes in well under a second.
pub const HISTORY_PRUNE_BATCH: u32 = 10_000;

/// Why an event failed. [`HandleError::is_retryable`] tells Lambda's retries
/// (and, in the end, the dead-letter queue) apart from events that can never
/// succeed.
#[derive(Debug, Error)]
pub enum HandleError {
    #[error(transparent)]
    Malformed(#[from] MalformedEvent),
    #[error(transparent)]
    Source(#[from] SourceError),
    /// SSM, EC2 or the role of one account and region failed: the message
    /// names the scope, so the dead-letter queue and the alarm tell which.
    #[error("account {} region {}: {error}", scope.account, scope.region)]
    ScopeSource { scope: Scope, error: SourceError },
    /// An event from an account outside the allowed set: nothing written.
    #[error("event from account {account} (region {region}) refused: the account is not allowed")]
    Refused { account: Account, region: Region },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Failures of a scheduled sync that no scope's coverage records (a
    /// scope another run was walking); the rest was synced.
    #[error("sync failed for {failed} of {total} instances; first failure: {first}")]
    Sync {
        failed: usize,
        total: usize,
        retryable: bool,
        first: String,
    },
}

impl HandleError {
    /// True when the same event may succeed later (throttling, network, the
    /// database resuming); false for events that will fail the same way.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Malformed(_) => false,
            Self::Source(e) | Self::ScopeSource { error: e, .. } => e.is_retryable(),
            Self::Refused { .. } => false,
            Self::Store(e) => e.is_retryable(),
            Self::Sync { retryable, .. } => *retryable,
        }
    }

    /// `Retryable.<Kind>` or `NonRetryable.<Kind>`: the Lambda error type.
    pub fn error_type(&self) -> String {
        let kind = match self {
            Self::Malformed(_) => "MalformedEvent",
            Self::Source(_) | Self::ScopeSource { .. } => "SourceError",
            Self::Refused { .. } => "RefusedAccount",
            Self::Store(_) => "StoreError",
            Self::Sync { .. } => "SyncError",
        };
        let class = if self.is_retryable() {
            "Retryable"
        } else {
            "NonRetryable"
        };
        format!("{class}.{kind}")
    }
}

/// What an event asked for (serialized kebab-case: `state-change`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    StateChange,
    InventoryCollected,
    Sync,
    /// Nothing to do; the outcome's `reason` says why.
    Skip,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::StateChange => "state-change",
            Self::InventoryCollected => "inventory-collected",
            Self::Sync => "sync",
            Self::Skip => "skip",
        })
    }
}

/// What one event changed, for logs and `inventory replay`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub event_id: Option<String>,
    pub action: Action,
    /// Why nothing was done, for `skip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub instances: Vec<InstanceOutcome>,
    /// The scheduled sync's walk through the fleet when it walked one scope
    /// (`sync` only; the single-account default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetProgress>,
    /// The walk of every scope the sync reached (`sync` only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<FleetProgress>,
    /// Data API calls the handling made.
    pub data_api_calls: u64,
}

/// What happened to one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceOutcome {
    pub instance_id: InstanceId,
    /// The state the event reported (state changes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<InstanceState>,
    /// False when an event as new or newer was applied already.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_applied: Option<bool>,
    /// Whether EC2 (or SSM, for `mi-` nodes) described the instance: on
    /// running and pending, and when an inventory arrives for an unknown one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub described: Option<bool>,
    /// What the scheduled sync's fleet walk found (`sync` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<SyncFinding>,
    pub packages: PackagesOutcome,
}

impl InstanceOutcome {
    /// An instance whose packages (only) were handled.
    fn packages_only(instance_id: InstanceId, packages: PackagesOutcome) -> Self {
        Self {
            instance_id,
            state: None,
            state_applied: None,
            described: None,
            finding: None,
            packages,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum PackagesOutcome {
    /// Not asked for: a state other than running.
    NotRead,
    /// SSM does not know the instance (`InvalidInstanceId`).
    UnknownToSsm,
    /// SSM has no inventory yet: stored packages stay as they are.
    NoInventory { pages: u32 },
    /// The package set was replaced.
    Written {
        count: usize,
        skipped: usize,
        pages: u32,
        captured_at: DateTime<Utc>,
    },
    /// The store kept what it had: a capture as new or newer is stored, the
    /// instance is not recorded (the launch event will read SSM itself), or
    /// (a `running` event) a newer state is stored; during the sync, the
    /// instance may also have vanished meanwhile.
    NotWritten {
        count: usize,
        pages: u32,
        captured_at: DateTime<Utc>,
    },
    /// The scheduled sync could not read or write this instance.
    Failed { error: String },
}

/// The state-change function's logic over a store and the sources of each
/// scope.
#[derive(Debug, Clone)]
pub struct EventHandler<S> {
    store: Store,
    sources: S,
    sync: SyncSettings,
    fleet: FleetSettings,
    coverage: CoverageSettings,
}

impl<P, I> EventHandler<OnePair<P, I>>
where
    P: PackageSource + ManagedNodes,
    I: InstanceSource + Ec2Fleet,
{
    /// A handler with one pair of sources for every scope, whose fleet walk
    /// uses [`FleetSettings::default`].
    pub fn new(store: Store, packages: P, instances: I, sync: SyncSettings) -> Self {
        Self::with_sources(store, OnePair::new(packages, instances), sync)
    }
}

impl<S: ScopeSources> EventHandler<S> {
    /// A handler over the sources of each scope, whose fleet walk uses
    /// [`FleetSettings::default`].
    pub fn with_sources(store: Store, sources: S, sync: SyncSettings) -> Self {
        Self {
            store,
            sources,
            sync,
            fleet: FleetSettings::default(),
            coverage: CoverageSettings::default(),
        }
    }

    /// Replaces the silence threshold and the metrics of sync runs.
    pub fn with_coverage(mut self, coverage: CoverageSettings) -> Self {
        self.coverage = coverage;
        self
    }

    pub fn sources(&self) -> &S {
        &self.sources
    }

    pub fn coverage_settings(&self) -> &CoverageSettings {
        &self.coverage
    }

    /// Replaces the fleet walk's budget.
    pub fn with_fleet(mut self, fleet: FleetSettings) -> Self {
        self.fleet = fleet;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Parses and handles one raw EventBridge event, logging the result with
    /// the event id and the Data API calls it cost.
    pub async fn handle_json(&self, event: Value) -> Result<Outcome, HandleError> {
        let event = eventbridge::parse(event).inspect_err(|e| {
            tracing::error!(event_id = e.event_id.as_deref(), error = %e, "rejecting malformed event");
        })?;
        let span = tracing::info_span!("event", event_id = event.id.as_deref());
        async {
            let result = self.handle(&event).await;
            match &result {
                Ok(outcome) => tracing::info!(
                    action = %outcome.action,
                    instances = outcome.instances.len(),
                    data_api_calls = outcome.data_api_calls,
                    outcome = %serde_json::to_string(outcome).unwrap_or_default(),
                    "event handled"
                ),
                Err(e) => tracing::error!(
                    error = %e,
                    retryable = e.is_retryable(),
                    "event failed"
                ),
            }
            result
        }
        .instrument(span)
        .await
    }

    /// Handles a parsed event.
    pub async fn handle(&self, event: &Event) -> Result<Outcome, HandleError> {
        let calls_before = self.store.data_api_calls();
        let mut scopes = Vec::new();
        let (action, reason, instances) = match &event.command {
            Command::StateChange { target, state } => (
                Action::StateChange,
                None,
                vec![self.in_scope(target, Some(*state), event.time).await?],
            ),
            Command::InventoryCollected { target } => (
                Action::InventoryCollected,
                None,
                vec![self.in_scope(target, None, event.time).await?],
            ),
            Command::Sync { account, region } => {
                let home = Scope {
                    account: account.clone(),
                    region: region.clone(),
                };
                let run = self.sync(&home, event.time, &|_| {}).await?;
                if let Some(line) = self.coverage.metrics_line(&run, Utc::now()) {
                    // CloudWatch Logs turns this line into the metrics (EMF).
                    println!("{line}");
                }
                let instances = run.into_result()?;
                scopes = instances.1;
                (Action::Sync, None, instances.0)
            }
            Command::Skip { reason } => (Action::Skip, Some(reason.clone()), Vec::new()),
        };
        Ok(Outcome {
            event_id: event.id.clone(),
            action,
            reason,
            instances,
            fleet: (scopes.len() == 1).then(|| scopes[0].clone()),
            scopes,
            data_api_calls: self.store.data_api_calls() - calls_before,
        })
    }

    /// Handles a state change (`state`) or a collected inventory (`None`)
    /// over the sources of the target's scope, once its account is admitted,
    /// and records it in the scope's coverage: the event, or its failure. A
    /// refused event writes nothing.
    async fn in_scope(
        &self,
        target: &Target,
        state: Option<InstanceState>,
        time: DateTime<Utc>,
    ) -> Result<InstanceOutcome, HandleError> {
        let scope = target.scope();
        let in_scope = |e: HandleError| match e {
            HandleError::Source(error) => HandleError::ScopeSource {
                scope: scope.clone(),
                error,
            },
            other => other,
        };
        let admitted = self
            .sources
            .admits(&scope.account)
            .await
            .map_err(|e| in_scope(e.into()))?;
        if !admitted {
            return Err(HandleError::Refused {
                account: scope.account,
                region: scope.region,
            });
        }
        let sources = self
            .sources
            .sources(&scope)
            .await
            .map_err(|e| in_scope(e.into()))?;
        let result = match state {
            Some(state) => self.state_change(&sources, target, state, time).await,
            None => self.inventory_collected(&sources, target, time).await,
        }
        .map_err(in_scope);
        let error = result.as_ref().err().map(ToString::to_string);
        if let Err(e) = self
            .store
            .record_scope_event(&scope, time, error.as_deref())
            .await
        {
            if result.is_ok() {
                return Err(e.into());
            }
            tracing::warn!(scope = %scope, error = %e, "could not record the scope's failure");
        }
        result
    }

    /// Records the state; on `pending`/`running` with EC2's details, and on
    /// `running` with SSM's packages when SSM has some. SSM is read first so
    /// that the state and the packages go to the store in ONE call; should
    /// SSM fail, the state is still recorded and the redelivery of the event
    /// brings the packages (the store writes them for the stored event).
    async fn state_change(
        &self,
        src: &SourcesOf<S>,
        target: &Target,
        state: InstanceState,
        time: DateTime<Utc>,
    ) -> Result<InstanceOutcome, HandleError> {
        let launching = matches!(state, InstanceState::Pending | InstanceState::Running);
        let details = if launching {
            src.instances.describe(&target.id).await?
        } else {
            None
        };
        let described = launching.then_some(details.is_some());
        let change = StateChange {
            id: target.id.clone(),
            account: target.account.clone(),
            region: target.region.clone(),
            state,
            time,
            details,
        };
        let to_write = if state == InstanceState::Running {
            match inventory_to_write(src, &target.id).await {
                Ok(read) => Some(read),
                Err(e) => {
                    self.store.apply_state(&change).await?;
                    return Err(e.into());
                }
            }
        } else {
            None
        };
        let (applied, packages) = match to_write {
            Some(Ok((inventory, captured_at))) => {
                let set = package_set(&inventory, change.details.as_ref());
                let written = self
                    .store
                    .apply_state_with_packages(&change, set, captured_at)
                    .await?;
                let packages = packages_outcome(&inventory, captured_at, written.packages_written);
                (written.state_applied, packages)
            }
            Some(Err(nothing)) => (self.store.apply_state(&change).await?, nothing),
            None => (
                self.store.apply_state(&change).await?,
                PackagesOutcome::NotRead,
            ),
        };
        Ok(InstanceOutcome {
            instance_id: target.id.clone(),
            state: Some(state),
            state_applied: Some(applied),
            described,
            finding: None,
            packages,
        })
    }

    /// Writes the inventory SSM just collected. An instance the store does
    /// not know (launched before the deploy, or its launch event was lost) is
    /// recorded with it in one write: running at the event's time, as the
    /// agent just ran, with its details from EC2 (`i-…`) or SSM (`mi-…`
    /// hybrid nodes).
    async fn inventory_collected(
        &self,
        src: &SourcesOf<S>,
        target: &Target,
        time: DateTime<Utc>,
    ) -> Result<InstanceOutcome, HandleError> {
        let id = &target.id;
        let (inventory, captured_at) = match inventory_to_write(src, id).await? {
            Ok(read) => read,
            Err(nothing) => return Ok(InstanceOutcome::packages_only(id.clone(), nothing)),
        };
        let set = package_set(&inventory, None);
        let written = self
            .store
            .replace_packages(id, set, captured_at, Source::Event)
            .await?;
        if written || self.store.recorded_instance(id).await?.is_some() {
            let packages = packages_outcome(&inventory, captured_at, written);
            return Ok(InstanceOutcome::packages_only(id.clone(), packages));
        }
        let details = if id.as_str().starts_with("mi-") {
            src.packages
                .describe_node(id)
                .await?
                .map(|node| node.details)
        } else {
            src.instances.describe(id).await?
        };
        let described = Some(details.is_some());
        let change = StateChange {
            id: id.clone(),
            account: target.account.clone(),
            region: target.region.clone(),
            state: InstanceState::Running,
            time,
            details,
        };
        let set = package_set(&inventory, change.details.as_ref());
        let written = self
            .store
            .apply_state_with_packages(&change, set, captured_at)
            .await?;
        tracing::info!(instance_id = %id, applied = written.state_applied, "recorded an unknown instance from its inventory");
        Ok(InstanceOutcome {
            instance_id: id.clone(),
            state: Some(InstanceState::Running),
            state_applied: Some(written.state_applied),
            described,
            finding: None,
            packages: packages_outcome(&inventory, captured_at, written.packages_written),
        })
    }

    /// Reads SSM's inventory and replaces the stored package set with it.
    async fn refresh_packages(
        &self,
        src: &SourcesOf<S>,
        id: &InstanceId,
        source: Source,
    ) -> Result<PackagesOutcome, HandleError> {
        let (inventory, captured_at) = match inventory_to_write(src, id).await? {
            Ok(read) => read,
            Err(nothing) => return Ok(nothing),
        };
        let set = package_set(&inventory, None);
        let written = self
            .store
            .replace_packages(id, set, captured_at, source)
            .await?;
        Ok(packages_outcome(&inventory, captured_at, written))
    }

    /// Re-reads up to `batch` missing or stale inventories of running
    /// instances of `scope`.
    async fn refresh_stale(
        &self,
        src: &SourcesOf<S>,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<(Vec<InstanceOutcome>, Vec<HandleError>), HandleError> {
        let stale = self
            .store
            .stale_running(Some(scope), self.stale_before(now), self.sync.batch)
            .await?;
        let outcomes: Vec<(InstanceId, Result<PackagesOutcome, HandleError>)> = stream::iter(stale)
            .map(|key| async move {
                let result = self.refresh_packages(src, &key.id, Source::Sync).await;
                (key.id, result)
            })
            .buffered(SYNC_CONCURRENCY)
            .collect()
            .await;
        let mut failures = Vec::new();
        let instances = outcomes
            .into_iter()
            .map(|(id, result)| {
                let packages = result.unwrap_or_else(|e| {
                    tracing::warn!(instance_id = %id, error = %e, "sync of one instance failed");
                    let outcome = PackagesOutcome::Failed {
                        error: e.to_string(),
                    };
                    failures.push(e);
                    outcome
                });
                InstanceOutcome::packages_only(id, packages)
            })
            .collect();
        Ok((instances, failures))
    }

    /// Deletes history older than the retention, up to
    /// [`HISTORY_PRUNE_BATCH`] changes: 1 call per run, so a backlog (a
    /// shortened retention) goes over several runs.
    async fn prune_history(&self, now: DateTime<Utc>) -> Result<(), HandleError> {
        let days = self.sync.history_retention_days;
        if days == 0 {
            return Ok(());
        }
        let before = now
            .checked_sub_signed(chrono::Duration::days(i64::from(days)))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let pruned = self
            .store
            .prune_history(before, HISTORY_PRUNE_BATCH)
            .await?;
        if pruned > 0 {
            tracing::info!(pruned, %before, "history pruned");
        }
        Ok(())
    }

    /// Inventories captured before this are stale.
    fn stale_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        // A huge max age reaches past chrono's range: then every capture is fresh.
        now.checked_sub_signed(chrono::Duration::hours(i64::from(self.sync.max_age_hours)))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

/// SSM's inventory of `id` with its capture time when it has packages to
/// write, else the outcome that says why there is nothing to write. An
/// empty inventory never wipes stored packages.
async fn inventory_to_write<P: PackageSource, I>(
    src: &Sources<P, I>,
    id: &InstanceId,
) -> Result<Result<(Inventory, DateTime<Utc>), PackagesOutcome>, SourceError> {
    let Some(inventory) = src.packages.inventory(id).await? else {
        tracing::info!(instance_id = %id, "SSM does not know the instance");
        return Ok(Err(PackagesOutcome::UnknownToSsm));
    };
    Ok(
        match inventory.captured_at.filter(|_| !inventory.is_empty()) {
            Some(captured_at) => Ok((inventory, captured_at)),
            None => Err(PackagesOutcome::NoInventory {
                pages: inventory.pages,
            }),
        },
    )
}

/// The package set of `inventory` with the OS it reported, its versions
/// ordered as its entries say, else as its OS release, else as the
/// instance's EC2 platform (when the write has its details) implies, else
/// the natural fallback.
fn package_set<'a>(inventory: &'a Inventory, details: Option<&InstanceDetails>) -> PackageSet<'a> {
    let platform = details.and_then(|d| d.platform.as_deref());
    let release = inventory.os.as_ref().and_then(|os| os.release());
    let scheme = VersionScheme::detect(
        inventory.package_format,
        release.map(|r| r.scheme()),
        platform,
    );
    PackageSet::new(&inventory.packages, scheme).with_os(inventory.os.as_ref())
}

/// What a package write of `inventory` did.
fn packages_outcome(
    inventory: &Inventory,
    captured_at: DateTime<Utc>,
    written: bool,
) -> PackagesOutcome {
    let count = inventory.packages.len();
    if written {
        PackagesOutcome::Written {
            count,
            skipped: inventory.skipped,
            pages: inventory.pages,
            captured_at,
        }
    } else {
        PackagesOutcome::NotWritten {
            count,
            pages: inventory.pages,
            captured_at,
        }
    }
}
