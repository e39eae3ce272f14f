//! `inventory proxy` against a local stand-in for API Gateway with IAM auth:
//! the stand-in refuses any request whose SigV4 signature does not check out
//! (recomputed from what arrived and the operator's test credentials), strips
//! the stage and answers with the inventory's own Router over `serve`'s
//! store, as the deployed function would.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use chrono::NaiveDateTime;
use data_api_local::{LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN};
use inventory_core::store::{DbTarget, Dialect, Store};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tower::ServiceExt;

use crate::support::{http, Serve, TempDir, BIN, READY_TIMEOUT};

const KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "session-token-example";
const REGION: &str = "eu-west-1";
const STAGE: &str = "/prod";

/// What the stand-in saw: each request's method and path, and whether its
/// signature checked out.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(String, String, bool)>>>);

struct StandIn {
    api: Router,
    seen: Seen,
    /// The stand-in's own origin, as the proxy's requests name it.
    origin: String,
}

/// Checks the SigV4 signature of `req` as API Gateway would: present,
/// well-formed, for this key, region and service, and equal to the one the
/// SDK's signer computes from what arrived (method, URL, host, date, token).
fn signature_checks(req: &Request, origin: &str) -> Result<(), String> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or(format!("no {name} header"))
    };
    let authorization = header("authorization")?;
    let date = header("x-amz-date")?;
    if header("x-amz-security-token")? != TOKEN {
        return Err("wrong session token".into());
    }
    let time = NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ")
        .map_err(|e| format!("x-amz-date {date:?}: {e}"))?
        .and_utc();
    let scope = format!("{KEY_ID}/{}/{REGION}/execute-api/aws4_request", &date[..8]);
    let expected_start = format!("AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=");
    if !authorization.starts_with(&expected_start) {
        return Err(format!("authorization {authorization:?}"));
    }
    let (signed_headers, signature) = authorization[expected_start.len()..]
        .split_once(", Signature=")
        .ok_or("no signature")?;
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("signature {signature:?}"));
    }
    // Recompute: the headers the client signed, less those the signer adds.
    let names: Vec<&str> = signed_headers.split(';').collect();
    for required in ["host", "x-amz-date"] {
        if !names.contains(&required) {
            return Err(format!("{required} is not signed: {signed_headers}"));
        }
    }
    let headers: Vec<(&str, &str)> = names
        .iter()
        .filter(|n| !matches!(**n, "x-amz-date" | "x-amz-security-token"))
        .map(|n| Ok((*n, header(n)?)))
        .collect::<Result<_, String>>()?;
    let url = format!("{origin}{}", req.uri());
    let identity = Credentials::new(KEY_ID, SECRET, Some(TOKEN.into()), None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("execute-api")
        .time(SystemTime::from(time))
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let signable = SignableRequest::new(
        req.method().as_str(),
        &url,
        headers.into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| e.to_string())?;
    let recomputed = sign(signable, &params).map_err(|e| e.to_string())?;
    if recomputed.signature() != signature {
        return Err(format!("signature does not match the request ({url})"));
    }
    Ok(())
}

async fn gateway(State(stand_in): State<Arc<StandIn>>, req: Request) -> Response {
    let checked = signature_checks(&req, &stand_in.origin);
    stand_in.seen.0.lock().unwrap().push((
        req.method().to_string(),
        req.uri().to_string(),
        checked.is_ok(),
    ));
    if let Err(why) = checked {
        return (
            StatusCode::FORBIDDEN,
            format!("{{\"message\":\"Forbidden: {why}\"}}"),
        )
            .into_response();
    }
    // The stage is API Gateway's, not the function's.
    let (mut parts, body) = req.into_parts();
    let path = parts.uri.to_string();
    let Some(inner) = path.strip_prefix(STAGE) else {
        return (StatusCode::NOT_FOUND, "{\"message\":\"Not Found\"}").into_response();
    };
    parts.uri = inner.parse().unwrap();
    stand_in
        .api
        .clone()
        .oneshot(Request::from_parts(parts, body))
        .await
        .unwrap()
}

