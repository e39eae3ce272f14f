//! `inventory replay`: runs the state-change handler on a sample event against
//! the Data API of a running `inventory serve`, with SSM and EC2 answered from
//! fixture files, and prints what changed.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use inventory_core::events::{Action, EventHandler, InstanceOutcome, Outcome, PackagesOutcome};
use inventory_core::sources::scopes::FixtureScopes;

use crate::sync::SyncArgs;
use crate::target::TargetArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The sample event, e.g. events/ec2-running.json.
    event: PathBuf,
    /// Directory with the SSM (`ssm/<id>/page-N.json`) and EC2
    /// (`ec2/<id>.json`) answers; those of another scope's events under
    /// `accounts/<account>/<region>/`, if there.
    #[arg(long, default_value = "events/fixtures")]
    fixtures: PathBuf,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    sync: SyncArgs,
    /// Print the outcome as JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let raw = tokio::fs::read(&args.event)
        .await
        .with_context(|| format!("cannot read {}", args.event.display()))?;
    let event: serde_json::Value = serde_json::from_slice(&raw)
        .with_context(|| format!("{} is not JSON", args.event.display()))?;
    let store = args.target.store().await?;
    let fixtures = FixtureScopes::new(&args.fixtures);
    let handler = EventHandler::with_sources(store, fixtures, args.sync.settings());
    match handler.handle_json(event).await {
        Ok(outcome) if args.json => out!("{}", serde_json::to_string_pretty(&outcome)?)?,
        Ok(outcome) => out!("{}", describe(&outcome).trim_end())?,
        Err(e) => {
            let class = if e.is_retryable() {
                "retryable: Lambda would retry it, then park it in the dead-letter queue"
            } else {
                "not retryable: Lambda would reject it"
            };
            anyhow::bail!("{} failed ({class}): {e}", args.event.display());
        }
    }
    Ok(())
}

/// The outcome as a few lines of text.
fn describe(outcome: &Outcome) -> String {
    let mut out = format!(
        "event {} ({})",
        outcome.event_id.as_deref().unwrap_or("without id"),
        outcome.action
    );
    if let Some(reason) = &outcome.reason {
        let _ = write!(out, ": nothing to do, {reason}");
    }
    out.push('\n');
    if outcome.action == Action::Sync && outcome.instances.is_empty() {
        out.push_str("  no running instance has a missing or stale inventory\n");
    }
    for instance in &outcome.instances {
        let _ = writeln!(out, "  {}", describe_instance(instance));
    }
    let _ = writeln!(out, "  Data API calls: {}", outcome.data_api_calls);
    out
}

fn describe_instance(i: &InstanceOutcome) -> String {
    let mut parts = Vec::new();
    if let (Some(state), Some(applied)) = (i.state, i.state_applied) {
        parts.push(if applied {
            format!("state {state} applied")
        } else {
            format!("state {state} ignored (an event as new or newer was applied before)")
        });
    }
    match i.described {
        Some(true) => parts.push("details from EC2".to_owned()),
        Some(false) => parts.push("unknown to EC2, recorded from the event alone".to_owned()),
        None => {}
    }
    parts.push(match &i.packages {
        PackagesOutcome::NotRead => "packages not read".to_owned(),
        PackagesOutcome::UnknownToSsm => "unknown to SSM, packages unchanged".to_owned(),
        PackagesOutcome::NoInventory { pages } => {
            format!(
                "SSM has no inventory yet ({}), packages unchanged",
                pages_read(*pages)
            )
        }
        PackagesOutcome::Written {
            count,
            skipped,
            pages,
            captured_at,
        } => format!(
            "{count} packages written from {} captured {captured_at}{}",
            pages_read(*pages),
            if *skipped > 0 {
                format!(" ({skipped} unusable entries skipped)")
            } else {
                String::new()
            }
        ),
        PackagesOutcome::NotWritten {
            count,
            pages,
            captured_at,
        } => format!(
            "{count} packages from {} captured {captured_at} not written \
             (instance not recorded, or a capture as new is stored)",
            pages_read(*pages)
        ),
        PackagesOutcome::Failed { error } => format!("failed: {error}"),
    });
    format!("{}: {}", i.instance_id, parts.join("; "))
}

fn pages_read(pages: u32) -> String {
    match pages {
        1 => "1 SSM page".to_owned(),
        n => format!("{n} SSM pages"),
    }
}
