//! Coverage (`scope_coverage`, schema 8): what was heard from each account
//! and region, and the listing of every known scope with its instance
//! counts, through the local Data API on every backend. Each operation is
//! one call.

use crate::common;

use chrono::{DateTime, Duration, Utc};
use futures::future::join_all;
use inventory_core::model::{InstanceId, InstanceState, Scope, StateChange};
use inventory_core::query::{ScopeCoverage, ScopesQuery};
use inventory_core::store::{ScopeSyncReport, Store, StoreError, MAX_ERROR_CHARS};

fn scope(account: &str, region: &str) -> Scope {
    Scope {
        account: account.parse().unwrap(),
        region: region.parse().unwrap(),
    }
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

async fn state(store: &Store, id: &str, scope: &Scope, state: InstanceState) {
    let change = StateChange {
        id: InstanceId::parse(id).unwrap(),
        account: scope.account.clone(),
        region: scope.region.clone(),
        state,
        time: at("2026-11-24T10:00:00Z"),
        details: None,
    };
    store.apply_state(&change).await.unwrap();
}

async fn all(store: &Store) -> Vec<ScopeCoverage> {
    store.scopes(&ScopesQuery::default()).await.unwrap().scopes
}

/// One call, whatever it does.
async fn one_call<T>(store: &Store, what: impl std::future::Future<Output = T>) -> T {
    let before = store.data_api_calls();
    let out = what.await;
    assert_eq!(store.data_api_calls() - before, 1);
    out
}

#[tokio::test]
async fn scopes_list_recorded_instances_by_state_and_what_was_heard() {
    common::on_each_backend(async |db| {
        let store = &db.store;
        let (a_east, a_west, b_east) = (
            scope("111111111111", "us-east-1"),
            scope("111111111111", "eu-west-1"),
            scope("222222222222", "us-east-1"),
        );
        state(
            store,
            "i-0000000000000000a",
            &a_east,
            InstanceState::Running,
        )
        .await;
        state(
            store,
            "i-0000000000000000b",
            &a_east,
            InstanceState::Running,
        )
        .await;
        state(
            store,
            "i-0000000000000000c",
            &a_east,
            InstanceState::Terminated,
        )
        .await;
        state(
            store,
            "i-0000000000000000d",
            &b_east,
            InstanceState::Stopped,
        )
        .await;
        // Recorded by hand, without a state.
        store
            .create_instance(&common::instance("manual-1", vec![]))
            .await
            .unwrap();

        // Known from instances only: nothing watches them yet.
        let listed = one_call(store, all(store)).await;
        let names: Vec<String> = listed.iter().map(|c| c.scope.to_string()).collect();
        assert_eq!(
            names,
            [
                "111111111111:us-east-1",
                "123456789012:us-east-1",
                "222222222222:us-east-1"
            ],
            "{}",
            db.name
        );
        let a = &listed[0];
        assert_eq!(
            (
                a.instances.total,
                a.instances.running,
                a.instances.terminated,
                a.instances.unknown()
            ),
            (3, 2, 1, 0),
            "{}",
            db.name
        );
        assert_eq!(listed[1].instances.unknown(), 1, "{}", db.name);
        assert_eq!(listed[2].instances.stopped, 1, "{}", db.name);
        assert!(listed
            .iter()
            .all(|c| c.first_seen.is_none() && !c.is_silent(Utc::now())));

        // An event, then an older one (delivery is unordered): the newest stays.
        one_call(
            store,
            store.record_scope_event(&a_west, at("2026-11-24T12:00:00Z"), None),
        )
        .await
        .unwrap();
        store
            .record_scope_event(&a_west, at("2026-11-24T11:00:00Z"), None)
            .await
            .unwrap();
        // A failed event keeps its error, and counts as heard from.
        store
            .record_scope_event(
                &a_east,
                at("2026-11-24T09:00:00Z"),
                Some("SSM ListInventoryEntries failed: AccessDeniedException"),
            )
            .await
            .unwrap();
        let listed = all(store).await;
        let west = listed.iter().find(|c| c.scope == a_west).unwrap();
        assert_eq!(west.instances.total, 0, "{}", db.name);
        assert_eq!(
            west.last_event_at,
            Some(at("2026-11-24T12:00:00Z")),
            "{}",
            db.name
        );
        assert!(
            west.first_seen.is_some() && west.last_error.is_none(),
            "{}",
            db.name
        );
        let east = listed.iter().find(|c| c.scope == a_east).unwrap();
        assert!(
            east.last_error.as_deref().unwrap().contains("AccessDenied"),
            "{}",
            db.name
        );
        assert!(east.last_error_at.is_some(), "{}", db.name);
        // Silent: heard from before the threshold, not after.
        assert!(west.is_silent(at("2026-11-24T12:00:01Z")));
        assert!(!west.is_silent(at("2026-11-24T12:00:00Z")));

        // A sync run that fails keeps the last sync and records the failure...
        let failed = ScopeSyncReport {
            at: at("2026-11-24T13:00:00Z"),
            reached: false,
            pass_completed: false,
            error: Some("STS AssumeRole failed: AccessDenied".into()),
        };
        one_call(store, store.record_scope_sync(&b_east, &failed))
            .await
            .unwrap();
        let b = all(store)
            .await
            .into_iter()
            .find(|c| c.scope == b_east)
            .unwrap();
        assert_eq!(
            (b.last_sync_at, b.last_pass_at),
            (None, None),
            "{}",
            db.name
        );
        assert_eq!(
            b.last_error_at,
            Some(at("2026-11-24T13:00:00Z")),
            "{}",
            db.name
        );
        // ...one that succeeds clears it; a complete pass is dated.
        for (hour, pass_completed) in [("14", true), ("15", false)] {
            let ok = ScopeSyncReport {
                at: at(&format!("2026-11-24T{hour}:00:00Z")),
                reached: true,
                pass_completed,
                error: None,
            };
            store.record_scope_sync(&b_east, &ok).await.unwrap();
        }
        let b = all(store)
            .await
            .into_iter()
            .find(|c| c.scope == b_east)
            .unwrap();
        assert_eq!(
            b.last_sync_at,
            Some(at("2026-11-24T15:00:00Z")),
            "{}",
            db.name
        );
        assert_eq!(
            b.last_pass_at,
            Some(at("2026-11-24T14:00:00Z")),
            "{}",
            db.name
        );
        assert_eq!(
            (&b.last_error, b.last_error_at),
            (&None, None),
            "{}",
            db.name
        );
        assert_eq!(b.last_heard(), b.last_sync_at);
        // An error longer than the column is cut, not refused.
        let long = format!("{}…", "x".repeat(MAX_ERROR_CHARS + 10));
        store
            .record_scope_event(&b_east, at("2026-11-24T16:00:00Z"), Some(&long))
            .await
            .unwrap();
        let b = all(store)
            .await
            .into_iter()
            .find(|c| c.scope == b_east)
            .unwrap();
        assert_eq!(
            b.last_error.unwrap().chars().count(),
            MAX_ERROR_CHARS,
            "{}",
            db.name
        );
    })
    .await;
}

#[tokio::test]
async fn scopes_page_by_account_then_region() {
    common::on_each_backend(async |db| {
        let store = &db.store;
        let regions = ["ap-southeast-2", "eu-west-1", "us-east-1"];
        for account in ["333333333333", "111111111111"] {
            for region in regions {
                let s = scope(account, region);
                store
                    .record_scope_event(&s, Utc::now(), None)
                    .await
                    .unwrap();
            }
        }
        let mut seen = Vec::new();
        let mut query = ScopesQuery {
            limit: 4,
            next_token: None,
        };
        loop {
            let page = one_call(store, store.scopes(&query)).await.unwrap();
            seen.extend(page.scopes.iter().map(|c| c.scope.to_string()));
            match page.next_token {
                Some(token) => query.next_token = Some(token),
                None => break,
            }
        }
        let mut want = Vec::new();
        for account in ["111111111111", "333333333333"] {
            for region in regions {
                want.push(format!("{account}:{region}"));
            }
        }
        assert_eq!(seen, want, "{}", db.name);
        for bad in [
            ScopesQuery {
                limit: 0,
                next_token: None,
            },
            ScopesQuery {
                limit: 1001,
                next_token: None,
            },
        ] {
            assert!(matches!(
                store.scopes(&bad).await,
                Err(StoreError::Invalid(_))
            ));
        }
        let garbage = ScopesQuery {
            limit: 10,
            next_token: Some("not a token".into()),
        };
        assert!(matches!(
            store.scopes(&garbage).await,
            Err(StoreError::InvalidNextToken)
        ));
    })
    .await;
}

#[tokio::test]
async fn racing_events_of_one_scope_keep_the_newest() {
    common::on_each_backend(async |db| {
        let s = scope("444444444444", "us-west-2");
        let base = at("2026-11-24T10:00:00Z");
        // 16 writers on the same row, in an order that is not the times'.
        let writes = (0..16).map(|i| {
            let store = db.fresh_store();
            let s = s.clone();
            let when = base + Duration::seconds((i * 7) % 16);
            async move { store.record_scope_event(&s, when, None).await }
        });
        for result in join_all(writes).await {
            result.unwrap_or_else(|e| panic!("{}: {e}", db.name));
        }
        let c = all(&db.store)
            .await
            .into_iter()
            .find(|c| c.scope == s)
            .unwrap();
        assert_eq!(
            c.last_event_at,
            Some(base + Duration::seconds(15)),
            "{}",
            db.name
        );
    })
    .await;
}
