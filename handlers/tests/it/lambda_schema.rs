//! The schema custom resource: CloudFormation requests handled against the
//! local Data API over SQLite, and answers PUT to a local stand-in for the
//! pre-signed response URL. The application role on PostgreSQL and MySQL is
//! tested in `app_role.rs`.

use std::time::Duration;

use crate::local_support;

use data_api_local::{Config, Server, LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN};
use inventory_core::model::InstanceId;
use inventory_core::store::{DbTarget, Dialect, Store};
use inventory_handlers::custom_resource::{
    answer, handle, send, Request, SecretSource, SendError, Status,
};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const APP_SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app";

async fn rds(server: &Server) -> aws_sdk_rdsdata::Client {
    local_support::local_rds(server.endpoint_url()).await
}

/// A store on the local cluster, to look at what the resource did.
async fn store(server: &Server) -> Store {
    let target = DbTarget {
        resource_arn: LOCAL_CLUSTER_ARN.into(),
        secret_arn: LOCAL_SECRET_ARN.into(),
        database: None,
        dialect: Dialect::Sqlite,
    };
    Store::new(rds(server).await, target)
}

/// Secrets Manager stand-ins.
#[derive(Clone)]
enum Secrets {
    /// Never asked (no application secret, or SQLite).
    Unused,
    Panics,
    NeverAnswers,
}

impl SecretSource for Secrets {
    async fn secret_string(&self, _arn: &str) -> Result<String, String> {
        match self {
            Secrets::Unused => Err("not expected".into()),
            Secrets::Panics => panic!("a bug in the secret source"),
            Secrets::NeverAnswers => std::future::pending().await,
        }
    }
}

async fn local_data_api() -> Server {
    Server::start(Config::single(LOCAL_CLUSTER_ARN, "sqlite::memory:"))
        .await
        .expect("local Data API")
}

fn request(kind: &str, response_url: &str) -> Request {
    request_on(kind, response_url, LOCAL_CLUSTER_ARN)
}

fn request_on(kind: &str, response_url: &str, cluster_arn: &str) -> Request {
    serde_json::from_value(json!({
        "RequestType": kind,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:schema",
        "ResponseURL": response_url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/inv/1",
        "RequestId": "req-1",
        "LogicalResourceId": "DatabaseSchema",
        "ResourceType": "Custom::DatabaseSchema",
        "ResourceProperties": {
            "ServiceToken": "x",
            "FunctionVersion": "3",
            "ClusterArn": cluster_arn,
            "MasterSecretArn": LOCAL_SECRET_ARN,
            "Dialect": "sqlite"
        }
    }))
    .expect("a CloudFormation request")
}

/// A one-request HTTP server standing in for S3: answers `status` and hands
/// back the request's head (lower-cased) and body.
async fn response_url(status: u16) -> (String, tokio::task::JoinHandle<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!(
        "http://{}/bucket/key?X-Amz-Signature=abc",
        listener.local_addr().unwrap()
    );
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        let (head, body_start) = loop {
            let n = socket.read(&mut buf).await.expect("read");
            assert!(n > 0, "connection closed before the request ended");
            raw.extend_from_slice(&buf[..n]);
            if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break (String::from_utf8_lossy(&raw[..end]).to_lowercase(), end + 4);
            }
        };
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map(|v| v.trim().parse().expect("length"))
            .unwrap_or(0);
        while raw.len() < body_start + length {
            let n = socket.read(&mut buf).await.expect("read body");
            assert!(n > 0, "connection closed inside the body");
            raw.extend_from_slice(&buf[..n]);
        }
        let answer =
            format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        socket.write_all(answer.as_bytes()).await.expect("write");
        (head, raw[body_start..body_start + length].to_vec())
    });
    (url, task)
}

#[tokio::test]
async fn create_applies_the_schema_and_answers_success() {
    let server = local_data_api().await;
    let rds = rds(&server).await;
    let store = store(&server).await;
    let (url, received) = response_url(200).await;

    let req = request("Create", &url);
    let resp = handle(&rds, &Secrets::Unused, &req).await;
    assert_eq!(resp.status, Status::Success, "{resp:?}");
    let version = resp
        .data
        .as_ref()
        .and_then(|d| d["SchemaVersion"].as_str())
        .map(str::to_owned);
    assert!(version.as_deref().is_some_and(|v| v != "0"), "{resp:?}");
    send(&req.response_url, &resp)
        .await
        .expect("answer delivered");

    let (head, body) = received.await.unwrap();
    assert!(
        head.starts_with("put /bucket/key?x-amz-signature=abc "),
        "{head}"
    );
    assert!(
        !head.contains("content-type"),
        "the pre-signed URL has no content type: {head}"
    );
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["Status"], "SUCCESS");
    assert_eq!(answer["PhysicalResourceId"], "DatabaseSchema-schema");
    assert_eq!(answer["StackId"], req.stack_id);
    assert_eq!(answer["RequestId"], "req-1");
    assert_eq!(answer["LogicalResourceId"], "DatabaseSchema");
    assert_eq!(answer["Data"]["SchemaVersion"].as_str(), version.as_deref());

    // The schema is there: the store can read.
    let id = InstanceId::parse("i-0123456789abcdef0").unwrap();
    assert_eq!(store.get_instance(&id).await.expect("schema applied"), None);

    // An update (new function version) migrates again, idempotently, under the same id.
    let mut update = request("Update", &url);
    update.physical_resource_id = Some(answer["PhysicalResourceId"].as_str().unwrap().into());
    let again = handle(&rds, &Secrets::Unused, &update).await;
    assert_eq!(again.status, Status::Success, "{again:?}");
    assert_eq!(again.physical_resource_id, "DatabaseSchema-schema");
    assert_eq!(again.data, resp.data);
}

