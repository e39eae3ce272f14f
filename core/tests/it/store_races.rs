//! Store: many writers of ONE instance at once. Whatever the interleaving,
//! the instance ends up holding exactly one complete written package set,
//! with that writer's fields: nothing of a losing writer survives. Every
//! writer goes through the real SDK client and the local Data API.

use crate::common;

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use inventory_core::model::{
    distinct_packages, Instance, InstanceId, Package, PackageSet, Source, StateChange,
};
use inventory_core::store::{Store, StoreError};
use inventory_core::version::VersionScheme;

const WRITERS: usize = 16;
const ROUNDS: usize = 3;

/// The set writer `k` writes in `round`: 200 shared packages (some with the
/// shared versions, some bumped), plus 40 of its own, so any two sets overlap
/// a lot and differ somewhere.
fn set_of(k: usize, round: usize) -> Vec<Package> {
    let mut set: Vec<Package> = (0..200)
        .map(|i| {
            let bumped = (i + k + round).is_multiple_of(5);
            Package::new(format!("shared-{i:03}"), if bumped { "2.0" } else { "1.0" })
        })
        .collect();
    set.extend((0..40).map(|i| Package::new(format!("own-{k:02}-{round}-{i:02}"), "1")));
    // Writers send in different orders; the store must not care.
    if k % 2 == 1 {
        set.reverse();
    }
    set
}

/// The writer of an account: `00000000000k`.
fn account_of(k: usize) -> String {
    format!("{k:012}")
}

fn put_body(id: &str, k: usize, round: usize) -> Instance {
    let mut i = common::instance(id, set_of(k, round));
    i.account = account_of(k).parse().unwrap();
    i
}

/// A written set as the store returns it: distinct and sorted.
fn stored_form(set: &[Package]) -> Vec<Package> {
    distinct_packages(set)
}

/// Checks that `id` holds exactly one of `candidates` (account, packages)
/// and that its links are exactly that set.
async fn assert_one_written_set(
    db: &common::TestDb,
    id: &InstanceId,
    candidates: &[(Option<String>, Vec<Package>)],
    what: &str,
) {
    let ctx = db.name;
    let rec = db.record(id).await;
    let got = &rec.instance.packages;
    let winner = candidates.iter().find(|(_, set)| set == got);
    let Some((account, set)) = winner else {
        let written: BTreeSet<&Package> = candidates.iter().flat_map(|(_, s)| s).collect();
        let foreign = got.iter().filter(|p| !written.contains(p)).count();
        panic!(
            "{ctx}: {what}: {id} holds {} packages, none of the {} written sets \
             ({foreign} never written at all)",
            got.len(),
            candidates.len()
        );
    };
    if let Some(account) = account {
        assert_eq!(
            rec.instance.account.as_str(),
            account,
            "{ctx}: {what}: the packages of one writer with the account of another"
        );
    }
    let links = db
        .count(&format!(
            "SELECT COUNT(*) FROM ec2_package WHERE ec2_id = '{}'",
            id.as_str()
        ))
        .await;
    assert_eq!(links, set.len() as i64, "{ctx}: {what}: links of {id}");
}

fn ok<T>(ctx: &str, what: &str, result: Result<T, StoreError>) -> T {
    result.unwrap_or_else(|e| panic!("{ctx}: {what}: a writer saw an error: {e:?}"))
}

#[tokio::test]
async fn sixteen_writers_of_one_instance_leave_exactly_one_written_set() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let id = "i-contended";
        let mut tasks = Vec::new();
        for k in 0..WRITERS {
            let store = db.store.clone();
            tasks.push(tokio::spawn(async move {
                for round in 0..ROUNDS {
                    store.put_instance(&put_body(id, k, round)).await?;
                }
                Ok::<_, StoreError>(())
            }));
        }
        for task in tasks {
            ok(ctx, "PUT", task.await.unwrap());
        }
        let candidates: Vec<(Option<String>, Vec<Package>)> = (0..WRITERS)
            .flat_map(|k| (0..ROUNDS).map(move |r| (k, r)))
            .map(|(k, r)| (Some(account_of(k)), stored_form(&set_of(k, r))))
            .collect();
        let id = InstanceId::parse(id).unwrap();
        assert_one_written_set(db, &id, &candidates, "16 PUT writers").await;
    })
    .await;
}

