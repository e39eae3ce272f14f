//! The http-api function's path end to end: an API Gateway HTTP API (payload
//! v2) event decoded by lambda_http as in Lambda, the shared start-up, the
//! function's Router, its answer as lambda_http sends it back, into the local
//! Data API over SQLite.

use axum::Router;
use base64::Engine;
use data_api_local::{Config, Server, LOCAL_CLUSTER_ARN};
use inventory_core::config::{ConfigError, ENV_CLUSTER_ARN, ENV_DIALECT, ENV_SECRET_ARN};
use inventory_core::http::{SilentAfter, REQUEST_ID_HEADER};
use inventory_handlers::{http_api, start_with};
use lambda_http::tower::ServiceExt;
use lambda_http::{Body, IntoResponse, Response};
use serde_json::{json, Value};

use crate::local_support;

use local_support::{local_sdk, settings};

/// The API behind the function, as its start-up builds it, over a fresh
/// in-memory database with the schema applied.
async fn api() -> (Server, Router) {
    let server = Server::start(Config::single(LOCAL_CLUSTER_ARN, "sqlite::memory:"))
        .await
        .expect("local Data API");
    let startup = start_with(settings, local_sdk(server.endpoint_url()), None)
        .await
        .expect("start-up");
    startup.store.migrate().await.expect("schema");
    (server, http_api::app(startup.store, SilentAfter::default()))
}

/// What `lambda_http::run` does with one event: the Router's answer, turned
/// into the body lambda_http sends back.
async fn handle(api: &Router, req: lambda_http::Request) -> Response<Body> {
    let answer = api.clone().oneshot(req).await.expect("infallible");
    answer.into_response().await
}

/// An API Gateway HTTP API event, payload format 2.0, as Lambda receives it;
/// `target` is the path with an optional query string.
fn event(
    method: &str,
    target: &str,
    body: Option<(&str, bool)>,
    request_id: &str,
) -> lambda_http::Request {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut e = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"content-type": "application/json", "host": "abc123.execute-api.us-east-1.amazonaws.com"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "test"},
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": "24/Nov/2026:19:00:00 +0000",
            "timeEpoch": 1_795_460_400_000_u64
        },
        "isBase64Encoded": false
    });
    if let Some((text, base64)) = body {
        e["body"] = if base64 {
            json!(base64::engine::general_purpose::STANDARD.encode(text))
        } else {
            json!(text)
        };
        e["isBase64Encoded"] = json!(base64);
    }
    lambda_http::request::from_str(&e.to_string()).expect("API Gateway v2 event")
}

fn json_body(resp: &Response<Body>) -> Value {
    match resp.body() {
        Body::Text(text) => serde_json::from_str(text).expect("JSON body"),
        other => panic!("expected a text body, got {other:?}"),
    }
}

const CREATE: &str = r#"{"aws_region": "us-east-1", "aws_account": "123456789012",
  "packages": [{"package_name": "zlib", "package_version": "1.2.11"},
               {"package_name": "openssl", "package_version": "3.0.8"}]}"#;

#[tokio::test]
async fn post_then_get_through_the_lambda_adapter() {
    let (_server, api) = api().await;

    let created = handle(
        &api,
        event(
            "POST",
            "/ec2/i-0abc1234",
            Some((CREATE, false)),
            "req-post-1",
        ),
    )
    .await;
    assert_eq!(created.status(), 200, "{:?}", created.body());
    assert_eq!(created.headers()[REQUEST_ID_HEADER], "req-post-1");
    assert_eq!(
        json_body(&created)["new_record"]["aws_account"],
        "123456789012"
    );

    let got = handle(&api, event("GET", "/ec2/i-0abc1234", None, "req-get-1")).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()[REQUEST_ID_HEADER], "req-get-1");
    let got = json_body(&got);
    assert_eq!(got["record_found"], true);
    let packages = got["record"]["packages"]
        .as_array()
        .expect("packages")
        .len();
    assert_eq!(packages, 2, "{got}");

    // The query string reaches core: a search by package finds it, another does not.
    for (query, found) in [("package_name=zlib", 1), ("package_name=absent", 0)] {
        let target = format!("/ec2?{query}&aws_account=123456789012");
        let page = handle(&api, event("GET", &target, None, "req-search")).await;
        assert_eq!(page.status(), 200, "{:?}", page.body());
        let instances = json_body(&page)["instances"]
            .as_array()
            .cloned()
            .expect("instances");
        assert_eq!(instances.len(), found, "{query}: {instances:?}");
        if found == 1 {
            assert_eq!(instances[0]["aws_instance_id"], "i-0abc1234");
        }
    }
}

#[tokio::test]
async fn base64_bodies_are_decoded_before_core_sees_them() {
    let (_server, api) = api().await;
    let created = handle(
        &api,
        event("POST", "/ec2/i-0b64", Some((CREATE, true)), "req-b64"),
    )
    .await;
    assert_eq!(created.status(), 200, "{:?}", created.body());
    let again = handle(
        &api,
        event("POST", "/ec2/i-0b64", Some((CREATE, true)), "req-b64-2"),
    )
    .await;
    assert_eq!(
        again.status(),
        400,
        "a second POST of the same id is refused"
    );
    assert!(json_body(&again)["error_message"].is_string());
}

#[tokio::test]
async fn bad_requests_get_json_errors_not_failures() {
    let (_server, api) = api().await;
    let bad = handle(
        &api,
        event("POST", "/ec2/i-0bad", Some(("{not json", false)), "r1"),
    )
    .await;
    assert_eq!(bad.status(), 400);
    assert!(json_body(&bad)["error_message"].is_string());
    let unknown = handle(&api, event("GET", "/nowhere", None, "r2")).await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.headers()[REQUEST_ID_HEADER], "r2");
    assert!(json_body(&unknown)["error_message"].is_string());
}

#[tokio::test]
async fn start_up_names_a_missing_setting() {
    for missing in [ENV_CLUSTER_ARN, ENV_SECRET_ARN] {
        let lookup = |name: &str| {
            if name == missing {
                None
            } else {
                settings(name)
            }
        };
        let err = start_with(lookup, local_sdk("http://127.0.0.1:9".into()), None)
            .await
            .expect_err("a required setting is missing");
        assert_eq!(err, ConfigError::Missing(missing));
        assert!(err.to_string().contains(missing), "{err}");
    }
    let bad_dialect = |name: &str| {
        if name == ENV_DIALECT {
            Some("oracle".into())
        } else {
            settings(name)
        }
    };
    let err = start_with(bad_dialect, local_sdk("http://127.0.0.1:9".into()), None)
        .await
        .expect_err("bad dialect");
    assert!(err.to_string().contains(ENV_DIALECT), "{err}");
}

/// lambda_http sends a body as text when its content type says it is text:
/// every answer of the API is JSON, errors included.
#[tokio::test]
async fn answers_are_json_text_bodies() {
    let (_server, api) = api().await;
    for (method, target) in [
        ("GET", "/ec2/i-0none"),
        ("GET", "/nowhere"),
        ("PATCH", "/ec2/i-0none"),
        ("GET", "/ec2?limit=0"),
    ] {
        let answer = handle(&api, event(method, target, None, "req-text")).await;
        assert_eq!(
            answer.headers()["content-type"],
            "application/json",
            "{method} {target}"
        );
        assert!(
            json_body(&answer).is_object(),
            "{method} {target}: {:?}",
            answer.body()
        );
    }
}
