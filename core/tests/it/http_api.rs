//! The HTTP API end to end: its Router over a real `Store`, through the
//! `aws-sdk-rdsdata` client and the local Data API, on every backend.

use crate::common;

use std::time::Duration;

use axum::body::Body;
use axum::Router;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use inventory_core::http::{router, RequestId, MAX_BODY_BYTES, REQUEST_ID_HEADER};
use inventory_core::store::{RetryPolicy, Store};
use serde_json::{json, Value};
use tower::ServiceExt;

/// What a call answered: status, headers, JSON body.
struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
    /// The body as sent: `Value` forgets key order, the original's clients may not.
    raw: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an error answer: status, a message containing `needle`, and
    /// the request id both in the body and in the header.
    fn assert_error(&self, status: StatusCode, needle: &str, ctx: &str) {
        assert_eq!(self.status, status, "{ctx}: {}", self.body);
        let message = self.body["error_message"].as_str().unwrap_or_default();
        assert!(
            message.contains(needle),
            "{ctx}: {message:?} lacks {needle:?}"
        );
        let id = self.body["request_id"].as_str().unwrap_or_default();
        assert!(!id.is_empty(), "{ctx}: no request id in {}", self.body);
        assert_eq!(self.header(REQUEST_ID_HEADER), Some(id), "{ctx}");
        let keys: Vec<_> = self.body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["error_message", "request_id"], "{ctx}");
        assert_key_order(&self.raw, &["error_message", "request_id"], ctx);
    }
}

async fn send(api: &Router, req: Request<Bytes>) -> Answer {
    send_body(api, req.map(Body::from)).await
}

async fn send_body(api: &Router, req: Request<Body>) -> Answer {
    let head = req.method() == Method::HEAD;
    let response = api.clone().oneshot(req).await.unwrap();
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "application/json"
    );
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let raw = String::from_utf8(body.to_vec()).expect("answer is not UTF-8");
    // A HEAD answer has no body, as HTTP wants: axum drops it.
    let body = if head && raw.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&raw)
            .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {raw:.300}"))
    };
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
        raw,
    }
}

fn request(method: Method, path: &str, body: impl Into<Bytes>) -> Request<Bytes> {
    Request::builder()
        .method(method)
        .uri(path)
        .body(body.into())
        .unwrap()
}

/// The content type of every call but those that test it.
const JSON: Option<&str> = Some("application/json");

/// A request with a `content-type` header when `content_type` is given.
fn typed_request(
    method: Method,
    path: &str,
    body: impl Into<Bytes>,
    content_type: Option<&str>,
) -> Request<Bytes> {
    let mut req = request(method, path, body);
    if let Some(value) = content_type {
        req.headers_mut()
            .insert("content-type", value.parse().unwrap());
    }
    req
}

async fn call(api: &Router, method: Method, path: &str, body: Option<&Value>) -> Answer {
    let bytes = body.map(|b| b.to_string()).unwrap_or_default();
    send(api, typed_request(method, path, bytes, JSON)).await
}

async fn get(api: &Router, path: &str) -> Answer {
    call(api, Method::GET, path, None).await
}

fn body(account: &str, region: &str, packages: &[(&str, &str)]) -> Value {
    let packages: Vec<Value> = packages
        .iter()
        .map(|(n, v)| json!({"package_name": n, "package_version": v}))
        .collect();
    json!({"aws_region": region, "aws_account": account, "packages": packages})
}

fn seed_body() -> Value {
    body(
        "123456789012",
        "us-east-1",
        &[
            ("package-1", "v1"),
            ("package-1", "v2"),
            ("package-2", "v1"),
            ("package-3", "v1"),
        ],
    )
}

