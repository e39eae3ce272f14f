//! Store: the cost and atomicity of instance writes, on every backend.

use crate::common;

use inventory_core::model::{InstanceId, Package, PackageSet};
use inventory_core::store::Dialect;

#[tokio::test]
async fn ten_thousand_packages_cost_the_same_calls_as_one() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let store = db.fresh_store();
        let mut costs = Vec::new();
        for (id, n) in [("i-one", 1), ("i-many", 10_000)] {
            let i = common::instance(id, common::packages(n));
            let before = store.data_api_calls();
            store
                .put_instance(&i)
                .await
                .unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
            let write = store.data_api_calls() - before;

            let before = store.data_api_calls();
            let rec = store.get_instance(&i.id).await.unwrap().unwrap();
            let read = store.data_api_calls() - before;
            assert_eq!(rec.instance.packages, i.packages, "{ctx}: {n} packages");

            // Replacing the same set costs the same again.
            let before = store.data_api_calls();
            assert!(!store.put_instance(&i).await.unwrap());
            let rewrite = store.data_api_calls() - before;
            println!("{ctx}: {n} packages: write {write} calls, read {read}, rewrite {rewrite}");
            costs.push((write, read, rewrite));
        }
        assert_eq!(costs[0], costs[1], "{ctx}: calls must not depend on N");
        assert_eq!(costs[0].1, 1, "{ctx}: a read is one call");
        // PostgreSQL, MySQL: one call of a routine. SQLite: begin, the
        // state's history, ec2 row, packages, their history, (unlink when
        // replacing,) links, commit.
        let expected = if db.dialect == Dialect::Sqlite {
            (7, 8)
        } else {
            (1, 1)
        };
        assert_eq!((costs[0].0, costs[0].2), expected, "{ctx}: write calls");
    })
    .await;
}

#[tokio::test]
async fn concurrent_writers_with_shared_packages_lose_nothing() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let pool = common::packages(300);
        let mut tasks = Vec::new();
        for k in 0..8usize {
            let store = db.store.clone();
            let pool = pool.clone();
            tasks.push(tokio::spawn(async move {
                let id = format!("i-writer-{k}");
                let mut last = Vec::new();
                for round in 0..3usize {
                    // Overlapping windows, in different orders per writer.
                    let start = (k * 17 + round * 31) % 150;
                    let mut set: Vec<Package> = pool[start..start + 150].to_vec();
                    if k % 2 == 1 {
                        set.reverse();
                    }
                    store
                        .put_instance(&common::instance(&id, set.clone()))
                        .await?;
                    last = set;
                }
                last.sort();
                Ok::<_, inventory_core::store::StoreError>((id, last))
            }));
        }
        for task in tasks {
            let (id, expected) = task
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("{ctx}: writer failed: {e:?}"));
            let rec = db
                .store
                .get_instance(&InstanceId::parse(&id).unwrap())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(rec.instance.packages, expected, "{ctx}: {id}");
        }
        assert_eq!(
            db.count("SELECT COUNT(*) FROM ec2_package").await,
            8 * 150,
            "{ctx}"
        );
    })
    .await;
}

/// A trigger that fails any link to a package named `boom`: the write fails
/// after the instance row and the packages were written in its statement or
/// transaction.
async fn install_failing_trigger(db: &common::TestDb) {
    match db.dialect {
        Dialect::Sqlite => {
            db.sql(
                "CREATE TRIGGER boom BEFORE INSERT ON ec2_package \
                 WHEN (SELECT name FROM package WHERE id = NEW.package_id) = 'boom' \
                 BEGIN SELECT RAISE(ABORT, 'boom'); END",
            )
            .await;
        }
        Dialect::Postgres => {
            db.sql(
                "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF (SELECT name FROM package WHERE id = NEW.package_id) = 'boom' THEN \
                 RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$",
            )
            .await;
            db.sql(
                "CREATE TRIGGER boom BEFORE INSERT ON ec2_package \
                 FOR EACH ROW EXECUTE FUNCTION boom()",
            )
            .await;
        }
        Dialect::Mysql => {
            db.sql(
                "CREATE TRIGGER boom BEFORE INSERT ON ec2_package FOR EACH ROW BEGIN \
                 IF (SELECT name FROM package WHERE id = NEW.package_id) = 'boom' THEN \
                 SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'boom'; END IF; END",
            )
            .await;
        }
    }
}

