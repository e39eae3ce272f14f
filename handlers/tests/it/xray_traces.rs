//! X-Ray subsegments as the X-Ray daemon receives them: a UDP socket on
//! 127.0.0.1 stands in for the daemon and captures every document.
//!
//! The state-change handler runs in process as its binary builds it (start-up
//! with tracing on, traced SSM and EC2 clients) on the replayed
//! `events/ec2-running.json`, against the local Data API; SSM and EC2 answer
//! from `events/fixtures` through `aws-smithy-mocks`. Each Data API call must
//! show up as exactly one subsegment of the invocation's trace.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ec2::types::{Instance, InstanceType, Reservation, Tag};
use aws_sdk_ssm::operation::list_inventory_entries::ListInventoryEntriesOutput;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use data_api_local::{Config, Server, LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN};
use inventory_core::config::SyncSettings;
use inventory_core::events::EventHandler;
use inventory_core::sources::ec2::Ec2InstanceSource;
use inventory_core::sources::ssm::SsmPackageSource;
use inventory_handlers::{start_with, Xray};
use serde_json::Value;

const ROOT: &str = "1-5759e988-bd862e3fe1be46a994272793";
const PARENT: &str = "53995c3f42cd8ad8";

fn repo_file(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn sampled(parent: &str, flag: &str) -> impl Fn() -> Option<String> + Send + Sync + 'static {
    let header = format!("Root={ROOT};Parent={parent};Sampled={flag}");
    move || Some(header.clone())
}

use crate::local_support;

use local_support::xray_daemon::{subsegments_of, Daemon};
use local_support::{local_sdk, settings};

/// `ListInventoryEntries` answered from `events/fixtures/ssm/<id>/page-N.json`,
/// following the pages' `NextToken`s.
fn ssm_from_fixtures(id: &str, xray: &Xray) -> aws_sdk_ssm::Client {
    let mut pages: HashMap<Option<String>, ListInventoryEntriesOutput> = HashMap::new();
    let mut token: Option<String> = None;
    for n in 1.. {
        let path = format!("events/fixtures/ssm/{id}/page-{n}.json");
        let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(&path);
        if !full.exists() {
            break;
        }
        let page: Value = serde_json::from_str(&repo_file(&path)).unwrap();
        let entries: Vec<HashMap<String, String>> =
            serde_json::from_value(page["Entries"].clone()).unwrap();
        let next = page["NextToken"].as_str().map(str::to_owned);
        let output = ListInventoryEntriesOutput::builder()
            .instance_id(id)
            .type_name("AWS:Application")
            .capture_time(page["CaptureTime"].as_str().unwrap())
            .set_entries(Some(entries))
            .set_next_token(next.clone())
            .build();
        pages.insert(token, output);
        token = next;
    }
    assert!(!pages.is_empty(), "no SSM fixtures for {id}");
    let pages = Arc::new(pages);
    let rule = mock!(aws_sdk_ssm::Client::list_inventory_entries).then_compute_output(move |req| {
        pages
            .get(&req.next_token().map(str::to_owned))
            .cloned()
            .expect("a page for this token")
    });
    mock_client!(aws_sdk_ssm, RuleMode::MatchAny, [&rule], |b| b
        .interceptor(xray.interceptor("SSM")))
}

/// `DescribeInstances` answered from `events/fixtures/ec2/<id>.json`.
fn ec2_from_fixtures(id: &str, xray: &Xray) -> aws_sdk_ec2::Client {
    let file: Value =
        serde_json::from_str(&repo_file(&format!("events/fixtures/ec2/{id}.json"))).unwrap();
    let i = &file["Reservations"][0]["Instances"][0];
    let text = |key: &str| i[key].as_str().unwrap().to_string();
    let launched = chrono::DateTime::parse_from_rfc3339(&text("LaunchTime"))
        .expect("an RFC 3339 time")
        .timestamp();
    let instance = Instance::builder()
        .instance_id(text("InstanceId"))
        .image_id(text("ImageId"))
        .instance_type(InstanceType::from(text("InstanceType").as_str()))
        .launch_time(aws_smithy_types::DateTime::from_secs(launched))
        .set_tags(Some(
            i["Tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    Tag::builder()
                        .key(t["Key"].as_str().unwrap())
                        .value(t["Value"].as_str().unwrap())
                        .build()
                })
                .collect(),
        ))
        .build();
    let reservation = Reservation::builder().instances(instance).build();
    let rule = mock!(aws_sdk_ec2::Client::describe_instances).then_output(move || {
        aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput::builder()
            .reservations(reservation.clone())
            .build()
    });
    mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&rule], |b| b
        .interceptor(xray.interceptor("EC2")))
}

