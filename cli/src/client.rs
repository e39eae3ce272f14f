//! Data API clients for the CLI's commands.

use aws_config::{BehaviorVersion, Region};

/// A client for a local endpoint: fixed region and dummy credentials (the
/// local Data API does not check signatures).
pub async fn local(endpoint_url: &str) -> aws_sdk_rdsdata::Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint_url)
        .region(Region::new("us-east-1"))
        .test_credentials()
        .load()
        .await;
    aws_sdk_rdsdata::Client::new(&config)
}

/// A client from the environment's AWS configuration, which also honours
/// `AWS_ENDPOINT_URL_RDS_DATA`; `endpoint_url` overrides the endpoint only.
pub async fn from_env(endpoint_url: Option<&str>) -> aws_sdk_rdsdata::Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    aws_sdk_rdsdata::Client::new(&loader.load().await)
}
