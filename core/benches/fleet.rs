//! Figures at fleet scale: loads INSTANCES instances x PACKAGES packages
//! (default 10,000 x 300: 3 million links) into PostgreSQL through the store,
//! as launch events write them (state and packages in one call, history
//! included), then upgrades openssl on a tenth of the fleet, and times the
//! reads a vulnerability response makes, each through the real
//! `aws-sdk-rdsdata` client and the local Data API, without added latency;
//! then the fleet page's views through the Router (the overview, an instance
//! with 1,000 packages, a package), with their sizes.
//!
//! `cargo test --workspace --bench fleet [-- INSTANCES PACKAGES RUNS]` with
//! `INVENTORY_TEST_POSTGRES_URL` set (else it prints a SKIPPED line). The
//! fleet is generated: 70% Debian and 30% Amazon Linux instances, each with
//! its distribution's 250 base packages in one of three builds and 50 more
//! drawn from a pool of 1,500 with a long tail; openssl on every instance in
//! one of its distribution's real versions; `rare-agent` on 5 instances.

#[path = "../tests/common/mod.rs"]
mod common;

use chrono::{TimeZone, Utc};
use common::fleet_data::{instance_id, launch, load, os_of, packages_of, scheme};
use inventory_core::model::PackageSet;

use std::time::{Duration, Instant};

use inventory_core::query::{HistoryQuery, SearchQuery};
use inventory_core::store::Store;
use inventory_core::version::{Bound, VersionRange};

/// The baseline: the search by package before this change (schema 3), an
/// EXISTS probed instance by instance in id order. PostgreSQL cannot know a
/// package is rare, so a rare one reads every instance's links.
const SEARCH_BY_PACKAGE_BEFORE: &str =
    "SELECT e.id, e.account, e.region, e.state, e.instance_type, e.updated \
    FROM ec2 e \
    WHERE (CAST(:account AS text) IS NULL OR e.account = CAST(:account AS text)) \
      AND (CAST(:region AS text) IS NULL OR e.region = CAST(:region AS text)) \
      AND (CAST(:state AS text) IS NULL OR e.state = CAST(:state AS text)) \
      AND (CAST(:after AS text) IS NULL OR e.id > CAST(:after AS text)) \
      AND EXISTS (SELECT 1 FROM ec2_package ep JOIN package p ON p.id = ep.package_id \
                  WHERE ep.ec2_id = e.id AND p.name = CAST(:package_name AS text)) \
    ORDER BY e.id LIMIT CAST(:limit AS bigint)";
/// The baseline statement's first page for `package` through the Data API:
/// the rows it found.
async fn search_before(db: &common::TestDb, package: &str) -> usize {
    use aws_sdk_rdsdata::types::{Field, SqlParameter};
    let param = |name: &str, value: Field| SqlParameter::builder().name(name).value(value).build();
    let out = db
        .client
        .execute_statement()
        .resource_arn(&db.target.resource_arn)
        .secret_arn(&db.target.secret_arn)
        .sql(SEARCH_BY_PACKAGE_BEFORE)
        .set_parameters(Some(vec![
            param("account", Field::IsNull(true)),
            param("region", Field::IsNull(true)),
            param("state", Field::IsNull(true)),
            param("after", Field::IsNull(true)),
            param("package_name", Field::StringValue(package.into())),
            param("limit", Field::LongValue(101)),
        ]))
        .send()
        .await
        .expect("the baseline search");
    out.records().len()
}

/// The search by package against the baseline statement, for a common and
/// a rare package, `runs` runs each.
async fn compare_with_baseline(db: &common::TestDb, store: &Store, when: &str, runs: usize) {
    println!("search by package, this statement against schema 3's, {when}, {runs} runs:");
    for package in ["openssl", "rare-agent"] {
        let q = SearchQuery {
            package_name: Some(package.into()),
            ..SearchQuery::default()
        };
        let q = &q;
        let now = time(store, runs, |s| async move {
            s.search(q).await.unwrap().instances.len()
        })
        .await;
        let before = time(
            store,
            runs,
            |_| async move { search_before(db, package).await },
        )
        .await;
        println!(
            "  {package:<12} now p50 {:>8.2} p99 {:>8.2} ms | before p50 {:>8.2} p99 {:>8.2} ms | 1 call each",
            now.0, now.1, before.0, before.1
        );
    }
}

