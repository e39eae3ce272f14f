//! `inventory migrate`: applies the schema through the Data API.

use anyhow::Context;

use crate::target::TargetArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: TargetArgs,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let store = args.target.store().await?;
    let migration = store.migrate().await.context("migration failed")?;
    if migration.from == migration.to {
        out!("schema up to date at version {}", migration.to)?;
    } else {
        out!(
            "schema migrated from version {} to {}",
            migration.from,
            migration.to
        )?;
    }
    Ok(())
}
