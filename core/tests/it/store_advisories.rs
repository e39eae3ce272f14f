//! Store: advisories matched to installed packages, on every backend. The
//! advisory ids and fixed versions are real (Debian's DSA-5764-1 and
//! DLA-3942-1 for openssl, ALAS2023-2024-640); the instances are not.

use crate::common;

use std::collections::BTreeSet;

use chrono::{DateTime, TimeZone, Utc};
use inventory_core::advisories::{Advisory, Affected, Feed, Interval, NameKind, Release, Severity};
use inventory_core::model::{Instance, OsPlatform, Package};
use inventory_core::query::{AffectedPackage, VulnerabilityQuery};
use inventory_core::store::Store;

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 9, day, 12, 0, 0).unwrap()
}

fn release(key: &str) -> Release {
    key.parse().unwrap()
}

/// One affected entry: release, package, names, intervals, listed versions.
type Entry<'a> = (&'a str, &'a str, NameKind, Vec<Interval>, Vec<&'a str>);

/// An advisory with one affected entry per [`Entry`].
fn advisory(id: &str, modified: DateTime<Utc>, affected: Vec<Entry<'_>>) -> Advisory {
    Advisory {
        id: id.into(),
        aliases: vec![format!("CVE-{id}")],
        summary: Some(format!("{id} summary")),
        severity: Severity::High,
        published: Some(at(1)),
        modified,
        withdrawn: None,
        source: Feed::Osv,
        affected: affected
            .into_iter()
            .map(|(r, package, names, ranges, versions)| Affected {
                release: release(r),
                package: package.into(),
                names,
                ranges,
                versions: versions.into_iter().map(str::to_owned).collect(),
            })
            .collect(),
    }
}

fn fixed(introduced: Option<&str>, fixed: &str) -> Interval {
    Interval {
        introduced: introduced.map(str::to_owned),
        fixed: Some(fixed.into()),
        last_affected: None,
    }
}

fn last_affected(version: &str) -> Interval {
    Interval {
        last_affected: Some(version.into()),
        ..Interval::default()
    }
}

/// Writes instance `id` on `os` with `packages` as a PUT does.
async fn put(store: &Store, id: &str, os: Option<(&str, &str)>, packages: &[(&str, &str)]) {
    let mut i = common::instance(
        id,
        packages.iter().map(|(n, v)| Package::new(*n, *v)).collect(),
    );
    i.os = os.map(|(name, version)| OsPlatform::parse(name, version).unwrap());
    store
        .put_instance(&i)
        .await
        .unwrap_or_else(|e| panic!("put {id}: {e:?}"));
}

async fn import(store: &Store, advisories: &[Advisory]) {
    let mut import = store.begin_import().await.unwrap();
    import.advisories(advisories).await.unwrap();
    import.commit().await.unwrap();
}

/// `(instance, package, version, fixed)` of every instance `id` affects.
async fn affected(
    store: &Store,
    id: &str,
) -> Option<BTreeSet<(String, String, String, Option<String>)>> {
    let mut q = VulnerabilityQuery {
        limit: 2,
        ..VulnerabilityQuery::default()
    };
    let mut out = BTreeSet::new();
    loop {
        let page = store.advisory(id, &q).await.unwrap()?;
        out.extend(page.affected.into_iter().map(
            |AffectedPackage {
                 instance_id,
                 package_name,
                 package_version,
                 fixed_version,
                 ..
             }| {
                (
                    instance_id.to_string(),
                    package_name,
                    package_version,
                    fixed_version,
                )
            },
        ));
        match page.next_token {
            Some(t) => q.next_token = Some(t),
            None => return Some(out),
        }
    }
}

fn row(i: &str, p: &str, v: &str, f: Option<&str>) -> (String, String, String, Option<String>) {
    (i.into(), p.into(), v.into(), f.map(str::to_owned))
}

/// The advisory ids that affect instance `id`, most severe first.
async fn vulnerable_to(store: &Store, id: &str) -> Vec<String> {
    let id = id.parse().unwrap();
    let page = store
        .instance_vulnerabilities(&id, &VulnerabilityQuery::default())
        .await
        .unwrap();
    page.vulnerabilities
        .into_iter()
        .map(|v| format!("{} {} {}", v.advisory_id, v.package_name, v.package_version))
        .collect()
}

