//! Store: the event path (state changes, package replacement, stale
//! inventories) on every backend.

use crate::common;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use inventory_core::model::{
    InstanceDetails, InstanceId, InstanceKey, InstanceState, Package, PackageSet, Source,
    StateChange,
};
use inventory_core::version::VersionScheme;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap() + Duration::seconds(secs)
}

fn change(id: &str, state: InstanceState, time: DateTime<Utc>) -> StateChange {
    StateChange {
        id: InstanceId::parse(id).unwrap(),
        account: "210987654321".parse().unwrap(),
        region: "eu-west-1".parse().unwrap(),
        state,
        time,
        details: None,
    }
}

/// Applies `change(id, state, time)`; true when applied.
async fn apply(db: &common::TestDb, id: &str, state: InstanceState, time: DateTime<Utc>) -> bool {
    db.store
        .apply_state(&change(id, state, time))
        .await
        .unwrap_or_else(|e| panic!("{}: {id}: {e:?}", db.name))
}

#[tokio::test]
async fn state_changes_apply_in_event_time_order_once() {
    common::on_each_backend(async |db| {
        let (s, ctx) = (&db.store, db.name);
        let mut running = change("i-ev", InstanceState::Running, at(10));
        running.details = Some(InstanceDetails {
            instance_type: Some("m5.large".into()),
            image_id: Some("ami-1".into()),
            platform: None,
            launch_time: Some(at(5)),
            tags: BTreeMap::from([("Name".into(), "web".into())]),
        });
        let details = running.details.clone().unwrap();
        assert!(
            s.apply_state(&running).await.unwrap(),
            "{ctx}: unknown instance inserted"
        );
        assert!(
            !s.apply_state(&running).await.unwrap(),
            "{ctx}: same event twice"
        );
        let rec = db.record(&running.id).await;
        assert_eq!(rec.instance.state, Some(InstanceState::Running), "{ctx}");
        assert_eq!(rec.instance.source, Source::Event, "{ctx}");
        assert_eq!(rec.instance.details, details, "{ctx}");
        assert_eq!(rec.instance.account.as_str(), "210987654321", "{ctx}");
        assert_eq!(rec.last_event_time, Some(at(10)), "{ctx}");
        assert_eq!(rec.inventory_captured_at, None, "{ctx}");
        assert_eq!(rec.terminated, None, "{ctx}");

        // An older event arriving late changes nothing.
        assert!(
            !apply(db, "i-ev", InstanceState::Pending, at(9)).await,
            "{ctx}"
        );
        assert_eq!(db.record(&running.id).await, rec, "{ctx}");

        // A newer one without details keeps the details.
        assert!(apply(db, "i-ev", InstanceState::Stopped, at(20)).await);
        let rec = db.record(&running.id).await;
        assert_eq!(rec.instance.state, Some(InstanceState::Stopped), "{ctx}");
        assert_eq!(rec.instance.details, details, "{ctx}");

        // Termination records the event's time, once.
        let terminated_at = at(30) + Duration::microseconds(7);
        assert!(apply(db, "i-ev", InstanceState::Terminated, terminated_at).await);
        assert!(!apply(db, "i-ev", InstanceState::Terminated, terminated_at).await);
        assert!(!apply(db, "i-ev", InstanceState::Running, at(25)).await);
        let rec = db.record(&running.id).await;
        assert_eq!(rec.instance.state, Some(InstanceState::Terminated), "{ctx}");
        assert_eq!(rec.terminated, Some(terminated_at), "{ctx}");
        assert_eq!(rec.last_event_time, Some(terminated_at), "{ctx}");

        // An event for an instance first seen terminated.
        let gone = change("i-gone", InstanceState::Terminated, at(40));
        assert!(s.apply_state(&gone).await.unwrap());
        assert_eq!(db.record(&gone.id).await.terminated, Some(at(40)), "{ctx}");
    })
    .await;
}

#[tokio::test]
async fn events_keep_api_packages_and_api_keeps_event_order() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let i = common::instance("i-mixed", common::packages(2));
        db.store.create_instance(&i).await.unwrap();
        assert!(apply(db, "i-mixed", InstanceState::Running, at(1)).await);
        let rec = db.record(&i.id).await;
        assert_eq!(rec.instance.packages, i.packages, "{ctx}");
        assert_eq!(rec.instance.state, Some(InstanceState::Running), "{ctx}");
    })
    .await;
}

