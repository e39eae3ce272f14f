//! Store: the event path (state changes, package replacement, stale
//! inventories) on every backend.

mod common;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use inventory_core::model::{InstanceDetails, InstanceId, InstanceState, Package, Source};
use inventory_core::store::{InstanceKey, StateChange};

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

#[tokio::test]
async fn state_changes_apply_in_event_time_order_once() {
    for db in common::backends().await {
        let s = &db.store;
        let mut running = change("i-ev", InstanceState::Running, at(10));
        running.details = Some(InstanceDetails {
            instance_type: Some("m5.large".into()),
            image_id: Some("ami-1".into()),
            platform: None,
            launch_time: Some(at(5)),
            tags: BTreeMap::from([("Name".into(), "web".into())]),
        });
        assert!(
            s.apply_state(&running).await.unwrap(),
            "{}: unknown instance inserted",
            db.name
        );
        assert!(
            !s.apply_state(&running).await.unwrap(),
            "{}: same event twice",
            db.name
        );
        let rec = s.get_instance(&running.id).await.unwrap().unwrap();
        assert_eq!(
            rec.instance.state,
            Some(InstanceState::Running),
            "{}",
            db.name
        );
        assert_eq!(rec.instance.source, Source::Event, "{}", db.name);
        assert_eq!(
            rec.instance.details,
            running.details.clone().unwrap(),
            "{}",
            db.name
        );
        assert_eq!(rec.instance.account.as_str(), "210987654321", "{}", db.name);
        assert_eq!(rec.last_event_time, Some(at(10)), "{}", db.name);
        assert_eq!(rec.inventory_captured_at, None, "{}", db.name);
        assert_eq!(rec.terminated, None, "{}", db.name);

        // An older event arriving late changes nothing.
        let stale = change("i-ev", InstanceState::Pending, at(9));
        assert!(!s.apply_state(&stale).await.unwrap(), "{}", db.name);
        assert_eq!(
            s.get_instance(&running.id).await.unwrap().unwrap(),
            rec,
            "{}",
            db.name
        );

        // A newer one without details keeps the details.
        assert!(s
            .apply_state(&change("i-ev", InstanceState::Stopped, at(20)))
            .await
            .unwrap());
        let rec = s.get_instance(&running.id).await.unwrap().unwrap();
        assert_eq!(
            rec.instance.state,
            Some(InstanceState::Stopped),
            "{}",
            db.name
        );
        assert_eq!(
            rec.instance.details,
            running.details.clone().unwrap(),
            "{}",
            db.name
        );

        // Termination records the event's time, once.
        let terminated = change(
            "i-ev",
            InstanceState::Terminated,
            at(30) + Duration::microseconds(7),
        );
        assert!(s.apply_state(&terminated).await.unwrap());
        assert!(!s.apply_state(&terminated).await.unwrap());
        assert!(!s
            .apply_state(&change("i-ev", InstanceState::Running, at(25)))
            .await
            .unwrap());
        let rec = s.get_instance(&running.id).await.unwrap().unwrap();
        assert_eq!(
            rec.instance.state,
            Some(InstanceState::Terminated),
            "{}",
            db.name
        );
        assert_eq!(rec.terminated, Some(terminated.time), "{}", db.name);
        assert_eq!(rec.last_event_time, Some(terminated.time), "{}", db.name);

        // An event for an instance first seen terminated.
        let gone = change("i-gone", InstanceState::Terminated, at(40));
        assert!(s.apply_state(&gone).await.unwrap());
        let rec = s.get_instance(&gone.id).await.unwrap().unwrap();
        assert_eq!(rec.terminated, Some(at(40)), "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn events_keep_api_packages_and_api_keeps_event_order() {
    for db in common::backends().await {
        let s = &db.store;
        let i = common::instance("i-mixed", common::packages(2));
        s.create_instance(&i).await.unwrap();
        assert!(s
            .apply_state(&change("i-mixed", InstanceState::Running, at(1)))
            .await
            .unwrap());
        let rec = s.get_instance(&i.id).await.unwrap().unwrap();
        assert_eq!(rec.instance.packages, i.packages, "{}", db.name);
        assert_eq!(
            rec.instance.state,
            Some(InstanceState::Running),
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn package_replacement_ignores_stale_captures() {
    for db in common::backends().await {
        let s = &db.store;
        let id = InstanceId::parse("i-inv").unwrap();
        let v1 = vec![Package::new("a", "1"), Package::new("b", "1")];
        assert!(
            !s.replace_packages(&id, &v1, at(0), Source::Event)
                .await
                .unwrap(),
            "{}: unknown instance: nothing written",
            db.name
        );
        assert_eq!(
            db.count("SELECT COUNT(*) FROM package").await,
            0,
            "{}",
            db.name
        );

        assert!(s
            .apply_state(&change("i-inv", InstanceState::Running, at(0)))
            .await
            .unwrap());
        assert!(s
            .replace_packages(&id, &v1, at(100), Source::Event)
            .await
            .unwrap());
        let v2 = vec![
            Package::new("b", "2"),
            Package::new("c", "1"),
            Package::new("c", "1"),
        ];
        assert!(s
            .replace_packages(&id, &v2, at(200), Source::Sync)
            .await
            .unwrap());
        // A re-delivered older capture is ignored.
        assert!(!s
            .replace_packages(&id, &v1, at(150), Source::Event)
            .await
            .unwrap());

        let rec = s.get_instance(&id).await.unwrap().unwrap();
        assert_eq!(
            rec.instance.packages,
            vec![Package::new("b", "2"), Package::new("c", "1")],
            "{}",
            db.name
        );
        assert_eq!(rec.inventory_captured_at, Some(at(200)), "{}", db.name);
        assert_eq!(rec.instance.source, Source::Sync, "{}", db.name);
        assert_eq!(
            rec.instance.state,
            Some(InstanceState::Running),
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn stale_running_lists_missing_then_oldest_inventories() {
    for db in common::backends().await {
        let s = &db.store;
        for (id, state) in [
            ("i-fresh", InstanceState::Running),
            ("i-old", InstanceState::Running),
            ("i-older", InstanceState::Running),
            ("i-never", InstanceState::Running),
            ("i-stopped", InstanceState::Stopped),
        ] {
            assert!(s.apply_state(&change(id, state, at(0))).await.unwrap());
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
                .replace_packages(&id, &p, at(captured), Source::Event)
                .await
                .unwrap());
        }
        let key = |id: &str| InstanceKey {
            id: InstanceId::parse(id).unwrap(),
            account: "210987654321".parse().unwrap(),
            region: "eu-west-1".parse().unwrap(),
        };
        let stale = s.stale_running(at(300), 10).await.unwrap();
        assert_eq!(
            stale,
            vec![key("i-never"), key("i-older"), key("i-old")],
            "{}",
            db.name
        );
        assert_eq!(
            s.stale_running(at(300), 2).await.unwrap().len(),
            2,
            "{}",
            db.name
        );
        assert_eq!(
            s.stale_running(at(50), 10).await.unwrap(),
            vec![key("i-never")],
            "{}",
            db.name
        );
        db.finish().await;
    }
}
