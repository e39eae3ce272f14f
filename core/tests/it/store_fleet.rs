//! Store: the fleet at a glance (counts along its dimensions, the most
//! widespread packages) and the fleet's history, on every backend.

use crate::common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use inventory_core::model::{
    InstanceDetails, InstanceId, InstanceState, Package, PackageSet, StateChange,
};
use std::time::Duration as StdDuration;

use inventory_core::query::{ChangeKind, DimensionCount, HistoryQuery, WidespreadPackages};
use inventory_core::version::VersionScheme;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::seconds(secs)
}

fn pkgs(list: &[(&str, &str)]) -> Vec<Package> {
    list.iter().map(|(n, v)| Package::new(*n, *v)).collect()
}

fn launch(id: &str, account: &str, region: &str, platform: &str, secs: i64) -> StateChange {
    StateChange {
        id: InstanceId::parse(id).unwrap(),
        account: account.parse().unwrap(),
        region: region.parse().unwrap(),
        state: InstanceState::Running,
        time: at(secs),
        details: Some(InstanceDetails {
            platform: Some(platform.into()),
            ..InstanceDetails::default()
        }),
    }
}

fn counts(list: &[DimensionCount]) -> Vec<(Option<&str>, u64)> {
    list.iter()
        .map(|c| (c.value.as_deref(), c.instances))
        .collect()
}

/// Three launched instances, one stopped later, and one written through the
/// API (no state, no platform): every dimension has several values and an
/// unknown one.
#[tokio::test]
async fn counts_by_account_region_state_and_platform() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let store = &db.store;
        assert_eq!(store.fleet_counts().await.unwrap().total(), 0, "{ctx}");
        for (id, account, region, platform) in [
            ("i-1", "111111111111", "us-east-1", "Debian GNU/Linux 12"),
            ("i-2", "111111111111", "eu-west-1", "Debian GNU/Linux 12"),
            ("i-3", "222222222222", "eu-west-1", "Amazon Linux 2023"),
        ] {
            store
                .apply_state(&launch(id, account, region, platform, 0))
                .await
                .unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
        }
        let mut stop = launch("i-3", "222222222222", "eu-west-1", "", 60);
        stop.state = InstanceState::Stopped;
        stop.details = None;
        store.apply_state(&stop).await.unwrap();
        store
            .put_instance(&common::instance("backfill:web-1", vec![]))
            .await
            .unwrap();

        let before = store.data_api_calls();
        let c = store.fleet_counts().await.unwrap();
        assert_eq!(store.data_api_calls() - before, 1, "{ctx}: one call");
        assert_eq!(c.total(), 4, "{ctx}");
        assert_eq!(
            counts(&c.by_account),
            [
                (Some("111111111111"), 2),
                (Some("123456789012"), 1),
                (Some("222222222222"), 1)
            ],
            "{ctx}"
        );
        assert_eq!(
            counts(&c.by_region),
            [(Some("eu-west-1"), 2), (Some("us-east-1"), 2)],
            "{ctx}"
        );
        assert_eq!(
            counts(&c.by_state),
            [(Some("running"), 2), (None, 1), (Some("stopped"), 1)],
            "{ctx}"
        );
        assert_eq!(
            counts(&c.by_platform),
            [
                (Some("Debian GNU/Linux 12"), 2),
                (None, 1),
                (Some("Amazon Linux 2023"), 1)
            ],
            "{ctx}"
        );
    })
    .await;
}

/// Names shown with the instances that have any of their versions: an
/// instance with two versions of a name (kernels) counts once, names that
/// differ only by a trailing space (equal under MySQL's collation) stay apart.
#[tokio::test]
async fn widespread_packages_count_instances_not_installs() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        // Counted afresh on every read.
        let store = &db.store.clone().with_counts_max_age(StdDuration::ZERO);
        let empty = store.widespread_packages(10).await.unwrap();
        assert!(empty.packages.is_empty(), "{ctx}");
        assert!(empty.counted_at.is_some(), "{ctx}");
        let kernels = [
            ("kernel", "6.1.1"),
            ("kernel", "6.1.2"),
            ("kernel", "6.1.3"),
        ];
        let fleet = [
            (
                "i-1",
                vec![("openssl", "3.0.11"), ("bash", "5.2"), kernels[0]],
            ),
            ("i-2", vec![("openssl", "3.0.13"), ("bash", "5.2")]),
            (
                "i-3",
                vec![("openssl", "3.0.13"), ("curl", "8.0"), ("curl ", "8.0")],
            ),
            // Three installs of one name on one instance: still one instance.
            ("i-4", kernels.to_vec()),
        ];
        for (id, list) in &fleet {
            store
                .put_instance(&common::instance(id, pkgs(list)))
                .await
                .unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
        }
        let top = store.widespread_packages(10).await.unwrap();
        let seen: Vec<(&str, u64, u64)> = top
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.instances, p.versions))
            .collect();
        assert_eq!(
            seen,
            [
                ("openssl", 3, 2),
                ("bash", 2, 1),
                ("kernel", 2, 3),
                ("curl", 1, 1),
                ("curl ", 1, 1)
            ],
            "{ctx}"
        );
        // The cut is by installs (one pass over the links): kernel's four
        // installs outrank openssl's three, and it keeps its exact count.
        let first = store.widespread_packages(1).await.unwrap();
        let first: Vec<(&str, u64)> = first
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.instances))
            .collect();
        assert_eq!(first, [("kernel", 2)], "{ctx}");
    })
    .await;
}

