//! `inventory sync`: the scheduled sync's walk through every scope (account
//! and region), run from the command line until each scope's fleet was walked
//! through once. Each run is what one scheduled invocation of `state-change`
//! does (same code, same cursors in the database), so an interrupted
//! `inventory sync` and the deployed schedule resume each other's walk.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use inventory_core::config::{
    FleetSettings, SyncSettings, DEFAULT_HISTORY_RETENTION_DAYS, DEFAULT_SYNC_BATCH,
    DEFAULT_SYNC_FLEET_BATCH, DEFAULT_SYNC_MAX_AGE_HOURS, DEFAULT_SYNC_TIME_BUDGET_SECONDS,
    ENV_HISTORY_RETENTION_DAYS, ENV_SYNC_BATCH, ENV_SYNC_FLEET_BATCH, ENV_SYNC_MAX_AGE_HOURS,
    ENV_SYNC_TIME_BUDGET_SECONDS, MAX_HISTORY_RETENTION_DAYS, MAX_SYNC_BATCH, MAX_SYNC_FLEET_BATCH,
};
use inventory_core::events::{EventHandler, FleetProgress, WalkStop};
use inventory_core::model::{Account, Region, Scope};
use inventory_core::sources::scopes::{FixtureScopes, ScopeSources};

use crate::target::TargetArgs;

/// The sync's settings, as the `state-change` function reads them.
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// The sync re-reads inventories older than this.
    #[arg(long, env = ENV_SYNC_MAX_AGE_HOURS, default_value_t = DEFAULT_SYNC_MAX_AGE_HOURS,
          value_parser = clap::value_parser!(u32).range(1..))]
    sync_max_age_hours: u32,
    /// Recorded instances with a missing or stale inventory re-read per run.
    #[arg(long, env = ENV_SYNC_BATCH, default_value_t = DEFAULT_SYNC_BATCH,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SYNC_BATCH)))]
    sync_batch: u32,
    /// History older than this many days is pruned by each run; 0 keeps it all.
    #[arg(long, env = ENV_HISTORY_RETENTION_DAYS, default_value_t = DEFAULT_HISTORY_RETENTION_DAYS,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_HISTORY_RETENTION_DAYS)))]
    history_retention_days: u32,
}

impl SyncArgs {
    pub fn settings(&self) -> SyncSettings {
        SyncSettings {
            max_age_hours: self.sync_max_age_hours,
            batch: self.sync_batch,
            history_retention_days: self.history_retention_days,
        }
    }
}

/// Where the SSM and EC2 answers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SourceKind {
    /// The files under `--fixtures` (no AWS account needed).
    Fixtures,
    /// SSM and EC2 of the AWS configuration's account (credentials, region).
    Aws,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where SSM and EC2 answers come from. `aws` reads the real fleet with
    /// your credentials (ec2:DescribeInstances, ssm:ListInventoryEntries,
    /// ssm:DescribeInstanceInformation) and needs a build with `--features aws`.
    #[arg(long, value_enum, default_value_t = SourceKind::Fixtures)]
    source: SourceKind,
    /// Directory with the fixture fleet of the own scope (`fleet/ec2/page-N.json`,
    /// `fleet/ssm/page-N.json`, the SSM/EC2 answers per instance) and one
    /// such directory per other scope, `accounts/<account>/<region>/`.
    #[arg(long, default_value = "events/fixtures")]
    fixtures: PathBuf,
    /// The own scope's account (the fixtures' root, or the AWS account walked):
    /// records of accounts not walked are never judged. [default:
    /// 123456789012, the sample events' account, with fixtures; required
    /// with `--source aws`]
    #[arg(long)]
    account: Option<String>,
    /// The own scope's region. [default: us-east-1 with fixtures, the AWS
    /// configuration's region with `--source aws`]
    #[arg(long)]
    region: Option<String>,
    /// Instances one run visits, as the function's setting.
    #[arg(long, env = ENV_SYNC_FLEET_BATCH, default_value_t = DEFAULT_SYNC_FLEET_BATCH,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SYNC_FLEET_BATCH)))]
    fleet_batch: u32,
    /// Seconds after which a run starts no new visit. No Lambda limit applies
    /// here, but a run holds the walk's lease this long plus two minutes.
    #[arg(long, env = ENV_SYNC_TIME_BUDGET_SECONDS, default_value_t = DEFAULT_SYNC_TIME_BUDGET_SECONDS,
          value_parser = clap::value_parser!(u32).range(1..))]
    time_budget_seconds: u32,
    /// Stop after this many runs even if the pass is not complete (the next
    /// `inventory sync` or scheduled run resumes there).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    max_runs: u32,
    #[command(flatten)]
    sync: SyncArgs,
    #[command(flatten)]
    target: TargetArgs,
    /// Print each run's progress as one JSON line instead of text.
    #[arg(long)]
    json: bool,
}