/// The keys appear in `raw` in this order.
fn assert_key_order(raw: &str, keys: &[&str], ctx: &str) {
    let positions: Vec<_> = keys
        .iter()
        .map(|k| {
            raw.find(&format!("\"{k}\":"))
                .unwrap_or_else(|| panic!("{ctx}: no {k} in {raw}"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "{ctx}: key order {keys:?} in {raw}"
    );
}

/// Runs `test` with an API over each backend's store; `ctx` names the backend.
async fn on_each_api(test: impl AsyncFn(&Router, &'static str)) {
    common::on_each_backend(async |db| test(&router(db.store.clone()), db.name).await).await;
}

/// `YYYY-MM-DD HH:MM:SS.f` with 1-9 fraction digits, no trailing zero but "0".
fn is_seed_time(s: &str) -> bool {
    // `d` stands for a digit.
    let shape = "dddd-dd-dd dd:dd:dd.";
    let (head, fraction) = s.split_at_checked(shape.len()).unwrap_or((s, ""));
    let fits = |(c, p): (u8, u8)| {
        if p == b'd' {
            c.is_ascii_digit()
        } else {
            c == p
        }
    };
    head.len() == shape.len()
        && head.bytes().zip(shape.bytes()).all(fits)
        && (1..=9).contains(&fraction.len())
        && fraction.bytes().all(|c| c.is_ascii_digit())
        && (fraction == "0" || !fraction.ends_with('0'))
}

#[tokio::test]
async fn seed_post_then_get_have_the_original_shapes() {
    on_each_api(async |api, ctx| {
        let id = "i-01aaae43feb712345";

        let posted = call(api, Method::POST, &format!("/ec2/{id}"), Some(&seed_body())).await;
        assert_eq!(posted.status, StatusCode::OK, "{ctx}: {}", posted.body);
        // The original echoed its input: same fields, same order, nothing more.
        let expected = json!({"new_record": {
            "aws_account": "123456789012",
            "aws_region": "us-east-1",
            "packages": seed_body()["packages"].clone(),
        }});
        assert_eq!(posted.body, expected, "{ctx}");
        let order = [
            "new_record",
            "aws_account",
            "aws_region",
            "packages",
            "package_name",
            "package_version",
        ];
        assert_key_order(&posted.raw, &order, ctx);
        assert!(posted.header(REQUEST_ID_HEADER).is_some(), "{ctx}");

        let got = get(api, &format!("/ec2/{id}")).await;
        assert_eq!(got.status, StatusCode::OK, "{ctx}");
        let record = &got.body["record"];
        let created = record["creation_date_utc"].as_str().unwrap_or_default();
        assert!(is_seed_time(created), "{ctx}: {created:?}");
        let updated = record["updated_date_utc"].as_str().unwrap_or_default();
        assert!(is_seed_time(updated), "{ctx}: {updated:?}");
        let mut expected = json!({
            "record": {
                "aws_instance_id": id,
                "aws_region": "us-east-1",
                "aws_account": "123456789012",
                "creation_date_utc": created,
                "packages": [
                    {"package_name": "package-1", "package_version": "v1"},
                    {"package_name": "package-1", "package_version": "v2"},
                    {"package_name": "package-2", "package_version": "v1"},
                    {"package_name": "package-3", "package_version": "v1"}
                ],
                "source": "api",
                "updated_date_utc": updated,
            },
            "record_found": true
        });
        // The store stamps API writes as captured now.
        if let Some(captured) = record.get("inventory_captured_utc") {
            assert!(
                is_seed_time(captured.as_str().unwrap()),
                "{ctx}: {captured}"
            );
            expected["record"]["inventory_captured_utc"] = captured.clone();
        }
        assert_eq!(got.body, expected, "{ctx}");
        let order = [
            "record",
            "aws_instance_id",
            "aws_region",
            "aws_account",
            "creation_date_utc",
            "packages",
            "package_name",
            "package_version",
            "source",
            "updated_date_utc",
            "record_found",
        ];
        assert_key_order(&got.raw, &order, ctx);

        let missing = get(api, "/ec2/i-00000000000000000").await;
        assert_eq!(missing.status, StatusCode::OK, "{ctx}");
        assert_eq!(
            missing.raw, r#"{"record":{},"record_found":false}"#,
            "{ctx}"
        );
    })
    .await;
}

#[tokio::test]
async fn post_echoes_duplicates_in_input_order_and_stores_them_once() {
    on_each_api(async |api, ctx| {
        let packages = [("zeta", "2"), ("alpha", "1"), ("zeta", "2"), ("alpha", "")];
        let input = body("210987654321", "eu-west-3", &packages);
        let posted = call(api, Method::POST, "/ec2/mi-0123456789abcdef0", Some(&input)).await;
        assert_eq!(posted.status, StatusCode::OK, "{ctx}: {}", posted.body);
        assert_eq!(
            posted.body["new_record"]["packages"], input["packages"],
            "{ctx}"
        );

        let got = get(api, "/ec2/mi-0123456789abcdef0").await;
        let stored = &got.body["record"]["packages"];
        let expected = json!([
            {"package_name": "alpha", "package_version": ""},
            {"package_name": "alpha", "package_version": "1"},
            {"package_name": "zeta", "package_version": "2"}
        ]);
        assert_eq!(stored, &expected, "{ctx}");
    })
    .await;
}

#[tokio::test]
async fn duplicate_post_is_400_and_keeps_the_first_record() {
    on_each_api(async |api, ctx| {
        let path = "/ec2/instance-002";
        let first = call(api, Method::POST, path, Some(&seed_body())).await;
        assert_eq!(first.status, StatusCode::OK, "{ctx}");
        let before = get(api, path).await.body;

        let other = body("111111111111", "us-west-2", &[("x", "1")]);
        let again = call(api, Method::POST, path, Some(&other)).await;
        again.assert_error(
            StatusCode::BAD_REQUEST,
            "instance-002 is already recorded",
            ctx,
        );
        assert_eq!(get(api, path).await.body, before, "{ctx}");
    })
    .await;
}

#[tokio::test]
async fn put_creates_then_replaces_and_delete_removes() {
    on_each_api(async |api, ctx| {
        let path = "/ec2/backfill:host.example_1";
        let v1 = body("123456789012", "us-east-1", &[("a", "1"), ("b", "1")]);
        let created = call(api, Method::PUT, path, Some(&v1)).await;
        assert_eq!(created.status, StatusCode::OK, "{ctx}: {}", created.body);
        assert_eq!(created.body["created"], json!(true), "{ctx}");
        assert_eq!(
            created.body["record"],
            get(api, path).await.body["record"],
            "{ctx}"
        );

        let v2 = body("123456789012", "ap-southeast-2", &[("c", "3")]);
        let replaced = call(api, Method::PUT, path, Some(&v2)).await;
        assert_eq!(replaced.status, StatusCode::OK, "{ctx}");
        assert_eq!(replaced.body["created"], json!(false), "{ctx}");
        let record = &replaced.body["record"];
        assert_eq!(record["aws_region"], "ap-southeast-2", "{ctx}");
        assert_eq!(
            record["packages"],
            json!([{"package_name": "c", "package_version": "3"}]),
            "{ctx}"
        );
        assert_eq!(record, &get(api, path).await.body["record"], "{ctx}");

        let deleted = call(api, Method::DELETE, path, None).await;
        assert_eq!(deleted.status, StatusCode::OK, "{ctx}");
        assert_eq!(
            deleted.body,
            json!({"aws_instance_id": "backfill:host.example_1", "deleted": true}),
            "{ctx}"
        );
        assert_eq!(
            get(api, path).await.body["record_found"],
            json!(false),
            "{ctx}"
        );
        let again = call(api, Method::DELETE, path, None).await;
        again.assert_error(
            StatusCode::NOT_FOUND,
            "no instance backfill:host.example_1",
            ctx,
        );
    })
    .await;
}

#[tokio::test]
async fn ten_thousand_packages_round_trip() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let api = &router(db.store.clone());
        let packages: Vec<Value> = (0..10_000)
            .map(|i| json!({"package_name": format!("pkg-{i:05}"), "package_version": format!("1.{}", i % 13)}))
            .collect();
        let input =
            json!({"aws_region": "us-east-1", "aws_account": "123456789012", "packages": packages});
        assert!(input.to_string().len() < MAX_BODY_BYTES);

        let calls = db.store.data_api_calls();
        let posted = call(api, Method::POST, "/ec2/i-big", Some(&input)).await;
        assert_eq!(posted.status, StatusCode::OK, "{ctx}: {}", posted.body);
        let post_calls = db.store.data_api_calls() - calls;
        // Compared as booleans: a failure must not print 10,000 packages.
        let echoed = posted.body["new_record"]["packages"] == input["packages"];
        assert!(echoed, "{ctx}: the POST answer is not the input");

        let got = get(api, "/ec2/i-big").await;
        assert_eq!(
            got.status,
            StatusCode::OK,
            "{ctx}: {:.300}",
            got.body.to_string()
        );
        let stored = got.body["record"]["packages"] == input["packages"];
        assert!(
            stored,
            "{ctx}: GET shows other packages: {:.300}",
            got.body.to_string()
        );
        eprintln!("{ctx}: POST of 10,000 packages made {post_calls} Data API calls");
    })
    .await;
}

#[tokio::test]
async fn unicode_and_slashes_in_names_through_paths_and_queries() {
    on_each_api(async |api, ctx| {
        let name = "日本語 パッケージ/ü+1";
        let input = body(
            "123456789012",
            "us-east-1",
            &[(name, "1.0 β"), ("plain", "1")],
        );
        let posted = call(api, Method::POST, "/ec2/i-unicode", Some(&input)).await;
        assert_eq!(
            posted.body["new_record"]["packages"], input["packages"],
            "{ctx}"
        );
        let got = get(api, "/ec2/i-unicode").await;
        assert_eq!(
            got.body["record"]["packages"][0]["package_name"], "plain",
            "{ctx}"
        );
        assert_eq!(
            got.body["record"]["packages"][1]["package_name"], name,
            "{ctx}"
        );

        // %2F and a raw '/' both reach the same package; '+' stays a plus in a path.
        let expected = json!({"package_name": name, "versions": [{"package_version": "1.0 β", "instances": 1}]});
        let encoded = "%E6%97%A5%E6%9C%AC%E8%AA%9E%20%E3%83%91%E3%83%83%E3%82%B1%E3%83%BC%E3%82%B8";
        for path in [
            format!("/packages/{encoded}%2F%C3%BC+1"),
            format!("/packages/{encoded}/%C3%BC+1"),
        ] {
            let versions = get(api, &path).await;
            assert_eq!(versions.body, expected, "{ctx}: {path}");
        }
        // In a query, '+' is a space and %2B a plus.
        let q = format!("/ec2?package_name={encoded}%2F%C3%BC%2B1&package_version=1.0+%CE%B2");
        let found = get(api, &q).await;
        assert_eq!(found.status, StatusCode::OK, "{ctx}: {}", found.body);
        let ids: Vec<_> = found.body["instances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["aws_instance_id"].clone())
            .collect();
        assert_eq!(ids, [json!("i-unicode")], "{ctx}");
    })
    .await;
}

#[tokio::test]
async fn search_filters_and_paginates() {
    on_each_api(async |api, ctx| {
        for i in 0..5 {
            let account = if i % 2 == 0 {
                "111111111111"
            } else {
                "222222222222"
            };
            let input = body(
                account,
                "us-east-1",
                &[("openssl", if i < 3 { "3.0" } else { "1.1" })],
            );
            let put = call(
                api,
                Method::PUT,
                &format!("/ec2/i-search-{i}"),
                Some(&input),
            )
            .await;
            assert_eq!(put.status, StatusCode::OK, "{ctx}");
        }
        let other = body("111111111111", "eu-west-1", &[("nginx", "1")]);
        call(api, Method::PUT, "/ec2/i-search-x", Some(&other)).await;

        // Every page of openssl, two at a time.
        let mut seen = Vec::new();
        let mut path = "/ec2?package_name=openssl&limit=2".to_string();
        loop {
            let page = get(api, &path).await;
            assert_eq!(page.status, StatusCode::OK, "{ctx}: {}", page.body);
            let instances = page.body["instances"].as_array().unwrap();
            assert!(instances.len() <= 2, "{ctx}");
            for i in instances {
                seen.push(i["aws_instance_id"].as_str().unwrap().to_owned());
                assert_eq!(i["aws_region"], "us-east-1", "{ctx}");
                assert!(
                    is_seed_time(i["updated_date_utc"].as_str().unwrap()),
                    "{ctx}"
                );
            }
            match page.body["next_token"].as_str() {
                Some(token) => {
                    path = format!(
                        "/ec2?package_name=openssl&limit=2&next_token={}",
                        encode(token)
                    );
                }
                None => {
                    assert_eq!(page.body["next_token"], Value::Null, "{ctx}");
                    break;
                }
            }
            assert!(seen.len() <= 5, "{ctx}: pagination does not end");
        }
        seen.sort();
        assert_eq!(
            seen,
            (0..5).map(|i| format!("i-search-{i}")).collect::<Vec<_>>(),
            "{ctx}"
        );

        let ids = |answer: Answer| -> Vec<String> {
            answer.body["instances"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["aws_instance_id"].as_str().unwrap().to_owned())
                .collect()
        };
        let by_version = get(api, "/ec2?package_name=openssl&package_version=1.1").await;
        assert_eq!(ids(by_version), ["i-search-3", "i-search-4"], "{ctx}");
        let by_account = get(api, "/ec2?aws_account=222222222222").await;
        assert_eq!(ids(by_account), ["i-search-1", "i-search-3"], "{ctx}");
        let by_region = get(api, "/ec2?aws_region=eu-west-1&aws_account=111111111111").await;
        assert_eq!(ids(by_region), ["i-search-x"], "{ctx}");
        let nothing = get(api, "/ec2?package_name=absent").await;
        assert_eq!(
            nothing.body,
            json!({"instances": [], "next_token": null}),
            "{ctx}"
        );

        let versions = get(api, "/packages/openssl").await;
        assert_eq!(
            versions.body,
            json!({"package_name": "openssl", "versions": [
                {"package_version": "3.0", "instances": 3},
                {"package_version": "1.1", "instances": 2}
            ]}),
            "{ctx}"
        );
        let unknown = get(api, "/packages/never-installed").await;
        assert_eq!(
            unknown.body,
            json!({"package_name": "never-installed", "versions": []}),
            "{ctx}"
        );
    })
    .await;
}

/// Percent-encodes everything but unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn bad_search_queries_are_400_naming_the_parameter() {
    on_each_api(async |api, ctx| {
        for (query, needle) in [
            ("limit=0", "limit: must be an integer from 1 to 1000"),
            ("limit=abc", "limit:"),
            ("limit=1001", "limit:"),
            ("package_version=1", "package_version: needs package_name"),
            ("colour=red", "colour: unknown query parameter"),
            ("aws_account=12", "aws_account:"),
            ("aws_region=EU", "aws_region:"),
            ("state=asleep", "state:"),
            ("limit=1&limit=2", "limit: given more than once"),
            ("package_name=%ZZ", "malformed percent-encoding"),
            ("next_token=not-a-token", "next_token:"),
            ("next_token=", "next_token:"),
            ("version_lt=1", "version_lt: needs package_name"),
            (
                "package_name=a&version_ge=1&package_version=1",
                "version_ge: cannot be combined",
            ),
            (
                "package_name=a&version_lt=1&version_le=2",
                "version_le: give one of version_lt and version_le",
            ),
            (
                "package_name=a&version_gt=",
                "version_gt: must not be empty",
            ),
            ("package_name=a&version_lt=%00", "version_lt:"),
        ] {
            let answer = get(api, &format!("/ec2?{query}")).await;
            answer.assert_error(StatusCode::BAD_REQUEST, needle, &format!("{ctx}: {query}"));
        }
    })
    .await;
}

#[tokio::test]
async fn bad_bodies_are_400_naming_the_field() {
    on_each_api(async |api, ctx| {
        let long = "v".repeat(129);
        let too_many: Vec<(&str, &str)> = vec![("p", "1"); 10_001];
        let mut cases: Vec<(Value, &str)> = vec![
            (
                body("12345", "us-east-1", &[]),
                "aws_account: must be a 12-digit",
            ),
            (
                body("123456789012", "mars-1", &[]),
                "aws_region: must be an AWS region",
            ),
            (
                body("123456789012", "us-east-1", &[("", "1")]),
                "packages[0].package_name: must not be empty",
            ),
            (
                body("123456789012", "us-east-1", &[("a", "1"), ("b", &long)]),
                "packages[1].package_version: must be at most 128",
            ),
            (
                body("123456789012", "us-east-1", &too_many),
                "packages: at most 10000 packages",
            ),
            (
                json!({"aws_region": "us-east-1", "aws_account": "123456789012"}),
                "packages: is required",
            ),
            (
                json!({"aws_region": "us-east-1", "aws_account": 123456789012u64, "packages": []}),
                "aws_account: must be a string",
            ),
            (
                json!({"aws_region": "us-east-1", "aws_account": "123456789012", "packages": [["a", "1"]]}),
                "packages[0]: must be an object",
            ),
            (json!([1, 2]), "request body must be a JSON object"),
        ];
        let mut extra = seed_body();
        extra["aws_instance_id"] = json!("i-1");
        cases.push((extra, "aws_instance_id: unknown field"));
        let mut nested = seed_body();
        nested["packages"][2]["publisher"] = json!("me");
        cases.push((nested, "packages[2].publisher: unknown field"));

        for method in [Method::POST, Method::PUT] {
            for (input, needle) in &cases {
                let answer = call(api, method.clone(), "/ec2/i-bad-body", Some(input)).await;
                answer.assert_error(
                    StatusCode::BAD_REQUEST,
                    needle,
                    &format!("{ctx}: {method} {needle}"),
                );
            }
            for raw in ["", "{", "{\"aws_region\": \"us-east-1\",}", "nul"] {
                let req = typed_request(method.clone(), "/ec2/i-bad-body", raw.to_owned(), JSON);
                let answer = send(api, req).await;
                answer.assert_error(
                    StatusCode::BAD_REQUEST,
                    "malformed JSON body",
                    &format!("{ctx}: {raw:?}"),
                );
            }
        }
        // A bad id is named too, before the body is looked at.
        for path in ["/ec2/bad%20id", "/ec2/%C3%A9", "/ec2/%E2%82"] {
            let answer = call(api, Method::POST, path, Some(&seed_body())).await;
            answer.assert_error(
                StatusCode::BAD_REQUEST,
                "aws_instance_id",
                &format!("{ctx}: {path}"),
            );
        }
        let long_id = format!("/ec2/{}", "i".repeat(256));
        get(api, &long_id).await.assert_error(
            StatusCode::BAD_REQUEST,
            "aws_instance_id: must be 1 to 255",
            ctx,
        );
        let long_name = format!("/packages/{}", "n".repeat(256));
        get(api, &long_name).await.assert_error(
            StatusCode::BAD_REQUEST,
            "package_name: must be 1 to 255",
            ctx,
        );

        // Nothing of the above was written.
        assert_eq!(
            get(api, "/ec2/i-bad-body").await.body["record_found"],
            json!(false),
            "{ctx}"
        );
    })
    .await;
}

#[tokio::test]
async fn routing_errors_size_and_media_type() {
    on_each_api(async |api, ctx| {
        for path in [
            "/",
            "/ec2/",
            "/ec2/a/b",
            "/instances",
            "/packages/",
            "/EC2/i-1",
        ] {
            get(api, path).await.assert_error(
                StatusCode::NOT_FOUND,
                "no route for",
                &format!("{ctx}: {path}"),
            );
        }
        for (method, path, allow) in [
            (Method::PATCH, "/ec2/i-1", "GET, POST, PUT, DELETE"),
            (Method::HEAD, "/ec2/i-1", "GET, POST, PUT, DELETE"),
            (Method::POST, "/ec2", "GET"),
            (Method::DELETE, "/packages/openssl", "GET"),
        ] {
            let answer = call(api, method.clone(), path, Some(&seed_body())).await;
            let ctx = format!("{ctx}: {method} {path}");
            if method == Method::HEAD {
                assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{ctx}");
                assert_eq!(answer.raw, "", "{ctx}");
                assert!(answer.header(REQUEST_ID_HEADER).is_some(), "{ctx}");
            } else {
                answer.assert_error(StatusCode::METHOD_NOT_ALLOWED, "is not allowed", &ctx);
            }
            assert_eq!(answer.header("allow"), Some(allow), "{ctx}");
        }

        let big = vec![b' '; MAX_BODY_BYTES + 1];
        send(api, typed_request(Method::POST, "/ec2/i-big", big, JSON))
            .await
            .assert_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "over the limit of 6291456 bytes",
                ctx,
            );

        for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
            let body = seed_body().to_string();
            let req = typed_request(Method::PUT, "/ec2/i-typed", body, Some(content_type));
            send(api, req).await.assert_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "content-type must be application/json",
                ctx,
            );
        }
        // No content type at all, or a JSON one with parameters, is fine.
        for content_type in [
            None,
            Some("application/json; charset=utf-8"),
            Some("application/vnd.api+json"),
        ] {
            let body = seed_body().to_string();
            let req = typed_request(Method::PUT, "/ec2/i-typed", body, content_type);
            assert_eq!(
                send(api, req).await.status,
                StatusCode::OK,
                "{ctx}: {content_type:?}"
            );
        }
    })
    .await;
}

