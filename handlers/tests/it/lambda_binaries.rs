//! The built Lambda binaries, run as Lambda runs them, with tracing on: each
//! binary polls a stand-in Lambda Runtime API on 127.0.0.1 for one
//! invocation whose trace header is sampled, reaches the local Data API, SSM
//! and EC2 through the endpoints the AWS SDK reads from the environment (SSM
//! and EC2 are a stand-in speaking their wire protocols, answering from
//! `events/fixtures`), and sends its X-Ray subsegments to a UDP socket that
//! stands in for the daemon. Each Data API call must be one `RDSData`
//! subsegment of the invocation's trace.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use data_api_local::{Config, Server, LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN};
use inventory_handlers::start_with;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::process::Command;
use tokio::sync::{mpsc, Mutex as AsyncMutex};

use crate::local_support;

#[path = "../../../test-support/feed_server.rs"]
// The core tests use the rest (cut bodies, the requests seen).
#[allow(dead_code)]
mod feed_server;

use feed_server::{FeedServer, Served};

use local_support::xray_daemon::{subsegments_of, Daemon};
use local_support::{local_sdk, settings};

const ROOT: &str = "1-6744a0c0-5759e988bd862e3fe1be46a9";
const PARENT: &str = "53995c3f42cd8ad8";
const WAIT: Duration = Duration::from_secs(60);

fn repo_path(path: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

fn repo_json(path: &str) -> Value {
    let full = repo_path(path);
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

// ------------------------------------------------------ Lambda Runtime API

/// What the function answered for the invocation: its response, or the
/// error it reported (to the invocation or at start-up).
type Answer = Result<Value, Value>;

/// A Runtime API that hands out one invocation, then keeps the next poll
/// waiting (as Lambda does between invocations) and reports the answer.
#[derive(Clone)]
struct RuntimeApi {
    event: Arc<AsyncMutex<Option<Value>>>,
    answers: mpsc::UnboundedSender<Answer>,
}

const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

async fn next_invocation(State(api): State<RuntimeApi>) -> Response {
    let Some(event) = api.event.lock().await.take() else {
        // The function waits here until the test stops it.
        std::future::pending::<()>().await;
        unreachable!();
    };
    let deadline = chrono::Utc::now().timestamp_millis() + 300_000;
    (
        [
            ("lambda-runtime-aws-request-id", REQUEST_ID.to_owned()),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            (
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:under-test".to_owned(),
            ),
            (
                "lambda-runtime-trace-id",
                format!("Root={ROOT};Parent={PARENT};Sampled=1"),
            ),
        ],
        axum::Json(event),
    )
        .into_response()
}

async fn invocation_answer(
    State(api): State<RuntimeApi>,
    Path((id, kind)): Path<(String, String)>,
    body: Bytes,
) -> StatusCode {
    assert_eq!(id, REQUEST_ID);
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answer = match kind.as_str() {
        "response" => Ok(value),
        _ => Err(value),
    };
    let _ = api.answers.send(answer);
    StatusCode::ACCEPTED
}

async fn init_error(State(api): State<RuntimeApi>, body: Bytes) -> StatusCode {
    let _ = api
        .answers
        .send(Err(serde_json::from_slice(&body).unwrap_or(Value::Null)));
    StatusCode::ACCEPTED
}

async fn runtime_api(event: Value) -> (SocketAddr, mpsc::UnboundedReceiver<Answer>) {
    let (answers, received) = mpsc::unbounded_channel();
    let api = RuntimeApi {
        event: Arc::new(AsyncMutex::new(Some(event))),
        answers,
    };
    let router = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route(
            "/2018-06-01/runtime/invocation/{id}/{kind}",
            post(invocation_answer),
        )
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(api);
    (serve(router).await, received)
}

// ------------------------------------------------------------ SSM and EC2

/// SSM (JSON 1.1, `X-Amz-Target`) and EC2 (query protocol, XML answers) on
/// one endpoint, answering from `events/fixtures`; counts the calls.
#[derive(Clone, Default)]
struct AwsStandIn {
    calls: Arc<Mutex<Vec<String>>>,
}

async fn aws_call(State(aws): State<AwsStandIn>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match target.as_deref() {
        Some("AmazonSSM.ListInventoryEntries") => {
            aws.calls
                .lock()
                .unwrap()
                .push("ListInventoryEntries".into());
            let request: Value = serde_json::from_slice(&body).unwrap();
            ssm_page(&request)
        }
        Some(other) => (StatusCode::BAD_REQUEST, format!("unexpected {other}")).into_response(),
        None => {
            let form: HashMap<String, String> =
                url::form_urlencoded::parse(&body).into_owned().collect();
            assert_eq!(
                form.get("Action").map(String::as_str),
                Some("DescribeInstances")
            );
            aws.calls.lock().unwrap().push("DescribeInstances".into());
            ec2_describe(&form["InstanceId.1"])
        }
    }
}

/// The fixture page the request's `NextToken` points to (none: page 1).
fn ssm_page(request: &Value) -> Response {
    let id = request["InstanceId"].as_str().unwrap();
    let mut wanted = request["NextToken"].as_str().map(str::to_owned);
    for n in 1.. {
        let path = format!("events/fixtures/ssm/{id}/page-{n}.json");
        if !repo_path(&path).exists() {
            break;
        }
        let page = repo_json(&path);
        if wanted.is_none() {
            let mut answer = page.clone();
            answer["InstanceId"] = id.into();
            answer["TypeName"] = "AWS:Application".into();
            return (
                [("content-type", "application/x-amz-json-1.1")],
                answer.to_string(),
            )
                .into_response();
        }
        if page["NextToken"].as_str() == wanted.as_deref() {
            wanted = None;
        }
    }
    (StatusCode::BAD_REQUEST, "no such page").into_response()
}

/// `DescribeInstances` of one instance in EC2's XML, from its fixture.
fn ec2_describe(id: &str) -> Response {
    let file = repo_json(&format!("events/fixtures/ec2/{id}.json"));
    let i = &file["Reservations"][0]["Instances"][0];
    let text = |key: &str| i[key].as_str().unwrap().to_owned();
    let tags: String = i["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "<item><key>{}</key><value>{}</value></item>",
                t["Key"].as_str().unwrap(),
                t["Value"].as_str().unwrap()
            )
        })
        .collect();
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
<requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
<reservationSet><item><reservationId>r-1</reservationId><ownerId>123456789012</ownerId>
<instancesSet><item><instanceId>{id}</instanceId><imageId>{image}</imageId>
<instanceState><code>16</code><name>running</name></instanceState>
<instanceType>{itype}</instanceType><launchTime>{launch}</launchTime>
<platformDetails>{platform}</platformDetails><tagSet>{tags}</tagSet></item></instancesSet>
</item></reservationSet></DescribeInstancesResponse>"#,
        image = text("ImageId"),
        itype = text("InstanceType"),
        launch = text("LaunchTime"),
        platform = text("PlatformDetails"),
    );
    ([("content-type", "text/xml;charset=UTF-8")], xml).into_response()
}