/// p50 and p99 of `runs` runs of `query`, in ms, and the calls of one run.
async fn time<F, Fut>(store: &Store, runs: usize, query: F) -> (f64, f64, u64)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut times = Vec::with_capacity(runs);
    let mut calls = 0;
    let mut rows = 0;
    for _ in 0..runs {
        let fresh = store.clone();
        let before = fresh.data_api_calls();
        let started = Instant::now();
        rows = query(fresh.clone()).await;
        times.push(started.elapsed());
        calls = fresh.data_api_calls() - before;
    }
    assert!(rows > 0, "the query found nothing");
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(at(0.5)), ms(at(0.99)), calls)
}

/// A read of the bench: answers how many rows it found.
type Query = Box<dyn Fn(Store) -> std::pin::Pin<Box<dyn std::future::Future<Output = usize>>>>;

fn range(lower: Option<&str>, upper: Option<&str>) -> VersionRange {
    let bound = |v: Option<&str>| {
        v.map(|v| Bound {
            version: v.into(),
            inclusive: false,
        })
    };
    VersionRange {
        lower: bound(lower),
        upper: bound(upper),
    }
}

#[tokio::main]
async fn main() {
    let instances = common::bench_arg(1, 10_000);
    let packages = common::bench_arg(2, 300);
    let runs = common::bench_arg(3, 200);
    let Some(db) = common::postgres().await else {
        return;
    };
    println!(
        "fleet bench, PostgreSQL: {instances} instances x {packages} packages, {runs} runs a query"
    );
    let started = Instant::now();
    let calls = load(&db, 0..instances, packages, false).await;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "load: {:.1} s, {:.0} instances/s, {:.0} links/s, {:.2} Data API calls/instance",
        seconds,
        instances as f64 / seconds,
        (instances * packages) as f64 / seconds,
        calls as f64 / instances as f64
    );
    let tenth = instances / 10;
    let started = Instant::now();
    load(&db, 0..tenth, packages, true).await;
    println!(
        "upgrade of openssl on {tenth} instances: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Right after the load, with fresh statistics but before autovacuum
    // has set the visibility map: where the baseline's plan went wrong.
    db.sql("ANALYZE").await;
    let store = db.fresh_store();
    compare_with_baseline(&db, &store, "after the load, ANALYZE only", runs.min(10)).await;
    // What autovacuum does after such a load (statistics, visibility map).
    for table in ["ec2", "package", "ec2_package", "ec2_history"] {
        db.sql(&format!("VACUUM ANALYZE {table}")).await;
    }
    for (what, sql) in [
        ("database (the test's schema)", "SELECT CAST(sum(pg_total_relation_size(c.oid)) AS bigint) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"),
        ("ec2_package, with indexes", "SELECT pg_total_relation_size('ec2_package')"),
        ("package, with indexes", "SELECT pg_total_relation_size('package')"),
        ("ec2_history, with indexes", "SELECT pg_total_relation_size('ec2_history')"),
        ("ec2_history rows", "SELECT count(*) FROM ec2_history"),
    ] {
        let n = db.count(sql).await;
        if what.ends_with("rows") {
            println!("{what}: {n}");
        } else {
            println!("{what}: {:.1} MiB", n as f64 / (1024.0 * 1024.0));
        }
    }

    let search = |name: &str, range: VersionRange| SearchQuery {
        package_name: Some(name.into()),
        version_range: range,
        ..SearchQuery::default()
    };
    let common_package = search("openssl", VersionRange::default());
    let rare_package = search("rare-agent", VersionRange::default());
    let vulnerable = search("openssl", range(None, Some("3.0.13")));
    let fixed = search("openssl", range(Some("1:3.0.8-1.amzn2023.0.16"), None));
    let upgraded = instance_id(tenth / 2);
    let queries: Vec<(&str, Query)> = vec![
        ("search: openssl (on every instance), first page of 100", {
            let q = common_package.clone();
            Box::new(move |s: Store| {
                let q = q.clone();
                Box::pin(async move { s.search(&q).await.unwrap().instances.len() })
            })
        }),
        ("search: rare-agent (on 5 instances)", {
            let q = rare_package.clone();
            Box::new(move |s: Store| {
                let q = q.clone();
                Box::pin(async move { s.search(&q).await.unwrap().instances.len() })
            })
        }),
        ("search: openssl version_lt=3.0.13, first page", {
            let q = vulnerable.clone();
            Box::new(move |s: Store| {
                let q = q.clone();
                Box::pin(async move { s.search(&q).await.unwrap().instances.len() })
            })
        }),
        (
            "search: openssl version_gt=1:3.0.8-1.amzn2023.0.16 (the fixed tenth's rpm part)",
            {
                let q = fixed.clone();
                Box::new(move |s: Store| {
                    let q = q.clone();
                    Box::pin(async move { s.search(&q).await.unwrap().instances.len() })
                })
            },
        ),
        (
            "fleet view: versions of openssl with instance counts",
            Box::new(|s: Store| {
                Box::pin(async move { s.package_versions("openssl").await.unwrap().len() })
            }),
        ),
        (
            "history of one instance (launch and upgrade: 302 changes), first page",
            {
                let id = upgraded.clone();
                Box::new(move |s: Store| {
                    let id = id.clone();
                    Box::pin(async move {
                        s.instance_history(&id, &HistoryQuery::default())
                            .await
                            .unwrap()
                            .changes
                            .len()
                    })
                })
            },
        ),
        (
            "history of openssl across the fleet, first page",
            Box::new(|s: Store| {
                Box::pin(async move {
                    s.package_history("openssl", &HistoryQuery::default())
                        .await
                        .unwrap()
                        .changes
                        .len()
                })
            }),
        ),
        ("one instance with its packages (GET /ec2/{id})", {
            let id = upgraded.clone();
            Box::new(move |s: Store| {
                let id = id.clone();
                Box::pin(async move {
                    s.get_instance(&id)
                        .await
                        .unwrap()
                        .map_or(0, |r| r.instance.packages.len())
                })
            })
        }),
    ];
    println!(
        "{:<82} {:>9} {:>9} {:>6}",
        "query", "p50 ms", "p99 ms", "calls"
    );
    for (what, query) in &queries {
        let (p50, p99, calls) = time(&store, runs, query).await;
        println!("{what:<82} {p50:>9.2} {p99:>9.2} {calls:>6}");
    }
    compare_with_baseline(&db, &store, "after VACUUM ANALYZE", runs).await;
    pages(&db, &store, instances, packages, runs).await;
    db.finish().await;
}

