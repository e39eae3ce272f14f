//! A local endpoint speaking the RDS Data API wire protocol (restJson1, as the AWS SDKs send it)
//! over an embedded SQLite file, PostgreSQL or MySQL/MariaDB.
//!
//! ```no_run
//! # async fn demo() -> Result<(), data_api_local::Error> {
//! use data_api_local::{Config, Server, LOCAL_CLUSTER_ARN};
//! let server = Server::start(Config::single(LOCAL_CLUSTER_ARN, "sqlite::memory:")).await?;
//! println!("Data API at {}", server.endpoint_url());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod backend;
mod config;
mod dialect;
mod errors;
mod lexer;
mod limits;
mod metrics;
mod params;
mod pause;
mod protocol;
mod server;
mod service;
mod statements;
mod transactions;
mod values;

pub use config::{ClusterConfig, Config, ConfigFile, DEFAULT_MAX_CONNECTIONS};
pub use errors::Error;
pub use limits::{MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, MAX_ROW_BYTES, MAX_SQL_CHARS};
pub use pause::RESUME_DURATION;
pub use server::Server;

/// The cluster ARN served by default (`--resource-arn`, [`Config::default`]).
pub const LOCAL_CLUSTER_ARN: &str = "arn:aws:rds:us-east-1:123456789012:cluster:local";
/// A secret ARN to pass with calls; the default cluster does not check it.
pub const LOCAL_SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:local";
