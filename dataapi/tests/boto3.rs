//! A second, independent client: boto3's `rds-data` drives the endpoint (tests/boto3_client.py).
//! Fails when python3 or boto3 is missing: CI installs boto3 with pip.

mod common;

use common::{Harness, Kind};
use data_api_local::{LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN};

#[tokio::test]
async fn boto3_client_passes() {
    let h = Harness::start(Kind::Sqlite).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/boto3_client.py");
    let output = tokio::process::Command::new("python3")
        .arg(script)
        .arg(h.server().endpoint_url())
        .arg(LOCAL_CLUSTER_ARN)
        .arg(LOCAL_SECRET_ARN)
        // Keep the developer's AWS profile and endpoint settings out of the run.
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_RDS_DATA")
        .output()
        .await
        .expect("python3 must be installed to run the boto3 client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "boto3 client failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
    h.finish().await;
}