/// The fixtures' account and region: the sample events'.
const FIXTURE_ACCOUNT: &str = "123456789012";
const FIXTURE_REGION: &str = "us-east-1";
/// Transient failures in a row after which the walk gives up.
const MAX_FAILED_RUNS_IN_A_ROW: u32 = 3;

pub async fn run(args: Args) -> anyhow::Result<()> {
    let fleet = FleetSettings {
        batch: args.fleet_batch,
        time_budget: std::time::Duration::from_secs(args.time_budget_seconds.into()),
        ..FleetSettings::default()
    };
    let runner = Runner {
        json: args.json,
        max_runs: args.max_runs,
        show_bar: !args.json && std::io::stderr().is_terminal(),
    };
    match args.source {
        SourceKind::Fixtures => {
            let account = args.account.as_deref().unwrap_or(FIXTURE_ACCOUNT);
            let region = args.region.as_deref().unwrap_or(FIXTURE_REGION);
            let scope = scope(account, region)?;
            let sources = FixtureScopes::new(&args.fixtures);
            let store = args.target.store().await?;
            let handler =
                EventHandler::with_sources(store, sources, args.sync.settings()).with_fleet(fleet);
            runner.run(&handler, &scope).await
        }
        SourceKind::Aws => aws::run(args, fleet, runner).await,
    }
}

fn scope(account: &str, region: &str) -> anyhow::Result<Scope> {
    let account = Account::parse(account).map_err(|e| anyhow::anyhow!("--account: {e}"))?;
    let region = Region::parse(region).map_err(|e| anyhow::anyhow!("--region: {e}"))?;
    Ok(Scope { account, region })
}

#[cfg(feature = "aws")]
mod aws {
    use anyhow::Context;
    use inventory_core::events::EventHandler;
    use inventory_core::sources::ec2::Ec2InstanceSource;
    use inventory_core::sources::ssm::SsmPackageSource;

    use super::{scope, Args, Runner};

    pub async fn run(
        args: Args,
        fleet: inventory_core::config::FleetSettings,
        runner: Runner,
    ) -> anyhow::Result<()> {
        let account = args
            .account
            .as_deref()
            .context("--account is required with --source aws")?;
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(region) = &args.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        let config = loader.load().await;
        let region = config
            .region()
            .map(ToString::to_string)
            .context("no region: pass --region or set AWS_REGION")?;
        let scope = scope(account, &region)?;
        let packages = SsmPackageSource::new(aws_sdk_ssm::Client::new(&config));
        let instances = Ec2InstanceSource::new(aws_sdk_ec2::Client::new(&config));
        let store = args.target.store().await?;
        let handler =
            EventHandler::new(store, packages, instances, args.sync.settings()).with_fleet(fleet);
        runner.run(&handler, &scope).await
    }
}

#[cfg(not(feature = "aws"))]
mod aws {
    use super::{Args, Runner};

    pub async fn run(
        _args: Args,
        _fleet: inventory_core::config::FleetSettings,
        _runner: Runner,
    ) -> anyhow::Result<()> {
        // The SSM and EC2 SDKs are the largest crates; the local stack's build
        // leaves them out unless asked.
        anyhow::bail!(
            "this inventory was built without AWS sources: \
             cargo install --path cli --features aws (or cargo run --features aws -- sync ...)"
        )
    }
}

/// How the runs are driven and shown.
struct Runner {
    json: bool,
    max_runs: u32,
    show_bar: bool,
}

/// What the runs so far did, for the summary.
#[derive(Debug, Default)]
struct Totals {
    runs: u32,
    visited: usize,
    recorded: usize,
    healed: usize,
    terminated: usize,
    inventories_read: usize,
    failed: usize,
    data_api_calls: u64,
}

