//! The built `inventory` binary: `serve` over real HTTP, `migrate` against a
//! running local Data API, and the query commands finding `serve`'s stack
//! with no flags.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use data_api_local::{Config, Server, LOCAL_CLUSTER_ARN};
use serde_json::{json, Value};
use tokio::process::Command;

use crate::support::{http, migrate, operator, operator_command, Serve, TempDir, BIN};

#[tokio::test]
async fn serve_answers_over_http_and_stops_on_sigterm() {
    let dir = TempDir::new();
    let mut serve = Serve::start(&dir.0.join("inventory.db")).await;

    let input = json!({"aws_region": "us-east-1", "aws_account": "123456789012", "packages": [
        {"package_name": "package-1", "package_version": "v1"},
        {"package_name": "package-1", "package_version": "v1"}
    ]});
    let path = "/ec2/i-01aaae43feb712345";
    let post = || http(&serve.http, "POST", path, Some(&input));
    let (status, posted) = post().await;
    assert_eq!(status, 200, "{posted}");
    assert_eq!(posted["new_record"]["packages"], input["packages"]);

    let (status, got) = http(&serve.http, "GET", path, None).await;
    assert_eq!(status, 200);
    assert_eq!(got["record_found"], json!(true));
    assert_eq!(got["record"]["aws_account"], "123456789012");
    assert_eq!(
        got["record"]["packages"],
        json!([{"package_name": "package-1", "package_version": "v1"}])
    );
    let (status, again) = post().await;
    assert_eq!(status, 400, "{again}");
    assert!(again["request_id"].is_string());
    let (status, _) = http(&serve.http, "PATCH", "/ec2/i-1", None).await;
    assert_eq!(status, 405);

    // The operator's reads answer what the HTTP API answers.
    let cli_get = operator(&["get", "i-01aaae43feb712345"], &serve.data_api).await;
    assert_eq!(serde_json::from_str::<Value>(&cli_get).unwrap(), got);
    let cli_packages = operator(&["packages", "package-1"], &serve.data_api).await;
    let (_, packages) = http(&serve.http, "GET", "/packages/package-1", None).await;
    assert_eq!(
        serde_json::from_str::<Value>(&cli_packages).unwrap(),
        packages
    );
    assert_eq!(packages["versions"][0]["instances"], 1);
    let search = [
        "search",
        "--package-name",
        "package-1",
        "--aws-account",
        "123456789012",
    ];
    let cli_search: Value =
        serde_json::from_str(&operator(&search, &serve.data_api).await).unwrap();
    assert_eq!(
        cli_search["instances"][0]["aws_instance_id"],
        "i-01aaae43feb712345"
    );

    // The schema is there already: migrate through serve's Data API is a no-op, twice.
    for _ in 0..2 {
        assert_eq!(
            migrate(&serve.data_api).await.trim(),
            format!(
                "schema up to date at version {}",
                inventory_core::store::SCHEMA_VERSION
            )
        );
    }

    #[cfg(unix)]
    {
        let pid = serve.child.id().unwrap().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        assert!(killed.success());
        let status = tokio::time::timeout(Duration::from_secs(30), serve.child.wait())
            .await
            .expect("serve did not stop on SIGTERM")
            .unwrap();
        assert!(status.success(), "{status}");
    }
    #[cfg(not(unix))]
    serve.child.kill().await.unwrap();
}

#[tokio::test]
async fn migrate_applies_the_schema_once() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("fresh.db").display());
    let server = Server::start(Config::single(LOCAL_CLUSTER_ARN, url))
        .await
        .unwrap();
    let endpoint = server.endpoint_url();
    let first = migrate(&endpoint).await;
    assert!(
        first.starts_with("schema migrated from version 0 to "),
        "{first}"
    );
    let version = first.trim().rsplit(' ').next().unwrap().to_owned();
    let second = migrate(&endpoint).await;
    assert_eq!(
        second.trim(),
        format!("schema up to date at version {version}")
    );
    server.shutdown().await;
}

/// `inventory serve` in one terminal, then the query commands in another with
/// no flags, no credentials, region, ARNs or dialect: they find the stack.
/// Where they look by default is where `serve` listens by default
/// (127.0.0.1:8081): that is checked without binding the address, which
/// another `serve` may hold (the unit tests
/// `serve::tests::the_commands_look_where_serve_listens_by_default` and
/// `target::tests::no_flags_is_the_local_stack`). Here `serve` listens on
/// free ports, and the commands are told only where, in the variable every
/// AWS SDK reads.
#[tokio::test]
async fn query_commands_find_the_local_stack_with_no_flags() {
    let dir = TempDir::new();
    let serve = Serve::start(&dir.0.join("inventory.db")).await;
    let id = "i-0c0ffee0c0ffee001";
    let input = json!({"aws_region": "eu-west-1", "aws_account": "210987654321", "packages": [
        {"package_name": "openssl", "package_version": "3.0.11-1~deb12u2"},
        {"package_name": "curl", "package_version": "7.88.1-10+deb12u8"}
    ]});
    let (status, posted) = http(&serve.http, "POST", &format!("/ec2/{id}"), Some(&input)).await;
    assert_eq!(status, 200, "{posted}");

    let bare = |args: &'static [&'static str]| {
        let home = dir.0.clone();
        let endpoint = serve.data_api.clone();
        async move {
            let output = Command::new(BIN)
                .args(args)
                .env_clear()
                .env("HOME", home)
                .env("AWS_ENDPOINT_URL_RDS_DATA", endpoint)
                .output()
                .await
                .expect("run inventory");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "inventory {args:?}: {stderr}");
            serde_json::from_slice::<Value>(&output.stdout)
                .unwrap_or_else(|e| panic!("inventory {args:?}: {e}"))
        }
    };
    let (_, got) = http(&serve.http, "GET", &format!("/ec2/{id}"), None).await;
    assert_eq!(got["record"]["aws_account"], "210987654321");
    assert_eq!(bare(&["get", "i-0c0ffee0c0ffee001"]).await, got);

    let found = bare(&["search", "--package-name", "openssl"]).await;
    assert_eq!(found["instances"][0]["aws_instance_id"], id, "{found}");
    assert_eq!(found["instances"].as_array().unwrap().len(), 1, "{found}");

    let (_, versions) = http(&serve.http, "GET", "/packages/openssl", None).await;
    assert_eq!(versions["versions"][0]["instances"], 1, "{versions}");
    assert_eq!(bare(&["packages", "openssl"]).await, versions);
}

