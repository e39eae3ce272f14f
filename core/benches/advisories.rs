//! Advisories at fleet scale, on PostgreSQL and MariaDB: loads INSTANCES
//! instances x PACKAGES packages (default 10,000 x 300, the generated fleet
//! of `tests/common/fleet_data.rs`), imports ADVISORIES advisories with three
//! affected entries each (default 50,000 and 150,000), and prints:
//! - the import's rate and Data API calls;
//! - p50 / p99 of `GET /advisories/{id}` for a package on every Debian
//!   instance and for one on 5 instances, of `/ec2/{id}/vulnerabilities`
//!   and of the fleet summary, each 1 call; the recount of the fleet's
//!   counts the summary reads, and beside it the summary counted live at
//!   each read, as schema 9 did (the baseline); then the page's views of them
//!   (the overview, an advisory, an instance, the list), through the Router;
//! - what a write costs with the findings against without: the same
//!   writes (a replaced capture, and a first write of new package rows)
//!   timed before and after the import, in the same run.
//!
//! `cargo test -p inventory-core --bench advisories [-- INSTANCES PACKAGES
//! ADVISORIES RUNS]` with `INVENTORY_TEST_POSTGRES_URL` and/or
//! `INVENTORY_TEST_MYSQL_URL` set (else SKIPPED lines). Through the real
//! `aws-sdk-rdsdata` client and the local Data API, without added latency.
//!
//! The advisories are generated to the shape of a distribution's feed: most
//! entries name packages no instance has; of those installed, about half
//! the versions are below the fix; one in ten entries has no fix. About a
//! hundred findings per instance, as on a real Debian 12 host.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use common::fleet_data::{self, instance_id, is_debian, launch, load, mix};
use inventory_core::advisories::{Advisory, Affected, Feed, Interval, NameKind, Severity};
use inventory_core::model::{Package, PackageSet};
use inventory_core::query::VulnerabilityQuery;
use inventory_core::store::Store;
use inventory_core::version::VersionScheme;

/// Advisories per import call list (the store splits them by size).
const IMPORT_CHUNK: usize = 2_000;
/// Names a feed's entries draw from: the fleet's packages are a small part.
const NAME_POOL: u64 = 150_000;

/// A name the entry `e` of the feed names, and the package index `k` that
/// sets its version's shape: the fleet's own packages (`deb-base-*`,
/// `al-base-*`, `tail-*`), or one no instance has.
fn entry_name(e: u64, debian: bool) -> (String, usize) {
    let n = mix(e ^ 0xadd) % NAME_POOL;
    let k = (n % 1_500) as usize;
    match n {
        0..=248 if debian => (format!("deb-base-{k:03}"), k),
        0..=248 => (format!("al-base-{k:03}"), k),
        249..=1_748 => (format!("tail-{:04}", n - 249), (n - 249) as usize),
        _ => (format!("absent-{n:06}"), k),
    }
}

/// The fixed version of package shape `k` at build `f` (0..=3): builds
/// below `f` (the fleet has 0..=2) are affected.
fn fixed_version(k: usize, f: u64, debian: bool) -> String {
    if debian {
        format!(
            "{}.{}.{}-{}+deb12u{}",
            1 + k % 9,
            k % 13,
            k % 7,
            1 + k % 4,
            1 + f
        )
    } else {
        format!(
            "{}.{}.{}-{}.amzn2023.0.{}",
            1 + k % 9,
            k % 13,
            k % 7,
            1 + k % 5,
            10 + f
        )
    }
}