/// PUTs race package replacements from events (each with a newer capture
/// than the last): the result is one PUT's set with its account, or one
/// event's set.
#[tokio::test]
async fn put_racing_event_replaces_leaves_exactly_one_written_set() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let id = InstanceId::parse("i-mixed").unwrap();
        db.store
            .put_instance(&put_body(id.as_str(), 0, 0))
            .await
            .unwrap();
        let start = Utc::now();
        let mut tasks = Vec::new();
        for k in 0..WRITERS {
            let store: Store = db.store.clone();
            let id = id.clone();
            tasks.push(tokio::spawn(async move {
                for round in 0..ROUNDS {
                    if k % 2 == 0 {
                        store.put_instance(&put_body(id.as_str(), k, round)).await?;
                    } else {
                        // Captures around "now": some newer than a PUT's, some older.
                        let captured =
                            start + Duration::milliseconds((k * 37 + round * 101) as i64);
                        store
                            .replace_packages(
                                &id,
                                PackageSet::new(&set_of(k, round), VersionScheme::Natural),
                                captured,
                                Source::Event,
                            )
                            .await?;
                    }
                }
                Ok::<_, StoreError>(())
            }));
        }
        for task in tasks {
            ok(ctx, "PUT / replace", task.await.unwrap());
        }
        let mut candidates = vec![(Some(account_of(0)), stored_form(&set_of(0, 0)))];
        for k in 0..WRITERS {
            for r in 0..ROUNDS {
                let account = (k % 2 == 0).then(|| account_of(k));
                candidates.push((account, stored_form(&set_of(k, r))));
            }
        }
        assert_one_written_set(db, &id, &candidates, "PUT racing replace").await;
        let rec = db.record(&id).await;
        // An event replace carries no account: the instance keeps a PUT's.
        let put_accounts: Vec<_> = (0..WRITERS).step_by(2).map(account_of).collect();
        assert!(
            put_accounts.contains(&rec.instance.account.as_str().to_string()),
            "{ctx}: account {} was written by no PUT",
            rec.instance.account.as_str()
        );
    })
    .await;
}

/// POSTs race PUTs on fresh ids: at most one POST creates, the others are
/// told the id exists (never another error), and the instance holds one set.
#[tokio::test]
async fn post_racing_put_leaves_exactly_one_written_set() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        for round in 0..ROUNDS {
            let id = format!("i-post-put-{round}");
            let mut tasks = Vec::new();
            for k in 0..WRITERS {
                let store = db.store.clone();
                let body = put_body(&id, k, round);
                tasks.push(tokio::spawn(async move {
                    if k % 2 == 0 {
                        match store.create_instance(&body).await {
                            Ok(()) => Ok(true),
                            Err(StoreError::AlreadyExists(_)) => Ok(false),
                            Err(e) => Err(e),
                        }
                    } else {
                        store.put_instance(&body).await.map(|_| false)
                    }
                }));
            }
            let mut posts_created = 0;
            for task in tasks {
                posts_created += usize::from(ok(ctx, "POST / PUT", task.await.unwrap()));
            }
            assert!(
                posts_created <= 1,
                "{ctx}: {posts_created} POSTs created {id}"
            );
            let candidates: Vec<(Option<String>, Vec<Package>)> = (0..WRITERS)
                .map(|k| (Some(account_of(k)), stored_form(&set_of(k, round))))
                .collect();
            let id = InstanceId::parse(&id).unwrap();
            assert_one_written_set(db, &id, &candidates, "POST racing PUT").await;
        }
    })
    .await;
}

/// `running` events with their packages race PUTs: one writer's set wins.
#[tokio::test]
async fn running_events_racing_puts_leave_exactly_one_written_set() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let id = InstanceId::parse("i-launching").unwrap();
        let start = Utc::now();
        let mut tasks = Vec::new();
        for k in 0..WRITERS {
            let store = db.store.clone();
            let id = id.clone();
            tasks.push(tokio::spawn(async move {
                for round in 0..ROUNDS {
                    if k % 2 == 0 {
                        store.put_instance(&put_body(id.as_str(), k, round)).await?;
                    } else {
                        let time = start + Duration::milliseconds((k * 37 + round * 101) as i64);
                        let change = StateChange {
                            id: id.clone(),
                            account: account_of(k).parse().unwrap(),
                            region: "us-east-1".parse().unwrap(),
                            state: inventory_core::model::InstanceState::Running,
                            time,
                            details: None,
                        };
                        store
                            .apply_state_with_packages(
                                &change,
                                PackageSet::new(&set_of(k, round), VersionScheme::Natural),
                                time,
                            )
                            .await?;
                    }
                }
                Ok::<_, StoreError>(())
            }));
        }
        for task in tasks {
            ok(ctx, "PUT / running", task.await.unwrap());
        }
        // A newer state may apply without its packages (their capture is
        // older than a PUT's), and it brings its own account: only the
        // package set is one writer's here.
        let candidates: Vec<(Option<String>, Vec<Package>)> = (0..WRITERS)
            .flat_map(|k| (0..ROUNDS).map(move |r| (None, stored_form(&set_of(k, r)))))
            .collect();
        assert_one_written_set(db, &id, &candidates, "PUT racing running events").await;
    })
    .await;
}