/// The findings stored are exactly what the rule (`package_match`) says.
async fn findings_are_whole(db: &common::TestDb) {
    let missing = db
        .count(
            "SELECT COUNT(*) FROM package_match m WHERE NOT EXISTS (SELECT 1 FROM package_finding f \
             WHERE f.package_id = m.package_id AND f.range_id = m.range_id)",
        )
        .await;
    let extra = db
        .count(
            "SELECT COUNT(*) FROM package_finding f WHERE NOT EXISTS (SELECT 1 FROM package_match m \
             WHERE m.package_id = f.package_id AND m.range_id = f.range_id)",
        )
        .await;
    assert_eq!(
        (missing, extra),
        (0, 0),
        "{}: findings missing, extra",
        db.name
    );
}

const DEBIAN_12: Option<(&str, &str)> = Some(("Debian GNU/Linux", "12"));
const DEBIAN_11: Option<(&str, &str)> = Some(("Debian GNU/Linux", "11"));
const AMAZON_2023: Option<(&str, &str)> = Some(("Amazon Linux", "2023"));

#[tokio::test]
async fn releases_names_and_version_orders_decide_who_is_affected() {
    common::on_each_backend(async |db| {
        let s = &db.store;
        let ctx = db.name;
        // DSA-5764-1: openssl fixed in bookworm at 3.0.14-1~deb12u2;
        // DLA-3942-1: bullseye at 1.1.1w-0+deb11u2. Both name the source.
        let dsa = advisory(
            "DSA-5764-1",
            at(3),
            vec![
                (
                    "debian:12",
                    "openssl",
                    NameKind::Source,
                    vec![fixed(None, "3.0.14-1~deb12u2")],
                    vec![],
                ),
                (
                    "debian:11",
                    "openssl",
                    NameKind::Source,
                    vec![fixed(None, "1.1.1w-0+deb11u2")],
                    vec![],
                ),
            ],
        );
        // ALAS2023-2024-640: openssl fixed at 1:3.0.8-1.amzn2023.0.14 (an epoch).
        let alas = advisory(
            "ALAS2023-2024-640",
            at(3),
            vec![(
                "amzn:2023",
                "openssl-libs",
                NameKind::Binary,
                vec![fixed(None, "1:3.0.8-1.amzn2023.0.14")],
                vec![],
            )],
        );
        put(
            s,
            "i-deb12-old",
            DEBIAN_12,
            &[
                ("openssl", "3.0.14-1~deb12u1"),
                ("libssl3", "3.0.14-1~deb12u1"),
            ],
        )
        .await;
        put(
            s,
            "i-deb12-bpo",
            DEBIAN_12,
            &[("openssl", "3.0.14-1~bpo12+1")],
        )
        .await;
        put(
            s,
            "i-deb12-plus",
            DEBIAN_12,
            &[("openssl", "3.0.14-1+deb12u1")],
        )
        .await;
        put(
            s,
            "i-deb12-fixed",
            DEBIAN_12,
            &[("openssl", "3.0.14-1~deb12u2")],
        )
        .await;
        // The same version on Debian 11: bullseye's range does not cover it.
        put(s, "i-deb11", DEBIAN_11, &[("openssl", "3.0.14-1~deb12u1")]).await;
        put(
            s,
            "i-deb11-old",
            DEBIAN_11,
            &[("openssl", "1.1.1w-0+deb11u1")],
        )
        .await;
        put(
            s,
            "i-al2023-old",
            AMAZON_2023,
            &[("openssl-libs", "1:3.0.8-1.amzn2023.0.12")],
        )
        .await;
        put(
            s,
            "i-al2023-fixed",
            AMAZON_2023,
            &[("openssl-libs", "1:3.0.8-1.amzn2023.0.14")],
        )
        .await;
        // No epoch: older than any epoch-1 version.
        put(
            s,
            "i-al2023-noepoch",
            AMAZON_2023,
            &[("openssl-libs", "3.0.9-1.amzn2023.0.1")],
        )
        .await;
        // No OS known: no feed applies, and no error.
        put(s, "i-unknown-os", None, &[("openssl", "1.0")]).await;
        put(
            s,
            "i-windows",
            Some(("Microsoft Windows Server 2022 Datacenter", "10.0.20348")),
            &[("openssl", "1.0")],
        )
        .await;
        import(s, &[dsa, alas]).await;
        findings_are_whole(db).await;

        let dsa_fix = Some("3.0.14-1~deb12u2");
        assert_eq!(
            affected(s, "DSA-5764-1").await,
            Some(BTreeSet::from([
                row(
                    "i-deb11-old",
                    "openssl",
                    "1.1.1w-0+deb11u1",
                    Some("1.1.1w-0+deb11u2")
                ),
                row("i-deb12-bpo", "openssl", "3.0.14-1~bpo12+1", dsa_fix),
                row("i-deb12-old", "openssl", "3.0.14-1~deb12u1", dsa_fix),
            ])),
            "{ctx}: libssl3 has no map to openssl yet, and its own name is not openssl"
        );
        assert_eq!(
            affected(s, "ALAS2023-2024-640").await,
            Some(BTreeSet::from([
                row(
                    "i-al2023-noepoch",
                    "openssl-libs",
                    "3.0.9-1.amzn2023.0.1",
                    Some("1:3.0.8-1.amzn2023.0.14")
                ),
                row(
                    "i-al2023-old",
                    "openssl-libs",
                    "1:3.0.8-1.amzn2023.0.12",
                    Some("1:3.0.8-1.amzn2023.0.14")
                ),
            ])),
            "{ctx}"
        );
        // By alias, and unknown ids.
        assert_eq!(
            affected(s, "CVE-DSA-5764-1").await,
            affected(s, "DSA-5764-1").await,
            "{ctx}"
        );
        assert_eq!(affected(s, "DSA-0000-1").await, None, "{ctx}");
        assert_eq!(
            vulnerable_to(s, "i-unknown-os").await,
            Vec::<String>::new(),
            "{ctx}"
        );
        assert_eq!(
            vulnerable_to(s, "i-windows").await,
            Vec::<String>::new(),
            "{ctx}"
        );
        assert_eq!(
            vulnerable_to(s, "i-missing").await,
            Vec::<String>::new(),
            "{ctx}"
        );

        // Now the bookworm map: libssl3 is built from openssl.
        let mut import = s.begin_import().await.unwrap();
        import
            .source_map(
                &release("debian:12"),
                &[
                    ("libssl3".into(), "openssl".into()),
                    ("openssl".into(), "openssl".into()),
                ],
            )
            .await
            .unwrap();
        import.commit().await.unwrap();
        findings_are_whole(db).await;
        assert_eq!(
            vulnerable_to(s, "i-deb12-old").await,
            [
                "DSA-5764-1 libssl3 3.0.14-1~deb12u1",
                "DSA-5764-1 openssl 3.0.14-1~deb12u1"
            ],
            "{ctx}"
        );
        let page = s
            .advisory("DSA-5764-1", &VulnerabilityQuery::default())
            .await
            .unwrap()
            .unwrap();
        let how: BTreeSet<(String, String)> = page
            .affected
            .iter()
            .map(|a| (a.package_name.clone(), a.matched_by.clone()))
            .collect();
        assert!(
            how.contains(&("libssl3".into(), "source_map".into())),
            "{ctx}: {how:?}"
        );
        assert!(
            how.contains(&("openssl".into(), "source_map".into())),
            "{ctx}: {how:?}"
        );

        // A write that installs the fix: gone in the next read.
        put(
            s,
            "i-deb12-old",
            DEBIAN_12,
            &[
                ("openssl", "3.0.14-1~deb12u2"),
                ("libssl3", "3.0.14-1~deb12u2"),
            ],
        )
        .await;
        assert_eq!(
            vulnerable_to(s, "i-deb12-old").await,
            Vec::<String>::new(),
            "{ctx}"
        );
        // A write that brings a new vulnerable package row: there at once.
        put(s, "i-new", DEBIAN_12, &[("libssl3", "3.0.11-1~deb12u2")]).await;
        assert_eq!(
            vulnerable_to(s, "i-new").await,
            ["DSA-5764-1 libssl3 3.0.11-1~deb12u2"],
            "{ctx}"
        );
        findings_are_whole(db).await;
    })
    .await;
}

