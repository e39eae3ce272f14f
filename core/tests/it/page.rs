//! The fleet page: every view rendered by the API's own Router over a real
//! `Store`, in process, on every backend; what it escapes, what it refuses,
//! and that the JSON API's answers stay as they were.

use crate::common;

use axum::body::Body;
use axum::Router;
use chrono::{TimeZone, Utc};
use http::{Method, Request, StatusCode};
use inventory_core::advisories::{Advisory, Affected, Feed, Interval, NameKind, Severity};
use inventory_core::http::router;
use inventory_core::model::{
    InstanceDetails, InstanceId, InstanceState, OsPlatform, Package, PackageSet, Source,
    StateChange,
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

        // The first view takes the fleet's counts (never taken); later
        // ones read them as taken, 4 calls at once.
        get(&api, "/ui/").await;
        let calls = db.store.data_api_calls();
        let overview = get(&api, "/ui/").await;
        assert_eq!(
            db.store.data_api_calls() - calls,
            4,
            "{ctx}: the overview's calls"
        );
        assert_eq!(
            overview
                .body
                .matches("<p class=\"counted\">Counted <time datetime=")
                .count(),
            2,
            "{ctx}: when the counts were taken, under both tables"
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
        let next = next_link(&page, ctx);
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

/// Writes `packages` on `event`'s instance, on Debian 12, as a launch with
/// its inventory does.
async fn write(db: &common::TestDb, event: &StateChange, packages: &[(&str, &str)]) {
    let os = OsPlatform::parse("Debian GNU/Linux", "12").unwrap();
    let packages: Vec<Package> = packages.iter().map(|(n, v)| Package::new(*n, *v)).collect();
    db.store
        .apply_state_with_packages(
            event,
            PackageSet::new(&packages, VersionScheme::Dpkg).with_os(Some(&os)),
            event.time,
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {e:?}", db.name));
}

/// An advisory for Debian 12's source package `package`, fixed in `fixed`
/// (`None`: no fix yet).
fn debian_advisory(id: &str, severity: Severity, package: &str, fixed: Option<&str>) -> Advisory {
    Advisory {
        id: id.into(),
        aliases: Vec::new(),
        summary: Some(format!("{package} security update")),
        severity,
        published: Some(Utc.with_ymd_and_hms(2024, 6, 27, 0, 0, 0).unwrap()),
        modified: Utc.with_ymd_and_hms(2024, 9, 3, 12, 0, 0).unwrap(),
        withdrawn: None,
        source: Feed::Osv,
        affected: vec![Affected {
            release: "debian:12".parse().unwrap(),
            package: package.into(),
            names: NameKind::Source,
            ranges: vec![Interval {
                fixed: fixed.map(str::to_owned),
                ..Interval::default()
            }],
            versions: vec![],
        }],
    }
}

async fn import(db: &common::TestDb, advisories: &[Advisory]) {
    let mut import = db.store.begin_import().await.unwrap();
    import.advisories(advisories).await.unwrap();
    import.commit().await.unwrap();
}

/// The `rel="next"` link of a page, unescaped.
fn next_link(page: &Page, ctx: &str) -> String {
    page.body
        .split("rel=\"next\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("{ctx}: no next page in {}", page.body))
        .replace("&amp;", "&")
}

/// Three Debian 12 instances (one stopped, one up to date) and four
/// advisories: DSA-5764-1 (high, openssl, fixed), TEST-0001 (critical,
/// bash, no fix), DLA-0001 (low, for Debian 11: nobody) sharing the CVE of
/// DSA-5764-1, and TEST-0002 (medium, curl, on one instance).
async fn seed_vulnerabilities(db: &common::TestDb) {
    for (id, account, region, openssl) in [
        ("i-0deb1", "111111111111", "us-east-1", "3.0.14-1~deb12u1"),
        ("i-0deb2", "222222222222", "eu-west-1", "3.0.14-1~deb12u1"),
        ("i-0deb3", "222222222222", "eu-west-1", "3.0.14-1~deb12u2"),
    ] {
        let event = launch(id, account, region, "Debian GNU/Linux 12", 24);
        let mut packages = vec![("openssl", openssl), ("bash", "5.2.15-2+b7")];
        if id == "i-0deb1" {
            packages.push(("curl", "7.88.1-10+deb12u8"));
        }
        write(db, &event, &packages).await;
    }
    let mut stop = launch("i-0deb2", "222222222222", "eu-west-1", "", 26);
    stop.state = InstanceState::Stopped;
    stop.details = None;
    db.store.apply_state(&stop).await.unwrap();

    let mut dsa = debian_advisory(
        "DSA-5764-1",
        Severity::High,
        "openssl",
        Some("3.0.14-1~deb12u2"),
    );
    dsa.aliases = vec!["CVE-2024-5535".into()];
    let mut dla = debian_advisory("DLA-0001", Severity::Low, "openssl", None);
    dla.aliases = vec!["CVE-2024-5535".into()];
    dla.affected[0].release = "debian:11".parse().unwrap();
    dla.published = None;
    let unfixed = debian_advisory("TEST-0001", Severity::Critical, "bash", None);
    let curl = debian_advisory(
        "TEST-0002",
        Severity::Medium,
        "curl",
        Some("7.88.1-10+deb12u9"),
    );
    import(db, &[dsa, dla, unfixed, curl]).await;
}

#[tokio::test]
async fn vulnerability_views_show_what_the_store_matched() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        seed_vulnerabilities(db).await;
        let api = router(db.store.clone());

        // The overview: advisories by severity, the widest of each linked.
        let overview = get(&api, "/ui/").await;
        overview.assert_html(StatusCode::OK, ctx).assert_contains(
            &[
                "<tr data-severity=\"critical\"><td><a href=\"/ui/vulnerabilities?severity=critical\">",
                "<td class=\"n\" data-count=\"1\">1</td>",
                "<tr data-severity=\"unknown\">",
                "<tr data-advisory=\"TEST-0001\">",
                "href=\"/ui/advisories/DSA-5764-1\"",
                "href=\"/ui/advisories/CVE-2024-5535\"",
                "href=\"/ui/vulnerabilities\"",
            ],
            ctx,
        );
        // Most severe first; DLA-0001 affects nobody, so it is not listed.
        let at = |id: &str| overview.body.find(&format!("data-advisory=\"{id}\""));
        assert!(at("TEST-0001") < at("DSA-5764-1"), "{ctx}");
        assert!(at("DSA-5764-1") < at("TEST-0002"), "{ctx}");
        assert_eq!(at("DLA-0001"), None, "{ctx}");
        assert_eq!(row_count(&overview, "DSA-5764-1"), Some("2".into()), "{ctx}");

        // The list, filtered as the API filters.
        let list = get(&api, "/ui/vulnerabilities").await;
        list.assert_html(StatusCode::OK, ctx).assert_contains(
            &["Advisories in the fleet", "openssl security update"],
            ctx,
        );
        assert_eq!(row_count(&list, "DSA-5764-1"), Some("2".into()), "{ctx}");
        let running = get(&api, "/ui/vulnerabilities?state=running&severity=").await;
        assert_eq!(row_count(&running, "DSA-5764-1"), Some("1".into()), "{ctx}");
        running.assert_contains(
            &[
                "<option value=\"running\" selected>running</option>",
                // Its advisory view counts the same instances.
                "href=\"/ui/advisories/DSA-5764-1?state=running\"",
            ],
            ctx,
        );
        let high = get(&api, "/ui/vulnerabilities?severity=high&aws_region=eu-west-1").await;
        high.assert_html(StatusCode::OK, ctx)
            .assert_contains(&["Advisories of high severity in the fleet"], ctx);
        assert_eq!(row_count(&high, "DSA-5764-1"), Some("1".into()), "{ctx}");
        assert_eq!(row_count(&high, "TEST-0001"), None, "{ctx}");
        get(&api, "/ui/vulnerabilities?aws_account=999999999999")
            .await
            .assert_contains(&["No advisory affects these instances."], ctx);
        // A page at a time, filters kept.
        let first = get(&api, "/ui/vulnerabilities?limit=1&aws_account=111111111111").await;
        let next = next_link(&first, ctx);
        assert!(next.contains("aws_account=111111111111") && next.contains("limit=1"), "{ctx}: {next}");
        let second = get(&api, &next).await;
        second.assert_html(StatusCode::OK, ctx);
        assert_eq!(row_count(&first, "TEST-0001"), Some("1".into()), "{ctx}");
        assert_eq!(row_count(&second, "DSA-5764-1"), Some("1".into()), "{ctx}");

        // An advisory: what it says, who has it, how each was matched.
        let dsa = get(&api, "/ui/advisories/DSA-5764-1").await;
        dsa.assert_html(StatusCode::OK, ctx).assert_contains(
            &[
                "<h1>DSA-5764-1</h1>",
                "<p class=\"summary\">openssl security update</p>",
                "<span class=\"sev sev-high\">high</span>",
                "href=\"/ui/advisories/CVE-2024-5535\"",
                "<dd>osv</dd>",
                "datetime=\"2024-06-27T00:00:00+00:00\"",
                "href=\"/ui/instances/i-0deb1\"",
                "href=\"/ui/instances/i-0deb2\"",
                "<td class=\"mono installed\">3.0.14-1~deb12u1</td>",
                "<td class=\"mono fixed\">3.0.14-1~deb12u2</td>",
                "<td class=\"matched\">same_name</td>",
                "2 affected packages on this page.",
            ],
            ctx,
        );
        assert!(!dsa.body.contains("i-0deb3"), "{ctx}: fixed");
        for (query, shown, hidden) in [
            ("state=stopped", "i-0deb2", "i-0deb1"),
            ("aws_account=111111111111&aws_region=", "i-0deb1", "i-0deb2"),
            ("aws_region=eu-west-1", "i-0deb2", "i-0deb1"),
        ] {
            let page = get(&api, &format!("/ui/advisories/DSA-5764-1?{query}")).await;
            page.assert_html(StatusCode::OK, &format!("{ctx}: {query}"));
            assert!(
                page.body.contains(&format!("href=\"/ui/instances/{shown}\""))
                    && !page.body.contains(&format!("href=\"/ui/instances/{hidden}\"")),
                "{ctx}: {query}: {}",
                page.body
            );
        }
        get(&api, "/ui/advisories/DSA-5764-1?state=terminated")
            .await
            .assert_contains(&["No instance that matches these filters is affected."], ctx);
        let paged = get(&api, "/ui/advisories/DSA-5764-1?limit=1").await;
        let next = next_link(&paged, ctx);
        assert!(next.starts_with("/ui/advisories/DSA-5764-1?limit=1&next_token="), "{ctx}: {next}");
        get(&api, &next)
            .await
            .assert_html(StatusCode::OK, ctx)
            .assert_contains(&["href=\"/ui/instances/i-0deb2\"", "End of the list."], ctx);
        // An alias two advisories share: both, the most severe leading.
        get(&api, "/ui/advisories/CVE-2024-5535")
            .await
            .assert_html(StatusCode::OK, ctx)
            .assert_contains(
                &[
                    "CVE-2024-5535 names 2 advisories; the most severe, <a href=\"/ui/advisories/DSA-5764-1\">DSA-5764-1</a>, leads.",
                    "<h2><a href=\"/ui/advisories/DLA-0001\">DLA-0001</a></h2>",
                    "<span class=\"sev sev-low\">low</span>",
                ],
                ctx,
            );
        get(&api, "/ui/advisories/DLA-0001")
            .await
            .assert_html(StatusCode::OK, ctx)
            .assert_contains(&["No instance is affected"], ctx);
        get(&api, "/ui/advisories/TEST-0001")
            .await
            .assert_contains(&["<span class=\"unfixed\">no fix yet</span>"], ctx);
        get(&api, "/ui/advisories/CVE-1999-0001")
            .await
            .assert_html(StatusCode::NOT_FOUND, ctx)
            .assert_contains(&["No advisory has the id or alias CVE-1999-0001"], ctx);

        // An instance's vulnerabilities, most severe first, a page at a time.
        let instance = get(&api, "/ui/instances/i-0deb1").await;
        instance.assert_html(StatusCode::OK, ctx).assert_contains(
            &[
                "<section id=\"vulnerabilities\">",
                "<tr data-advisory=\"TEST-0001\">",
                "<span class=\"unfixed\">no fix yet</span>",
                "href=\"/ui/advisories/DSA-5764-1\"",
                "href=\"/ui/advisories/CVE-2024-5535\"",
                "<td class=\"mono fixed\">3.0.14-1~deb12u2</td>",
                "3 on this page.",
            ],
            ctx,
        );
        let paged = get(&api, "/ui/instances/i-0deb1?filter=ssl&limit=2").await;
        paged.assert_contains(&["2 on this page.", "<span data-shown>1</span> of 3"], ctx);
        let next = next_link(&paged, ctx);
        assert!(
            next.starts_with("/ui/instances/i-0deb1?filter=ssl&limit=2&next_token=")
                && next.ends_with("#vulnerabilities"),
            "{ctx}: {next}"
        );
        let rest = get(&api, next.trim_end_matches("#vulnerabilities")).await;
        rest.assert_html(StatusCode::OK, ctx)
            .assert_contains(&["<tr data-advisory=\"TEST-0002\">", "1 on this page."], ctx);
        get(&api, "/ui/instances/i-0deb3")
            .await
            .assert_contains(&["<tr data-advisory=\"TEST-0001\">"], ctx);
    })
    .await;
}

/// The instances a row of an advisory table counts, by its advisory id.
fn row_count(page: &Page, advisory: &str) -> Option<String> {
    let row = page
        .body
        .split(&format!("<tr data-advisory=\"{advisory}\">"))
        .nth(1)?;
    let row = &row[..row.find("</tr>")?];
    let cell = row.split("<td class=\"n\">").nth(1)?;
    Some(cell[..cell.find('<')?].to_owned())
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
        // An advisory whose id, alias and summary try the same, affecting a
        // Debian 12 instance.
        let vulnerable = launch(
            "i-0vuln",
            "123456789012",
            "us-east-1",
            "Debian GNU/Linux 12",
            27,
        );
        write(db, &vulnerable, &[("openssl", "3.0.1")]).await;
        let mut advisory = debian_advisory(evil, Severity::Critical, "openssl", None);
        advisory.aliases = vec![format!("CVE-{evil}")];
        advisory.summary = Some(evil.to_owned());
        import(db, &[advisory]).await;

        let api = router(db.store.clone());
        let pages = [
            "/ui/".to_owned(),
            "/ui/vulnerabilities".to_owned(),
            format!("/ui/advisories/{}", urlencode(evil)),
            format!("/ui/advisories/CVE-{}", urlencode(evil)),
            "/ui/instances/i-0vuln".to_owned(),
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
            "/ui/vulnerabilities",
            "/ui/advisories/CVE-1",
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
            "/ui/vulnerabilities?severity=dire",
            "severity: must be one of",
        ),
        ("/ui/vulnerabilities?state=asleep", "state:"),
        ("/ui/vulnerabilities?aws_account=12", "aws_account:"),
        (
            "/ui/vulnerabilities?limit=0",
            "limit: must be an integer from 1 to 1000",
        ),
        (
            "/ui/vulnerabilities?next_token=bogus",
            "next_token: is not a token this API returned",
        ),
        (
            "/ui/vulnerabilities?colour=red",
            "colour: unknown query parameter",
        ),
        (
            "/ui/advisories/CVE-1?severity=high",
            "severity: unknown query parameter",
        ),
        ("/ui/advisories/CVE-1?aws_region=moon", "aws_region:"),
        (
            "/ui/advisories/CVE-1?limit=1001",
            "limit: must be an integer",
        ),
        ("/ui/instances/i-1?limit=0", "limit: must be an integer"),
        (
            "/ui/instances/i-1?next_token=bogus",
            "next_token: is not a token",
        ),
        (
            "/ui/instances/i-1?severity=high",
            "severity: unknown query parameter",
        ),
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