fn advisory(i: usize) -> Advisory {
    let severity = Severity::ALL[(mix(i as u64) % 5) as usize];
    let affected = (0..3)
        .map(|j| {
            let e = (i * 3 + j) as u64;
            let debian = mix(e) % 10 < 7;
            let (package, k) = entry_name(e, debian);
            let fix = mix(e ^ 0xf1f) % 4;
            let interval = if mix(e ^ 0x0f).is_multiple_of(10) {
                Interval::default()
            } else {
                Interval {
                    fixed: Some(fixed_version(k, fix, debian)),
                    ..Interval::default()
                }
            };
            Affected {
                release: if debian { "debian:12" } else { "amzn:2023" }
                    .parse()
                    .unwrap(),
                package,
                names: if debian {
                    NameKind::Source
                } else {
                    NameKind::Binary
                },
                ranges: vec![interval],
                versions: vec![],
            }
        })
        .collect();
    Advisory {
        id: format!("BENCH-{i:06}"),
        aliases: vec![format!("CVE-2099-{i:06}")],
        summary: Some(format!("generated advisory {i}")),
        severity,
        published: None,
        modified: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
        withdrawn: None,
        source: Feed::Osv,
        affected,
    }
}

/// The two advisories the queries look up: openssl below the newest fix of
/// each distribution (every instance), and rare-agent (5 in 10,000).
fn known_advisories() -> Vec<Advisory> {
    let single = |id: &str, release: &str, package: &str, fixed: &str, names| Advisory {
        id: id.into(),
        aliases: vec![],
        summary: None,
        severity: Severity::Critical,
        published: None,
        modified: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
        withdrawn: None,
        source: Feed::Osv,
        affected: vec![Affected {
            release: release.parse().unwrap(),
            package: package.into(),
            names,
            ranges: vec![Interval {
                fixed: Some(fixed.into()),
                ..Interval::default()
            }],
            versions: vec![],
        }],
    };
    let mut openssl = single(
        "BENCH-OPENSSL",
        "debian:12",
        "openssl",
        "3.0.16-1~deb12u1",
        NameKind::Source,
    );
    openssl.affected.extend(
        single(
            "",
            "amzn:2023",
            "openssl",
            "1:3.0.8-1.amzn2023.0.18",
            NameKind::Binary,
        )
        .affected,
    );
    let mut rare = single(
        "BENCH-RARE",
        "debian:12",
        "rare-agent",
        "2.5",
        NameKind::Binary,
    );
    rare.affected
        .extend(single("", "amzn:2023", "rare-agent", "2.5", NameKind::Binary).affected);
    vec![openssl, rare]
}

/// p50 and p99 of `runs` runs, in ms.
fn percentiles(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(at(0.5)), ms(at(0.99)))
}

/// Writes that the findings may slow: a new capture of instance `n`'s
/// packages (nothing new), and a first write of an instance with 300 new
/// package rows. Answers (p50 ms of the replace, of the new rows).
async fn write_costs(store: &Store, packages: usize, runs: usize, round: usize) -> (f64, f64) {
    let mut replace = Vec::new();
    let mut fresh = Vec::new();
    for r in 0..runs {
        let n = r * 37 % 1_000;
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
            + chrono::Duration::seconds((round * runs + r) as i64);
        let event = launch(n, at);
        let installed = fleet_data::packages_of(n, packages, None);
        let os = fleet_data::os_of(n);
        let set = PackageSet::new(&installed, fleet_data::scheme(n)).with_os(Some(&os));
        let started = Instant::now();
        store
            .apply_state_with_packages(&event, set, at)
            .await
            .unwrap();
        replace.push(started.elapsed());

        let mut event = launch(1_000_000 + round * runs + r, at);
        event.details = None;
        let new_rows: Vec<Package> = (0..packages)
            .map(|p| Package::new(format!("new-{round}-{r}-{p}"), "1.0-1+deb12u1"))
            .collect();
        let os = fleet_data::os_of(0);
        let set = PackageSet::new(&new_rows, VersionScheme::Dpkg).with_os(Some(&os));
        let started = Instant::now();
        store
            .apply_state_with_packages(&event, set, at)
            .await
            .unwrap();
        fresh.push(started.elapsed());
    }
    (percentiles(replace).0, percentiles(fresh).0)
}