#[tokio::test]
async fn package_replacement_ignores_stale_captures() {
    common::on_each_backend(async |db| {
        let (s, ctx) = (&db.store, db.name);
        let id = InstanceId::parse("i-inv").unwrap();
        let replace = async |packages: &[Package], captured: i64, source: Source| {
            s.replace_packages(
                &id,
                PackageSet::new(packages, VersionScheme::Natural),
                at(captured),
                source,
            )
            .await
            .unwrap()
        };
        let v1 = vec![Package::new("a", "1"), Package::new("b", "1")];
        assert!(
            !replace(&v1, 0, Source::Event).await,
            "{ctx}: unknown instance: nothing written"
        );
        let count = db.count("SELECT COUNT(*) FROM package").await;
        assert_eq!(count, 0, "{ctx}");

        assert!(apply(db, "i-inv", InstanceState::Running, at(0)).await);
        assert!(replace(&v1, 100, Source::Event).await);
        let v2 = vec![
            Package::new("b", "2"),
            Package::new("c", "1"),
            Package::new("c", "1"),
        ];
        assert!(replace(&v2, 200, Source::Sync).await);
        // A re-delivered older capture is ignored.
        assert!(!replace(&v1, 150, Source::Event).await);

        let rec = db.record(&id).await;
        let expected = vec![Package::new("b", "2"), Package::new("c", "1")];
        assert_eq!(rec.instance.packages, expected, "{ctx}");
        assert_eq!(rec.inventory_captured_at, Some(at(200)), "{ctx}");
        assert_eq!(rec.instance.source, Source::Sync, "{ctx}");
        assert_eq!(rec.instance.state, Some(InstanceState::Running), "{ctx}");
    })
    .await;
}

#[tokio::test]
async fn stale_running_lists_missing_then_oldest_inventories() {
    common::on_each_backend(async |db| {
        let (s, ctx) = (&db.store, db.name);
        for (id, state) in [
            ("i-fresh", InstanceState::Running),
            ("i-old", InstanceState::Running),
            ("i-older", InstanceState::Running),
            ("i-never", InstanceState::Running),
            ("i-stopped", InstanceState::Stopped),
        ] {
            assert!(apply(db, id, state, at(0)).await);
        }
        let p = vec![Package::new("a", "1")];
        for (id, captured) in [
            ("i-fresh", 500),
            ("i-old", 200),
            ("i-older", 100),
            ("i-stopped", 0),
        ] {
            let id = InstanceId::parse(id).unwrap();
            assert!(s
                .replace_packages(
                    &id,
                    PackageSet::new(&p, VersionScheme::Natural),
                    at(captured),
                    Source::Event
                )
                .await
                .unwrap());
        }
        let key = |id: &str| InstanceKey {
            id: InstanceId::parse(id).unwrap(),
            account: "210987654321".parse().unwrap(),
            region: "eu-west-1".parse().unwrap(),
        };
        let stale = s.stale_running(None, at(300), 10).await.unwrap();
        let expected = vec![key("i-never"), key("i-older"), key("i-old")];
        assert_eq!(stale, expected, "{ctx}");
        let limited = s.stale_running(None, at(300), 2).await.unwrap();
        assert_eq!(limited.len(), 2, "{ctx}");
        let stale = s.stale_running(None, at(50), 10).await.unwrap();
        assert_eq!(stale, vec![key("i-never")], "{ctx}");
        // Only one account and region's (organization mode's sync, per scope).
        let scope = |account: &str, region: &str| inventory_core::model::Scope {
            account: account.parse().unwrap(),
            region: region.parse().unwrap(),
        };
        let here = scope("210987654321", "eu-west-1");
        let stale = s.stale_running(Some(&here), at(300), 10).await.unwrap();
        assert_eq!(stale.len(), 3, "{ctx}");
        for elsewhere in [
            scope("210987654321", "us-east-1"),
            scope("123456789012", "eu-west-1"),
        ] {
            let none = s
                .stale_running(Some(&elsewhere), at(300), 10)
                .await
                .unwrap();
            assert!(none.is_empty(), "{ctx}: {elsewhere}");
        }
    })
    .await;
}