// ----------------------------------------------------------------- the run

/// The stand-ins around one binary.
struct Stage {
    data_api: Server,
    aws: AwsStandIn,
    aws_addr: SocketAddr,
    daemon: Daemon,
}

impl Stage {
    async fn new() -> Self {
        let data_api = Server::start(Config::single(LOCAL_CLUSTER_ARN, "sqlite::memory:"))
            .await
            .expect("local Data API");
        let aws = AwsStandIn::default();
        let aws_addr = serve(
            Router::new()
                .route("/", post(aws_call))
                .with_state(aws.clone()),
        )
        .await;
        let daemon = Daemon::start().await;
        let stage = Self {
            data_api,
            aws,
            aws_addr,
            daemon,
        };
        // The schema, as the deploy's schema function applies it.
        let startup = start_with(settings, local_sdk(stage.data_api.endpoint_url()), None)
            .await
            .expect("start-up");
        startup.store.migrate().await.expect("schema");
        stage
    }

    /// Runs `binary` for one invocation with `event`; its answer and the
    /// subsegments it sent.
    async fn invoke(&self, binary: &str, event: Value) -> (Answer, Vec<Value>) {
        self.invoke_with(binary, event, &[]).await
    }

    /// [`Stage::invoke`] with more environment variables.
    async fn invoke_with(
        &self,
        binary: &str,
        event: Value,
        env: &[(&str, &str)],
    ) -> (Answer, Vec<Value>) {
        let (runtime, mut answers) = runtime_api(event).await;
        let aws = format!("http://{}", self.aws_addr);
        let mut child = Command::new(binary)
            .env_clear()
            .envs(env.iter().copied())
            .env("AWS_LAMBDA_RUNTIME_API", runtime.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "under-test")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_XRAY_DAEMON_ADDRESS", self.daemon.addr().to_string())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "test-secret")
            .env("AWS_ENDPOINT_URL_RDS_DATA", self.data_api.endpoint_url())
            .env("AWS_ENDPOINT_URL_SSM", &aws)
            .env("AWS_ENDPOINT_URL_EC2", &aws)
            .env("INVENTORY_CLUSTER_ARN", LOCAL_CLUSTER_ARN)
            .env("INVENTORY_SECRET_ARN", LOCAL_SECRET_ARN)
            .env("INVENTORY_DIALECT", "sqlite")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{binary}: {e}"));
        let answer = tokio::time::timeout(WAIT, answers.recv()).await;
        let docs = self.daemon.documents().await;
        child.start_kill().unwrap();
        let output = child.wait_with_output().await.unwrap();
        let log = String::from_utf8_lossy(&output.stderr);
        let answer = answer
            .unwrap_or_else(|_| panic!("{binary} did not answer in time:\n{log}"))
            .unwrap_or_else(|| panic!("{binary} answered nothing:\n{log}"));
        (answer, docs)
    }
}

