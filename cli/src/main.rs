//! `inventory`: the local stack and operator tool.
//!
//! - `inventory serve`: local Data API + HTTP API in one process (SQLite by default)
//! - `inventory migrate`: apply the schema through the Data API (real or local)
//! - `inventory replay`: run the state-change handler on a sample event

mod client;
mod migrate;
mod replay;
mod serve;

use std::io::IsTerminal;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
/// EC2 inventory: the local stack and operator tool.
#[command(name = "inventory", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the local Data API and the HTTP API in one process.
    Serve(serve::Args),
    /// Apply the database schema through the Data API (idempotent).
    Migrate(migrate::Args),
    /// Run the state-change handler on a sample event against a stack.
    Replay(replay::Args),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Logs go to stderr (RUST_LOG, default info); stdout carries the results.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve::run(args).await,
        Command::Migrate(args) => migrate::run(args).await,
        Command::Replay(args) => replay::run(args).await,
    }
}
