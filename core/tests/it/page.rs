//! The fleet page: every view rendered by the API's own Router over a real
//! `Store`, in process, on every backend; what it escapes, what it refuses,
//! and that the JSON API's answers stay as they were.

use crate::common;

use axum::body::Body;
use axum::Router;
use chrono::{TimeZone, Utc};
use http::{Method, Request, StatusCode};
use inventory_core::http::router;
use inventory_core::model::{
    InstanceDetails, InstanceId, InstanceState, Package, PackageSet, Source, StateChange,
};
use inventory_core::version::VersionScheme;
use tower::ServiceExt;

struct Page {
    status: StatusCode,
    headers: http::HeaderMap,
    body: String,
}

impl Page {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// A page for people: HTML, with its security headers.
    fn assert_html(&self, status: StatusCode, ctx: &str) -> &Self {
        assert_eq!(self.status, status, "{ctx}: {}", self.body);
        assert_eq!(
            self.header("content-type"),
            "text/html; charset=utf-8",
            "{ctx}"
        );
        assert!(
            self.header("content-security-policy")
                .contains("default-src 'none'"),
            "{ctx}"
        );
        assert!(self.body.starts_with("<!DOCTYPE html>"), "{ctx}");
        self
    }

    fn assert_contains(&self, needles: &[&str], ctx: &str) -> &Self {
        for needle in needles {
            assert!(
                self.body.contains(needle),
                "{ctx}: no {needle:?} in\n{}",
                self.body
            );
        }
        self
    }
}

async fn call(api: &Router, method: Method, path: &str, accept: Option<&str>) -> Page {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(accept) = accept {
        req = req.header("accept", accept);
    }
    let response = api
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    Page {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8(body.to_vec()).expect("UTF-8"),
    }
}

async fn get(api: &Router, path: &str) -> Page {
    call(api, Method::GET, path, Some("text/html")).await
}

fn launch(id: &str, account: &str, region: &str, platform: &str, day: u32) -> StateChange {
    StateChange {
        id: InstanceId::parse(id).unwrap(),
        account: account.parse().unwrap(),
        region: region.parse().unwrap(),
        state: InstanceState::Running,
        time: Utc.with_ymd_and_hms(2026, 11, day, 9, 0, 0).unwrap(),
        details: Some(InstanceDetails {
            instance_type: Some("t3.medium".into()),
            platform: Some(platform.into()),
            tags: [("Name".to_owned(), format!("web {id}"))].into(),
            ..InstanceDetails::default()
        }),
    }
}

