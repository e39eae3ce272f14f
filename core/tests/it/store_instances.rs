//! Store: instance writes and reads on every backend (see `common`).

use crate::common;

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use inventory_core::model::{InstanceDetails, InstanceId, InstanceState, Package, Source};
use inventory_core::store::{Dialect, StoreError, SCHEMA_VERSION};

fn id(s: &str) -> InstanceId {
    InstanceId::parse(s).unwrap()
}

#[tokio::test]
async fn every_field_round_trips() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let mut i = common::instance("i-0123456789abcdef0", vec![]);
        i.state = Some(InstanceState::Running);
        i.details = InstanceDetails {
            instance_type: Some("t3.micro".into()),
            image_id: Some("ami-0abcdef1234567890".into()),
            platform: Some("Linux/UNIX".into()),
            launch_time: Some(
                Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 58).unwrap()
                    + chrono::Duration::microseconds(123_456),
            ),
            tags: BTreeMap::from([
                ("Name".to_string(), "web \"1\" ünïcode ✓".to_string()),
                ("env".to_string(), String::new()),
            ]),
        };
        let mut full = Package::new("openssl", "3.0.2-0ubuntu1.10");
        full.publisher = Some("Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>".into());
        full.architecture = Some("amd64".into());
        i.packages = vec![full, Package::new("zlib", ""), Package::new("bash", "5.1")];

        let before = Utc::now() - chrono::Duration::seconds(1);
        db.store
            .create_instance(&i)
            .await
            .unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
        let rec = db.record(&i.id).await;

        let mut expected = i.clone();
        expected.packages.sort();
        assert_eq!(rec.instance, expected, "{ctx}");
        assert!(rec.created >= before && rec.created <= Utc::now(), "{ctx}");
        assert_eq!(rec.updated, rec.created, "{ctx}");
        assert_eq!(rec.inventory_captured_at, Some(rec.created), "{ctx}");
        assert_eq!(rec.terminated, None, "{ctx}");
        assert_eq!(rec.last_event_time, None, "{ctx}");
        assert_eq!(
            db.store.get_instance(&id("i-unknown")).await.unwrap(),
            None,
            "{ctx}"
        );
    })
    .await;
}

#[tokio::test]
async fn create_twice_is_already_exists_and_changes_nothing() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let first = common::instance("i-dup", common::packages(3));
        db.store.create_instance(&first).await.unwrap();
        let second = common::instance("i-dup", common::packages(5));
        match db.store.create_instance(&second).await {
            Err(StoreError::AlreadyExists(got)) => assert_eq!(got, first.id, "{ctx}"),
            other => panic!("{ctx}: expected AlreadyExists, got {other:?}"),
        }
        let rec = db.record(&first.id).await;
        assert_eq!(rec.instance.packages.len(), 3, "{ctx}");
    })
    .await;
}

#[tokio::test]
async fn put_creates_then_replaces_packages() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let mut i = common::instance("i-put", common::packages(4));
        i.state = Some(InstanceState::Terminated);
        assert!(db.store.put_instance(&i).await.unwrap(), "{ctx}: created");
        let first = db.record(&i.id).await;
        assert!(first.terminated.is_some(), "{ctx}");

        i.packages = vec![common::packages(4)[3].clone(), Package::new("new", "2")];
        i.state = Some(InstanceState::Running);
        i.source = Source::Sync;
        assert!(!db.store.put_instance(&i).await.unwrap(), "{ctx}: replaced");
        let rec = db.record(&i.id).await;
        let mut expected = i.packages.clone();
        expected.sort();
        assert_eq!(rec.instance.packages, expected, "{ctx}");
        assert_eq!(rec.instance.source, Source::Sync, "{ctx}");
        assert_eq!(rec.created, first.created, "{ctx}");
        assert!(rec.updated > first.updated, "{ctx}");
        assert_eq!(rec.terminated, None, "{ctx}: no longer terminated");
        // The replaced links are gone; the packages themselves stay shared.
        assert_eq!(
            db.count("SELECT COUNT(*) FROM ec2_package").await,
            2,
            "{ctx}"
        );

        i.packages.clear();
        assert!(!db.store.put_instance(&i).await.unwrap());
        let rec = db.record(&i.id).await;
        assert!(rec.instance.packages.is_empty(), "{ctx}");
    })
    .await;
}

