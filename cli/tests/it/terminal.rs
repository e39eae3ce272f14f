//! What a person sees at a terminal and what a script gets in a pipe: the
//! query commands on a pseudo-terminal print aligned tables and no log
//! lines; through a pipe, the API's JSON alone; `serve` logs one line per
//! HTTP request, not one per Data API call.

use std::io::Read;

use data_api_local::{LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN};
use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use serde_json::{json, Value};
use tokio::process::Command;

use crate::support::{http, Serve, TempDir, BIN};

/// The flags that point a command at `serve`'s Data API.
fn target(endpoint: &str) -> Vec<String> {
    [
        "--endpoint-url",
        endpoint,
        "--dialect",
        "sqlite",
        "--resource-arn",
        LOCAL_CLUSTER_ARN,
        "--secret-arn",
        LOCAL_SECRET_ARN,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Runs `inventory args…` on a pseudo-terminal of 160 columns: what the
/// terminal showed, and whether it succeeded.
fn on_terminal(args: Vec<String>) -> (String, bool) {
    on_terminal_of(args, 160)
}

/// [`on_terminal`] with `cols` columns; 0 is a terminal that reports no size
/// (as `script` or a serial console gives).
fn on_terminal_of(args: Vec<String>, cols: u16) -> (String, bool) {
    let pty = native_pty_system();
    let pair = pty
        .openpty(PtySize {
            rows: 50,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pseudo-terminal");
    let mut cmd = CommandBuilder::new(BIN);
    cmd.args(&args);
    cmd.env_remove("RUST_LOG");
    let mut child = pair.slave.spawn_command(cmd).expect("spawn on the pty");
    // Only the child holds the terminal now: its end is our EOF.
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let reading = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        // Linux answers EIO once the child's side is closed.
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    });
    let status = child.wait().expect("wait for the command");
    drop(pair.master);
    let out = reading.join().unwrap();
    (
        String::from_utf8_lossy(&out).replace("\r\n", "\n"),
        status.success(),
    )
}

/// Runs `inventory args…` with stdout and stderr as pipes.
async fn through_pipes(args: &[String]) -> (String, String) {
    let output = Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .await
        .expect("run inventory");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{args:?}: {stderr}");
    (stdout, stderr)
}

fn with(args: &[&str], endpoint: &str) -> Vec<String> {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    all.extend(target(endpoint));
    all
}

#[tokio::test]
async fn tables_on_a_terminal_json_in_a_pipe_and_logs_on_stderr() {
    let dir = TempDir::new();
    let db = dir.0.join("inventory.db");
    let serve = Serve::start(&db).await;
    for (id, version) in [
        ("i-0aaa", "3.0.11-1~deb12u2"),
        ("i-0bbb", "3.0.13-1~deb12u1"),
        ("backfill:web-long-name-1", "3.0.13-1~deb12u1"),
    ] {
        let body = json!({"aws_region": "eu-west-1", "aws_account": "210987654321", "packages": [
            {"package_name": "openssl", "package_version": version}]});
        let (status, answer) = http(&serve.http, "PUT", &format!("/ec2/{id}"), Some(&body)).await;
        assert_eq!(status, 200, "{answer}");
    }
    let endpoint = serve.data_api.clone();

    // A table a person scans: the columns line up, every instance is there.
    let (screen, ok) = tokio::task::spawn_blocking({
        let args = with(&["search", "--package-name", "openssl"], &endpoint);
        move || on_terminal(args)
    })
    .await
    .unwrap();
    assert!(ok, "{screen}");
    let lines: Vec<&str> = screen.lines().collect();
    let header = lines
        .iter()
        .find(|l| l.contains("instance") && l.contains("account"))
        .unwrap_or_else(|| panic!("no table header in:\n{screen}"));
    let column = header.find("account").unwrap();
    for id in ["i-0aaa", "i-0bbb", "backfill:web-long-name-1"] {
        let row = lines
            .iter()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("{id} missing in:\n{screen}"));
        assert_eq!(row.find("210987654321"), Some(column), "{screen}");
    }
    assert!(screen.contains("3 instances"), "{screen}");
    for noise in ["INFO", "WARN", "DEBUG", "{\""] {
        assert!(
            !screen.contains(noise),
            "{noise} on the terminal:\n{screen}"
        );
    }

    // A page that is not the last says how to get the next.
    let (screen, _) = tokio::task::spawn_blocking({
        let args = with(&["search", "--limit", "2"], &endpoint);
        move || on_terminal(args)
    })
    .await
    .unwrap();
    assert!(
        screen.contains("more: add --next-token ") && screen.contains("or --all"),
        "{screen}"
    );
    let (screen, _) = tokio::task::spawn_blocking({
        let args = with(&["search", "--limit", "1", "--all"], &endpoint);
        move || on_terminal(args)
    })
    .await
    .unwrap();
    assert!(
        screen.contains("3 instances") && !screen.contains("more:"),
        "{screen}"
    );

    let (screen, _) = tokio::task::spawn_blocking({
        let args = with(&["packages", "openssl"], &endpoint);
        move || on_terminal(args)
    })
    .await
    .unwrap();
    assert!(
        screen.contains("openssl: 2 versions on 3 installs"),
        "{screen}"
    );
    assert!(screen.contains(&"█".repeat(30)), "{screen}");

    // In a pipe: the API's JSON and nothing else, logs on stderr.
    let (stdout, stderr) =
        through_pipes(&with(&["search", "--package-name", "openssl"], &endpoint)).await;
    let found: Value = serde_json::from_str(&stdout).expect("stdout is one JSON answer");
    assert_eq!(found["instances"].as_array().unwrap().len(), 3, "{stdout}");
    assert!(stderr.is_empty(), "warnings only by default: {stderr}");
    let (stdout, stderr) = through_pipes(&with(&["-v", "get", "i-0aaa"], &endpoint)).await;
    let got: Value = serde_json::from_str(&stdout).expect("stdout stays JSON with -v");
    assert_eq!(got["record"]["aws_instance_id"], "i-0aaa");
    assert!(stderr.contains("INFO"), "-v logs more: {stderr}");
    // --all in a pipe: each page's answer on its own line.
    let (stdout, _) = through_pipes(&with(&["search", "--limit", "2", "--all"], &endpoint)).await;
    let pages: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(pages.len(), 2, "{stdout}");
    assert!(pages[1]["next_token"].is_null(), "{stdout}");

    // serve: its banner, then one line per HTTP request, none per Data API call.
    let (status, _) = http(&serve.http, "GET", "/ec2/i-0aaa", None).await;
    assert_eq!(status, 200);
    let log = std::fs::read_to_string(db.with_extension("log")).unwrap();
    let requests = log.lines().filter(|l| l.contains(" request ")).count();
    assert!(requests >= 4, "one line per request:\n{log}");
    assert!(log.contains("route=\"/ec2/{id}\""), "{log}");
    assert!(
        !log.contains("data api call"),
        "no line per Data API call:\n{log}"
    );
}

#[tokio::test]
async fn command_line_json_flag_wins_on_a_terminal() {
    let dir = TempDir::new();
    let serve = Serve::start(&dir.0.join("inventory.db")).await;
    let endpoint = serve.data_api.clone();
    let (screen, ok) = tokio::task::spawn_blocking(move || {
        on_terminal(with(&["packages", "openssl", "--json"], &endpoint))
    })
    .await
    .unwrap();
    assert!(ok, "{screen}");
    let answer: Value = serde_json::from_str(screen.trim()).expect("JSON on the terminal");
    assert_eq!(answer, json!({"package_name": "openssl", "versions": []}));
}

#[tokio::test]
async fn a_terminal_without_a_size_gets_whole_cells() {
    let dir = TempDir::new();
    let serve = Serve::start(&dir.0.join("inventory.db")).await;
    let body = json!({"aws_region": "eu-west-1", "aws_account": "210987654321", "packages": [
        {"package_name": "openssl", "package_version": "3.0.11-1~deb12u2"}]});
    let (status, answer) = http(&serve.http, "PUT", "/ec2/i-0aaa", Some(&body)).await;
    assert_eq!(status, 200, "{answer}");
    let endpoint = serve.data_api.clone();
    let (screen, ok) = tokio::task::spawn_blocking(move || {
        on_terminal_of(with(&["search", "--package-name", "openssl"], &endpoint), 0)
    })
    .await
    .unwrap();
    assert!(ok, "{screen}");
    // Squeezed to the width of nothing, every cell would be a column of
    // single characters.
    for whole in ["instance", "210987654321", "i-0aaa", "eu-west-1"] {
        assert!(screen.contains(whole), "{whole} is cut in:\n{screen}");
    }
}
