//! The page as a person uses it: real headless Chromium (Debian's `chromium`
//! and `chromium-driver`), driven over WebDriver, clicks its way from the
//! overview to a search, an instance, a package and its history on a running
//! `inventory serve`, and checks what it sees against the API's answers: the
//! counts, the versions in the store's order, the chart's bars. A second
//! browser, with JavaScript off, walks to an advisory from the overview and
//! from an instance, after the fixture feeds of `events/advisories` are
//! imported. No console error and no failed request is allowed. It takes
//! the screenshots the README shows: into `docs/` with `UPDATE_SCREENSHOTS=1`,
//! else next to the test's database.
//!
//! Without Chromium it prints a SKIPPED line (a failure under
//! `INVENTORY_TEST_REQUIRE_ALL=1`, as in CI, which installs it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use axum::http::Method;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::optional;
use crate::support::{http, operator, Serve, TempDir};

const UPDATE_VAR: &str = "UPDATE_SCREENSHOTS";

/// Chromium's flags that work headless as root, offline.
const CHROMIUM_ARGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1100",
];

/// `POST /session/{id}/se/log`: chromedriver's browser or performance log
/// since the last read.
#[derive(Debug)]
struct Log(&'static str);

impl WebDriverCompatibleCommand for Log {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or("")))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        (Method::POST, Some(json!({ "type": self.0 }).to_string()))
    }
}

/// chromedriver on a free port, stopped on drop.
struct Driver {
    _child: Child,
    url: String,
}

impl Driver {
    async fn start(chromedriver: &Path) -> Driver {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Driver { _child: child, url };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not listen on {url}");
    }
}

/// A Chromium session; `javascript: false` turns the pages' scripts off
/// (WebDriver's own commands still work).
async fn browser(driver: &Driver, chromium: &Path, profile: &Path, javascript: bool) -> Client {
    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let prefs = if javascript {
        json!({})
    } else {
        json!({"profile.managed_default_content_settings.javascript": 2})
    };
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": chromium, "args": args, "prefs": prefs},
        "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"},
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session through chromedriver")
}

/// What went wrong in the browser since the last look: console errors, and
/// requests to `base` that failed or answered an error status.
async fn problems(client: &Client, base: &str) -> Vec<String> {
    let mut found = Vec::new();
    let console = client.issue_cmd(Log("browser")).await.unwrap();
    for entry in console.as_array().into_iter().flatten() {
        if entry["level"] == "SEVERE" {
            found.push(format!("console: {}", entry["message"]));
        }
    }
    let performance = client.issue_cmd(Log("performance")).await.unwrap();
    let mut urls: BTreeMap<String, String> = BTreeMap::new();
    for entry in performance.as_array().into_iter().flatten() {
        let Some(message) = entry["message"].as_str() else {
            continue;
        };
        let event: Value = serde_json::from_str(message).unwrap_or_default();
        let params = &event["message"]["params"];
        let request_id = params["requestId"].as_str().unwrap_or("").to_owned();
        match event["message"]["method"].as_str().unwrap_or("") {
            "Network.requestWillBeSent" => {
                let url = params["request"]["url"].as_str().unwrap_or("").to_owned();
                urls.insert(request_id, url);
            }
            "Network.responseReceived" => {
                let url = params["response"]["url"].as_str().unwrap_or("");
                let status = params["response"]["status"].as_u64().unwrap_or(0);
                if url.starts_with(base) && status >= 400 {
                    found.push(format!("{url} answered {status}"));
                }
            }
            "Network.loadingFailed" => {
                let url = urls.get(&request_id).map_or("", String::as_str);
                if url.starts_with(base) {
                    found.push(format!("{url} failed: {}", params["errorText"]));
                }
            }
            _ => {}
        }
    }
    found
}