/// A small fleet: openssl in three versions on four instances, one
/// upgraded a day later, one stopped.
async fn seed(db: &common::TestDb) {
    let store = &db.store;
    let fleet = [
        ("i-0aaa", "111111111111", "us-east-1", "3.0.9"),
        ("i-0bbb", "111111111111", "eu-west-1", "3.0.13"),
        ("i-0ccc", "222222222222", "eu-west-1", "3.0.13"),
        ("i-0ddd", "222222222222", "us-east-1", "3.0.2"),
    ];
    for (id, account, region, openssl) in fleet {
        let event = launch(id, account, region, "Debian GNU/Linux 12", 24);
        let packages = vec![
            Package::new("openssl", openssl),
            Package::new("bash", "5.2.15-2+b7"),
            Package::new(format!("only-on-{id}"), "1.0"),
        ];
        store
            .apply_state_with_packages(
                &event,
                PackageSet::new(&packages, VersionScheme::Dpkg),
                event.time,
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", db.name));
    }
    let event = launch(
        "i-0aaa",
        "111111111111",
        "us-east-1",
        "Debian GNU/Linux 12",
        25,
    );
    let upgraded = vec![
        Package::new("openssl", "3.0.13"),
        Package::new("bash", "5.2.15-2+b7"),
        Package::new("only-on-i-0aaa", "1.0"),
    ];
    store
        .apply_state_with_packages(
            &event,
            PackageSet::new(&upgraded, VersionScheme::Dpkg),
            event.time,
        )
        .await
        .unwrap();
    let mut stop = launch("i-0ddd", "222222222222", "us-east-1", "", 26);
    stop.state = InstanceState::Stopped;
    stop.details = None;
    store.apply_state(&stop).await.unwrap();
}

#[tokio::test]
async fn every_view_renders_what_the_store_holds() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        seed(db).await;
        let api = router(db.store.clone());

        let calls = db.store.data_api_calls();
        let overview = get(&api, "/ui/").await;
        assert_eq!(
            db.store.data_api_calls() - calls,
            3,
            "{ctx}: the overview's calls"
        );
        overview.assert_html(StatusCode::OK, ctx).assert_contains(
            &[
                "<span class=\"n\" id=\"total-instances\">4</span>",
                "<span class=\"n\" id=\"running-instances\">3</span>",
                "href=\"/ui/search?state=running\"",
                "href=\"/ui/search?aws_account=111111111111\"",
                "href=\"/ui/search?aws_region=eu-west-1\"",
                "Debian GNU/Linux 12",
                "href=\"/ui/packages/openssl\"",
                // The upgrade, the latest package change.
                "3.0.9 → 3.0.13",
                "state running → stopped",
            ],
            ctx,
        );

        let search = get(
            &api,
            "/ui/search?package_name=openssl&version_lt=3.0.13&state=&aws_account=",
        )
        .await;
        search.assert_html(StatusCode::OK, ctx).assert_contains(
            &[
                "href=\"/ui/instances/i-0ddd\"",
                "value=\"3.0.13\"",
                "1 instances on this page.",
            ],
            ctx,
        );
        assert!(!search.body.contains("i-0bbb"), "{ctx}: outside the range");

        // Pages of one with the API's tokens, the form's limit kept.
        let first = get(&api, "/ui/search?package_name=openssl&limit=25").await;
        assert!(first.body.contains("End of the list."), "{ctx}");
        let page = get(&api, "/ui/search?aws_region=eu-west-1&limit=1").await;
        page.assert_html(StatusCode::OK, ctx);
        let next = page
            .body
            .split("rel=\"next\" href=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{ctx}: no next page in {}", page.body))
            .replace("&amp;", "&");
        assert!(next.contains("aws_region=eu-west-1"), "{ctx}: {next}");
        let second = get(&api, &next).await;
        second.assert_html(StatusCode::OK, ctx);
        assert!(
            page.body.contains("i-0bbb") && second.body.contains("i-0ccc"),
            "{ctx}"
        );

        let instance = get(&api, "/ui/instances/i-0aaa").await;
        instance.assert_html(StatusCode::OK, ctx).assert_contains(
            &[
                "<h1>i-0aaa</h1>",
                "class=\"state-running\"",
                "web i-0aaa",
                "<td class=\"mono\">3.0.13</td>",
                "<span data-shown>3</span> of 3 packages",
                "href=\"/ui/history?instance=i-0aaa\"",
                "3.0.9 → 3.0.13",
            ],
            ctx,
        );
        let filtered = get(&api, "/ui/instances/i-0aaa?filter=SSL").await;
        filtered.assert_contains(&["<span data-shown>1</span> of 3", "value=\"SSL\""], ctx);
        assert!(
            !filtered.body.contains("<td class=\"mono\">5.2.15-2+b7"),
            "{ctx}"
        );
        get(&api, "/ui/instances/i-0zzz")
            .await
            .assert_html(StatusCode::NOT_FOUND, ctx)
            .assert_contains(&["No instance <code>i-0zzz</code> is recorded."], ctx);

        let package = get(&api, "/ui/packages/openssl").await;
        package.assert_html(StatusCode::OK, ctx).assert_contains(
            &[
                "<span class=\"n\" id=\"version-count\">2</span>",
                "data-version=\"3.0.13\" data-count=\"3\"",
                "data-version=\"3.0.2\" data-count=\"1\"",
                "href=\"/ui/search?package_name=openssl&amp;package_version=3.0.2\"",
                "href=\"/ui/history?package=openssl\"",
            ],
            ctx,
        );
        // The chart's bars in the order the store answers the versions.
        let versions = db.store.package_versions("openssl").await.unwrap();
        let positions: Vec<usize> = versions
            .iter()
            .map(|v| {
                package
                    .body
                    .find(&format!("data-version=\"{}\"", v.version))
                    .unwrap()
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{ctx}");

        let history = get(&api, "/ui/history?package=openssl&since=2026-11-25").await;
        history.assert_html(StatusCode::OK, ctx).assert_contains(
            &[
                "Changes of openssl",
                "3.0.9 → 3.0.13",
                "value=\"2026-11-25 00:00:00.0\"",
            ],
            ctx,
        );
        assert!(
            !history.body.contains("installed 3.0.2"),
            "{ctx}: before since"
        );
        let fleet = get(&api, "/ui/history?limit=2").await;
        fleet
            .assert_html(StatusCode::OK, ctx)
            .assert_contains(&["Changes across the fleet", "rel=\"next\""], ctx);
        get(&api, "/ui/history?instance=i-0ddd")
            .await
            .assert_html(StatusCode::OK, ctx)
            .assert_contains(&["state running → stopped"], ctx);
    })
    .await;
}

