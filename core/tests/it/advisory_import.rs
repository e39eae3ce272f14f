//! Importing the fixture feeds (`events/advisories/`) through `feeds::import`,
//! on every backend: what each file gives, that a re-import changes nothing,
//! that a broken file imports nothing, and the README tour's exposure: the
//! sample Debian instance is affected by the tour advisory until the next
//! day's inventory brings the fix.

use crate::common;

use std::path::{Path, PathBuf};

use inventory_core::config::SyncSettings;
use inventory_core::events::EventHandler;
use inventory_core::feeds::import::{import, FeedKind, ImportError, ImportOptions};
use inventory_core::query::VulnerabilityQuery;
use inventory_core::sources::fixtures::FixtureSources;
use serde_json::Value;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn feeds() -> Vec<PathBuf> {
    [
        "events/advisories/osv",
        "events/advisories/osv-shapes",
        "events/advisories/alas/al2023/updateinfo.xml",
        "events/advisories/debian/dists/bookworm-security/main/binary-amd64/Packages.xz",
    ]
    .into_iter()
    .map(repo)
    .collect()
}

fn event(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(repo(&format!("events/{name}"))).unwrap()).unwrap()
}

/// The advisories that affect the tour's Debian instance.
async fn tour_findings(store: &inventory_core::store::Store) -> Vec<String> {
    let id = "i-0a1b2c3d4e5f60718".parse().unwrap();
    let page = store
        .instance_vulnerabilities(&id, &VulnerabilityQuery::default())
        .await
        .unwrap();
    page.vulnerabilities
        .into_iter()
        .map(|v| {
            format!(
                "{} {} {} {}",
                v.advisory_id, v.package_name, v.package_version, v.matched_by
            )
        })
        .collect()
}

#[tokio::test]
async fn the_fixture_feeds_and_the_tour() {
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let s = &db.store;
        let launch = EventHandler::new(
            s.clone(),
            FixtureSources::new(repo("events/fixtures")),
            FixtureSources::new(repo("events/fixtures")),
            SyncSettings::default(),
        );
        launch.handle_json(event("ec2-running.json")).await.unwrap();
        let record = s
            .get_instance(&"i-0a1b2c3d4e5f60718".parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            record.os_release.as_deref(),
            Some("debian:12"),
            "{ctx}: SSM's OS"
        );

        let summary = import(s, &feeds(), &ImportOptions::default(), &|_, _| {})
            .await
            .unwrap_or_else(|e| panic!("{ctx}: {e}"));
        let kinds: Vec<FeedKind> = summary.files.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                FeedKind::Osv,
                FeedKind::Osv,
                FeedKind::Alas,
                FeedKind::PackagesIndex
            ]
        );
        assert!(
            summary.files[0].imported >= 5,
            "{ctx}: {:?}",
            summary.files[0]
        );
        assert!(
            summary.files[1].tally.skipped >= 1,
            "{ctx}: the PyPI-only record"
        );
        assert!(
            summary.files[2].tally.skipped >= 1,
            "{ctx}: the bug-fix update"
        );
        assert_eq!(summary.files[3].imported, 4, "{ctx}: four stanzas");
        assert!(summary.data_api_calls > 0);

        // openssl and libssl3 (through bookworm's map) are affected by the
        // tour advisory; Debian 11's records do not apply to Debian 12.
        let before = tour_findings(s).await;
        assert!(
            before.contains(&"TOUR-2026-0001 openssl 3.0.19-1~deb12u2 source_map".to_string()),
            "{ctx}: {before:?}"
        );
        assert!(
            before.contains(&"TOUR-2026-0001 libssl3 3.0.19-1~deb12u2 source_map".to_string()),
            "{ctx}: {before:?}"
        );
        // The same files again: everything unchanged.
        let again = import(s, &feeds()[..3], &ImportOptions::default(), &|_, _| {})
            .await
            .unwrap();
        assert!(
            again.files.iter().all(|f| f.imported == 0),
            "{ctx}: {:?}",
            again.files
        );
        assert_eq!(tour_findings(s).await, before, "{ctx}");

        // The next day's inventory has the fix: the finding is gone at once.
        let upgrade = FixtureSources::new(repo("events/fixtures/upgrade"));
        let next_day =
            EventHandler::new(s.clone(), upgrade.clone(), upgrade, SyncSettings::default());
        next_day
            .handle_json(event("ssm-inventory-upgrade.json"))
            .await
            .unwrap();
        let after = tour_findings(s).await;
        assert!(
            !after.iter().any(|f| f.starts_with("TOUR-2026-0001")),
            "{ctx}: {after:?}"
        );
    })
    .await;
}

/// A truncated zip, or a bad file among good ones, leaves nothing imported.
#[tokio::test]
async fn a_broken_file_imports_nothing() {
    let dir = std::env::temp_dir().join(format!("inventory-feeds-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    // A zip of one record, cut in half.
    let zip_path = dir.join("all.zip");
    {
        let file = std::fs::File::create(&zip_path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        zip.start_file("TOUR.json", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(
            &mut zip,
            &std::fs::read(repo("events/advisories/osv/TOUR-2026-0001.json")).unwrap(),
        )
        .unwrap();
        zip.finish().unwrap();
    }
    let bytes = std::fs::read(&zip_path).unwrap();
    std::fs::write(&zip_path, &bytes[..bytes.len() / 2]).unwrap();
    let truncated_xz = dir.join("Packages.xz");
    let xz = std::fs::read(repo(
        "events/advisories/debian/dists/bookworm-security/main/binary-amd64/Packages.xz",
    ))
    .unwrap();
    std::fs::write(&truncated_xz, &xz[..xz.len() - 20]).unwrap();
    common::on_each_backend(async |db| {
        let ctx = db.name;
        for broken in [&zip_path, &truncated_xz] {
            let paths = vec![repo("events/advisories/osv"), broken.clone()];
            let options = ImportOptions {
                release: Some("debian:12".parse().unwrap()),
            };
            match import(&db.store, &paths, &options, &|_, _| {}).await {
                Err(ImportError::Feed(e)) => assert!(
                    e.to_string().contains(&broken.display().to_string()),
                    "{ctx}: {e}"
                ),
                other => panic!("{ctx}: {other:?}"),
            }
            assert_eq!(
                db.count("SELECT COUNT(*) FROM advisory").await,
                0,
                "{ctx}: the good file before it was rolled back too"
            );
        }
        let unknown = vec![repo("events/advisories/README.md")];
        assert!(matches!(
            import(&db.store, &unknown, &ImportOptions::default(), &|_, _| {}).await,
            Err(ImportError::UnknownKind(_))
        ));
    })
    .await;
    std::fs::remove_dir_all(&dir).unwrap();
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}