#[tokio::test]
async fn duplicate_and_unicode_packages() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let mut with_publisher = Package::new("libé", "1.0");
        with_publisher.publisher = Some("first".into());
        let mut later = with_publisher.clone();
        later.publisher = Some("second".into());
        let packages = vec![
            with_publisher,
            Package::new("日本語パッケージ", "版本-1"),
            later,
            Package::new("emoji 🦀", "∞"),
            Package::new("OpenSSL", "1"),
            Package::new("openssl", "1"),
            Package::new("trailing", "1.0"),
            Package::new("trailing", "1.0 "),
            Package::new("quote'\"\\", "$1:2;"),
            Package::new("日本語パッケージ", "版本-1"),
        ];
        let i = common::instance("i-unicode", packages);
        db.store
            .create_instance(&i)
            .await
            .unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
        let rec = db.record(&i.id).await;
        let names: Vec<(&str, &str)> = rec
            .instance
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("OpenSSL", "1"),
                ("emoji 🦀", "∞"),
                ("libé", "1.0"),
                ("openssl", "1"),
                ("quote'\"\\", "$1:2;"),
                ("trailing", "1.0"),
                ("trailing", "1.0 "),
                ("日本語パッケージ", "版本-1"),
            ],
            "{ctx}"
        );
        // Duplicates in one request: the first publisher seen wins.
        assert_eq!(
            rec.instance.packages[2].publisher.as_deref(),
            Some("first"),
            "{ctx}"
        );
    })
    .await;
}

/// Packages are shared rows: a later write that brings a stored package's
/// publisher, architecture or source fills them in for every instance
/// listing it, whichever place in the list it has, and a write without them
/// keeps them. MySQL's lookup compares the stored rows only when the list
/// brings such a field: the fields here come only after a package without.
#[tokio::test]
async fn a_later_write_fills_in_what_a_package_lacked() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let bare = || vec![Package::new("a", "1"), Package::new("b", "1")];
        let with_fields = |publisher: &str| {
            let mut b = Package::new("b", "1");
            b.publisher = Some(publisher.into());
            b.architecture = Some("amd64".into());
            b.source_name = Some("b-src".into());
            vec![Package::new("a", "1"), b]
        };
        let fields = |rec: &inventory_core::model::InstanceRecord| {
            rec.instance
                .packages
                .iter()
                .map(|p| {
                    (
                        p.name.clone(),
                        p.publisher.clone(),
                        p.architecture.clone(),
                        p.source_name.clone(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let some = |s: &str| Some(s.to_string());
        for (instance, packages) in [
            ("i-bare", bare()),
            ("i-first", with_fields("first")),
            ("i-again", bare()),
        ] {
            let i = common::instance(instance, packages);
            db.store
                .put_instance(&i)
                .await
                .unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
        }
        let filled = vec![
            ("a".to_string(), None, None, None),
            ("b".to_string(), some("first"), some("amd64"), some("b-src")),
        ];
        assert_eq!(fields(&db.record(&id("i-bare")).await), filled, "{ctx}");
        assert_eq!(fields(&db.record(&id("i-again")).await), filled, "{ctx}");

        let i = common::instance("i-second", with_fields("second"));
        db.store.put_instance(&i).await.unwrap();
        assert_eq!(
            fields(&db.record(&id("i-bare")).await)[1].1,
            some("second"),
            "{ctx}: a changed publisher replaces the stored one"
        );
    })
    .await;
}

/// A first write of a new instance takes its quickest path only when its
/// list brings no field to compare: each field alone, on a package stored
/// without it, must still fill it in.
#[tokio::test]
async fn a_first_write_bringing_one_field_fills_it_in() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let bare = common::instance("i-bare", common::packages(3));
        db.store.put_instance(&bare).await.unwrap();
        let mut only_publisher = common::packages(3);
        only_publisher[0].publisher = Some("pub".into());
        let mut only_architecture = common::packages(3);
        only_architecture[1].architecture = Some("arm64".into());
        let mut only_source = common::packages(3);
        only_source[2].source_name = Some("src".into());
        for (instance, packages) in [
            ("i-publisher", only_publisher),
            ("i-architecture", only_architecture),
            ("i-source", only_source),
        ] {
            let i = common::instance(instance, packages);
            db.store
                .put_instance(&i)
                .await
                .unwrap_or_else(|e| panic!("{ctx}: {instance}: {e:?}"));
        }
        let stored: Vec<_> = db
            .record(&id("i-bare"))
            .await
            .instance
            .packages
            .into_iter()
            .map(|p| (p.publisher, p.architecture, p.source_name))
            .collect();
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            stored,
            [
                (some("pub"), None, None),
                (None, some("arm64"), None),
                (None, None, some("src")),
            ],
            "{ctx}"
        );
    })
    .await;
}