/// A package name, a tag and an instance id chosen to break out of the
/// HTML: each shows as text, nowhere as markup. Instance ids only allow
/// `[A-Za-z0-9-_.:]`, so the id's attempt is refused as input.
#[tokio::test]
async fn values_from_the_database_are_escaped() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let evil = "<script>alert(1)</script>";
        let mut instance = common::instance(
            "i-0evil",
            vec![Package::new(evil, "1.0\"><img src=x onerror=alert(2)>")],
        );
        instance.source = Source::Api;
        db.store.put_instance(&instance).await.unwrap();
        let mut event = launch("i-0evil", "123456789012", "us-east-1", evil, 27);
        // Newer than the PUT, so that the event's details apply.
        event.time = Utc::now() + chrono::Duration::hours(1);
        event.details.as_mut().unwrap().tags = [(evil.to_owned(), evil.to_owned())].into();
        db.store.apply_state(&event).await.unwrap();

        let api = router(db.store.clone());
        let pages = [
            "/ui/".to_owned(),
            "/ui/instances/i-0evil".to_owned(),
            format!("/ui/packages/{}", urlencode(evil)),
            format!("/ui/search?package_name={}", urlencode(evil)),
            format!("/ui/history?package={}", urlencode(evil)),
            "/ui/history?instance=i-0evil".to_owned(),
        ];
        for path in &pages {
            let page = get(&api, path).await;
            page.assert_html(StatusCode::OK, &format!("{ctx}: {path}"));
            assert!(
                !page.body.contains("<script>alert") && !page.body.contains("<img"),
                "{ctx}: {path} lets markup through:\n{}",
                page.body
            );
            assert!(
                page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                "{ctx}: {path} does not show the name as text:\n{}",
                page.body
            );
        }
        let bad_id = format!("/ui/instances/{}", urlencode(evil));
        let page = get(&api, &bad_id).await;
        page.assert_html(StatusCode::BAD_REQUEST, ctx)
            .assert_contains(&["aws_instance_id: may contain only"], ctx);
        assert!(!page.body.contains("<script>alert"), "{ctx}");
        let page = get(&api, &format!("/ui/history?instance={}", urlencode(evil))).await;
        page.assert_html(StatusCode::BAD_REQUEST, ctx);
    })
    .await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The page answers GET only, keeps the API's answers, and shows bad input
/// as a page that says what is wrong.
#[tokio::test]
async fn the_page_reads_only_and_leaves_the_api_alone() {
    let db = common::sqlite().await;
    let api = router(db.store.clone());

    // A browser at / goes to the overview; an API client still gets its 404.
    let home = call(
        &api,
        Method::GET,
        "/",
        Some("text/html,application/xhtml+xml"),
    )
    .await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.header("location"), "/ui/");
    for accept in [None, Some("application/json"), Some("*/*")] {
        let answer = call(&api, Method::GET, "/", accept).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{accept:?}");
        assert_eq!(answer.header("content-type"), "application/json");
        assert!(
            answer.body.contains("\"error_message\":\"no route for /\""),
            "{}",
            answer.body
        );
    }

    for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
        for path in [
            "/ui/",
            "/ui/search",
            "/ui/instances/i-1",
            "/ui/packages/openssl",
        ] {
            let answer = call(&api, method.clone(), path, Some("text/html")).await;
            assert_eq!(
                answer.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert_eq!(answer.header("allow"), "GET, HEAD", "{method} {path}");
        }
    }
    let calls = db.store.data_api_calls();
    let head = call(&api, Method::HEAD, "/ui/", None).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert!(db.store.data_api_calls() > calls, "HEAD reads as GET does");

    for (path, needle) in [
        (
            "/ui/search?limit=0",
            "limit: must be an integer from 1 to 1000",
        ),
        (
            "/ui/search?version_lt=1",
            "version_lt: needs package_name as well",
        ),
        ("/ui/search?colour=red", "colour: unknown query parameter"),
        (
            "/ui/search?next_token=bogus",
            "next_token: is not a token this API returned",
        ),
        ("/ui/history?since=yesterday", "since: must be a time"),
        (
            "/ui/history?instance=i-1&package=x",
            "give one of instance and package",
        ),
    ] {
        get(&api, path)
            .await
            .assert_html(StatusCode::BAD_REQUEST, path)
            .assert_contains(&[needle], path);
    }
    get(&api, "/ui/nowhere")
        .await
        .assert_html(StatusCode::NOT_FOUND, "/ui/nowhere")
        .assert_contains(&["There is no page at /ui/nowhere."], "/ui/nowhere");
    get(&api, "/ui/packages/never-installed")
        .await
        .assert_html(StatusCode::OK, "unknown package")
        .assert_contains(
            &["No instance has <code>never-installed</code>."],
            "unknown",
        );

    let css = call(&api, Method::GET, "/ui/assets/style.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header("content-type"), "text/css; charset=utf-8");
    let js = call(&api, Method::GET, "/ui/assets/page.js", None).await;
    assert_eq!(js.header("content-type"), "text/javascript; charset=utf-8");
    assert_eq!(
        call(&api, Method::GET, "/ui/assets/other.js", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    db.finish().await;
}
