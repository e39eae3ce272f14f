//! `inventory advisories import PATH...`: advisory feeds into the store the
//! other commands reach (the local stack by default), in one transaction;
//! `inventory advisories show ID`, as `GET /advisories/{id}`; and
//! `inventory advisories fetch`, the scheduled import run by hand.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use inventory_core::advisories::Release;
use inventory_core::config;
use inventory_core::feeds::fetch::{fetch, FeedClient, FeedOutcome, FetchSettings};
use inventory_core::feeds::import::{import, ImportOptions, ImportSummary};

use crate::query::AdvisoryArgs;
use crate::target::TargetArgs;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Import advisory feeds: OSV records (a .json file, a directory of them,
    /// an ecosystem's all.zip), Amazon Linux updateinfo.xml[.gz|.xz], and
    /// Debian/Ubuntu Packages[.gz|.xz] indexes (the binary -> source map).
    /// All files go in one transaction: a broken file imports nothing.
    Import(ImportArgs),
    /// Show an advisory and the instances it affects, as
    /// `GET /advisories/{id}` does.
    Show(AdvisoryArgs),
    /// Fetch advisory feeds over HTTPS and import what changed, as the
    /// scheduled import does: a conditional request per feed (a 304 imports
    /// nothing), each feed in its own transaction. Fails when a feed failed.
    Fetch(FetchArgs),
}

#[derive(Debug, clap::Args)]
pub struct FetchArgs {
    /// A feed: osv:Debian, osv:Ubuntu, osv:AlmaLinux, "osv:Rocky Linux",
    /// "osv:Red Hat", alas:2, alas:2023. Repeat for several; without any,
    /// INVENTORY_ADVISORY_FEEDS (comma-separated) says.
    #[arg(long = "feed")]
    feeds: Vec<String>,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Feed files or directories.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The release of a Packages index that is not under
    /// dists/CODENAME/, or of an updateinfo.xml whose advisory ids do not
    /// say it: debian:12, ubuntu:22.04, amzn:2023, amzn:2 ...
    #[arg(long)]
    release: Option<String>,
    #[command(flatten)]
    target: TargetArgs,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Import(args) => import_feeds(args).await,
        Command::Show(args) => crate::query::advisory(args).await,
        Command::Fetch(args) => fetch_feeds(args).await,
    }
}

async fn fetch_feeds(args: FetchArgs) -> anyhow::Result<()> {
    let feeds = args.feeds.join(",");
    let settings = FetchSettings::from_lookup(|name| {
        if name == config::ENV_ADVISORY_FEEDS && !feeds.is_empty() {
            Some(feeds.clone())
        } else {
            config::from_env(name)
        }
    })
    .context("name the feeds with --feed")?;
    let store = args.target.store().await?;
    let client = FeedClient::new()?;
    let report = fetch(&store, &client, &settings).await?;
    for feed in &report.feeds {
        let what = match &feed.outcome {
            FeedOutcome::NotModified => "not modified".to_owned(),
            FeedOutcome::Imported { bytes, summary } => format!(
                "{bytes} bytes, {} records: {} imported, {} unchanged; {} skipped, {} bad",
                summary.tally.records,
                summary.imported,
                summary.unchanged,
                summary.tally.skipped,
                summary.tally.bad.len()
            ),
            FeedOutcome::Failed { error } => format!("FAILED: {error}"),
        };
        out!("{}: {what}", feed.feed)?;
    }
    out!("{} Data API calls", report.data_api_calls)?;
    let failed = report.failed().count();
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} feeds failed; their last good data stays",
        report.feeds.len()
    );
    Ok(())
}

async fn import_feeds(args: ImportArgs) -> anyhow::Result<()> {
    let release = args
        .release
        .as_deref()
        .map(|r| {
            r.parse::<Release>()
                .with_context(|| format!("--release {r}: not a release such as debian:12"))
        })
        .transpose()?;
    let store = args.target.store().await?;
    // A spinner with the record count on a terminal; nothing in a pipe.
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} records ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let progress = |path: &std::path::Path, records: usize| {
        bar.set_message(path.display().to_string());
        bar.set_position(records as u64);
        bar.tick();
    };
    let started = Instant::now();
    let options = ImportOptions { release };
    let summary = import(&store, &args.paths, &options, &progress).await;
    bar.finish_and_clear();
    let summary = summary?;
    print_summary(&summary, started.elapsed().as_secs_f64())?;
    Ok(())
}

/// One line per file, the bad records named, and a total.
fn print_summary(summary: &ImportSummary, seconds: f64) -> Result<(), crate::StdoutError> {
    for file in &summary.files {
        out!(
            "{}: {} ({} records: {} imported, {} unchanged; {} skipped, {} bad)",
            file.path.display(),
            file.kind.as_str(),
            file.tally.records,
            file.imported,
            file.unchanged,
            file.tally.skipped,
            file.tally.bad.len()
        )?;
    }
    const SHOWN: usize = 20;
    let bad: Vec<_> = summary.bad().collect();
    for record in bad.iter().take(SHOWN) {
        out!("  bad: {record}")?;
    }
    if bad.len() > SHOWN {
        out!("  ... and {} more bad records", bad.len() - SHOWN)?;
    }
    let imported: u64 = summary.files.iter().map(|f| f.imported).sum();
    out!(
        "imported {imported} from {} files in {seconds:.1} s, {} bad records; {} Data API calls",
        summary.files.len(),
        bad.len(),
        summary.data_api_calls
    )
}
