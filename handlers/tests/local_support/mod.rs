//! What the handler tests share to reach the local Data API: an SDK
//! configuration aimed at it, and the functions' settings for it.

#![allow(dead_code)] // each test binary uses its own part

pub mod xray_daemon;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use data_api_local::{LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN};
use inventory_core::config::{ENV_CLUSTER_ARN, ENV_DIALECT, ENV_SECRET_ARN};

/// The AWS configuration of a test: `endpoint` for every service, dummy
/// credentials (the local endpoint checks no signature), us-east-1.
pub async fn local_sdk(endpoint: String) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .test_credentials()
        .load()
        .await
}

/// A Data API client of the local endpoint at `endpoint`.
pub async fn local_rds(endpoint: String) -> aws_sdk_rdsdata::Client {
    aws_sdk_rdsdata::Client::new(&local_sdk(endpoint).await)
}

/// The functions' settings for the local cluster over SQLite.
pub fn settings(name: &str) -> Option<String> {
    match name {
        ENV_CLUSTER_ARN => Some(LOCAL_CLUSTER_ARN.into()),
        ENV_SECRET_ARN => Some(LOCAL_SECRET_ARN.into()),
        ENV_DIALECT => Some("sqlite".into()),
        _ => None,
    }
}