/// The page's views, rendered by the Router as `inventory serve` and the
/// Lambda do: p50 and p99 in ms, bytes, Data API calls. One more instance,
/// with 1,000 packages, is written for the instance view.
async fn pages(db: &common::TestDb, store: &Store, instances: usize, packages: usize, runs: usize) {
    let big = instances;
    let launched = Utc.with_ymd_and_hms(2026, 11, 3, 8, 0, 0).unwrap();
    let installed = packages_of(big, 1000, None);
    let os = os_of(big);
    let set = PackageSet::new(&installed, scheme(big)).with_os(Some(&os));
    db.fresh_store()
        .apply_state_with_packages(&launch(big, launched), set, launched)
        .await
        .unwrap();
    println!(
        "page views ({instances} instances x {packages} packages, and one with 1,000), {runs} runs each:"
    );
    let views = [
        ("overview /ui/ (no advisory imported)", "/ui/".to_owned()),
        (
            "instance with 1,000 packages /ui/instances/{id}",
            format!("/ui/instances/{}", instance_id(big).as_str()),
        ),
        (
            "package /ui/packages/openssl",
            "/ui/packages/openssl".to_owned(),
        ),
    ];
    common::time_pages(store, &views, runs).await;
    common::overview_reads(store, runs).await;
}