/// Where axum would answer with a plain-text rejection, the API answers its
/// JSON error. Every method a route lists reaches its handler (here a 400
/// from validation); any other is a 405 listing them.
#[tokio::test]
async fn rejections_are_json_errors() {
    let db = common::sqlite().await;
    let api = &router(db.store.clone());
    for (path, allow) in [
        ("/ec2/bad%20id", "GET, POST, PUT, DELETE"),
        ("/ec2?limit=0", "GET"),
        ("/packages/%00", "GET"),
    ] {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::OPTIONS,
            Method::TRACE,
        ] {
            let ctx = format!("{method} {path}");
            let answer = call(api, method.clone(), path, Some(&seed_body())).await;
            if allow.split(", ").any(|m| m == method.as_str()) {
                answer.assert_error(StatusCode::BAD_REQUEST, "", &ctx);
            } else {
                let needle = format!("method {method} is not allowed on ");
                answer.assert_error(StatusCode::METHOD_NOT_ALLOWED, &needle, &ctx);
                assert_eq!(answer.header("allow"), Some(allow), "{ctx}");
            }
        }
    }
    for (path, needle) in [
        ("/ec2/%FF", "aws_instance_id: not valid UTF-8 once decoded"),
        (
            "/packages/a%C0%AF",
            "package_name: not valid UTF-8 once decoded",
        ),
        ("/packages/%", "package_name: malformed percent-encoding"),
        ("/packages/a%2", "package_name: malformed percent-encoding"),
        ("/ec2?state=%E2%82", "state: not valid UTF-8 once decoded"),
    ] {
        get(api, path)
            .await
            .assert_error(StatusCode::BAD_REQUEST, needle, path);
    }

    // Refused on any route, before it is read; the connection will not be
    // reused (tests/it/http_keepalive.rs sends them over HTTP).
    let big = vec![b' '; MAX_BODY_BYTES + 1];
    for (method, path) in [(Method::PUT, "/ec2/i-big"), (Method::GET, "/nowhere")] {
        let answer = send(api, typed_request(method.clone(), path, big.clone(), JSON)).await;
        answer.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "over the limit", path);
        assert_eq!(
            answer.header("connection"),
            Some("close"),
            "{method} {path}"
        );
    }
    // A body that breaks off (the client went away).
    let chunks: [Result<Bytes, std::io::Error>; 2] = [
        Ok(Bytes::from_static(b"{\"aws_region\"")),
        Err(std::io::Error::other("connection reset")),
    ];
    let broken = Request::post("/ec2/i-broken")
        .header("content-type", "application/json")
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap();
    let answer = send_body(api, broken).await;
    answer.assert_error(
        StatusCode::BAD_REQUEST,
        "the request body could not be read",
        "broken body",
    );
    assert_eq!(answer.header("connection"), Some("close"), "broken body");
    db.finish().await;
}