#[tokio::test]
async fn a_replayed_running_event_traces_every_call() {
    let daemon = Daemon::start().await;
    let xray = Xray::new(daemon.addr(), sampled(PARENT, "1")).unwrap();
    let server = Server::start(Config::single(LOCAL_CLUSTER_ARN, "sqlite::memory:"))
        .await
        .expect("local Data API");
    let startup = start_with(
        settings,
        local_sdk(server.endpoint_url()),
        Some(xray.clone()),
    )
    .await
    .expect("start-up");
    startup.store.migrate().await.expect("schema");
    let event: Value = serde_json::from_str(&repo_file("events/ec2-running.json")).unwrap();
    let id = event["detail"]["instance-id"].as_str().unwrap().to_string();
    let handler = EventHandler::new(
        startup.store.clone(),
        SsmPackageSource::new(ssm_from_fixtures(&id, &xray)),
        Ec2InstanceSource::new(ec2_from_fixtures(&id, &xray)),
        SyncSettings::default(),
    );
    let before = daemon.documents().await.len() as u64;
    let calls_before = startup.store.data_api_calls();
    assert_eq!(before, calls_before, "one subsegment per migration call");

    let outcome = handler.handle_json(event).await.expect("event handled");
    let calls = startup.store.data_api_calls() - calls_before;
    let docs = daemon.documents().await;

    let data_api = subsegments_of(&docs, "RDSData");
    println!(
        "running event: {calls} Data API calls, {} subsegments ({} RDSData)",
        docs.len(),
        data_api.len()
    );
    assert!(calls > 0, "{outcome:?}");
    assert_eq!(
        data_api.len() as u64,
        calls,
        "one subsegment per Data API call"
    );
    let ssm = subsegments_of(&docs, "SSM");
    let ec2 = subsegments_of(&docs, "EC2");
    assert!(
        // At most 6 pages of packages and the OS's listing.
        !ssm.is_empty() && ssm.len() <= 7,
        "{} SSM subsegments",
        ssm.len()
    );
    assert_eq!(ec2.len(), 1);
    assert_eq!(
        docs.len(),
        data_api.len() + ssm.len() + ec2.len(),
        "{docs:#?}"
    );
    let mut ids: Vec<&str> = docs.iter().map(|d| d["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), docs.len(), "subsegment ids repeat");
    for d in &docs {
        assert_eq!(d["type"], "subsegment", "{d}");
        assert_eq!(d["trace_id"], ROOT, "{d}");
        assert_eq!(d["parent_id"], PARENT, "{d}");
        assert_eq!(d["namespace"], "aws", "{d}");
        assert_eq!(d["aws"]["region"], "us-east-1", "{d}");
        assert_eq!(d["aws"]["retries"], 0, "{d}");
        assert!(d.get("error").is_none() && d.get("fault").is_none(), "{d}");
        let (start, end) = (
            d["start_time"].as_f64().unwrap(),
            d["end_time"].as_f64().unwrap(),
        );
        assert!(start > 1.0e9 && end >= start, "{d}");
    }
    for d in &data_api {
        // (SSM and EC2 are answered by mocks, whose HTTP status means nothing.)
        assert_eq!(d["http"]["response"]["status"], 200, "{d}");
        let op = d["aws"]["operation"].as_str().unwrap();
        assert!(
            [
                "ExecuteStatement",
                "BatchExecuteStatement",
                "BeginTransaction",
                "CommitTransaction",
                "RollbackTransaction"
            ]
            .contains(&op),
            "{d}"
        );
    }
    assert!(ssm
        .iter()
        .all(|d| d["aws"]["operation"] == "ListInventoryEntries"));
    assert_eq!(ec2[0]["aws"]["operation"], "DescribeInstances");
}

/// A failed call is a subsegment with the error flag, the HTTP status and the
/// error's type, but never its message (it may quote SQL).
#[tokio::test]
async fn a_failed_call_is_flagged_without_its_message() {
    let daemon = Daemon::start().await;
    let xray = Xray::new(daemon.addr(), sampled(PARENT, "1")).unwrap();
    let server = Server::start(Config::single(LOCAL_CLUSTER_ARN, "sqlite::memory:"))
        .await
        .expect("local Data API");
    let sdk = local_sdk(server.endpoint_url()).await;
    let client = inventory_handlers::rds_data_client(&sdk, Some(&xray));
    let secret_sql = "SELECT * FROM no_such_table WHERE password = 'hunter2hunter2'";
    let err = client
        .execute_statement()
        .resource_arn(LOCAL_CLUSTER_ARN)
        .secret_arn(LOCAL_SECRET_ARN)
        .sql(secret_sql)
        .send()
        .await
        .expect_err("no such table");
    let docs = daemon.documents().await;
    assert_eq!(docs.len(), 1, "{docs:#?}");
    let d = &docs[0];
    assert_eq!(d["error"], true, "{d}");
    assert!(d.get("fault").is_none(), "{d}");
    let status = d["http"]["response"]["status"].as_u64().unwrap();
    assert!((400..500).contains(&status), "{d}");
    assert_eq!(d["aws"]["operation"], "ExecuteStatement");
    let text = d.to_string();
    assert!(
        !text.contains("hunter2") && !text.contains("no_such_table"),
        "{text}"
    );
    assert!(format!("{err:?}").contains("no_such_table") || status == 400);
}

/// SDK retries are counted on the one subsegment of the operation.
#[tokio::test]
async fn retries_are_counted_on_one_subsegment() {
    use aws_sdk_ssm::config::retry::RetryConfig;
    use aws_smithy_mocks::{create_mock_http_client, MockResponseInterceptor};
    let daemon = Daemon::start().await;
    let xray = Xray::new(daemon.addr(), sampled(PARENT, "1")).unwrap();
    let rule = mock!(aws_sdk_ssm::Client::list_inventory_entries)
        .sequence()
        .http_status(503, None)
        .times(2)
        .output(|| ListInventoryEntriesOutput::builder().build())
        .build();
    let config = aws_sdk_ssm::Config::builder()
        .with_test_defaults_v2()
        .http_client(create_mock_http_client())
        .interceptor(MockResponseInterceptor::new().with_rule(&rule))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .interceptor(xray.interceptor("SSM"))
        .build();
    aws_sdk_ssm::Client::from_conf(config)
        .list_inventory_entries()
        .instance_id("i-0a1b2c3d4e5f60718")
        .send()
        .await
        .expect("third attempt succeeds");
    let docs = daemon.documents().await;
    assert_eq!(docs.len(), 1, "{docs:#?}");
    assert_eq!(docs[0]["aws"]["retries"], 2, "{}", docs[0]);
    assert!(docs[0].get("error").is_none(), "{}", docs[0]);
}

/// Locally nothing is sent unless asked: no daemon address, no interceptor;
/// an unsampled trace, no document.
#[tokio::test]
async fn nothing_is_sent_unless_asked() {
    let daemon = Daemon::start().await;
    let server = Server::start(Config::single(LOCAL_CLUSTER_ARN, "sqlite::memory:"))
        .await
        .expect("local Data API");
    let unsampled = Xray::new(daemon.addr(), sampled(PARENT, "0")).unwrap();
    let no_header = Xray::new(daemon.addr(), || None).unwrap();
    for xray in [None, Some(unsampled), Some(no_header)] {
        let startup = start_with(settings, local_sdk(server.endpoint_url()), xray)
            .await
            .expect("start-up");
        startup.store.migrate().await.expect("schema");
        assert!(startup.store.data_api_calls() > 0);
    }
    assert!(daemon.documents().await.is_empty());
    // The binaries decide from the environment; this test process has no daemon.
    if std::env::var(inventory_handlers::xray::ENV_DAEMON_ADDRESS).is_err() {
        assert!(Xray::from_env().is_none());
    }
}