#[tokio::test]
async fn osv_range_shapes_and_record_lifecycle() {
    common::on_each_backend(async |db| {
        let s = &db.store;
        let ctx = db.name;
        for (id, version) in [
            ("i-1", "1.0"),
            ("i-12", "1.2"),
            ("i-13", "1.3"),
            ("i-15", "1.5"),
            ("i-21", "2.1"),
            ("i-30", "3.0"),
        ] {
            put(s, id, DEBIAN_12, &[("pkg", version)]).await;
        }
        let records = [
            // Unfixed: every version.
            advisory(
                "UNFIXED",
                at(2),
                vec![(
                    "debian:12",
                    "pkg",
                    NameKind::Binary,
                    vec![Interval::default()],
                    vec![],
                )],
            ),
            // Up to and with 1.2.
            advisory(
                "LAST",
                at(2),
                vec![(
                    "debian:12",
                    "pkg",
                    NameKind::Binary,
                    vec![last_affected("1.2")],
                    vec![],
                )],
            ),
            // Only the listed version.
            advisory(
                "LISTED",
                at(2),
                vec![("debian:12", "pkg", NameKind::Binary, vec![], vec!["1.5"])],
            ),
            // Two ranges: [1.0, 1.3) and [2.0, 2.2).
            advisory(
                "TWO",
                at(2),
                vec![(
                    "debian:12",
                    "pkg",
                    NameKind::Binary,
                    vec![fixed(Some("1.0"), "1.3"), fixed(Some("2.0"), "2.2")],
                    vec![],
                )],
            ),
        ];
        import(s, &records).await;
        findings_are_whole(db).await;
        let who = async |id: &str| -> Vec<String> {
            affected(s, id)
                .await
                .unwrap()
                .into_iter()
                .map(|(i, ..)| i)
                .collect()
        };
        assert_eq!(
            who("UNFIXED").await,
            ["i-1", "i-12", "i-13", "i-15", "i-21", "i-30"],
            "{ctx}"
        );
        assert_eq!(who("LAST").await, ["i-1", "i-12"], "{ctx}");
        assert_eq!(who("LISTED").await, ["i-15"], "{ctx}");
        assert_eq!(who("TWO").await, ["i-1", "i-12", "i-21"], "{ctx}");
        let unfixed = affected(s, "UNFIXED").await.unwrap();
        assert!(unfixed.iter().all(|(.., f)| f.is_none()), "{ctx}: no fix");

        // An older `modified` changes nothing; a newer one replaces.
        let mut older = records[3].clone();
        older.modified = at(1);
        older.affected[0].ranges = vec![Interval::default()];
        let mut newer = records[3].clone();
        newer.modified = at(5);
        newer.affected[0].ranges = vec![fixed(Some("3.0"), "3.1")];
        let mut import_ = s.begin_import().await.unwrap();
        let outcome = import_.advisories(&[older]).await.unwrap();
        assert_eq!((outcome.imported, outcome.unchanged), (0, 1), "{ctx}");
        import_.commit().await.unwrap();
        assert_eq!(who("TWO").await, ["i-1", "i-12", "i-21"], "{ctx}");
        import(s, &[newer.clone()]).await;
        assert_eq!(who("TWO").await, ["i-30"], "{ctx}");
        // The same record again: unchanged.
        let mut import_ = s.begin_import().await.unwrap();
        assert_eq!(
            import_
                .advisories(&[newer.clone(), newer.clone()])
                .await
                .unwrap()
                .imported,
            0
        );
        import_.commit().await.unwrap();

        // Withdrawn: still shown, affects nobody.
        let mut withdrawn = records[0].clone();
        withdrawn.modified = at(6);
        withdrawn.withdrawn = Some(at(6));
        import(s, &[withdrawn]).await;
        let page = s
            .advisory("UNFIXED", &VulnerabilityQuery::default())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(page.advisories[0].withdrawn, Some(at(6)), "{ctx}");
        assert!(page.affected.is_empty(), "{ctx}");
        assert!(
            !vulnerable_to(s, "i-30")
                .await
                .iter()
                .any(|v| v.starts_with("UNFIXED")),
            "{ctx}"
        );
        findings_are_whole(db).await;

        // The fleet view: most severe, then most widespread first.
        let fleet = s
            .fleet_vulnerabilities(&VulnerabilityQuery::default())
            .await
            .unwrap();
        let counts: Vec<(String, u64)> = fleet
            .advisories
            .iter()
            .map(|a| (a.advisory_id.clone(), a.instances))
            .collect();
        assert_eq!(
            counts,
            [
                ("LAST".to_string(), 2),
                ("LISTED".to_string(), 1),
                ("TWO".to_string(), 1)
            ],
            "{ctx}"
        );
    })
    .await;
}