#[tokio::test]
async fn request_ids_come_from_the_transport_or_are_generated() {
    on_each_api(async |api, ctx| {
        let mut req = request(Method::GET, "/nowhere", "");
        req.headers_mut()
            .insert(REQUEST_ID_HEADER, "abc-123".parse().unwrap());
        let answer = send(api, req).await;
        assert_eq!(answer.body["request_id"], "abc-123", "{ctx}");
        assert_eq!(answer.header(REQUEST_ID_HEADER), Some("abc-123"), "{ctx}");

        // The API Gateway context's id wins over a client's header.
        let mut req = request(Method::GET, "/nowhere", "");
        req.headers_mut()
            .insert(REQUEST_ID_HEADER, "from-client".parse().unwrap());
        req.extensions_mut().insert(RequestId("apigw-req-1".into()));
        assert_eq!(
            send(api, req).await.body["request_id"],
            "apigw-req-1",
            "{ctx}"
        );

        // Unusable header values are replaced by generated ids, each different.
        let mut ids = Vec::new();
        for header in [None, Some("has space"), Some(&*"x".repeat(129))] {
            let mut req = request(Method::GET, "/nowhere", "");
            if let Some(value) = header {
                req.headers_mut()
                    .insert(REQUEST_ID_HEADER, value.parse().unwrap());
            }
            let id = send(api, req).await.body["request_id"]
                .as_str()
                .unwrap()
                .to_owned();
            assert_eq!(id.len(), 36, "{ctx}: {id}");
            ids.push(id);
        }
        ids.dedup();
        assert_eq!(ids.len(), 3, "{ctx}");
        let ok = get(api, "/ec2/i-none").await;
        assert_eq!(
            ok.header(REQUEST_ID_HEADER).map(str::len),
            Some(36),
            "{ctx}"
        );
    })
    .await;
}