/// Every document is a subsegment of the invocation's trace, ids unique.
fn check_subsegments(docs: &[Value]) {
    let mut ids: Vec<&str> = docs.iter().map(|d| d["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), docs.len(), "subsegment ids repeat: {docs:#?}");
    for d in docs {
        assert_eq!(d["type"], "subsegment", "{d}");
        assert_eq!(d["trace_id"], ROOT, "{d}");
        assert_eq!(d["parent_id"], PARENT, "{d}");
        assert_eq!(d["namespace"], "aws", "{d}");
        assert_eq!(d["aws"]["region"], "us-east-1", "{d}");
        assert!(d.get("error").is_none() && d.get("fault").is_none(), "{d}");
        assert_eq!(d["http"]["response"]["status"], 200, "{d}");
    }
}

#[tokio::test]
async fn state_change_binary_traces_each_call_of_a_replayed_running_event() {
    let stage = Stage::new().await;
    let event = repo_json("events/ec2-running.json");
    let id = event["detail"]["instance-id"].as_str().unwrap().to_owned();
    let (answer, docs) = stage
        .invoke(env!("CARGO_BIN_EXE_state-change"), event)
        .await;
    let outcome = answer.unwrap_or_else(|e| panic!("the event failed: {e}"));
    let calls = outcome["data_api_calls"].as_u64().expect("a call count");
    let written = &outcome["instances"][0]["packages"];
    assert_eq!(
        outcome["instances"][0]["instance_id"],
        id.as_str(),
        "{outcome}"
    );
    assert_eq!(written["result"], "written", "{outcome}");
    assert_eq!(written["count"], 300, "{outcome}");

    let data_api = subsegments_of(&docs, "RDSData");
    let (ssm, ec2) = (subsegments_of(&docs, "SSM"), subsegments_of(&docs, "EC2"));
    let aws_calls = stage.aws.calls.lock().unwrap().clone();
    println!(
        "state-change binary, running event: {calls} Data API calls, {} RDSData, {} SSM, {} EC2 \
         subsegments; stand-in calls {aws_calls:?}",
        data_api.len(),
        ssm.len(),
        ec2.len()
    );
    assert!(calls > 0, "{outcome}");
    assert_eq!(
        data_api.len() as u64,
        calls,
        "one subsegment per Data API call"
    );
    let pages = aws_calls
        .iter()
        .filter(|c| *c == "ListInventoryEntries")
        .count();
    // 300 packages are 6 fixture pages, and the OS one listing more.
    assert_eq!(pages, 7, "{aws_calls:?}");
    assert_eq!(ssm.len(), pages, "one subsegment per SSM call");
    assert_eq!(ec2.len(), 1, "one DescribeInstances");
    assert_eq!(
        docs.len(),
        data_api.len() + ssm.len() + ec2.len(),
        "{docs:#?}"
    );
    check_subsegments(&docs);
    assert!(ssm
        .iter()
        .all(|d| d["aws"]["operation"] == "ListInventoryEntries"));
    assert_eq!(ec2[0]["aws"]["operation"], "DescribeInstances");

    // What the binary stored came through the real SDK's parsing of the
    // stand-ins' wire formats.
    let (answer, docs) = stage
        .invoke(
            env!("CARGO_BIN_EXE_http-api"),
            api_gateway_get(&format!("/ec2/{id}")),
        )
        .await;
    let response = answer.unwrap_or_else(|e| panic!("GET failed: {e}"));
    assert_eq!(response["statusCode"], 200, "{response}");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    let record = &body["record"];
    assert_eq!(record["instance_type"], "t3.medium", "{body}");
    assert_eq!(record["packages"].as_array().unwrap().len(), 300);
    // A GET is one Data API call, so one subsegment.
    println!(
        "http-api binary, GET /ec2/{{id}}: {} subsegments",
        docs.len()
    );
    assert_eq!(subsegments_of(&docs, "RDSData").len(), 1, "{docs:#?}");
    assert_eq!(docs.len(), 1, "{docs:#?}");
    check_subsegments(&docs);
}

/// `events/apigw-get-instance.json` with another path.
fn api_gateway_get(path: &str) -> Value {
    let mut event = repo_json("events/apigw-get-instance.json");
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
    event["pathParameters"] = json!({"id": path.rsplit('/').next().unwrap()});
    event
}

/// The scheduled advisory import as Lambda runs it, against a stand-in of
/// OSV's bucket: the first run imports and answers what it did, with a
/// subsegment per Data API call; a feed answering 500 fails the invocation
/// (`FeedFailed`, which the function's Errors alarm counts).
#[tokio::test]
async fn advisories_fetch_binary_imports_and_fails_the_invocation_on_a_failed_feed() {
    use std::io::Write;
    let stage = Stage::new().await;
    let (feeds, base) = FeedServer::start().await;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let record = repo_path("events/advisories/osv/TOUR-2026-0001.json");
    zip.start_file(
        "TOUR-2026-0001.json",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    zip.write_all(&std::fs::read(record).unwrap()).unwrap();
    feeds.put("/osv/Debian/all.zip", zip.finish().unwrap().into_inner());
    let work_dir = std::env::temp_dir().join(format!("inventory-fetch-bin-{}", std::process::id()));
    std::fs::create_dir_all(&work_dir).unwrap();
    let osv = format!("{base}/osv");
    let env = [
        ("INVENTORY_ADVISORY_FEEDS", "osv:Debian"),
        ("INVENTORY_OSV_BASE_URL", osv.as_str()),
        ("INVENTORY_FEED_DIR", work_dir.to_str().unwrap()),
    ];
    let schedule = repo_json("events/scheduled-sync.json");
    let binary = env!("CARGO_BIN_EXE_advisories-fetch");

    let (answer, docs) = stage.invoke_with(binary, schedule.clone(), &env).await;
    let outcome = answer.unwrap_or_else(|e| panic!("the run failed: {e}"));
    assert_eq!(outcome["feeds"][0]["feed"], "osv:Debian", "{outcome}");
    assert_eq!(outcome["feeds"][0]["result"], "imported", "{outcome}");
    assert_eq!(outcome["feeds"][0]["imported"], 1, "{outcome}");
    let calls = outcome["data_api_calls"].as_u64().unwrap();
    println!(
        "advisories-fetch binary, first run: {calls} Data API calls, {} subsegments",
        docs.len()
    );
    assert_eq!(
        subsegments_of(&docs, "RDSData").len() as u64,
        calls,
        "{docs:#?}"
    );
    check_subsegments(&docs);

    feeds.set(
        "/osv/Debian/all.zip",
        Served::Error(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
    );
    let (answer, _) = stage.invoke_with(binary, schedule, &env).await;
    let failure = answer.expect_err("a failed feed fails the invocation");
    assert_eq!(failure["errorType"], "FeedFailed", "{failure}");
    let message = failure["errorMessage"].as_str().unwrap_or_default();
    assert!(
        message.contains("osv:Debian") && message.contains("HTTP 500"),
        "{failure}"
    );
    assert_eq!(
        std::fs::read_dir(&work_dir).unwrap().count(),
        0,
        "downloads removed"
    );
    std::fs::remove_dir_all(&work_dir).unwrap();
}
