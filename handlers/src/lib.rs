//! Shared start-up for the Lambda entrypoints: settings from the environment,
//! SDK clients built once per execution environment.
//!
//! Both binaries call [`start`] before handing control to the Lambda runtime:
//! a missing or bad setting stops the function at init with a log line naming
//! the variable, instead of failing every request.

pub mod custom_resource;
pub mod http_api;

use aws_config::{BehaviorVersion, SdkConfig};
use inventory_core::config::{self, ConfigError};
use inventory_core::store::{DbTarget, Store};

/// What every function builds once per execution environment.
#[derive(Debug, Clone)]
pub struct Startup {
    /// Region, credentials and endpoint overrides (`AWS_ENDPOINT_URL_RDS_DATA`,
    /// `AWS_ENDPOINT_URL_SSM`, ...) of the environment; build further SDK
    /// clients from it.
    pub sdk: SdkConfig,
    /// The store over the Data API target the settings name.
    pub store: Store,
}

/// Tracing, settings and the Data API store, read from the process environment.
pub async fn start() -> Result<Startup, ConfigError> {
    init_tracing();
    let started = start_with(config::from_env, load_aws_config()).await;
    if let Err(e) = &started {
        tracing::error!(error = %e, "cannot start: fix the function's environment");
    }
    started
}

/// [`start`] without tracing, over any settings lookup and AWS configuration.
/// Settings are checked before the AWS configuration is awaited.
pub async fn start_with(
    lookup: impl Fn(&str) -> Option<String>,
    sdk: impl std::future::Future<Output = SdkConfig>,
) -> Result<Startup, ConfigError> {
    let target = config::db_target(lookup)?;
    let sdk = sdk.await;
    let store = store(&sdk, target);
    Ok(Startup { sdk, store })
}

/// Logs the way the Lambda runtime expects: JSON lines when the function's log
/// format is JSON (`AWS_LAMBDA_LOG_FORMAT`), the level from
/// `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, INFO otherwise.
pub fn init_tracing() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// The environment's AWS configuration, loaded once per execution environment.
pub async fn load_aws_config() -> SdkConfig {
    aws_config::load_defaults(BehaviorVersion::latest()).await
}

fn store(sdk: &SdkConfig, target: DbTarget) -> Store {
    Store::new(aws_sdk_rdsdata::Client::new(sdk), target)
}
