//! `inventory serve`: the local Data API and the HTTP API in one process.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use data_api_local::{ClusterConfig, Config, Server, LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN};
use inventory_core::config::{
    ENV_ACCOUNT_ID, ENV_CLUSTER_ARN, ENV_COUNTS_MAX_AGE_SECONDS, ENV_DIALECT, ENV_SECRET_ARN,
    MAX_COUNTS_MAX_AGE_SECONDS,
};
use inventory_core::http::{router, PAGE_ROOT};
use inventory_core::store::{DbTarget, Dialect, Store, DEFAULT_COUNTS_MAX_AGE};

use crate::client;
use crate::target::LOCAL_DATA_API_ADDR;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address of the HTTP API (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Address of the local Data API endpoint (port 0: any free port); the
    /// other commands look for it at the default address.
    #[arg(long, default_value = LOCAL_DATA_API_ADDR)]
    data_api_bind: SocketAddr,
    /// Database behind the local Data API: `sqlite://FILE` (or a plain file
    /// path), `postgres://…` or `mysql://…`; the dialect follows the scheme.
    #[arg(long, default_value = "sqlite://inventory.db")]
    database_url: String,
    /// Milliseconds added to every Data API call, to mimic the hosted service.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency: u64,
    /// How old the fleet's counts (the advisory summary, the most widespread
    /// packages) may be before a read recounts them; 0: every read.
    #[arg(long, value_name = "SECONDS", env = ENV_COUNTS_MAX_AGE_SECONDS,
          default_value_t = DEFAULT_COUNTS_MAX_AGE.as_secs(),
          value_parser = clap::value_parser!(u64).range(0..=u64::from(MAX_COUNTS_MAX_AGE_SECONDS)))]
    counts_max_age: u64,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let (url, dialect) = database(&args.database_url)?;
    let data_api = Server::start(Config {
        bind: args.data_api_bind,
        latency: Duration::from_millis(args.latency),
        clusters: vec![ClusterConfig {
            resource_arn: LOCAL_CLUSTER_ARN.into(),
            secret_arn: Some(LOCAL_SECRET_ARN.into()),
            url: url.clone(),
        }],
        ..Config::default()
    })
    .await
    .context("starting the local Data API")?;
    let endpoint = data_api.endpoint_url().to_string();

    let store = Store::new(
        client::local(&endpoint).await,
        DbTarget {
            resource_arn: LOCAL_CLUSTER_ARN.into(),
            secret_arn: LOCAL_SECRET_ARN.into(),
            database: None,
            dialect,
        },
    )
    .with_counts_max_age(Duration::from_secs(args.counts_max_age));
    let migration = store.migrate().await.context("applying the schema")?;
    tracing::info!(from = migration.from, to = migration.to, "schema migrated");

    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("binding the HTTP API to {}", args.bind))?;
    let http_addr = listener.local_addr()?;

    println!("inventory serve is ready");
    println!("  page:         http://{http_addr}{PAGE_ROOT}");
    println!("  HTTP API:     http://{http_addr}");
    println!("  Data API:     {endpoint}");
    println!("  cluster ARN:  {LOCAL_CLUSTER_ARN}");
    println!("  secret ARN:   {LOCAL_SECRET_ARN}");
    println!("  database:     {} ({dialect})", redact(&url));
    println!("Environment for a Lambda binary (e.g. under cargo lambda watch):");
    println!("  export AWS_ENDPOINT_URL_RDS_DATA={endpoint}");
    println!("  export {ENV_CLUSTER_ARN}={LOCAL_CLUSTER_ARN}");
    println!("  export {ENV_SECRET_ARN}={LOCAL_SECRET_ARN}");
    println!("  export {ENV_DIALECT}={dialect}");
    println!("  export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test");
    // The sample events' account; the emulator sends no function ARN to read it from.
    println!("  export {ENV_ACCOUNT_ID}=123456789012");

    axum::serve(listener, router(store))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving the HTTP API")?;
    data_api.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// The backend URL and its dialect. A value without a scheme is a SQLite file path.
fn database(url: &str) -> anyhow::Result<(String, Dialect)> {
    let Some((scheme, _)) = url.split_once(':') else {
        return Ok((format!("sqlite://{url}"), Dialect::Sqlite));
    };
    let dialect: Dialect = scheme.parse().map_err(|_| {
        anyhow::anyhow!(
            "--database-url: unsupported scheme {scheme:?}; use sqlite://, postgres:// or mysql://"
        )
    })?;
    Ok((url.to_owned(), dialect))
}

/// The URL without its password, for printing.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_follows_the_scheme() {
        let cases = [
            ("sqlite://x.db", Dialect::Sqlite, "sqlite://x.db"),
            ("inventory.db", Dialect::Sqlite, "sqlite://inventory.db"),
            (
                "postgres://root@127.0.0.1/test",
                Dialect::Postgres,
                "postgres://root@127.0.0.1/test",
            ),
            ("postgresql://h/db", Dialect::Postgres, "postgresql://h/db"),
            (
                "mysql://root@127.0.0.1:3306/test",
                Dialect::Mysql,
                "mysql://root@127.0.0.1:3306/test",
            ),
        ];
        for (input, dialect, url) in cases {
            assert_eq!(database(input).unwrap(), (url.to_owned(), dialect));
        }
        assert!(database("redis://x").is_err());
    }

    /// The query commands' default endpoint is `LOCAL_DATA_API_ADDR`
    /// (`target::tests::no_flags_is_the_local_stack`).
    #[test]
    fn the_commands_look_where_serve_listens_by_default() {
        use clap::Parser;
        let cli = crate::Cli::try_parse_from(["inventory", "serve"]).unwrap();
        let crate::Command::Serve(args) = cli.command else {
            panic!("not serve: {cli:?}");
        };
        assert_eq!(args.data_api_bind.to_string(), LOCAL_DATA_API_ADDR);
        assert_eq!(args.data_api_bind.to_string(), "127.0.0.1:8081");
        assert_eq!(args.bind.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(redact("mysql://u:secret@h/db"), "mysql://u:***@h/db");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }
}