async fn text(client: &Client, css: &str) -> String {
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn type_into(client: &Client, css: &str, keys: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(keys)
        .await
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

/// Waits (a click's navigation may still be under way) until the browser
/// is at `path`.
async fn path_is(client: &Client, path: &str) {
    let mut url = client.current_url().await.unwrap();
    for _ in 0..100 {
        if url.path() == path {
            // The new document has loaded, not only its URL changed.
            client
                .wait()
                .for_element(Locator::Css("main h1"))
                .await
                .unwrap();
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        url = client.current_url().await.unwrap();
    }
    assert_eq!(url.path(), path, "at {url}");
}

fn screenshot_dir(dir: &Path) -> PathBuf {
    if std::env::var_os(UPDATE_VAR).is_some_and(|v| v == "1") {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs")
    } else {
        dir.to_path_buf()
    }
}

async fn seed(serve: &Serve) {
    let events = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let path = |p: &str| events.join(p).display().to_string();
    // The fixture fleet, a launch with 300 packages, and its next-day upgrade.
    operator(&["sync", "--fixtures", &path("fixtures")], &serve.data_api).await;
    operator(
        &[
            "replay",
            "--fixtures",
            &path("fixtures"),
            &path("ec2-running.json"),
        ],
        &serve.data_api,
    )
    .await;
    operator(
        &[
            "replay",
            "--fixtures",
            &path("fixtures/upgrade"),
            &path("ssm-inventory-upgrade.json"),
        ],
        &serve.data_api,
    )
    .await;
    for (id, openssl) in [
        ("backfill:web-1", "3.0.9-1~deb12u1"),
        ("backfill:web-2", "3.0.11-1~deb12u2"),
        ("backfill:web-3", "3.0.11-1~deb12u2"),
    ] {
        let body = json!({"aws_region": "eu-west-1", "aws_account": "210987654321",
            "platform_name": "Debian GNU/Linux", "platform_version": "12", "packages": [
            {"package_name": "openssl", "package_version": openssl},
            {"package_name": "curl", "package_version": "7.88.1-10+deb12u8"}]});
        let (status, answer) = http(&serve.http, "PUT", &format!("/ec2/{id}"), Some(&body)).await;
        assert_eq!(status, 200, "{answer}");
    }
    operator(
        &[
            "advisories",
            "import",
            &path("advisories/osv"),
            &path("advisories/alas"),
            &path("advisories/debian"),
        ],
        &serve.data_api,
    )
    .await;
}

/// An instance's view, its id escaped as the page's links escape it.
fn instance_path(id: &str) -> String {
    format!("/ui/instances/{}", id.replace(':', "%3A"))
}

/// With JavaScript off: from the overview to the fleet's widest advisory
/// of the highest severity, to an instance it affects, and back to the
/// advisory from that instance's vulnerabilities; each table as long as the
/// API's answer, the instance's package filter working through its form.
async fn walk_to_an_advisory(client: &Client, base: &str) {
    let (_, fleet) = http(base, "GET", "/vulnerabilities", None).await;
    let first = &fleet["advisories"][0];
    let advisory = first["advisory_id"]
        .as_str()
        .expect("an advisory affects the fixture fleet");
    let (_, affected) = http(base, "GET", &format!("/advisories/{advisory}"), None).await;
    let affected = affected["affected"].as_array().unwrap();
    let instance = affected[0]["aws_instance_id"].as_str().unwrap();
    let (_, vulnerable) = http(
        base,
        "GET",
        &format!("/ec2/{instance}/vulnerabilities"),
        None,
    )
    .await;
    let vulnerabilities = vulnerable["vulnerabilities"].as_array().unwrap();
    let (_, record) = http(base, "GET", &format!("/ec2/{instance}"), None).await;
    let with_openssl = record["record"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["package_name"].as_str().unwrap().contains("openssl"))
        .count();
    let link = format!("a.advisory[href='/ui/advisories/{advisory}']");

    client.goto(&format!("{base}/ui/")).await.unwrap();
    path_is(client, "/ui/").await;
    let row = text(
        client,
        &format!("#top-advisories tr[data-advisory='{advisory}']"),
    )
    .await;
    assert!(
        row.contains(first["severity"].as_str().unwrap())
            && row.contains(&first["instances"].to_string()),
        "{row} for {first}"
    );
    click(client, &format!("#top-advisories {link}")).await;
    path_is(client, &format!("/ui/advisories/{advisory}")).await;
    assert_eq!(text(client, "main h1").await, advisory);
    let rows = client
        .find_all(Locator::Css("#affected-list tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), affected.len());
    let fixed = text(client, "#affected-list tbody tr td.fixed").await;
    let expected = affected[0]["fixed_version"]
        .as_str()
        .unwrap_or("no fix yet");
    assert_eq!(fixed, expected);

    let to = instance_path(instance);
    click(client, &format!("#affected-list a[href='{to}']")).await;
    path_is(client, &to).await;
    let rows = client
        .find_all(Locator::Css("#vulnerability-list tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), vulnerabilities.len());
    // No script: typing does not narrow the packages; the form does.
    let all = text(client, "[data-shown]").await;
    type_into(client, "input[name=filter]", "openssl").await;
    assert_eq!(text(client, "[data-shown]").await, all, "a script ran");
    click(client, "form.filters button").await;
    path_is(client, &to).await;
    assert_eq!(text(client, "[data-shown]").await, with_openssl.to_string());
    click(client, &format!("#vulnerability-list {link}")).await;
    path_is(client, &format!("/ui/advisories/{advisory}")).await;

    // Every affected advisory, from the overview's link.
    client.goto(&format!("{base}/ui/")).await.unwrap();
    path_is(client, "/ui/").await;
    click(client, "#vulnerabilities p.more a").await;
    path_is(client, "/ui/vulnerabilities").await;
    let rows = client
        .find_all(Locator::Css("table.advisories tbody tr[data-advisory]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), fleet["advisories"].as_array().unwrap().len());
}

#[tokio::test]
async fn a_person_clicks_through_the_fleet_page() {
    let (Some(chromium), Some(chromedriver)) = (optional::chromium(), optional::chromedriver())
    else {
        return;
    };
    let dir = TempDir::new();
    let serve = Serve::start(&dir.0.join("inventory.db")).await;
    seed(&serve).await;
    let (_, all) = http(&serve.http, "GET", "/ec2?limit=1000", None).await;
    let total = all["instances"].as_array().unwrap().len();
    let (_, with_openssl) = http(&serve.http, "GET", "/ec2?package_name=openssl", None).await;
    let (_, versions) = http(&serve.http, "GET", "/packages/openssl", None).await;
    let launched = "i-0a1b2c3d4e5f60718";
    let (_, record) = http(&serve.http, "GET", &format!("/ec2/{launched}"), None).await;
    let packages = record["record"]["packages"].as_array().unwrap().len();

    let driver = Driver::start(&chromedriver).await;
    let client = browser(&driver, &chromium, &dir.0.join("profile"), true).await;
    let base = serve.http.clone();
    let shots = screenshot_dir(&dir.0);

    // The walk runs as a task so that the session is closed (and chromedriver
    // stops Chromium) whether it passes or fails.
    let walk = tokio::spawn({
        let client = client.clone();
        async move {
            // The address serve prints: a browser lands on the overview.
            client.goto(&format!("{base}/")).await.unwrap();
            path_is(&client, "/ui/").await;
            assert_eq!(text(&client, "#total-instances").await, total.to_string());
            let screenshot = client.screenshot().await.unwrap();
            std::fs::write(shots.join("page-overview.png"), screenshot).unwrap();

            // A search, through the form in the header.
            type_into(&client, "#quick-package", "openssl").await;
            click(&client, "form.quick button").await;
            path_is(&client, "/ui/search").await;
            let rows = client
                .find_all(Locator::Css("#results tbody tr"))
                .await
                .unwrap();
            assert_eq!(
                rows.len(),
                with_openssl["instances"].as_array().unwrap().len()
            );

            // An instance: its packages, narrowed as one types (the script).
            click(
                &client,
                &format!("#results a[href='/ui/instances/{launched}']"),
            )
            .await;
            path_is(&client, &format!("/ui/instances/{launched}")).await;
            assert_eq!(text(&client, "#state").await, "running");
            assert_eq!(text(&client, "[data-shown]").await, packages.to_string());
            type_into(&client, "input[name=filter]", "openssl").await;
            let visible = client
                .execute(
                    "return Array.from(document.querySelectorAll('#package-list tbody tr'))\
               .filter(r => !r.hidden).map(r => r.dataset.name);",
                    vec![],
                )
                .await
                .unwrap();
            let visible: Vec<&str> = visible
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert!(
                !visible.is_empty() && visible.iter().all(|n| n.contains("openssl")),
                "{visible:?}"
            );

            // The package: one bar per version, in the store's order, as long as its count.
            click(&client, "#package-list a[href='/ui/packages/openssl']").await;
            path_is(&client, "/ui/packages/openssl").await;
            let bars = client
                .execute(
                    "return Array.from(document.querySelectorAll('svg.bars g.bar')).map(g => [\
               g.dataset.version, Number(g.dataset.count),\
               g.querySelector('rect').getBoundingClientRect().width]);",
                    vec![],
                )
                .await
                .unwrap();
            let bars = bars.as_array().unwrap();
            let expected = versions["versions"].as_array().unwrap();
            assert_eq!(bars.len(), expected.len(), "{bars:?}");
            let widest = bars
                .iter()
                .map(|b| b[2].as_f64().unwrap())
                .fold(0.0, f64::max);
            let most = expected
                .iter()
                .map(|v| v["instances"].as_f64().unwrap())
                .fold(0.0, f64::max);
            for (bar, version) in bars.iter().zip(expected) {
                assert_eq!(bar[0], version["package_version"], "{bars:?}");
                assert_eq!(bar[1], version["instances"], "{bars:?}");
                let share = version["instances"].as_f64().unwrap() / most;
                let drawn = bar[2].as_f64().unwrap() / widest;
                assert!((share - drawn).abs() < 0.02, "{bar:?}: {drawn} for {share}");
            }
            let screenshot = client.screenshot().await.unwrap();
            std::fs::write(shots.join("page-package.png"), screenshot).unwrap();

            // Its history: the upgrade the second inventory recorded.
            click(&client, "#history p.more a").await;
            path_is(&client, "/ui/history").await;
            let timeline = text(&client, "ol.timeline").await;
            assert!(timeline.contains(launched), "{timeline}");
            assert!(timeline.contains(" → "), "{timeline}");

            let problems = problems(&client, &base).await;
            assert!(problems.is_empty(), "{problems:#?}");
        }
    });
    close_after(client, walk).await;

    let client = browser(&driver, &chromium, &dir.0.join("profile-no-js"), false).await;
    let walk = tokio::spawn({
        let client = client.clone();
        let base = serve.http.clone();
        async move {
            walk_to_an_advisory(&client, &base).await;
            let problems = problems(&client, &base).await;
            assert!(problems.is_empty(), "{problems:#?}");
        }
    });
    close_after(client, walk).await;
}

/// Waits for a walk run as a task, then closes its session (chromedriver
/// stops Chromium) whether it passed or failed, and fails as it did.
async fn close_after(client: Client, walk: tokio::task::JoinHandle<()>) {
    let walked = walk.await;
    client.close().await.unwrap();
    if let Err(failure) = walked {
        std::panic::resume_unwind(failure.into_panic());
    }
}
