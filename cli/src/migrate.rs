//! `inventory migrate`: applies the schema through the Data API.

use anyhow::Context;
use inventory_core::config::{ENV_CLUSTER_ARN, ENV_DATABASE, ENV_DIALECT, ENV_SECRET_ARN};
use inventory_core::store::{DbTarget, Dialect, Store};

use crate::client;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Cluster ARN (Data API resourceArn).
    #[arg(long, env = ENV_CLUSTER_ARN)]
    resource_arn: String,
    /// Secrets Manager ARN of the database credentials.
    #[arg(long, env = ENV_SECRET_ARN)]
    secret_arn: String,
    /// Database name; the secret's default database when absent.
    #[arg(long, env = ENV_DATABASE)]
    database: Option<String>,
    /// postgres, mysql or sqlite.
    #[arg(long, env = ENV_DIALECT, default_value = "postgres")]
    dialect: Dialect,
    /// Data API endpoint (e.g. a local one); otherwise the SDK's resolution,
    /// which honours AWS_ENDPOINT_URL_RDS_DATA.
    #[arg(long)]
    endpoint_url: Option<String>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let client = client::from_env(args.endpoint_url.as_deref()).await;
    let store = Store::new(
        client,
        DbTarget {
            resource_arn: args.resource_arn,
            secret_arn: args.secret_arn,
            database: args.database,
            dialect: args.dialect,
        },
    );
    let migration = store.migrate().await.context("migration failed")?;
    if migration.from == migration.to {
        println!("schema up to date at version {}", migration.to);
    } else {
        println!(
            "schema migrated from version {} to {}",
            migration.from, migration.to
        );
    }
    Ok(())
}
