//! The scheduled sync's cursor (`sync_cursor`, schema 003) and the walk's
//! read of recorded instances, through the local Data API on every backend.

use crate::common;

use chrono::{Duration, Utc};
use inventory_core::model::{Account, InstanceId, InstanceState, Region, StateChange};
use inventory_core::store::{SyncCursor, SyncLease, SCHEMA_VERSION};

fn account() -> Account {
    "123456789012".parse().unwrap()
}

fn region() -> Region {
    "us-east-1".parse().unwrap()
}

// The cursor table arrived with schema version 3.
const _: () = assert!(SCHEMA_VERSION >= 3);

#[tokio::test]
async fn one_lease_at_a_time_and_progress_survives_the_holder() {
    for db in common::backends().await {
        let store = &db.store;
        let now = Utc::now();
        let soon = now + Duration::minutes(5);
        let first = SyncLease::new(&account(), &region());
        let second = SyncLease::new(&account(), &region());
        assert_eq!(first.scope, second.scope);
        assert_ne!(first.owner, second.owner);

        // A new scope starts at the beginning of its first pass.
        let cursor = store.acquire_sync_cursor(&first, now, soon).await.unwrap();
        assert_eq!(cursor, Some(SyncCursor::default()), "{}", db.name);
        // Held: nobody else gets it, however often they ask.
        for _ in 0..2 {
            let busy = store.acquire_sync_cursor(&second, now, soon).await.unwrap();
            assert_eq!(busy, None, "{}", db.name);
        }
        let progress = SyncCursor {
            position: Some("i-0000000000000000c".into()),
            pass_started: Some("2026-11-25T10:00:00.123456Z".parse().unwrap()),
            passes_completed: 3,
        };
        assert!(store.save_sync_cursor(&first, &progress).await.unwrap());
        // Saving twice in a row is still "ours" (MySQL counts changed rows).
        assert!(store.save_sync_cursor(&first, &progress).await.unwrap());
        assert!(!store.save_sync_cursor(&second, &progress).await.unwrap());
        assert!(store.release_sync_cursor(&first, &progress).await.unwrap());
        // Released: the old holder can no longer write, the next one resumes.
        assert!(!store
            .save_sync_cursor(&first, &SyncCursor::default())
            .await
            .unwrap());
        let resumed = store.acquire_sync_cursor(&second, now, soon).await.unwrap();
        assert_eq!(resumed, Some(progress.clone()), "{}", db.name);

        // A holder that died: its lease expires and another run takes over;
        // the dead one's late save is refused.
        let later = soon + Duration::seconds(1);
        let third = SyncLease::new(&account(), &region());
        let taken = store
            .acquire_sync_cursor(&third, later, later + Duration::minutes(5))
            .await
            .unwrap();
        assert_eq!(taken, Some(progress), "{}", db.name);
        assert!(!store
            .save_sync_cursor(&second, &SyncCursor::default())
            .await
            .unwrap());

        // Scopes are independent.
        let elsewhere = SyncLease::new(&account(), &"eu-west-1".parse().unwrap());
        let other = store
            .acquire_sync_cursor(&elsewhere, now, soon)
            .await
            .unwrap();
        assert_eq!(other, Some(SyncCursor::default()), "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn recorded_instances_of_one_scope_by_id_range() {
    for db in common::backends().await {
        let store = &db.store;
        let old = "2026-11-24T10:00:00Z".parse().unwrap();
        for (id, account) in [
            ("i-0000000000000000c", "123456789012"),
            ("i-0000000000000000a", "123456789012"),
            ("mi-0000000000000000a", "123456789012"),
            ("i-0000000000000000b", "210987654321"),
            ("i-0000000000000000d", "123456789012"),
        ] {
            store
                .apply_state(&StateChange {
                    id: InstanceId::parse(id).unwrap(),
                    account: account.parse().unwrap(),
                    region: region(),
                    state: InstanceState::Running,
                    time: old,
                    details: None,
                })
                .await
                .unwrap();
        }
        // An API record has no event: its creation is its last change.
        let api = common::instance("i-0000000000000000e", Vec::new());
        store.put_instance(&api).await.unwrap();

        let ids = |rows: Vec<inventory_core::query::RecordedInstance>| -> Vec<String> {
            rows.into_iter().map(|r| r.id.to_string()).collect()
        };
        let all = store
            .recorded_in_range(&account(), &region(), None, None, 100)
            .await
            .unwrap();
        assert_eq!(all[0].state, Some(InstanceState::Running));
        assert_eq!(all[0].last_change, old, "{}", db.name);
        assert_eq!(all[0].inventory_captured_at, None);
        let e = all
            .iter()
            .find(|r| r.id.as_str() == "i-0000000000000000e")
            .unwrap();
        assert!(e.last_change > old && e.state.is_none(), "{}", db.name);
        assert_eq!(
            ids(all),
            [
                "i-0000000000000000a",
                "i-0000000000000000c",
                "i-0000000000000000d",
                "i-0000000000000000e",
                "mi-0000000000000000a"
            ],
            "{}",
            db.name
        );
        let stretch = store
            .recorded_in_range(
                &account(),
                &region(),
                Some("i-0000000000000000a"),
                Some("i-0000000000000000d"),
                100,
            )
            .await
            .unwrap();
        assert_eq!(
            ids(stretch),
            ["i-0000000000000000c", "i-0000000000000000d"],
            "{}: after is exclusive, upto inclusive",
            db.name
        );
        let limited = store
            .recorded_in_range(&account(), &region(), Some("i-0000000000000000c"), None, 2)
            .await
            .unwrap();
        assert_eq!(
            ids(limited),
            ["i-0000000000000000d", "i-0000000000000000e"],
            "{}",
            db.name
        );
        let one = store
            .recorded_instance(&InstanceId::parse("i-0000000000000000b").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(one.last_change, old);
        assert!(store
            .recorded_instance(&InstanceId::parse("i-0ffffffffffffffff").unwrap())
            .await
            .unwrap()
            .is_none());
        db.finish().await;
    }
}