async fn start_stand_in(data_api: &str) -> (String, Seen) {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(data_api)
        .region(aws_config::Region::new("us-east-1"))
        .test_credentials()
        .load()
        .await;
    let store = Store::new(
        aws_sdk_rdsdata::Client::new(&config),
        DbTarget {
            resource_arn: LOCAL_CLUSTER_ARN.into(),
            secret_arn: LOCAL_SECRET_ARN.into(),
            database: None,
            dialect: Dialect::Sqlite,
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let origin = format!("http://{addr}");
    let seen = Seen::default();
    let stand_in = Arc::new(StandIn {
        api: inventory_core::http::router(store),
        seen: seen.clone(),
        origin: origin.clone(),
    });
    let app = Router::new().fallback(gateway).with_state(stand_in);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (origin, seen)
}

/// A raw GET or POST through the proxy: status, headers' text and body.
async fn fetch(base: &str, method: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.strip_prefix("http://").unwrap();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/html\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    (status, text)
}

#[tokio::test]
async fn proxy_signs_every_request_and_forwards_reads_only() {
    let dir = TempDir::new();
    let serve = Serve::start(&dir.0.join("inventory.db")).await;
    let body = json!({"aws_region": "eu-west-1", "aws_account": "210987654321", "packages": [
        {"package_name": "openssl", "package_version": "3.0.13-1~deb12u1"}]});
    let (status, _) = http(&serve.http, "PUT", "/ec2/i-0proxy", Some(&body)).await;
    assert_eq!(status, 200);
    let (origin, seen) = start_stand_in(&serve.data_api).await;

    // Unsigned, the stand-in refuses: it does check.
    let (status, _) = fetch(&origin, "GET", "/prod/ui/").await;
    assert_eq!(status, 403);

    let mut proxy = Command::new(BIN)
        .args([
            "proxy",
            "--bind",
            "127.0.0.1:0",
            "--region",
            REGION,
            "--api-url",
        ])
        .arg(format!("{origin}{STAGE}/"))
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", TOKEN)
        .env("AWS_CONFIG_FILE", dir.0.join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.0.join("none"))
        .env_remove("AWS_PROFILE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn inventory proxy");
    let mut lines = BufReader::new(proxy.stdout.take().unwrap()).lines();
    let page = tokio::time::timeout(READY_TIMEOUT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.trim().strip_prefix("page:") {
                return url.trim().to_owned();
            }
        }
        panic!("inventory proxy exited before printing its address");
    })
    .await
    .expect("inventory proxy did not get ready");
    let base = page.strip_suffix("/ui/").unwrap().to_owned();

    let (status, overview) = fetch(&base, "GET", "/ui/").await;
    assert_eq!(status, 200, "{overview}");
    assert!(overview.contains("Fleet overview"), "{overview}");
    let (status, instance) = fetch(&base, "GET", "/ui/instances/i-0proxy?filter=ssl").await;
    assert_eq!(status, 200, "{instance}");
    assert!(instance.contains("3.0.13-1~deb12u1"), "{instance}");
    let (status, json) = fetch(&base, "GET", "/packages/openssl").await;
    assert_eq!(status, 200, "{json}");
    assert!(json.contains("\"instances\":1"), "{json}");

    // Writes stop at the proxy: the API never sees them.
    let (status, refused) = fetch(&base, "POST", "/ec2/i-0new").await;
    assert_eq!(status, 405, "{refused}");
    let (status, refused) = fetch(&base, "DELETE", "/ec2/i-0proxy").await;
    assert_eq!(status, 405, "{refused}");

    let seen = seen.0.lock().unwrap().clone();
    let forwarded: Vec<_> = seen.iter().skip(1).collect();
    assert_eq!(forwarded.len(), 3, "{seen:?}");
    for (method, path, signed) in &forwarded {
        assert_eq!(method, "GET", "{seen:?}");
        assert!(path.starts_with("/prod/"), "{seen:?}");
        assert!(*signed, "{method} {path}: the signature did not check out");
    }
    assert!(forwarded
        .iter()
        .any(|(_, p, _)| p == "/prod/ui/instances/i-0proxy?filter=ssl"));
    proxy.kill().await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(10), proxy.wait()).await;
}
