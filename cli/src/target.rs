//! Where the operator commands send their Data API calls.

use inventory_core::config::{ENV_CLUSTER_ARN, ENV_DATABASE, ENV_DIALECT, ENV_SECRET_ARN};
use inventory_core::store::{DbTarget, Dialect, Store};

use crate::client;

#[derive(Debug, clap::Args)]
pub struct TargetArgs {
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

impl TargetArgs {
    pub async fn store(self) -> Store {
        let client = client::from_env(self.endpoint_url.as_deref()).await;
        Store::new(
            client,
            DbTarget {
                resource_arn: self.resource_arn,
                secret_arn: self.secret_arn,
                database: self.database,
                dialect: self.dialect,
            },
        )
    }
}