/// A store that passes every failure on at once.
const NO_RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 1,
    base_delay: Duration::from_millis(1),
    max_delay: Duration::from_millis(1),
};

#[tokio::test]
async fn an_unavailable_database_is_503_without_detail() {
    // The endpoint "pauses" after 300 ms idle and answers DatabaseResumingException
    // for a while; a store that does not retry passes that on.
    let pausing = common::auto_pause(Duration::from_millis(300));
    common::on_each_backend_with(pausing, async |db| {
        let ctx = db.name;
        let api = &router(db.fresh_store().with_retry_policy(NO_RETRY));
        tokio::time::sleep(Duration::from_millis(600)).await;
        let answer = call(api, Method::POST, "/ec2/i-paused", Some(&seed_body())).await;
        answer.assert_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily unavailable",
            ctx,
        );
        assert_eq!(answer.header("retry-after"), Some("1"), "{ctx}");
        let message = answer.body["error_message"].as_str().unwrap();
        assert!(
            !message.contains("Resuming") && !message.contains("arn:"),
            "{ctx}: {message}"
        );
        // Wake the database (the harness store retries) so cleanup can run.
        db.store.search(&Default::default()).await.unwrap();
    })
    .await;

    // No endpoint at all (a closed port): also the database being unreachable.
    let client = common::unreachable_client().await;
    let db = common::sqlite().await;
    let store = Store::new(client, db.target.clone()).with_retry_policy(NO_RETRY);
    let answer = get(&router(store), "/ec2/i-1").await;
    answer.assert_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily unavailable",
        "closed port",
    );
    let message = answer.body["error_message"].as_str().unwrap();
    assert!(
        !message.contains("127.0.0.1") && !message.contains("dispatch"),
        "{message}"
    );
    db.finish().await;
}