/// The fleet's counts are taken by the read that finds them older than the
/// store's age, and stay as they were until then: a read of fresh counts is
/// 1 call. Recounts that race leave each count once, not twice.
#[tokio::test]
async fn fleet_counts_are_recounted_once_older_than_their_age() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let store = &db.store;
        let spread = |top: &WidespreadPackages| -> Vec<(String, u64)> {
            top.packages
                .iter()
                .map(|p| (p.name.clone(), p.instances))
                .collect()
        };
        let put = |id: &'static str, list: &'static [(&'static str, &'static str)]| async move {
            store
                .put_instance(&common::instance(id, pkgs(list)))
                .await
                .unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
        };
        put("i-1", &[("openssl", "3.0.1")]).await;
        // Never counted: this read counts.
        let first = store.widespread_packages(10).await.unwrap();
        assert_eq!(spread(&first), [("openssl".to_string(), 1)], "{ctx}");
        let counted = first.counted_at.expect("counted");

        // Within the age a write does not show, and a read is 1 call.
        put("i-2", &[("openssl", "3.0.1"), ("bash", "5.2")]).await;
        let before = store.data_api_calls();
        let stale = store.widespread_packages(10).await.unwrap();
        assert_eq!(store.data_api_calls() - before, 1, "{ctx}: one call");
        assert_eq!(stale, first, "{ctx}");

        // A reader for whom those counts are too old recounts them, for all.
        let live = store.clone().with_counts_max_age(StdDuration::ZERO);
        let fresh = live.widespread_packages(10).await.unwrap();
        let expected = [("openssl".to_string(), 2), ("bash".to_string(), 1)];
        assert_eq!(spread(&fresh), expected, "{ctx}");
        assert!(fresh.counted_at.unwrap() > counted, "{ctx}");
        assert_eq!(store.widespread_packages(10).await.unwrap(), fresh, "{ctx}");

        // Counts taken at or after the reader's limit are not taken again.
        let limit = fresh.counted_at.unwrap();
        assert!(!store.recount_fleet(limit).await.unwrap(), "{ctx}");

        // Four recounts at once: each waits for the one before, and every
        // count stands once.
        let soon = Utc::now() + Duration::seconds(5);
        let racing = futures::future::join_all((0..4).map(|_| store.recount_fleet(soon))).await;
        for outcome in racing {
            outcome.unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
        }
        let after = live.widespread_packages(10).await.unwrap();
        assert_eq!(spread(&after), expected, "{ctx}");
    })
    .await;
}

/// Every instance's changes, newest first, paged without gaps or repeats.
#[tokio::test]
async fn fleet_history_pages_through_every_instance() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let store = &db.store;
        for (n, id) in ["i-a", "i-b", "i-c"].iter().enumerate() {
            let event = launch(id, "123456789012", "us-east-1", "Ubuntu", n as i64 * 10);
            store
                .apply_state_with_packages(
                    &event,
                    PackageSet::new(&pkgs(&[("openssl", "3.0.1")]), VersionScheme::Dpkg),
                    event.time,
                )
                .await
                .unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
        }
        // A direct write, later than every event.
        let api = common::instance("i-a", pkgs(&[("openssl", "3.0.2")]));
        store.put_instance(&api).await.unwrap();

        let mut q = HistoryQuery {
            limit: 2,
            ..HistoryQuery::default()
        };
        let mut all = Vec::new();
        loop {
            let before = store.data_api_calls();
            let page = store.fleet_history(&q).await.unwrap();
            assert_eq!(
                store.data_api_calls() - before,
                1,
                "{ctx}: a page is one call"
            );
            all.extend(page.changes);
            match page.next_token {
                Some(token) => q.next_token = Some(token),
                None => break,
            }
        }
        // Exactly the instances' own histories, merged.
        let mut each = Vec::new();
        for id in ["i-a", "i-b", "i-c"] {
            let id = InstanceId::parse(id).unwrap();
            let page = store
                .instance_history(&id, &HistoryQuery::default())
                .await
                .unwrap();
            each.extend(page.changes);
        }
        assert_eq!(all.len(), each.len(), "{ctx}: {all:#?}");
        assert!(
            all.len() >= 7,
            "{ctx}: launches, installs and the PUT's change"
        );
        assert!(each.iter().all(|c| all.contains(c)), "{ctx}");
        assert!(
            all.windows(2).all(|w| w[0].at >= w[1].at),
            "{ctx}: newest first"
        );
        assert_eq!(
            all[0].instance_id.as_str(),
            "i-a",
            "{ctx}: the PUT is the latest"
        );
        assert!(
            all.iter().any(|c| c.kind == ChangeKind::Changed),
            "{ctx}: the PUT's version change"
        );
        let ids: std::collections::BTreeSet<&str> =
            all.iter().map(|c| c.instance_id.as_str()).collect();
        assert_eq!(ids.len(), 3, "{ctx}");

        let window = HistoryQuery {
            since: Some(at(10)),
            until: Some(at(20)),
            ..HistoryQuery::default()
        };
        let page = store.fleet_history(&window).await.unwrap();
        assert!(
            page.changes.iter().all(|c| c.instance_id.as_str() == "i-b"),
            "{ctx}: {:#?}",
            page.changes
        );
        assert_eq!(page.changes.len(), 2, "{ctx}");
    })
    .await;
}