/// Deletes race PUTs and package replacements of the same instance:
/// whatever the order they commit in, no package link outlives its
/// instance (PostgreSQL removes a deleted instance's links with a trigger
/// of its own, not with a foreign key; see ddl/postgres/006_link_keys.sql).
#[tokio::test]
async fn deletes_racing_writes_leave_no_link_without_its_instance() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let id = InstanceId::parse("i-deleted").unwrap();
        let base = Utc::now();
        let mut tasks = Vec::new();
        for k in 0..4usize {
            let (store, id) = (db.fresh_store(), id.clone());
            tasks.push(tokio::spawn(async move {
                for round in 0..8 {
                    match k {
                        0 => {
                            store.delete_instance(&id).await?;
                        }
                        1 => {
                            let captured = base + Duration::seconds(round as i64);
                            let set = set_of(k, round);
                            store
                                .replace_packages(
                                    &id,
                                    PackageSet::new(&set, VersionScheme::Natural),
                                    captured,
                                    Source::Sync,
                                )
                                .await?;
                        }
                        _ => {
                            store.put_instance(&put_body(id.as_str(), k, round)).await?;
                        }
                    }
                }
                Ok::<_, StoreError>(())
            }));
        }
        for task in tasks {
            ok(ctx, "write or delete", task.await.unwrap());
        }
        let orphans = db
            .count(
                "SELECT COUNT(*) FROM ec2_package ep \
                 WHERE NOT EXISTS (SELECT 1 FROM ec2 e WHERE e.id = ep.ec2_id)",
            )
            .await;
        assert_eq!(orphans, 0, "{ctx}: links without their instance");
        // Deleting what is left leaves no link at all.
        db.store.delete_instance(&id).await.unwrap();
        assert_eq!(
            db.count("SELECT COUNT(*) FROM ec2_package").await,
            0,
            "{ctx}"
        );
    })
    .await;
}

/// The narrow case of the race above, set up step by step on PostgreSQL: a
/// writer finds no row and inserts one, but meets a row another writer
/// committed meanwhile, and a delete removes that row before the writer
/// locks it. `ON CONFLICT DO NOTHING` locks nothing, so the writer used to
/// go on without any row lock and link an instance that no longer existed.
/// A trigger that sleeps on this writer's insert (its account) holds the
/// window open; the delete's transaction locks the row before the writer
/// meets it and deletes it once the writer waits for that lock.
#[tokio::test]
async fn a_writer_whose_row_is_deleted_before_it_locks_it_inserts_it_anew() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let id = InstanceId::parse("i-come-and-gone").unwrap();
    let slow = 99;
    db.sql(&format!(
        "CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF NEW.account = '{}' THEN PERFORM pg_sleep(2); END IF; RETURN NEW; END $$",
        account_of(slow)
    ))
    .await;
    db.sql(
        "CREATE TRIGGER slow_insert BEFORE INSERT ON ec2 \
         FOR EACH ROW EXECUTE FUNCTION slow_insert()",
    )
    .await;
    let writer = {
        let (store, body) = (db.fresh_store(), put_body(id.as_str(), slow, 0));
        tokio::spawn(async move { store.put_instance(&body).await })
    };
    // The writer found no row and sleeps in its insert: another writer's
    // row goes in, and a transaction locks it.
    let slow_backend = backend_where(&db, "wait_event = 'PgSleep'").await;
    db.store
        .put_instance(&put_body(id.as_str(), 1, 0))
        .await
        .unwrap();
    let deleter = db
        .client
        .begin_transaction()
        .resource_arn(&db.target.resource_arn)
        .secret_arn(&db.target.secret_arn)
        .send()
        .await
        .unwrap();
    let in_deleter = |sql: &str| {
        db.client
            .execute_statement()
            .resource_arn(&db.target.resource_arn)
            .secret_arn(&db.target.secret_arn)
            .transaction_id(deleter.transaction_id().unwrap())
            .sql(sql.to_string())
            .send()
    };
    in_deleter(&format!("SELECT id FROM ec2 WHERE id = '{id}' FOR UPDATE"))
        .await
        .unwrap();
    // The writer wakes, meets the locked row and waits for its lock.
    let waiting = format!("pid = {slow_backend} AND wait_event_type = 'Lock'");
    backend_where(&db, &waiting).await;
    assert!(
        !writer.is_finished(),
        "the writer did not wait for the row's lock"
    );
    in_deleter(&format!("DELETE FROM ec2 WHERE id = '{id}'"))
        .await
        .unwrap();
    db.client
        .commit_transaction()
        .resource_arn(&db.target.resource_arn)
        .secret_arn(&db.target.secret_arn)
        .transaction_id(deleter.transaction_id().unwrap())
        .send()
        .await
        .unwrap();
    let written = writer.await.unwrap().expect("the slow writer's put");
    let orphans = db
        .count(
            "SELECT COUNT(*) FROM ec2_package ep \
             WHERE NOT EXISTS (SELECT 1 FROM ec2 e WHERE e.id = ep.ec2_id)",
        )
        .await;
    assert_eq!(
        orphans, 0,
        "links without their instance (the writer answered {written:?})"
    );
    let candidates = [(Some(account_of(slow)), stored_form(&set_of(slow, 0)))];
    assert_one_written_set(&db, &id, &candidates, "the slow writer").await;
    db.finish().await;
}

/// The process id of a PostgreSQL backend that matches `condition` (a
/// clause over `pg_stat_activity`), waiting at most 10 seconds for one.
async fn backend_where(db: &common::TestDb, condition: &str) -> i64 {
    let sql = format!("SELECT COALESCE(MAX(pid), 0) FROM pg_stat_activity WHERE {condition}");
    for _ in 0..200 {
        let pid = db.count(&sql).await;
        if pid > 0 {
            return pid;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no PostgreSQL backend where {condition}");
}