#[tokio::test]
async fn no_input_panics_or_fails_the_server() {
    let db = common::sqlite().await;
    let api = &router(db.store.clone());
    let paths = [
        "/ec2/%",
        "/ec2/%FF%FE",
        "/ec2/%00",
        "/packages/%",
        "/packages/%C0%AF",
        "/packages/%2F%2F",
        "/ec2?%=1",
        "/ec2?a=%",
        "/ec2?=",
        "/ec2?&&&",
        "/ec2?limit=99999999999999999999",
        "/ec2?state=",
        "/ec2?package_name=a&package_version=",
        "/ec2/..",
        "/ec2/.",
        "/%2e%2e/ec2",
        "/ec2/i-1?unexpected=query",
        "/ec2/i-1/history?since=%",
        "/ec2/i-1/history?until=99999-01-01",
        "/ec2/%00/history",
        "/packages/history",
        "/packages//history",
        "/packages/a/history?next_token=%FF",
        "/packages/a?since=2026-01-01",
        "/ec2?package_name=a&version_lt=~~~~",
    ];
    let bodies = [
        "".to_string(),
        "\u{0}".into(),
        "{\"aws_region\":\"us-east-1\",\"aws_account\":\"123456789012\",\"packages\":[null]}"
            .into(),
        "{\"packages\": {\"package_name\": 1}}".into(),
        format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)),
        "{\"aws_region\":\"\\ud800\"}".into(),
        "1e999999".into(),
    ];
    for path in paths {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            for body in &bodies {
                let answer = send(api, request(method.clone(), path, body.clone())).await;
                assert!(
                    answer.status.as_u16() < 500,
                    "{method} {path} {body:.40}: {}",
                    answer.body
                );
            }
        }
    }
    db.finish().await;
}

/// PostgreSQL cannot store the NUL character in text: every input that
/// reaches the database is refused at validation, on every engine alike,
/// with a 400 naming the field, and nothing is written.
#[tokio::test]
async fn text_an_engine_cannot_store_is_400_naming_the_field() {
    on_each_api(async |api, ctx| {
        let nul_name = body("123456789012", "us-east-1", &[("a\u{0}b", "1")]);
        let nul_version = body("123456789012", "us-east-1", &[("a", "1"), ("b", "\u{0}")]);
        for method in [Method::PUT, Method::POST] {
            for (body, field) in [
                (&nul_name, "packages[0].package_name"),
                (&nul_version, "packages[1].package_version"),
            ] {
                let answer = call(api, method.clone(), "/ec2/i-nul", Some(body)).await;
                answer.assert_error(StatusCode::BAD_REQUEST, field, &format!("{ctx}: {method}"));
            }
        }
        assert_eq!(
            get(api, "/ec2/i-nul").await.body["record_found"],
            false,
            "{ctx}"
        );
        for (path, field) in [
            ("/packages/%00", "package_name"),
            ("/packages/a%00", "package_name"),
            ("/ec2?package_name=%00", "package_name"),
            (
                "/ec2?package_name=a&package_version=1%00",
                "package_version",
            ),
            ("/ec2/i-%00", "aws_instance_id"),
        ] {
            get(api, path).await.assert_error(
                StatusCode::BAD_REQUEST,
                field,
                &format!("{ctx}: {path}"),
            );
        }
    })
    .await;
}

