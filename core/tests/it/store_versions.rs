//! Store: searches by version range, in each package's own ordering (dpkg,
//! rpm, dotted, natural), on every backend, in 1 Data API call a page.

use crate::common;

use std::collections::BTreeSet;

use inventory_core::model::{InstanceState, Package};
use inventory_core::query::SearchQuery;
use inventory_core::version::{Bound, VersionRange};

/// An instance whose platform decides its packages' ordering.
async fn put(db: &common::TestDb, id: &str, platform: Option<&str>, packages: &[(&str, &str)]) {
    let mut i = common::instance(
        id,
        packages.iter().map(|(n, v)| Package::new(*n, *v)).collect(),
    );
    i.details.platform = platform.map(str::to_owned);
    i.state = Some(InstanceState::Running);
    db.store
        .put_instance(&i)
        .await
        .unwrap_or_else(|e| panic!("{}: {id}: {e:?}", db.name));
}

fn bound(version: &str, inclusive: bool) -> Option<Bound> {
    Some(Bound {
        version: version.into(),
        inclusive,
    })
}

/// The ids a range search finds, reading every page of `limit`; checks that
/// each page costs 1 call.
async fn found(
    db: &common::TestDb,
    name: &str,
    range: VersionRange,
    limit: u32,
) -> BTreeSet<String> {
    let mut q = SearchQuery {
        package_name: Some(name.into()),
        version_range: range,
        limit,
        ..SearchQuery::default()
    };
    let mut ids = BTreeSet::new();
    loop {
        let store = db.fresh_store();
        let page = store
            .search(&q)
            .await
            .unwrap_or_else(|e| panic!("{}: {q:?}: {e:?}", db.name));
        assert_eq!(store.data_api_calls(), 1, "{}: one call a page", db.name);
        for i in page.instances {
            assert!(ids.insert(i.id.to_string()), "{}: {} twice", db.name, i.id);
        }
        match page.next_token {
            Some(token) => q.next_token = Some(token),
            None => return ids,
        }
    }
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn lt(v: &str) -> VersionRange {
    VersionRange {
        upper: bound(v, false),
        lower: None,
    }
}

#[tokio::test]
async fn ranges_follow_each_ecosystems_ordering() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        // openssl as real distributions ship it.
        put(
            db,
            "i-ubuntu",
            Some("Ubuntu 22.04"),
            &[("openssl", "3.0.2-0ubuntu1.15")],
        )
        .await;
        put(
            db,
            "i-debian",
            Some("Debian GNU/Linux 12"),
            &[("openssl", "3.0.13-1~deb12u1")],
        )
        .await;
        put(
            db,
            "i-al2023",
            Some("Amazon Linux 2023"),
            &[("openssl", "1:3.0.8-1.amzn2023.0.12")],
        )
        .await;
        put(
            db,
            "i-rhel",
            Some("Red Hat Enterprise Linux"),
            &[("openssl", "3.0.7-27.el9")],
        )
        .await;
        put(db, "i-windows", Some("Windows"), &[("openssl", "3.0.9.0")]).await;
        put(db, "i-api", None, &[("openssl", "3.0.13")]).await;
        put(db, "i-none", Some("Ubuntu 22.04"), &[("curl", "7.81.0-1")]).await;

        // 3.0.9 < 3.0.13 everywhere; the epoch puts AL2023's 1:3.0.8 above;
        // Debian's 3.0.13-1~deb12u1 is above a bare 3.0.13.
        let older = set(&["i-rhel", "i-ubuntu", "i-windows"]);
        assert_eq!(
            found(db, "openssl", lt("3.0.13"), 100).await,
            older,
            "{ctx}: lt"
        );
        assert_eq!(
            found(db, "openssl", lt("3.0.13"), 1).await,
            older,
            "{ctx}: lt by pages of 1"
        );
        let le = VersionRange {
            upper: bound("3.0.13", true),
            lower: None,
        };
        let mut with_equal = older.clone();
        with_equal.insert("i-api".into());
        assert_eq!(found(db, "openssl", le, 2).await, with_equal, "{ctx}: le");
        let between = VersionRange {
            lower: bound("3.0.8", false),
            upper: bound("3.0.14", false),
        };
        assert_eq!(
            found(db, "openssl", between, 100).await,
            set(&["i-api", "i-debian", "i-windows"]),
            "{ctx}: gt and lt"
        );
        let epoch = VersionRange {
            lower: bound("1:3.0.8-1.amzn2023.0.12", true),
            upper: bound("1:3.0.9", false),
        };
        assert_eq!(
            found(db, "openssl", epoch, 100).await,
            set(&["i-al2023"]),
            "{ctx}: epoch"
        );
        // The dotted ordering ignores trailing zeros: 3.0.9.0 == 3.0.9.
        let exact = VersionRange {
            lower: bound("3.0.9", true),
            upper: bound("3.0.9", true),
        };
        assert_eq!(
            found(db, "openssl", exact, 100).await,
            set(&["i-windows"]),
            "{ctx}: ge and le"
        );
        assert!(found(db, "openssl", lt("0"), 100).await.is_empty(), "{ctx}");

        // With the other filters: a stopped instance drops out.
        let mut stopped = common::instance(
            "i-ubuntu",
            vec![Package::new("openssl", "3.0.2-0ubuntu1.15")],
        );
        stopped.details.platform = Some("Ubuntu 22.04".into());
        stopped.state = Some(InstanceState::Stopped);
        db.store.put_instance(&stopped).await.unwrap();
        let q = SearchQuery {
            package_name: Some("openssl".into()),
            version_range: lt("3.0.13"),
            state: Some(InstanceState::Running),
            ..SearchQuery::default()
        };
        let page = db.store.search(&q).await.unwrap();
        let ids: BTreeSet<String> = page.instances.iter().map(|i| i.id.to_string()).collect();
        assert_eq!(ids, set(&["i-rhel", "i-windows"]), "{ctx}: with state");
    })
    .await;
}