#[tokio::test]
async fn delete_cascades_to_links() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let a = common::instance("i-a", common::packages(3));
        let b = common::instance("i-b", common::packages(2));
        db.store.create_instance(&a).await.unwrap();
        db.store.create_instance(&b).await.unwrap();
        assert!(db.store.delete_instance(&a.id).await.unwrap(), "{ctx}");
        assert!(!db.store.delete_instance(&a.id).await.unwrap(), "{ctx}");
        assert_eq!(db.store.get_instance(&a.id).await.unwrap(), None, "{ctx}");
        assert_eq!(
            db.count("SELECT COUNT(*) FROM ec2_package").await,
            2,
            "{ctx}"
        );
        assert_eq!(db.record(&b.id).await.instance.packages.len(), 2, "{ctx}");
    })
    .await;
}

#[tokio::test]
async fn invalid_packages_are_rejected_before_any_call() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let i = common::instance("i-bad", vec![Package::new("", "1")]);
        let calls = db.store.data_api_calls();
        match db.store.put_instance(&i).await {
            Err(StoreError::Invalid(e)) => assert_eq!(e.field, "packages[0].package_name"),
            other => panic!("{ctx}: {other:?}"),
        }
        assert_eq!(db.store.data_api_calls(), calls, "{ctx}");
    })
    .await;
}

#[tokio::test]
async fn migrate_again_is_a_no_op() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        db.store
            .create_instance(&common::instance("i-kept", common::packages(1)))
            .await
            .unwrap();
        let m = db
            .store
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
        assert_eq!(
            (m.from, m.to),
            (
                inventory_core::store::SCHEMA_VERSION,
                inventory_core::store::SCHEMA_VERSION
            )
        );
        // One row per schema version applied, none twice, up to this
        // build's (the numbers may have gaps: a reserved one).
        assert_eq!(
            db.count("SELECT COUNT(*) - COUNT(DISTINCT version) FROM schema_version")
                .await,
            0,
            "{ctx}"
        );
        assert_eq!(
            db.count("SELECT MAX(version) FROM schema_version").await,
            i64::from(inventory_core::store::SCHEMA_VERSION),
            "{ctx}"
        );
        assert!(db
            .store
            .get_instance(&id("i-kept"))
            .await
            .unwrap()
            .is_some());
    })
    .await;
}

/// A database whose write routines are not this build's (an older deploy,
/// or one whose routines were dropped) gets them back from `migrate`, with
/// no new schema version; a second `migrate` only reads.
#[tokio::test]
async fn migrate_applies_changed_routines_again() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let drop = match db.store.dialect() {
            Dialect::Postgres => "DROP FUNCTION inventory_write_instance",
            Dialect::Mysql => "DROP PROCEDURE inventory_write_instance",
            // No stored routines: nothing to re-apply.
            Dialect::Sqlite => return,
        };
        db.sql(drop).await;
        db.sql("UPDATE schema_routines SET checksum = 'an older build'")
            .await;
        let i = common::instance("i-routines", common::packages(3));
        assert!(db.store.put_instance(&i).await.is_err(), "{ctx}");

        let m = db
            .store
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
        assert_eq!((m.from, m.to), (SCHEMA_VERSION, SCHEMA_VERSION), "{ctx}");
        assert!(db.store.put_instance(&i).await.unwrap(), "{ctx}");
        assert_eq!(
            db.record(&i.id).await.instance.packages,
            i.packages,
            "{ctx}"
        );

        // Now the checksum matches: the schema version, the routines' table
        // and checksum are read (and the two tables created if missing).
        let before = db.store.data_api_calls();
        db.store.migrate().await.unwrap();
        assert_eq!(db.store.data_api_calls() - before, 4, "{ctx}");
        assert_eq!(
            db.count("SELECT COUNT(*) FROM schema_routines WHERE checksum <> 'an older build'")
                .await,
            1,
            "{ctx}"
        );
    })
    .await;
}
