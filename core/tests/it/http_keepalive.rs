//! The HTTP API over real HTTP/1.1, as `inventory serve` serves it
//! (`axum::serve` of the Router): every answer leaves a keep-alive
//! connection usable, or says `Connection: close`.

use crate::common;
use crate::common::keepalive::{self, Probe, Reply, METHODS};

use std::net::SocketAddr;

use inventory_core::http::{router, MAX_BODY_BYTES, REQUEST_ID_HEADER};
use inventory_core::store::Store;
use serde_json::Value;

/// The Router as `inventory serve` serves it, on a free local port.
async fn serve(store: Store) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = tokio::spawn(async move {
        axum::serve(listener, router(store)).await.unwrap();
    });
    (addr, serving)
}

/// Every route shape, valid and not: each route with good and bad
/// parameters, the page's views, and paths no route takes.
const PATHS: [&str; 22] = [
    "/",
    "/ec2",
    "/ec2?limit=0",
    "/ec2/i-0123456789abcdef0",
    "/ec2/bad%20id",
    "/ec2/i-0123456789abcdef0/history",
    "/ec2/i-0123456789abcdef0/history?since=soon",
    "/ec2/a/b/c",
    "/packages/openssl",
    "/packages/openssl/history",
    "/packages/%",
    "/advisories/CVE-2024-5535",
    "/advisories/%25",
    "/ec2/i-0123456789abcdef0/vulnerabilities",
    "/ec2/i-0123456789abcdef0/vulnerabilities?limit=x",
    "/vulnerabilities?severity=urgent",
    "/vulnerabilities",
    "/accounts",
    "/accounts?limit=0",
    "/ui/",
    "/ui/ec2/bad%20id",
    "/nowhere",
];

/// A body `POST` and `PUT /ec2/{id}` accept.
const SAMPLE: &str = r#"{"aws_region": "us-east-1", "aws_account": "123456789012", "packages": [{"package_name": "openssl", "package_version": "3.0.11"}]}"#;

/// What every answer has: no 5xx, JSON, the request id; an error's JSON body
/// carries its message and the same id. A body over the limit is a 413 that
/// closes the connection; no other answer closes it.
fn inspect(probe: &Probe, reply: &Reply) -> Option<String> {
    if reply.status >= 500 {
        return Some(String::from_utf8_lossy(&reply.body).into_owned());
    }
    let over_limit = probe
        .payload
        .as_ref()
        .is_some_and(|p| p.bytes.len() > MAX_BODY_BYTES);
    if over_limit && !(reply.status == 413 && reply.close) {
        return Some("a body over the limit is not a 413 with `Connection: close`".into());
    }
    if !over_limit && reply.close {
        return Some("closes the connection".into());
    }
    // The page's views answer HTML, their errors included; the 405s and 413s
    // of the common layers, and the API, answer JSON.
    let content_type = reply.header("content-type").unwrap_or_default();
    let html = content_type.starts_with("text/html");
    if !(content_type == "application/json" || html && probe.path.starts_with("/ui/")) {
        return Some(format!("content-type {content_type:?}"));
    }
    let Some(id) = reply.header(REQUEST_ID_HEADER) else {
        return Some("no request id".into());
    };
    if reply.status >= 400 && probe.method != "HEAD" && !html {
        let body: Value = match serde_json::from_slice(&reply.body) {
            Ok(body) => body,
            Err(e) => return Some(format!("the error's body is not JSON: {e}")),
        };
        if !body["error_message"].is_string() || body["request_id"] != id {
            return Some(format!("error body {body}"));
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_keeps_the_connection_or_says_close() {
    common::on_each_backend(async |db| {
        let (addr, serving) = serve(db.store.clone()).await;
        let payloads = keepalive::payloads(SAMPLE.as_bytes(), MAX_BODY_BYTES);
        let probes = keepalive::probes(&METHODS, &PATHS, &payloads);
        let check = Probe::new("GET", "/ec2?limit=1", None);
        let outcome = keepalive::sweep(addr, &probes, &check, 200, inspect).await;
        eprintln!("{}: {}", db.name, outcome.summary());
        outcome.assert_clean(db.name);
        serving.abort();
    })
    .await;
}