/// The README's story: a launch, an upgrade, the history shows it, and a
/// version range finds the instance; with the history routes' errors.
#[tokio::test]
async fn history_and_version_ranges_over_http() {
    on_each_api(async |api, ctx| {
        let first = body(
            "123456789012",
            "us-east-1",
            &[("openssl", "3.0.2-0ubuntu1.15"), ("curl", "7.81.0")],
        );
        assert_eq!(
            call(api, Method::PUT, "/ec2/i-up", Some(&first))
                .await
                .status,
            StatusCode::OK,
            "{ctx}"
        );
        let upgraded = body(
            "123456789012",
            "us-east-1",
            &[("openssl", "3.0.2-0ubuntu1.16"), ("curl", "7.81.0")],
        );
        assert_eq!(
            call(api, Method::PUT, "/ec2/i-up", Some(&upgraded))
                .await
                .status,
            StatusCode::OK,
            "{ctx}"
        );

        let history = get(api, "/ec2/i-up/history?limit=1").await;
        assert_eq!(history.status, StatusCode::OK, "{ctx}: {}", history.body);
        assert_key_order(
            &history.raw,
            &["aws_instance_id", "changes", "next_token"],
            ctx,
        );
        let change = &history.body["changes"][0];
        assert_eq!(change["change"], "changed", "{ctx}: {}", history.body);
        assert_eq!(change["package_name"], "openssl", "{ctx}");
        assert_eq!(change["old_version"], "3.0.2-0ubuntu1.15", "{ctx}");
        assert_eq!(change["new_version"], "3.0.2-0ubuntu1.16", "{ctx}");
        assert_eq!(change["source"], "api", "{ctx}");
        assert!(
            is_seed_time(change["change_date_utc"].as_str().unwrap()),
            "{ctx}: {change}"
        );
        assert!(
            change.get("old_state").is_none(),
            "{ctx}: empty sides are left out"
        );
        let token = history.body["next_token"].as_str().expect("a next page");
        let rest = get(api, &format!("/ec2/i-up/history?next_token={token}")).await;
        let kinds: Vec<&str> = rest.body["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["change"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["installed", "installed"], "{ctx}: {}", rest.body);
        assert_eq!(rest.body["next_token"], Value::Null, "{ctx}");

        let package = get(api, "/packages/openssl/history").await;
        assert_eq!(package.status, StatusCode::OK, "{ctx}: {}", package.body);
        assert_eq!(package.body["package_name"], "openssl", "{ctx}");
        assert_eq!(
            package.body["changes"].as_array().unwrap().len(),
            2,
            "{ctx}"
        );
        assert_eq!(
            package.body["changes"][0]["aws_instance_id"], "i-up",
            "{ctx}"
        );
        // A name ending in /history writes its slash encoded: its versions.
        let versions = get(api, "/packages/openssl%2Fhistory").await;
        assert_eq!(
            versions.body["package_name"], "openssl/history",
            "{ctx}: {}",
            versions.body
        );
        let unknown = get(api, "/ec2/i-never/history").await;
        assert_eq!(unknown.status, StatusCode::OK, "{ctx}");
        assert_eq!(unknown.body["changes"], json!([]), "{ctx}");
        let window = get(
            api,
            "/ec2/i-up/history?since=2000-01-01&until=2000-01-02%2000:00:00",
        )
        .await;
        assert_eq!(window.body["changes"], json!([]), "{ctx}: {}", window.body);
        // Narrowed to the instance's account, and to another one.
        let own = get(api, "/packages/openssl/history?aws_account=123456789012").await;
        assert_eq!(
            own.body["changes"].as_array().unwrap().len(),
            2,
            "{ctx}: {}",
            own.body
        );
        let other = get(api, "/packages/openssl/history?aws_region=eu-north-1").await;
        assert_eq!(other.body["changes"], json!([]), "{ctx}: {}", other.body);

        let found = get(
            api,
            "/ec2?package_name=openssl&version_lt=3.0.2-0ubuntu1.17&version_gt=3.0.2-0ubuntu1.15",
        )
        .await;
        assert_eq!(found.status, StatusCode::OK, "{ctx}: {}", found.body);
        assert_eq!(
            found.body["instances"][0]["aws_instance_id"], "i-up",
            "{ctx}"
        );
        let none = get(
            api,
            "/ec2?package_name=openssl&version_le=3.0.2-0ubuntu1.15",
        )
        .await;
        assert_eq!(none.body["instances"], json!([]), "{ctx}");

        for (path, needle) in [
            ("/ec2/i-up/history?since=yesterday", "since: must be a time"),
            (
                "/ec2/i-up/history?since=2026-02-01&until=2026-01-01",
                "since: must not be after until",
            ),
            ("/ec2/i-up/history?limit=0", "limit:"),
            ("/ec2/i-up/history?next_token=abc", "next_token:"),
            (
                "/ec2/i-up/history?package_name=a",
                "package_name: unknown query parameter",
            ),
            ("/packages/openssl/history?limit=5000", "limit:"),
            ("/packages/openssl/history?aws_account=12", "aws_account:"),
            ("/packages/openssl?limit=5", "takes no query parameters"),
        ] {
            get(api, path).await.assert_error(
                StatusCode::BAD_REQUEST,
                needle,
                &format!("{ctx}: {path}"),
            );
        }
        let answer = call(api, Method::POST, "/ec2/i-up/history", None).await;
        answer.assert_error(StatusCode::METHOD_NOT_ALLOWED, "GET", ctx);
    })
    .await;
}

/// The OS a PUT names decides the version order and the advisories that
/// apply; the vulnerability routes answer who is exposed, and their bad
/// parameters are 400s naming them.
#[tokio::test]
async fn vulnerabilities_over_http() {
    use inventory_core::advisories::{Advisory, Affected, Feed, Interval, NameKind, Severity};
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let api = router(db.store.clone());
        let mut put = body(
            "123456789012",
            "us-east-1",
            &[("openssl", "3.0.14-1~deb12u1")],
        );
        put["platform_name"] = json!("Debian GNU/Linux");
        put["platform_version"] = json!("12");
        let answer = call(&api, Method::PUT, "/ec2/i-deb", Some(&put)).await;
        assert_eq!(answer.status, StatusCode::OK, "{ctx}: {}", answer.body);
        let record = &get(&api, "/ec2/i-deb").await.body["record"];
        assert_eq!(record["os_release"], "debian:12", "{ctx}: {record}");
        assert_eq!(record["version_scheme"], "dpkg", "{ctx}");
        assert_eq!(record["platform_name"], "Debian GNU/Linux", "{ctx}");
        // POST keeps the original's three fields.
        call(&api, Method::POST, "/ec2/i-post", Some(&put))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "platform_name", ctx);

        let dsa = Advisory {
            id: "DSA-5764-1".into(),
            aliases: vec!["CVE-2024-5535".into()],
            summary: Some("openssl security update".into()),
            severity: Severity::High,
            published: None,
            modified: chrono::Utc::now(),
            withdrawn: None,
            source: Feed::Osv,
            affected: vec![Affected {
                release: "debian:12".parse().unwrap(),
                package: "openssl".into(),
                names: NameKind::Source,
                ranges: vec![Interval {
                    fixed: Some("3.0.14-1~deb12u2".into()),
                    ..Interval::default()
                }],
                versions: vec![],
            }],
        };
        let mut import = db.store.begin_import().await.unwrap();
        import.advisories(&[dsa]).await.unwrap();
        import.commit().await.unwrap();

        for path in ["/advisories/DSA-5764-1", "/advisories/CVE-2024-5535"] {
            let a = get(&api, path).await;
            assert_eq!(a.status, StatusCode::OK, "{ctx}: {path}: {}", a.body);
            assert_eq!(a.body["advisory"]["advisory_id"], "DSA-5764-1", "{ctx}");
            assert_eq!(a.body["advisory"]["severity"], "high", "{ctx}");
            assert_eq!(
                a.body["affected"],
                json!([{"aws_instance_id": "i-deb", "package_name": "openssl",
                        "package_version": "3.0.14-1~deb12u1", "fixed_version": "3.0.14-1~deb12u2",
                        "matched_by": "same_name", "advisory_id": "DSA-5764-1"}]),
                "{ctx}"
            );
            assert_eq!(a.body["next_token"], Value::Null, "{ctx}");
        }
        get(&api, "/advisories/CVE-1999-0001").await.assert_error(
            StatusCode::NOT_FOUND,
            "CVE-1999-0001",
            ctx,
        );
        let mine = get(&api, "/ec2/i-deb/vulnerabilities").await;
        assert_eq!(
            mine.body["vulnerabilities"][0]["advisory_id"], "DSA-5764-1",
            "{ctx}"
        );
        assert_eq!(
            mine.body["vulnerabilities"][0]["aliases"],
            json!(["CVE-2024-5535"])
        );
        let fleet = get(&api, "/vulnerabilities?severity=high&aws_region=us-east-1").await;
        assert_eq!(
            fleet.body["advisories"][0]["instances"], 1,
            "{ctx}: {}",
            fleet.body
        );
        let none = get(&api, "/vulnerabilities?severity=low").await;
        assert_eq!(none.body["advisories"], json!([]), "{ctx}");
        for (path, field) in [
            ("/vulnerabilities?severity=dire", "severity"),
            ("/vulnerabilities?limit=0", "limit"),
            ("/vulnerabilities?next_token=nonsense", "next_token"),
            (
                "/ec2/i-deb/vulnerabilities?aws_account=123456789012",
                "aws_account",
            ),
            ("/advisories/DSA-5764-1?severity=high", "severity"),
            ("/advisories/DSA-5764-1?state=asleep", "state"),
        ] {
            get(&api, path)
                .await
                .assert_error(StatusCode::BAD_REQUEST, field, ctx);
        }
        call(&api, Method::DELETE, "/vulnerabilities", None)
            .await
            .assert_error(StatusCode::METHOD_NOT_ALLOWED, "GET", ctx);
    })
    .await;
}