/// The fleet summary shows its counts as last taken: a write within their
/// age does not show yet, and an import makes the next read count again,
/// that write included.
#[tokio::test]
async fn the_fleet_summary_counts_again_after_an_import() {
    common::on_each_backend(async |db| {
        let s = &db.store;
        let ctx = db.name;
        let bash = |id: &str| {
            advisory(
                id,
                at(2),
                vec![(
                    "amzn:2023",
                    "bash",
                    NameKind::Binary,
                    vec![fixed(None, "5.2.15-1.amzn2023.0.3")],
                    vec![],
                )],
            )
        };
        let counts = async || -> Vec<(String, u64)> {
            let q = VulnerabilityQuery::default();
            let page = s.fleet_vulnerabilities(&q).await;
            let page = page.unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
            assert!(page.counted_at.is_some(), "{ctx}");
            page.advisories
                .into_iter()
                .map(|a| (a.advisory_id, a.instances))
                .collect()
        };
        let old_bash = [("bash", "5.2.15-1.amzn2023.0.2")];
        put(s, "i-a", AMAZON_2023, &old_bash).await;
        import(s, &[bash("A-1")]).await;
        assert_eq!(counts().await, [("A-1".to_string(), 1)], "{ctx}");
        put(s, "i-b", AMAZON_2023, &old_bash).await;
        assert_eq!(
            counts().await,
            [("A-1".to_string(), 1)],
            "{ctx}: as counted"
        );
        import(s, &[bash("A-2")]).await;
        assert_eq!(
            counts().await,
            [("A-1".to_string(), 2), ("A-2".to_string(), 2)],
            "{ctx}: counted again"
        );
    })
    .await;
}

