//! `data-api-local`: serve the RDS Data API locally over SQLite, PostgreSQL or MySQL/MariaDB.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use data_api_local::{ClusterConfig, Config, ConfigFile, Server, LOCAL_CLUSTER_ARN};

/// A local endpoint speaking the RDS Data API (ExecuteStatement, BatchExecuteStatement, transactions,
/// ExecuteSql) over an embedded SQLite file, PostgreSQL or MySQL/MariaDB.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Backend of the cluster named by --resource-arn: sqlite://FILE, sqlite::memory:, postgres://..., mysql://...
    /// [default: sqlite://data-api-local.db, unless --config names clusters]
    #[arg(long)]
    database_url: Option<String>,
    /// Cluster ARN that clients pass as resourceArn.
    #[arg(long, default_value = LOCAL_CLUSTER_ARN)]
    resource_arn: String,
    /// When set, calls must pass this secretArn.
    #[arg(long)]
    secret_arn: Option<String>,
    /// TOML file with settings and `[[cluster]]` tables (flags given on the command line win).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Milliseconds added to every call.
    #[arg(long, value_name = "MS")]
    latency: Option<u64>,
    /// Seconds of inactivity after which the database auto-pauses (calls then fail with
    /// DatabaseResumingException for 2 s).
    #[arg(long, value_name = "SECS")]
    auto_pause: Option<u64>,
    /// Seconds after which an idle transaction is rolled back.
    #[arg(long, value_name = "SECS")]
    transaction_timeout: Option<u64>,
    /// Connections each backend pool may open; transactions may hold all but a tenth
    /// [default: 90, what a small Aurora writer allows]
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
}

const DEFAULT_URL: &str = "sqlite://data-api-local.db";

fn config(args: Args, bind_given: bool) -> anyhow::Result<Config> {
    let mut config = Config {
        bind: args.bind,
        ..Config::default()
    };
    if let Some(path) = &args.config {
        let file = ConfigFile::load(path)?;
        let file_bind = file.bind.is_some();
        config = file.apply(config);
        if bind_given || !file_bind {
            config.bind = args.bind;
        }
    }
    if let Some(ms) = args.latency {
        config.latency = Duration::from_millis(ms);
    }
    if let Some(secs) = args.auto_pause {
        config.auto_pause = Some(Duration::from_secs(secs));
    }
    if let Some(secs) = args.transaction_timeout {
        config.transaction_timeout = Duration::from_secs(secs);
    }
    if let Some(n) = args.max_connections {
        config.max_connections = n;
    }
    if config.clusters.is_empty() || args.database_url.is_some() {
        config
            .clusters
            .retain(|c| c.resource_arn != args.resource_arn);
        config.clusters.push(ClusterConfig {
            resource_arn: args.resource_arn,
            secret_arn: args.secret_arn,
            url: args.database_url.unwrap_or_else(|| DEFAULT_URL.to_string()),
        });
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let bind_given = std::env::args().any(|a| a == "--bind" || a.starts_with("--bind="));
    let config = config(Args::parse(), bind_given)?;
    let clusters: Vec<String> = config
        .clusters
        .iter()
        .map(|c| c.resource_arn.clone())
        .collect();
    let server = Server::start(config)
        .await
        .context("starting the Data API")?;
    println!("Data API endpoint: {}", server.endpoint_url());
    for arn in clusters {
        println!("  cluster: {arn}");
    }
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    server.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        let args = Args::parse_from(std::iter::once("data-api-local").chain(args.iter().copied()));
        config(args, false).unwrap()
    }

    #[test]
    fn defaults_serve_one_sqlite_cluster_on_localhost() {
        let c = parse(&[]);
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.clusters.len(), 1);
        assert_eq!(c.clusters[0].url, DEFAULT_URL);
        assert_eq!(c.clusters[0].resource_arn, LOCAL_CLUSTER_ARN);
        assert_eq!(c.transaction_timeout, Duration::from_secs(180));
        assert_eq!(c.auto_pause, None);
        assert_eq!(c.max_connections, data_api_local::DEFAULT_MAX_CONNECTIONS);
    }

    #[test]
    fn flags_set_the_knobs() {
        let c = parse(&[
            "--database-url",
            "sqlite::memory:",
            "--secret-arn",
            "s",
            "--latency",
            "7",
            "--auto-pause",
            "30",
            "--transaction-timeout",
            "5",
            "--max-connections",
            "20",
        ]);
        assert_eq!(c.max_connections, 20);
        assert_eq!(c.clusters[0].secret_arn.as_deref(), Some("s"));
        assert_eq!(c.latency, Duration::from_millis(7));
        assert_eq!(c.auto_pause, Some(Duration::from_secs(30)));
        assert_eq!(c.transaction_timeout, Duration::from_secs(5));
    }
}
