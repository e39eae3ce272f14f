//! A second, independent client: boto3's `rds-data` drives the endpoint (tests/boto3_client.py)
//! on every available backend. The interpreter is `INVENTORY_TEST_PYTHON` (CI points it at its
//! virtualenv), else `python3` on the PATH; without boto3 there the test is reported as skipped.

use crate::common;

use common::{kinds, optional, Harness, Kind};
use data_api_local::{LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN};

const PYTHON_VAR: &str = "INVENTORY_TEST_PYTHON";

/// The interpreter to run the client with, if it can import boto3. One named
/// in `INVENTORY_TEST_PYTHON` must: that is a setup error, not a skip.
async fn python_with_boto3() -> Option<String> {
    let chosen = std::env::var(PYTHON_VAR)
        .ok()
        .filter(|p| !p.trim().is_empty());
    let python = chosen.clone().unwrap_or_else(|| "python3".to_owned());
    let probe = tokio::process::Command::new(&python)
        .args(["-c", "import boto3"])
        .output()
        .await;
    match probe {
        Ok(out) if out.status.success() => Some(python),
        _ if chosen.is_some() => {
            panic!("{PYTHON_VAR}={python} cannot import boto3: {probe:?}")
        }
        _ => {
            optional::skipped(
                "the boto3 client test",
                "`python3 -m pip install boto3`, or set INVENTORY_TEST_PYTHON to a python with boto3",
            );
            None
        }
    }
}

/// The engine name the script picks its SQL by.
fn engine(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
        Kind::MySql => "mysql",
    }
}

#[tokio::test]
async fn boto3_client_passes() {
    let Some(python) = python_with_boto3().await else {
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/boto3_client.py");
    for kind in kinds() {
        let h = Harness::start(kind).await;
        let output = tokio::process::Command::new(&python)
            .arg(script)
            .arg(h.server().endpoint_url())
            .arg(LOCAL_CLUSTER_ARN)
            .arg(LOCAL_SECRET_ARN)
            .arg(engine(kind))
            // Keep the developer's AWS profile and endpoint settings out of the run.
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ENDPOINT_URL_RDS_DATA")
            .output()
            .await
            .expect("run the boto3 client");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{kind:?}: boto3 client failed ({}):\n{stdout}\n{stderr}",
            output.status
        );
        assert!(stdout.contains("all checks passed"), "{kind:?}: {stdout}");
        h.finish().await;
    }
}