#[tokio::test]
async fn accounts_answer_each_scopes_counts_and_coverage() {
    use inventory_core::model::{InstanceId, InstanceState, Scope, StateChange};
    use inventory_core::store::ScopeSyncReport;
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let store = &db.store;
        let api = router(store.clone());
        let scope = |account: &str, region: &str| Scope {
            account: account.parse().unwrap(),
            region: region.parse().unwrap(),
        };
        let now = chrono::Utc::now();
        // Synced to the end of a pass, with two running, one stopped and one
        // hand-made (stateless) instance.
        let synced = scope("111111111111", "eu-west-1");
        for (n, state) in [
            InstanceState::Running,
            InstanceState::Running,
            InstanceState::Stopped,
        ]
        .into_iter()
        .enumerate()
        {
            let change = StateChange {
                id: InstanceId::parse(&format!("i-0000000000000000{n}")).unwrap(),
                account: synced.account.clone(),
                region: synced.region.clone(),
                state,
                time: now,
                details: None,
            };
            store.apply_state(&change).await.unwrap();
        }
        let by_hand = body("111111111111", "eu-west-1", &[("openssl", "3.0.13")]);
        let made = call(&api, Method::POST, "/ec2/server-1", Some(&by_hand)).await;
        assert_eq!(made.status, StatusCode::OK, "{ctx}: {}", made.body);
        let passed = ScopeSyncReport {
            at: now,
            reached: true,
            pass_completed: true,
            error: None,
        };
        store.record_scope_sync(&synced, &passed).await.unwrap();
        // Denied: reached by no listing, its error kept.
        let denied = scope("222222222222", "us-east-1");
        let failed = ScopeSyncReport {
            at: now,
            reached: false,
            pass_completed: false,
            error: Some("STS AssumeRole failed: AccessDenied".into()),
        };
        store.record_scope_sync(&denied, &failed).await.unwrap();
        // Silent: its last event is three days old.
        let quiet = scope("333333333333", "us-east-1");
        let long_ago = now - chrono::Duration::days(3);
        store
            .record_scope_event(&quiet, long_ago, None)
            .await
            .unwrap();

        let answer = get(&api, "/accounts").await;
        assert_eq!(answer.status, StatusCode::OK, "{ctx}: {}", answer.body);
        assert_eq!(answer.body["silent_after_hours"], 24, "{ctx}");
        assert_eq!(answer.body["next_token"], Value::Null, "{ctx}");
        let accounts = answer.body["accounts"].as_array().unwrap();
        let of = |account: &str| {
            let found = accounts.iter().find(|a| a["aws_account"] == account);
            found.unwrap_or_else(|| panic!("{ctx}: no {account} in {}", answer.body))
        };
        let listed: Vec<&str> = accounts
            .iter()
            .map(|a| a["aws_account"].as_str().unwrap())
            .collect();
        assert_eq!(listed, ["111111111111", "222222222222", "333333333333"]);
        let time = |v: &Value| v.as_str().is_some_and(is_seed_time);

        let a = of("111111111111");
        assert_eq!(a["aws_region"], "eu-west-1", "{ctx}");
        assert_eq!(
            a["instances"],
            json!({"total": 4, "pending": 0, "running": 2, "stopping": 0, "stopped": 1,
                   "shutting-down": 0, "terminated": 0, "unknown": 1}),
            "{ctx}"
        );
        assert_eq!((&a["watched"], &a["silent"]), (&json!(true), &json!(false)));
        assert!(time(&a["last_sync_utc"]), "{ctx}: {a}");
        assert_eq!(
            a["last_pass_completed_utc"], a["last_sync_utc"],
            "{ctx}: {a}"
        );
        assert_eq!(a["last_error"], Value::Null, "{ctx}: {a}");
        assert_eq!(a["last_event_utc"], Value::Null, "{ctx}: {a}");

        let b = of("222222222222");
        assert_eq!(
            b["last_error"], "STS AssumeRole failed: AccessDenied",
            "{ctx}"
        );
        assert!(time(&b["last_error_utc"]), "{ctx}: {b}");
        assert_eq!(b["last_pass_completed_utc"], Value::Null, "{ctx}: {b}");
        assert_eq!(b["instances"]["total"], 0, "{ctx}: {b}");
        // Heard from by its (failed) sync run just now: not silent.
        assert_eq!(b["silent"], false, "{ctx}: {b}");

        let c = of("333333333333");
        assert_eq!(c["silent"], true, "{ctx}: {c}");
        assert!(time(&c["last_event_utc"]), "{ctx}: {c}");
        assert_eq!(c["last_sync_utc"], Value::Null, "{ctx}: {c}");

        // A page at a time, then bad parameters: 400 naming them.
        let page = get(&api, "/accounts?limit=2").await;
        assert_eq!(page.body["accounts"].as_array().unwrap().len(), 2, "{ctx}");
        let token = page.body["next_token"].as_str().unwrap().to_owned();
        let rest = get(&api, &format!("/accounts?limit=2&next_token={token}")).await;
        assert_eq!(
            rest.body["accounts"][0]["aws_account"], "333333333333",
            "{ctx}"
        );
        assert_eq!(rest.body["next_token"], Value::Null, "{ctx}");
        for (path, field) in [
            ("/accounts?limit=0", "limit"),
            ("/accounts?limit=1001", "limit"),
            ("/accounts?next_token=nonsense", "next_token"),
        ] {
            get(&api, path)
                .await
                .assert_error(StatusCode::BAD_REQUEST, field, ctx);
        }
    })
    .await;
}