impl Runner {
    /// Runs the sync until every scope's walk completed a pass (or
    /// `max_runs`), printing one line per scope and run, and a bar on a
    /// terminal. A scope that fails is reported and left to the next run;
    /// the command fails at the end if one never got through.
    async fn run<S: ScopeSources>(
        &self,
        handler: &EventHandler<S>,
        home: &Scope,
    ) -> anyhow::Result<()> {
        let mut totals = Totals::default();
        // Scopes whose pass completed during this command, and the last
        // failure of those that have not.
        let mut done = BTreeSet::new();
        let mut failing: BTreeMap<String, (u32, String)> = BTreeMap::new();
        loop {
            totals.runs += 1;
            let run = totals.runs;
            let calls_before = handler.store().data_api_calls();
            let done_before = totals.visited;
            let bar = run_bar(self.show_bar, run);
            let progress = |p: &FleetProgress| {
                // The pass so far: what was visited before this run plus
                // what this run's listing found ahead of the cursor.
                let done = done_before + p.visited;
                bar.set_length((done_before + p.ahead).max(done).max(1) as u64);
                bar.set_position(done as u64);
                bar.set_message(p.recorded.to_string());
            };
            let result = handler.sync(home, chrono::Utc::now(), &progress).await;
            bar.finish_and_clear();
            let outcome = result.with_context(|| format!("run {run} of the sync failed"))?;
            let calls = handler.store().data_api_calls() - calls_before;
            totals.data_api_calls += calls;
            for p in &outcome.scopes {
                totals.add(p);
                self.report(run, p)?;
                match &p.error {
                    Some(error) => {
                        let entry = failing.entry(p.scope.clone()).or_insert((0, String::new()));
                        *entry = (entry.0 + 1, error.clone());
                    }
                    None => {
                        failing.remove(&p.scope);
                    }
                }
                match p.stopped {
                    WalkStop::EndOfPass if p.error.is_none() => {
                        done.insert(p.scope.clone());
                    }
                    WalkStop::Busy => anyhow::bail!(
                        "another run holds the walk of {} (a scheduled run, or an interrupted \
                         `inventory sync` whose lease ends its time budget plus two minutes after \
                         it started); try again later",
                        p.scope
                    ),
                    _ => {}
                }
            }
            if !self.json {
                out!(
                    "run {run}: {} scopes walked, {} left for the next run; {calls} Data API calls",
                    outcome.scopes.len(),
                    outcome.left_for_next_run
                )?;
            }
            let all_walked = outcome.left_for_next_run == 0
                && outcome.scopes.iter().all(|p| {
                    done.contains(&p.scope)
                        || failing
                            .get(&p.scope)
                            .is_some_and(|(n, _)| *n >= MAX_FAILED_RUNS_IN_A_ROW)
                });
            if all_walked {
                break;
            }
            if totals.runs >= self.max_runs {
                out!(
                    "stopped after {} runs (--max-runs) before every scope's pass was complete; \
                     the next run resumes each where it stopped",
                    totals.runs
                )?;
                return Ok(());
            }
        }
        if !self.json {
            out!(
                "{} scopes walked in {} runs: {} visited, {} recorded, {} states healed, \
                 {} terminated (absent), {} inventories read, {} failed; {} Data API calls",
                done.len() + failing.len(),
                totals.runs,
                totals.visited,
                totals.recorded,
                totals.healed,
                totals.terminated,
                totals.inventories_read,
                totals.failed,
                totals.data_api_calls
            )?;
        }
        if let Some((scope, (_, error))) = failing.first_key_value() {
            anyhow::bail!(
                "{} scopes failed {MAX_FAILED_RUNS_IN_A_ROW} runs in a row (recorded as their \
                 last error; the next run retries them), first {scope}: {error}",
                failing.len()
            );
        }
        Ok(())
    }

    fn report(&self, run: u32, p: &FleetProgress) -> anyhow::Result<()> {
        if self.json {
            let mut line = serde_json::to_value(p)?;
            line["run"] = run.into();
            out!("{line}")?;
        } else if let Some(error) = &p.error {
            out!("run {run} {}: failed: {error}", p.scope)?;
        } else {
            out!(
                "run {run} {}: {} visited ({} recorded, {} healed, {} terminated, {} inventories \
                 read, {} failed), {} EC2 and {} SSM listing pages, stopped: {}",
                p.scope,
                p.visited,
                p.recorded,
                p.healed,
                p.terminated_absent,
                p.inventories_read,
                p.failed,
                p.ec2_pages,
                p.ssm_pages,
                stop_reason(p.stopped)
            )?;
        }
        Ok(())
    }
}

impl Totals {
    fn add(&mut self, p: &FleetProgress) {
        self.visited += p.visited;
        self.recorded += p.recorded;
        self.healed += p.healed;
        self.terminated += p.terminated_absent;
        self.inventories_read += p.inventories_read;
        self.failed += p.failed;
    }
}

fn stop_reason(stop: WalkStop) -> &'static str {
    match stop {
        WalkStop::EndOfPass => "end of pass",
        WalkStop::Batch => "batch visited",
        WalkStop::TimeBudget => "time budget spent",
        WalkStop::Failure => "a visit failed transiently",
        WalkStop::Busy => "another run holds the walk",
    }
}

/// `run 2 [#########...........] 1234/2750 visited, 12 recorded` on a
/// terminal; nothing otherwise.
fn run_bar(shown: bool, run: u32) -> ProgressBar {
    if !shown {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(1).with_prefix(run.to_string());
    bar.set_style(
        ProgressStyle::with_template("run {prefix} [{bar:30}] {pos}/{len} visited, {msg} recorded")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("#."),
    );
    bar
}