async fn bench(
    db: &common::TestDb,
    instances: usize,
    packages: usize,
    advisories: usize,
    runs: usize,
) {
    println!("\n{}: {instances} instances x {packages} packages, {advisories} advisories, {runs} runs a query", db.name);
    let started = Instant::now();
    let calls = load(db, 0..instances, packages, false).await;
    println!(
        "load: {:.1} s, {:.2} Data API calls/instance",
        started.elapsed().as_secs_f64(),
        calls as f64 / instances as f64
    );
    analyze(db).await;
    let store = db.fresh_store();
    let before = write_costs(&store, packages, runs.min(50), 0).await;

    let list: Vec<Advisory> = (0..advisories)
        .map(advisory)
        .chain(known_advisories())
        .collect();
    let entries: usize = list.iter().map(|a| a.affected.len()).sum();
    let calls_before = store.data_api_calls();
    let started = Instant::now();
    let mut import = store.begin_import().await.unwrap();
    for chunk in list.chunks(IMPORT_CHUNK) {
        import.advisories(chunk).await.unwrap();
    }
    let batches_done = started.elapsed();
    import.commit().await.unwrap();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "import: {} advisories ({entries} affected entries) in {seconds:.1} s ({:.1} s matching at commit): {:.0} advisories/s, {} Data API calls",
        list.len(),
        seconds - batches_done.as_secs_f64(),
        list.len() as f64 / seconds,
        store.data_api_calls() - calls_before
    );
    for (what, sql) in [
        (
            "findings (package rows x ranges)",
            "SELECT COUNT(*) FROM package_finding",
        ),
        ("advisory ranges", "SELECT COUNT(*) FROM advisory_range"),
    ] {
        println!("{what}: {}", db.count(sql).await);
    }
    analyze(db).await;
    let after = write_costs(&store, packages, runs.min(50), 1).await;
    println!(
        "write p50, without findings -> with: replace of {packages} known packages {:.2} -> {:.2} ms ({:.2}x); first write of {packages} new package rows {:.2} -> {:.2} ms ({:.2}x)",
        before.0, after.0, after.0 / before.0, before.1, after.1, after.1 / before.1
    );

    let debian = (0..instances).find(|&n| is_debian(n)).unwrap_or(0);
    let q = VulnerabilityQuery::default();
    println!(
        "{:<64} {:>9} {:>9} {:>6} {:>7}",
        "query", "p50 ms", "p99 ms", "calls", "rows"
    );
    let report = |what: &str, times: Vec<Duration>, calls: u64, rows: usize| {
        let (p50, p99) = percentiles(times);
        println!("{what:<64} {p50:>9.2} {p99:>9.2} {calls:>6} {rows:>7}");
    };
    for (what, id) in [
        (
            "GET /advisories/BENCH-OPENSSL (every instance), first page",
            "BENCH-OPENSSL",
        ),
        (
            "GET /advisories/BENCH-RARE (rare-agent: 5 in 10,000)",
            "BENCH-RARE",
        ),
    ] {
        let (mut times, mut calls, mut rows) = (Vec::new(), 0, 0);
        for _ in 0..runs {
            let c = store.data_api_calls();
            let t = Instant::now();
            rows = store
                .advisory(id, &q)
                .await
                .unwrap()
                .unwrap()
                .affected
                .len();
            times.push(t.elapsed());
            calls = store.data_api_calls() - c;
        }
        report(what, times, calls, rows);
    }
    let (mut times, mut calls, mut rows) = (Vec::new(), 0, 0);
    for r in 0..runs {
        let id = instance_id((debian + r * 7) % instances);
        let c = store.data_api_calls();
        let t = Instant::now();
        rows = store
            .instance_vulnerabilities(&id, &q)
            .await
            .unwrap()
            .vulnerabilities
            .len();
        times.push(t.elapsed());
        calls = store.data_api_calls() - c;
    }
    report(
        "GET /ec2/{id}/vulnerabilities, first page",
        times,
        calls,
        rows,
    );
    // The summary reads the fleet's counts as last taken; a read that finds
    // them older than their age recounts them first (the import left them
    // uncounted). Timed apart: the recount, then reads of fresh counts.
    let (mut times, mut calls) = (Vec::new(), 0);
    for _ in 0..runs.clamp(1, 5) {
        let c = store.data_api_calls();
        let t = Instant::now();
        assert!(store.recount_fleet(Utc::now()).await.unwrap());
        times.push(t.elapsed());
        calls = store.data_api_calls() - c;
    }
    let rows = store
        .fleet_vulnerabilities(&q)
        .await
        .unwrap()
        .advisories
        .len();
    report(
        "recount of the fleet's counts (advisories x scopes, packages)",
        times,
        calls,
        rows,
    );
    let (mut times, mut calls, mut rows) = (Vec::new(), 0, 0);
    for _ in 0..runs.min(50) {
        let c = store.data_api_calls();
        let t = Instant::now();
        rows = store
            .fleet_vulnerabilities(&q)
            .await
            .unwrap()
            .advisories
            .len();
        times.push(t.elapsed());
        calls = store.data_api_calls() - c;
    }
    report(
        "GET /vulnerabilities (the fleet summary), first page, counted",
        times,
        calls,
        rows,
    );
    let mut times = Vec::new();
    for _ in 0..runs.min(10) {
        let t = Instant::now();
        rows = db.sql(LIVE_SUMMARY).await.records().len();
        times.push(t.elapsed());
    }
    report(
        "baseline: the same page counted live (schema 9's query)",
        times,
        1,
        rows,
    );
    println!(
        "the page's vulnerability views, {} runs each:",
        runs.min(50)
    );
    let views = [
        ("overview /ui/", "/ui/".to_owned()),
        (
            "/ui/advisories/BENCH-OPENSSL, first page",
            "/ui/advisories/BENCH-OPENSSL".to_owned(),
        ),
        (
            "/ui/instances/{id} (a Debian instance)",
            format!("/ui/instances/{}", instance_id(debian).as_str()),
        ),
        (
            "/ui/vulnerabilities, first page",
            "/ui/vulnerabilities".to_owned(),
        ),
    ];
    common::time_pages(&store, &views, runs.min(50)).await;
    common::overview_reads(&store, runs.min(50)).await;
}

