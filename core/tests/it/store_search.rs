//! Store: search, pagination and package versions on every backend.

use crate::common;

use chrono::Utc;
use inventory_core::model::{InstanceId, InstanceState, OsPlatform, Package, StateChange};
use inventory_core::query::{PackageVersionCount, SearchQuery};
use inventory_core::store::StoreError;
use inventory_core::version::VersionScheme;

async fn seed(db: &common::TestDb) {
    // 12 instances: i-00..i-11; even ones run openssl 3, odd ones openssl 1.1;
    // every third is in eu-west-1; i-00..i-03 are in another account.
    for n in 0..12 {
        let mut i = common::instance(&format!("i-{n:02}"), vec![]);
        let version = if n % 2 == 0 { "3.0.2" } else { "1.1.1" };
        i.packages = vec![
            Package::new("openssl", version),
            Package::new(format!("only-{n}"), "1"),
        ];
        if n % 3 == 0 {
            i.region = "eu-west-1".parse().unwrap();
        }
        if n < 4 {
            i.account = "111111111111".parse().unwrap();
        }
        db.store.create_instance(&i).await.unwrap();
        if n % 4 == 0 {
            let change = StateChange {
                id: i.id.clone(),
                account: i.account.clone(),
                region: i.region.clone(),
                state: InstanceState::Stopped,
                time: Utc::now(),
                details: None,
            };
            db.store.apply_state(&change).await.unwrap();
        }
    }
}

async fn ids(db: &common::TestDb, q: SearchQuery) -> Vec<String> {
    let page = db
        .store
        .search(&q)
        .await
        .unwrap_or_else(|e| panic!("{}: {q:?}: {e:?}", db.name));
    page.instances
        .into_iter()
        .map(|i| i.id.to_string())
        .collect()
}

/// The default query changed by `f`.
fn query(f: fn(&mut SearchQuery)) -> SearchQuery {
    let mut q = SearchQuery::default();
    f(&mut q);
    q
}

/// The ids of the first page of `query(f)`.
async fn ids_where(db: &common::TestDb, f: fn(&mut SearchQuery)) -> Vec<String> {
    ids(db, query(f)).await
}

#[tokio::test]
async fn filters_combine_with_and() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        seed(db).await;
        let all = ids(db, SearchQuery::default()).await;
        assert_eq!(all.len(), 12, "{ctx}");
        let openssl = ids_where(db, |q| q.package_name = Some("openssl".into())).await;
        assert_eq!(openssl.len(), 12, "{ctx}");
        let old_in_eu = ids_where(db, |q| {
            q.package_name = Some("openssl".into());
            q.package_version = Some("1.1.1".into());
            q.region = Some("eu-west-1".parse().unwrap());
        });
        assert_eq!(old_in_eu.await, vec!["i-03", "i-09"], "{ctx}");
        let stopped_in_account = ids_where(db, |q| {
            q.account = Some("111111111111".parse().unwrap());
            q.state = Some(InstanceState::Stopped);
        });
        assert_eq!(stopped_in_account.await, vec!["i-00"], "{ctx}");
        assert_eq!(
            ids_where(db, |q| q.package_name = Some("only-7".into())).await,
            vec!["i-07"]
        );
        assert!(ids_where(db, |q| q.package_name = Some("OPENSSL".into()))
            .await
            .is_empty());
        assert!(ids_where(db, |q| q.package_name = Some("open%".into()))
            .await
            .is_empty());
        let err = db
            .store
            .search(&query(|q| q.package_version = Some("1".into())))
            .await;
        assert!(matches!(err, Err(StoreError::Invalid(_))), "{ctx}: {err:?}");

        let page = db
            .store
            .search(&query(|q| q.package_name = Some("only-7".into())))
            .await
            .unwrap();
        let hit = &page.instances[0];
        assert_eq!(hit.account.as_str(), "123456789012");
        assert_eq!(hit.state, None);
        assert!(hit.updated <= Utc::now());
    })
    .await;
}

#[tokio::test]
async fn pages_follow_next_token_to_the_end() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        seed(db).await;
        let mut seen = Vec::new();
        let mut q = SearchQuery {
            package_name: Some("openssl".into()),
            limit: 5,
            ..SearchQuery::default()
        };
        let mut pages = 0;
        loop {
            let page = db.store.search(&q).await.unwrap();
            pages += 1;
            seen.extend(page.instances.iter().map(|i| i.id.to_string()));
            match page.next_token {
                Some(t) => q.next_token = Some(t),
                None => break,
            }
        }
        let expected: Vec<String> = (0..12).map(|n| format!("i-{n:02}")).collect();
        assert_eq!(seen, expected, "{ctx}");
        assert_eq!(pages, 3, "{ctx}");

        // An exactly full last page has no token.
        q.limit = 12;
        q.next_token = None;
        let full = db.store.search(&q).await.unwrap();
        assert_eq!(full.next_token, None, "{ctx}");

        for bad in ["not base64!", "aGVsbG8gd29ybGQ"] {
            q.next_token = Some(bad.into());
            assert!(
                matches!(db.store.search(&q).await, Err(StoreError::InvalidNextToken)),
                "{ctx}: {bad}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn package_versions_count_instances() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        seed(db).await;
        db.store
            .delete_instance(&InstanceId::parse("i-11").unwrap())
            .await
            .unwrap();
        let versions = db.store.package_versions("openssl").await.unwrap();
        assert_eq!(
            versions,
            vec![
                PackageVersionCount {
                    version: "3.0.2".into(),
                    scheme: VersionScheme::Natural,
                    instances: 6
                },
                PackageVersionCount {
                    version: "1.1.1".into(),
                    scheme: VersionScheme::Natural,
                    instances: 5
                },
            ],
            "{ctx}"
        );
        let nothing = db.store.package_versions("nothing").await.unwrap();
        assert!(nothing.is_empty());
        // A package no instance has any more is not listed.
        let removed = db.store.package_versions("only-11").await.unwrap();
        assert!(removed.is_empty(), "{ctx}");
    })
    .await;
}

/// Versions list highest first in their own scheme's order, not as text;
/// the same version reported by a Debian instance and by one whose OS is
/// unknown is a row of each scheme, each keyed in its own order.
#[tokio::test]
async fn package_versions_are_in_version_order_per_scheme() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let versions = [
            "3.0.9-1",
            "3.0.13-1",
            "1:1.0-1",
            "3.0.13-1~rc1",
            "3.0.13-1+b1",
        ];
        for (n, version) in versions.iter().enumerate() {
            let mut i = common::instance(&format!("i-deb{n}"), vec![Package::new("lib", *version)]);
            i.os = Some(OsPlatform::parse("Debian GNU/Linux", "12").unwrap());
            db.store.put_instance(&i).await.unwrap();
        }
        let natural = common::instance("i-natural", vec![Package::new("lib", "1:1.0-1")]);
        db.store.put_instance(&natural).await.unwrap();
        let listed: Vec<(String, VersionScheme)> = db
            .store
            .package_versions("lib")
            .await
            .unwrap()
            .into_iter()
            .map(|v| (v.version, v.scheme))
            .collect();
        let dpkg = |v: &str| (v.to_string(), VersionScheme::Dpkg);
        assert_eq!(
            listed,
            vec![
                dpkg("1:1.0-1"),
                dpkg("3.0.13-1+b1"),
                dpkg("3.0.13-1"),
                dpkg("3.0.13-1~rc1"),
                dpkg("3.0.9-1"),
                ("1:1.0-1".to_string(), VersionScheme::Natural),
            ],
            "{ctx}"
        );
    })
    .await;
}