/// An import that fails half-way leaves nothing of itself; one that
/// commits while writers insert new packages misses none of them.
#[tokio::test]
async fn imports_are_all_or_nothing_and_race_writers_safely() {
    common::on_each_backend(async |db| {
        let s = &db.store;
        let ctx = db.name;
        put(s, "i-a", DEBIAN_12, &[("pkg", "1.0")]).await;
        let mut half = s.begin_import().await.unwrap();
        half.advisories(&[advisory(
            "HALF",
            at(2),
            vec![(
                "debian:12",
                "pkg",
                NameKind::Binary,
                vec![Interval::default()],
                vec![],
            )],
        )])
        .await
        .unwrap();
        half.rollback().await;
        assert_eq!(
            s.advisory("HALF", &VulnerabilityQuery::default())
                .await
                .unwrap(),
            None,
            "{ctx}"
        );
        assert_eq!(
            db.count("SELECT COUNT(*) FROM advisory_range").await,
            0,
            "{ctx}"
        );

        // Writers of new package rows race imports of advisories for them.
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let store = db.fresh_store();
                tokio::spawn(async move {
                    for round in 0..6 {
                        let mut i: Instance = common::instance(
                            &format!("i-w{w}"),
                            vec![Package::new(format!("race-{round}"), format!("1.{w}"))],
                        );
                        i.os = Some(OsPlatform::parse("Debian GNU/Linux", "12").unwrap());
                        store.put_instance(&i).await.unwrap();
                    }
                })
            })
            .collect();
        let importer = {
            let store = db.fresh_store();
            tokio::spawn(async move {
                for round in 0..6 {
                    let a = advisory(
                        &format!("RACE-{round}"),
                        at(2),
                        vec![(
                            "debian:12",
                            &format!("race-{round}"),
                            NameKind::Binary,
                            vec![Interval::default()],
                            vec![],
                        )],
                    );
                    let mut import = store.begin_import().await.unwrap();
                    import.advisories(&[a]).await.unwrap();
                    import.commit().await.unwrap();
                }
            })
        };
        for w in writers {
            w.await.unwrap();
        }
        importer.await.unwrap();
        findings_are_whole(db).await;
        let findings = db.count("SELECT COUNT(*) FROM package_finding").await;
        assert_eq!(
            findings, 24,
            "{ctx}: every race package row met its advisory"
        );
    })
    .await;
}

