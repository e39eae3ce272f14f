//! `inventory`: the local stack and operator tool.
//!
//! - `inventory serve`: local Data API + HTTP API in one process (SQLite by default)
//! - `inventory migrate`: apply the schema through the Data API (real or local)
//! - `inventory replay`: run the state-change handler on a sample event
//! - `inventory sync`: walk a fleet (fixtures or AWS) as the scheduled sync does, to the end of a pass
//! - `inventory get | search | packages | history | vulnerabilities | accounts`: the HTTP API's
//!   reads, from the command line, as tables on a terminal and JSON in a pipe
//! - `inventory advisories import | show`: advisory feeds into the store; who an advisory affects
//! - `inventory proxy`: a deployed stack's page on 127.0.0.1, requests signed
//!   with the operator's AWS credentials

/// `println!` that returns a [`StdoutError`] rather than panicking when
/// stdout is gone (`inventory sync --json | head`); `main` then ends quietly.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*).map_err($crate::StdoutError)
    }};
}

/// A result line could not be written.
#[derive(Debug)]
struct StdoutError(std::io::Error);

impl std::fmt::Display for StdoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write to stdout: {}", self.0)
    }
}

impl std::error::Error for StdoutError {}

mod advisories;
mod client;
mod migrate;
mod output;
mod proxy;
mod query;
mod replay;
mod serve;
mod sync;
mod target;

use std::io::IsTerminal;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
/// EC2 inventory: the local stack and operator tool.
#[command(name = "inventory", version)]
struct Cli {
    /// More log lines on stderr: -v for every INFO line, -vv for DEBUG
    /// (RUST_LOG, when set, decides instead).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
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
    /// Walk the whole fleet as the scheduled sync does, run after run, until
    /// every instance was visited once.
    Sync(sync::Args),
    /// Show one instance as `GET /ec2/{id}` does.
    Get(query::GetArgs),
    /// Search instances as `GET /ec2?...` does.
    Search(query::SearchArgs),
    /// Versions of a package across the fleet, as `GET /packages/{name}` does.
    Packages(query::PackagesArgs),
    /// The changes of an instance, or of a package across the fleet, as
    /// `GET /ec2/{id}/history` and `GET /packages/{name}/history` do.
    History(query::HistoryArgs),
    /// Security advisories: import feeds, show who an advisory affects.
    #[command(subcommand)]
    Advisories(advisories::Command),
    /// What affects an instance, or the fleet's advisories by reach, as
    /// `GET /ec2/{id}/vulnerabilities` and `GET /vulnerabilities` do.
    Vulnerabilities(query::VulnerabilitiesArgs),
    /// Every account and region with its instances, what was last heard
    /// from it, and whether it is silent or failing, as `GET /accounts` does.
    Accounts(query::AccountsArgs),
    /// Serve a deployed stack's page on 127.0.0.1, signing each request with
    /// your AWS credentials (the API takes IAM-signed requests only).
    Proxy(proxy::Args),
}

impl Command {
    /// What is logged when neither -v nor RUST_LOG says: warnings, and for
    /// the servers one line per HTTP request.
    fn default_log_filter(&self) -> &'static str {
        match self {
            Self::Serve(_) => "warn,inventory_core::http=info",
            Self::Proxy(_) => "warn,inventory::proxy=info",
            _ => "warn",
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Logs go to stderr; stdout carries the results.
    let filter = match cli.verbose {
        0 => cli.command.default_log_filter(),
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Migrate(args) => migrate::run(args).await,
        Command::Replay(args) => replay::run(args).await,
        Command::Sync(args) => sync::run(args).await,
        Command::Get(args) => query::get(args).await,
        Command::Search(args) => query::search(args).await,
        Command::Packages(args) => query::packages(args).await,
        Command::History(args) => query::history(args).await,
        Command::Advisories(command) => advisories::run(command).await,
        Command::Vulnerabilities(args) => query::vulnerabilities(args).await,
        Command::Accounts(args) => query::accounts(args).await,
        Command::Proxy(args) => proxy::run(args).await,
    };
    // A reader that stopped reading (`| head`) is not a failure.
    match result {
        Err(e) if stdout_closed(&e) => Ok(()),
        other => other,
    }
}

/// Only stdout's own broken pipe: one of a connection is a failure.
fn stdout_closed(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<StdoutError>()
            .is_some_and(|out| out.0.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn every_flag_and_argument_has_a_help_line() {
        let mut cli = super::Cli::command();
        cli.build();
        for command in cli.get_subcommands() {
            for arg in command.get_arguments() {
                let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
                assert!(
                    !help.trim().is_empty(),
                    "inventory {} {} has no help line",
                    command.get_name(),
                    arg.get_id()
                );
            }
        }
    }
}