/// The classic traps of Debian's ordering, compared by the database.
#[tokio::test]
async fn dpkg_traps_compare_right_in_sql() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let versions = [
            ("i-t1", "1.0~rc1"),
            ("i-t2", "1.0"),
            ("i-t3", "1.0-9"),
            ("i-t4", "1.0-10"),
            ("i-t5", "1:9.9"),
            ("i-t6", "2:1.0"),
        ];
        for (id, v) in versions {
            put(db, id, Some("Debian GNU/Linux 12"), &[("tricky", v)]).await;
        }
        assert_eq!(
            found(db, "tricky", lt("1.0"), 100).await,
            set(&["i-t1"]),
            "{ctx}: 1.0~rc1 < 1.0"
        );
        let after_9 = VersionRange {
            lower: bound("1.0-9", false),
            upper: None,
        };
        assert_eq!(
            found(db, "tricky", after_9, 100).await,
            set(&["i-t4", "i-t5", "i-t6"]),
            "{ctx}: 1.0-10 > 1.0-9, epochs above"
        );
        let epoch_2 = VersionRange {
            lower: bound("1:9.9", false),
            upper: None,
        };
        assert_eq!(
            found(db, "tricky", epoch_2, 100).await,
            set(&["i-t6"]),
            "{ctx}: 2:1.0 > 1:9.9"
        );
    })
    .await;
}

/// Packages recorded before schema 4 have no sort key: a range cannot
/// find them until a write lists them again, which gives them their key.
#[tokio::test]
async fn packages_without_a_key_get_it_at_their_next_write() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        put(
            db,
            "i-old",
            Some("Ubuntu 22.04"),
            &[("zlib1g", "1:1.2.11.dfsg-2ubuntu9")],
        )
        .await;
        db.sql("UPDATE package SET version_key = NULL").await;
        let range = lt("1:1.3");
        assert!(
            found(db, "zlib1g", range.clone(), 100).await.is_empty(),
            "{ctx}"
        );
        put(
            db,
            "i-new",
            Some("Ubuntu 22.04"),
            &[("zlib1g", "1:1.2.11.dfsg-2ubuntu9")],
        )
        .await;
        assert_eq!(
            found(db, "zlib1g", range, 100).await,
            set(&["i-new", "i-old"]),
            "{ctx}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_range_needs_a_name_and_no_exact_version() {
    common::on_each_backend(async |db| {
        for q in [
            SearchQuery {
                version_range: lt("1"),
                ..SearchQuery::default()
            },
            SearchQuery {
                package_name: Some("a".into()),
                package_version: Some("1".into()),
                version_range: lt("1"),
                ..SearchQuery::default()
            },
        ] {
            let err = db.store.search(&q).await.unwrap_err();
            assert!(err.to_string().contains("version_lt"), "{}: {err}", db.name);
        }
    })
    .await;
}

/// MySQL's collation ignores trailing spaces: `openssl ` must still not
/// find `openssl`, nor a version `1.0 ` the version `1.0`.
#[tokio::test]
async fn names_and_versions_match_exactly() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        put(db, "i-exact", None, &[("openssl", "1.0")]).await;
        let search = |name: &str, version: Option<&str>| SearchQuery {
            package_name: Some(name.into()),
            package_version: version.map(str::to_owned),
            ..SearchQuery::default()
        };
        for (q, hits) in [
            (search("openssl", None), 1),
            (search("openssl ", None), 0),
            (search("openssl", Some("1.0")), 1),
            (search("openssl", Some("1.0 ")), 0),
        ] {
            let page = db.store.search(&q).await.unwrap();
            assert_eq!(page.instances.len(), hits, "{ctx}: {q:?}");
        }
    })
    .await;
}
