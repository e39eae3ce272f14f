//! Shared start-up for the Lambda entrypoints: settings from the environment,
//! SDK clients built once per execution environment.
//!
//! Both binaries call [`start`] before handing control to the Lambda runtime:
//! a missing or bad setting stops the function at init with a log line naming
//! the variable, instead of failing every request.

pub mod advisories_fetch;
pub mod custom_resource;
pub mod http_api;
pub mod scopes;
pub mod xray;

use aws_config::{BehaviorVersion, SdkConfig};
use inventory_core::config::{self, ConfigError};
use inventory_core::store::Store;
pub use xray::Xray;

/// What every function builds once per execution environment.
#[derive(Debug, Clone)]
pub struct Startup {
    /// Region, credentials and endpoint overrides (`AWS_ENDPOINT_URL_RDS_DATA`,
    /// `AWS_ENDPOINT_URL_SSM`, ...) of the environment; build further SDK
    /// clients from it.
    pub sdk: SdkConfig,
    /// The store over the Data API target the settings name.
    pub store: Store,
    /// X-Ray, when the environment has a daemon (Lambda with active tracing).
    pub xray: Option<Xray>,
}

impl Startup {
    /// An SSM client, traced like the store's Data API client.
    pub fn ssm_client(&self) -> aws_sdk_ssm::Client {
        ssm_client(&self.sdk, self.xray.as_ref())
    }

    /// An EC2 client, traced like the store's Data API client.
    pub fn ec2_client(&self) -> aws_sdk_ec2::Client {
        ec2_client(&self.sdk, self.xray.as_ref())
    }
}

/// Tracing, settings and the Data API store, read from the process environment.
pub async fn start() -> Result<Startup, ConfigError> {
    init_tracing();
    let started = start_with(config::from_env, load_aws_config(), Xray::from_env()).await;
    if let Err(e) = &started {
        tracing::error!(error = %e, "cannot start: fix the function's environment");
    }
    started
}

/// [`start`] without the log subscriber, over any settings lookup, AWS
/// configuration and X-Ray daemon. Settings are checked before the AWS
/// configuration is awaited.
pub async fn start_with(
    lookup: impl Fn(&str) -> Option<String>,
    sdk: impl std::future::Future<Output = SdkConfig>,
    xray: Option<Xray>,
) -> Result<Startup, ConfigError> {
    let target = config::db_target(lookup)?;
    let sdk = sdk.await;
    let store = Store::new(rds_data_client(&sdk, xray.as_ref()), target);
    Ok(Startup { sdk, store, xray })
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

/// A client of the service crate `$sdk` from `$config`, with the X-Ray
/// interceptor when tracing is on: every call of it becomes a subsegment.
macro_rules! traced_client {
    ($sdk:ident, $config:expr, $xray:expr, $service:literal) => {{
        let mut builder = $sdk::config::Builder::from($config);
        if let Some(xray) = $xray {
            builder = builder.interceptor(xray.interceptor($service));
        }
        $sdk::Client::from_conf(builder.build())
    }};
}

pub fn rds_data_client(sdk: &SdkConfig, xray: Option<&Xray>) -> aws_sdk_rdsdata::Client {
    traced_client!(aws_sdk_rdsdata, sdk, xray, "RDSData")
}

pub fn ssm_client(sdk: &SdkConfig, xray: Option<&Xray>) -> aws_sdk_ssm::Client {
    traced_client!(aws_sdk_ssm, sdk, xray, "SSM")
}

pub fn ec2_client(sdk: &SdkConfig, xray: Option<&Xray>) -> aws_sdk_ec2::Client {
    traced_client!(aws_sdk_ec2, sdk, xray, "EC2")
}

pub fn secrets_client(sdk: &SdkConfig, xray: Option<&Xray>) -> aws_sdk_secretsmanager::Client {
    traced_client!(aws_sdk_secretsmanager, sdk, xray, "SecretsManager")
}