/// The fixture fleet's ids (`events/fixtures/fleet`): 7 EC2 instances over 3
/// `DescribeInstances` pages, 2 hybrid nodes over 2 SSM pages.
const FIXTURE_FLEET: [&str; 9] = [
    "i-09a8b7c6d5e4f3a21",
    "i-0a1b2c3d4e5f60718",
    "i-0b2c3d4e5f6071829",
    "i-0c3d4e5f60718293a",
    "i-0d4e5f60718293a4b",
    "i-0e5f60718293a4b5c",
    "i-0f1e2d3c4b5a69788",
    "mi-0123456789abcdef0",
    "mi-0fedcba9876543210",
];

#[tokio::test]
async fn sync_walks_the_fixture_fleet_run_after_run_to_the_end_of_a_pass() {
    let dir = TempDir::new();
    let serve = Serve::start(&dir.0.join("inventory.db")).await;
    migrate(&serve.data_api).await;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/fixtures");
    let fixtures = fixtures.to_str().unwrap();
    // A batch of 2 makes five runs of one pass: each resumes after the last.
    let sync = [
        "sync",
        "--fixtures",
        fixtures,
        "--fleet-batch",
        "2",
        "--json",
    ];
    let out = operator(&sync, &serve.data_api).await;
    // One line per scope walked in each run: the fixtures' own scope and the
    // five of events/fixtures/accounts/ (3 accounts x 2 regions in all).
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let scopes: BTreeSet<&str> = lines.iter().filter_map(|l| l["scope"].as_str()).collect();
    assert_eq!(scopes.len(), 6, "{out}");
    let runs: Vec<&Value> = lines
        .iter()
        .filter(|l| l["scope"] == "123456789012:us-east-1")
        .collect();
    assert_eq!(runs.len(), 5, "{out}");
    let visited: Vec<u64> = runs
        .iter()
        .map(|r| r["visited"].as_u64().unwrap())
        .collect();
    assert_eq!(visited, [2, 2, 2, 2, 1], "nothing visited twice: {out}");
    let recorded: u64 = runs.iter().map(|r| r["recorded"].as_u64().unwrap()).sum();
    assert_eq!(recorded, FIXTURE_FLEET.len() as u64, "{out}");
    assert_eq!(runs[4]["stopped"], "end-of-pass", "{out}");
    // Every other scope recorded its 2 or 3 instances once.
    let all_recorded: u64 = lines.iter().map(|l| l["recorded"].as_u64().unwrap()).sum();
    assert_eq!(all_recorded, FIXTURE_FLEET.len() as u64 + 12, "{out}");
    for id in FIXTURE_FLEET {
        let (status, got) = http(&serve.http, "GET", &format!("/ec2/{id}"), None).await;
        assert_eq!(
            (status, &got["record_found"]),
            (200, &json!(true)),
            "{id}: {got}"
        );
    }

    // A second pass in one run finds everything recorded and changes nothing.
    let out = operator(&["sync", "--fixtures", fixtures], &serve.data_api).await;
    assert!(
        out.contains("6 scopes walked in 1 runs: ") && out.contains(" 0 recorded, 0 states healed"),
        "{out}"
    );
    let calls = out
        .rsplit("; ")
        .next()
        .and_then(|t| t.strip_suffix(" Data API calls\n"))
        .and_then(|n| n.parse::<u64>().ok());
    assert!(calls > Some(0), "{out}");

    // A reader that stops reading (`| head`) ends the command quietly.
    let mut sync = operator_command(&["sync", "--fixtures", fixtures, "--json"], &serve.data_api);
    let mut child = sync
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run inventory");
    drop(child.stdout.take());
    let output = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && !stderr.contains("panicked"),
        "{:?}: {stderr}",
        output.status
    );
}

#[tokio::test]
async fn sync_from_aws_needs_the_aws_build_and_says_how() {
    let output = Command::new(BIN)
        .args(["sync", "--source", "aws", "--account", "123456789012"])
        .env_clear()
        .output()
        .await
        .expect("run inventory");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if cfg!(feature = "aws") {
        eprintln!("SKIPPED: built with --features aws, nothing to refuse");
        return;
    }
    assert!(!output.status.success());
    assert!(stderr.contains("--features aws"), "{stderr}");
}