#[tokio::test]
async fn a_write_failing_midway_leaves_nothing_half_written() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        install_failing_trigger(db).await;
        let kept = common::instance("i-kept", vec![Package::new("old", "1")]);
        db.store.create_instance(&kept).await.unwrap();

        // A new instance: neither the row nor its new packages may remain.
        let new = common::instance(
            "i-atomic",
            vec![
                Package::new("fresh-a", "1"),
                Package::new("boom", "1"),
                Package::new("fresh-z", "1"),
            ],
        );
        let err = db.store.create_instance(&new).await.unwrap_err();
        assert!(!err.is_retryable(), "{ctx}: {err}");
        assert_eq!(db.store.get_instance(&new.id).await.unwrap(), None, "{ctx}");
        assert_eq!(
            db.count("SELECT COUNT(*) FROM package WHERE name LIKE 'fresh%' OR name = 'boom'")
                .await,
            0,
            "{ctx}"
        );

        // A replacement: the instance keeps its old packages and fields.
        let mut replacement = kept.clone();
        replacement.packages = vec![Package::new("boom", "1")];
        replacement.region = "eu-west-1".parse().unwrap();
        assert!(db.store.put_instance(&replacement).await.is_err(), "{ctx}");
        let rec = db.record(&kept.id).await;
        assert_eq!(rec.instance, kept, "{ctx}");

        // So does a package replacement from an event.
        let replaced = db
            .store
            .replace_packages(
                &kept.id,
                PackageSet::new(
                    &replacement.packages,
                    inventory_core::version::VersionScheme::Natural,
                ),
                chrono::Utc::now(),
                inventory_core::model::Source::Event,
            )
            .await;
        assert!(replaced.is_err(), "{ctx}");
        assert_eq!(db.record(&kept.id).await, rec, "{ctx}");
    })
    .await;
}

/// The history's changes of one kind.
async fn history_count(db: &common::TestDb, kind: &str) -> i64 {
    db.count(&format!(
        "SELECT COUNT(*) FROM ec2_history WHERE kind = '{kind}'"
    ))
    .await
}

/// Packages at the model's length limits: the package JSON outgrows one
/// request (6,000 of them take about 6 MB; so the write goes in chunks
/// inside one transaction) and the read outgrows one response (so it falls
/// back to paged reads).
#[tokio::test]
async fn oversized_package_lists_are_chunked_and_paged() {
    use inventory_core::model::{
        MAX_PACKAGE_ARCHITECTURE_LEN, MAX_PACKAGE_NAME_LEN, MAX_PACKAGE_PUBLISHER_LEN,
        MAX_PACKAGE_VERSION_LEN,
    };
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let packages: Vec<Package> = (0..6_000)
            .map(|i| {
                let mut name = format!("{i:05}-");
                name.push_str(&"n".repeat(MAX_PACKAGE_NAME_LEN - name.len()));
                let mut p = Package::new(name, "v".repeat(MAX_PACKAGE_VERSION_LEN));
                p.publisher = Some("p".repeat(MAX_PACKAGE_PUBLISHER_LEN));
                p.architecture = Some("a".repeat(MAX_PACKAGE_ARCHITECTURE_LEN));
                p.source_name = Some("s".repeat(MAX_PACKAGE_NAME_LEN));
                p
            })
            .collect();
        let i = common::instance("i-huge", packages);
        let store = db.fresh_store();
        store
            .put_instance(&i)
            .await
            .unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
        let write = store.data_api_calls();
        // PostgreSQL, MySQL: begin, the routine with the first chunk, the
        // links of the second, commit. SQLite: begin, the state's history,
        // ec2 row, packages, history and links per chunk, the second
        // chunk's 2 take-backs, commit.
        let expected = if db.dialect == Dialect::Sqlite { 12 } else { 4 };
        assert_eq!(write, expected, "{ctx}: chunked write calls");
        assert_eq!(
            history_count(db, "installed").await,
            6_000,
            "{ctx}: every package installed"
        );

        let rec = store.get_instance(&i.id).await.unwrap().unwrap();
        assert_eq!(rec.instance.packages, i.packages, "{ctx}");
        // The failed single read, the instance, 25 pages of 240 and an empty one.
        assert_eq!(
            store.data_api_calls() - write,
            1 + 1 + 26,
            "{ctx}: paged read calls"
        );

        // A replacement in chunks: the first chunk's removals of packages
        // that a later chunk keeps are taken back; what changed stays. The
        // version change lands in the second chunk: a removal and an install.
        let mut replaced = i.clone();
        replaced.packages.remove(0);
        let last = replaced.packages.last_mut().unwrap();
        last.version = "w".repeat(MAX_PACKAGE_VERSION_LEN);
        let mut new = replaced.packages[0].clone();
        new.name = "zzz-new".into();
        replaced.packages.push(new);
        store.put_instance(&replaced).await.unwrap();
        assert_eq!(history_count(db, "installed").await, 6_002, "{ctx}");
        assert_eq!(history_count(db, "removed").await, 2, "{ctx}");
        assert_eq!(history_count(db, "changed").await, 0, "{ctx}");
        let rec = store.get_instance(&i.id).await.unwrap().unwrap();
        assert_eq!(rec.instance.packages.len(), 6_000, "{ctx}");
    })
    .await;
}
