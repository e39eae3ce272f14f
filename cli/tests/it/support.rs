//! What the CLI's tests share: a temporary directory, a running `inventory
//! serve`, a raw HTTP exchange, and the operator commands.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use data_api_local::{LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

pub const BIN: &str = env!("CARGO_BIN_EXE_inventory");
pub const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("inventory-cli-{}", uuid()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn uuid() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}-{nanos}", std::process::id())
}

/// A running `inventory serve` and the URLs it printed.
pub struct Serve {
    pub child: Child,
    pub http: String,
    pub data_api: String,
}

impl Serve {
    /// `serve` on free ports (never the defaults, which another `serve` may
    /// hold); its log goes next to the database.
    pub async fn start(db: &Path) -> Serve {
        let log_path = db.with_extension("log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut child = Command::new(BIN)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(["--data-api-bind", "127.0.0.1:0"])
            .arg("--database-url")
            .arg(format!("sqlite://{}", db.display()))
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("spawn inventory serve");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let read = async {
            let (mut http, mut data_api) = (None, None);
            while let Some(line) = lines.next_line().await.unwrap() {
                let value = |prefix: &str| {
                    line.trim()
                        .strip_prefix(prefix)
                        .map(|v| v.trim().to_owned())
                };
                http = http.or_else(|| value("HTTP API:"));
                data_api = data_api.or_else(|| value("Data API:"));
                if let (Some(http), Some(data_api)) = (&http, &data_api) {
                    return (http.clone(), data_api.clone());
                }
            }
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!("inventory serve exited before printing its URLs:\n{log}");
        };
        let (http, data_api) = tokio::time::timeout(READY_TIMEOUT, read)
            .await
            .expect("inventory serve did not get ready in time");
        // Keep reading stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Serve {
            child,
            http,
            data_api,
        }
    }
}

/// A minimal HTTP/1.1 exchange (`Connection: close`): status and JSON body.
pub async fn http(base: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let addr = base.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8(response).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (
        status,
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}")),
    )
}

/// Runs an operator command (`migrate`, `get`, ...) against a local
/// endpoint; returns its stdout, failing the test if the command failed.
pub async fn operator(command: &[&str], endpoint: &str) -> String {
    let output = operator_command(command, endpoint)
        .output()
        .await
        .expect("run inventory");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{command:?} failed: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// An operator command against a local endpoint, not started yet.
pub fn operator_command(command: &[&str], endpoint: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(command)
        .args(["--endpoint-url", endpoint, "--dialect", "sqlite"])
        .args([
            "--resource-arn",
            LOCAL_CLUSTER_ARN,
            "--secret-arn",
            LOCAL_SECRET_ARN,
        ])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env_remove("INVENTORY_DATABASE");
    cmd
}

pub async fn migrate(endpoint: &str) -> String {
    operator(&["migrate"], endpoint).await
}