/// The fleet summary's first page as schema 9 counted it at each read
/// (without filters), for the baseline.
const LIVE_SUMMARY: &str = "\
WITH counts AS (
    SELECT r.advisory_id, COUNT(DISTINCT ep.ec2_id) AS instances
    FROM advisory_range r
    JOIN advisory a ON a.id = r.advisory_id
    JOIN package_finding f ON f.range_id = r.id
    JOIN ec2_package ep ON ep.package_id = f.package_id
    JOIN ec2 e ON e.id = ep.ec2_id AND e.os_release = r.os_release
    WHERE a.withdrawn IS NULL AND (e.state IS NULL OR e.state <> 'terminated')
    GROUP BY r.advisory_id
)
SELECT a.id, a.severity_rank, c.instances
FROM counts c JOIN advisory a ON a.id = c.advisory_id
ORDER BY a.severity_rank DESC, c.instances DESC, a.id
LIMIT 51";

/// Fresh statistics, as autovacuum or the engine keeps them.
async fn analyze(db: &common::TestDb) {
    match db.dialect {
        inventory_core::store::Dialect::Postgres => {
            db.sql("VACUUM ANALYZE").await;
        }
        _ => {
            db.sql("ANALYZE TABLE ec2, package, ec2_package, advisory, advisory_range, package_finding, package_source_map").await;
        }
    }
}

#[tokio::main]
async fn main() {
    let instances = common::bench_arg(1, 10_000);
    let packages = common::bench_arg(2, 300);
    let advisories = common::bench_arg(3, 50_000);
    let runs = common::bench_arg(4, 100);
    for db in [common::postgres().await, common::mysql().await]
        .into_iter()
        .flatten()
    {
        bench(&db, instances, packages, advisories, runs).await;
        db.finish().await;
    }
}