/// Each query is one call; an import batch four; the commit two (or none
/// of the locks on SQLite).
#[tokio::test]
async fn calls_per_query_and_per_batch() {
    common::on_each_backend(async |db| {
        let s = db.fresh_store();
        let ctx = db.name;
        put(&s, "i-a", AMAZON_2023, &[("bash", "5.2.15-1.amzn2023.0.2")]).await;
        let before = s.data_api_calls();
        let mut import = s.begin_import().await.unwrap();
        let list: Vec<Advisory> = (0..50)
            .map(|i| {
                advisory(
                    &format!("A-{i}"),
                    at(2),
                    vec![(
                        "amzn:2023",
                        "bash",
                        NameKind::Binary,
                        vec![fixed(None, "5.2.15-1.amzn2023.0.3")],
                        vec![],
                    )],
                )
            })
            .collect();
        import.advisories(&list).await.unwrap();
        import.commit().await.unwrap();
        // The import lock, and (but on SQLite) the findings lock.
        let locks = if db.dialect == inventory_core::store::Dialect::Sqlite {
            1
        } else {
            2
        };
        // Begin, the import lock, the watermark; 4 per batch; the findings
        // lock, the matching, uncounting the fleet's counts, commit.
        assert_eq!(s.data_api_calls() - before, 2 + 4 + 3 + locks, "{ctx}");
        // The import left the fleet's counts uncounted: the first summary
        // recounts them (PostgreSQL, MySQL: 1 routine call; SQLite: its
        // transaction of 7), then reads again.
        let before = s.data_api_calls();
        let first = s
            .fleet_vulnerabilities(&VulnerabilityQuery::default())
            .await;
        assert_eq!(first.unwrap().advisories.len(), 50, "{ctx}");
        let recount = if locks == 1 { 7 } else { 1 };
        assert_eq!(s.data_api_calls() - before, 1 + recount + 1, "{ctx}");
        for query in 0..3 {
            let before = s.data_api_calls();
            let q = VulnerabilityQuery::default();
            match query {
                0 => assert_eq!(
                    s.advisory("A-1", &q).await.unwrap().unwrap().affected.len(),
                    1
                ),
                1 => assert_eq!(
                    s.instance_vulnerabilities(&"i-a".parse().unwrap(), &q)
                        .await
                        .unwrap()
                        .vulnerabilities
                        .len(),
                    50
                ),
                _ => assert_eq!(
                    s.fleet_vulnerabilities(&q).await.unwrap().advisories.len(),
                    50
                ),
            }
            assert_eq!(s.data_api_calls() - before, 1, "{ctx}: query {query}");
        }
        // Pages follow the order and cover everything once.
        let mut q = VulnerabilityQuery {
            limit: 7,
            ..VulnerabilityQuery::default()
        };
        let mut seen = Vec::new();
        loop {
            let page = s
                .instance_vulnerabilities(&"i-a".parse().unwrap(), &q)
                .await
                .unwrap();
            seen.extend(page.vulnerabilities.into_iter().map(|v| v.advisory_id));
            match page.next_token {
                Some(t) => q.next_token = Some(t),
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!((seen.len(), sorted.len()), (50, 50), "{ctx}");
    })
    .await;
}

/// MySQL: the import's statements find each advisory of a batch by
/// `advisory`'s primary key. JSON_TABLE's columns are utf8mb4; compared as
/// they are with the ascii `id`, MySQL converts the column instead and scans
/// the whole table for each record, so an import of 50,000 advisories took
/// longer with every batch.
#[tokio::test]
async fn mysql_import_statements_join_advisories_by_their_key() {
    let Some(db) = common::mysql().await else {
        return;
    };
    let batch = r#"'[{"id": "A-1", "advisory_id": "A-1", "alias": "CVE-1", "modified": "2024-01-01 00:00:00"}]'"#;
    for (name, sql) in [
        (
            "advisory_delete_older",
            include_str!("../../src/store/sql/mysql/advisory_delete_older.sql"),
        ),
        (
            "advisory_alias_insert",
            include_str!("../../src/store/sql/mysql/advisory_alias_insert.sql"),
        ),
        (
            "advisory_range_insert",
            include_str!("../../src/store/sql/mysql/advisory_range_insert.sql"),
        ),
    ] {
        let sql = sql
            .replace(":advisories", batch)
            .replace(":aliases", batch)
            .replace(":ranges", batch)
            .replace(":imported", "'2024-01-01 00:00:00'");
        let plan = db.sql(&format!("EXPLAIN {sql}")).await;
        // EXPLAIN's columns: id, select_type, table, type, possible_keys, ...
        let text = |row: &[aws_sdk_rdsdata::types::Field], i: usize| match &row[i] {
            aws_sdk_rdsdata::types::Field::StringValue(s) => s.clone(),
            _ => String::new(),
        };
        let advisory = plan
            .records()
            .iter()
            .find(|row| text(row, 2) == "a")
            .unwrap_or_else(|| panic!("{name}: no plan row for advisory: {plan:?}"));
        // Usable at all (possible_keys); on an empty table the plan may still scan.
        assert_eq!(text(advisory, 4), "PRIMARY", "{name}: {plan:?}");
    }
    db.finish().await;
}