#[tokio::test]
async fn a_failed_migration_answers_failed_with_the_reason() {
    let server = local_data_api().await;
    let unknown = "arn:aws:rds:us-east-1:123456789012:cluster:nowhere";
    let req = request_on("Create", "http://127.0.0.1:9/", unknown);
    let resp = handle(&rds(&server).await, &Secrets::Unused, &req).await;
    assert_eq!(resp.status, Status::Failed);
    let reason = resp.reason.expect("a reason");
    assert!(!reason.is_empty() && reason.len() <= 1000, "{reason}");
    assert_eq!(resp.data, None);
}

/// The target is the resource's: a replaced cluster (new ARN) gets the schema
/// on the Update CloudFormation sends, whatever the function's environment says.
#[tokio::test]
async fn an_update_to_a_new_cluster_migrates_that_cluster() {
    let old = "arn:aws:rds:us-east-1:123456789012:cluster:old";
    let new = "arn:aws:rds:us-east-1:123456789012:cluster:new";
    let mut config = Config::single(old, "sqlite::memory:");
    config
        .clusters
        .extend(Config::single(new, "sqlite::memory:").clusters);
    let server = Server::start(config).await.expect("local Data API");
    let rds = rds(&server).await;
    let created = handle(
        &rds,
        &Secrets::Unused,
        &request_on("Create", "http://x/", old),
    )
    .await;
    assert_eq!(created.status, Status::Success, "{created:?}");

    let mut update = request_on("Update", "http://x/", new);
    update.physical_resource_id = Some(created.physical_resource_id.clone());
    let updated = handle(&rds, &Secrets::Unused, &update).await;
    assert_eq!(updated.status, Status::Success, "{updated:?}");
    assert_eq!(updated.physical_resource_id, created.physical_resource_id);
    let on_new = Store::new(
        rds.clone(),
        DbTarget {
            resource_arn: new.into(),
            secret_arn: LOCAL_SECRET_ARN.into(),
            database: None,
            dialect: Dialect::Sqlite,
        },
    );
    let id = InstanceId::parse("i-0123456789abcdef0").unwrap();
    assert_eq!(
        on_new
            .get_instance(&id)
            .await
            .expect("schema on the new cluster"),
        None
    );
}

#[tokio::test]
async fn a_request_without_its_target_answers_failed_naming_it() {
    let server = local_data_api().await;
    let mut req = request("Create", "http://127.0.0.1:9/");
    req.resource_properties.cluster_arn = None;
    let resp = handle(&rds(&server).await, &Secrets::Unused, &req).await;
    assert_eq!(resp.status, Status::Failed);
    assert!(resp.reason.unwrap().contains("ClusterArn"));
}

fn with_app_secret(mut req: Request) -> Request {
    req.resource_properties.app_secret_arn = Some(APP_SECRET_ARN.into());
    req
}

/// A panic inside the work is still an answer, at once.
#[tokio::test]
async fn a_panic_answers_failed() {
    let server = local_data_api().await;
    let req = with_app_secret(request("Create", "http://127.0.0.1:9/"));
    let budget = Duration::from_secs(600);
    let resp = answer(rds(&server).await, Secrets::Panics, req.clone(), budget).await;
    assert_eq!(resp.status, Status::Failed, "{resp:?}");
    assert!(resp.reason.unwrap().contains("panicked"));
    assert_eq!(resp.request_id, req.request_id);
}

/// Work that outlives the invocation's budget is answered FAILED before the
/// function ends, instead of leaving CloudFormation waiting.
#[tokio::test]
async fn work_past_the_budget_answers_failed() {
    let server = local_data_api().await;
    let req = with_app_secret(request("Update", "http://127.0.0.1:9/"));
    let resp = answer(
        rds(&server).await,
        Secrets::NeverAnswers,
        req,
        Duration::from_millis(200),
    )
    .await;
    assert_eq!(resp.status, Status::Failed, "{resp:?}");
    assert!(resp.reason.unwrap().contains("no result within"));
}

#[tokio::test]
async fn delete_keeps_the_data_and_touches_nothing() {
    let server = local_data_api().await;
    // A target that could not be reached: Delete must not need one.
    let nowhere = "arn:aws:rds:us-east-1:123456789012:cluster:nowhere";
    let mut req = request_on("Delete", "http://127.0.0.1:9/", nowhere);
    req.physical_resource_id = Some("DatabaseSchema-schema".into());
    let resp = handle(&rds(&server).await, &Secrets::Unused, &req).await;
    assert_eq!(resp.status, Status::Success, "{resp:?}");
    assert_eq!(resp.physical_resource_id, "DatabaseSchema-schema");
}

#[tokio::test]
async fn an_answer_refused_by_the_url_is_an_error() {
    let server = local_data_api().await;
    let (url, received) = response_url(403).await;
    let resp = handle(
        &rds(&server).await,
        &Secrets::Unused,
        &request("Delete", &url),
    )
    .await;
    let err = send(&url, &resp).await.expect_err("403");
    assert!(
        matches!(err, SendError::Status(s) if s.as_u16() == 403),
        "{err:?}"
    );
    received.await.unwrap();
}
