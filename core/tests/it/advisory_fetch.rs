//! The scheduled advisory import against a stand-in of the feeds' servers
//! (`test-support/feed_server.rs`) on every backend: the first run imports
//! OSV's `all.zip` and an Amazon Linux `updateinfo.xml.gz` found through
//! `mirror.list` and `repomd.xml`; the next sends the validators back and
//! gets 304s (nothing imported); a changed file imports its new data; an
//! HTTP 500, a cut connection, a truncated zip and a zip corrupt after a
//! batch was written keep the last good data and the validators, record
//! the error and report the feed as failed.

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use inventory_core::feeds::fetch::{
    fetch, parse_feeds, FeedClient, FeedOutcome, FetchReport, FetchSettings,
};
use inventory_core::store::{FeedState, Store};
use url::Url;

#[path = "../../../test-support/feed_server.rs"]
mod feed_server;

use feed_server::{FeedServer, Served};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

const ZIP_PATH: &str = "/osv/Debian/all.zip";
const MIRROR_LIST: &str = "/alas/al2023/core/mirrors/latest/x86_64/mirror.list";
const REPOSITORY: &str = "/alas/al2023/core/guids/2f1e/x86_64/";
const UPDATEINFO: &str = "/alas/al2023/core/guids/2f1e/x86_64/repodata/9ab1-updateinfo.xml.gz";

/// A zip of `entries` (name, JSON), deflated, or stored when `stored`.
fn zip_of(entries: &[(String, Vec<u8>)], stored: bool) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if stored {
        zip::CompressionMethod::Stored
    } else {
        zip::CompressionMethod::Deflated
    };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, json) in entries {
        zip.start_file(name.as_str(), options).unwrap();
        zip.write_all(json).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// The fixture OSV records (`events/advisories/osv`).
fn fixture_records() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(repo("events/advisories/osv"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// A SYNTHETIC Debian 12 record.
fn synthetic(n: usize) -> (String, Vec<u8>) {
    let id = format!("TEST-FETCH-{n:04}");
    let json = serde_json::json!({
        "id": id,
        "modified": "2026-11-30T00:00:00Z",
        "affected": [{
            "package": {"ecosystem": "Debian:12", "name": format!("pkg-{n}")},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0-1"}]}]
        }]
    });
    (format!("{id}.json"), serde_json::to_vec(&json).unwrap())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// The stand-in's Amazon Linux 2023 repository, as the CDN lays it out.
fn serve_al2023(server: &FeedServer, base: &str) {
    server.put(MIRROR_LIST, format!("{base}{REPOSITORY}\n").into_bytes());
    let repomd = r#"<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo">
  <data type="primary"><location href="repodata/77aa-primary.xml.gz"/></data>
  <data type="updateinfo"><location href="repodata/9ab1-updateinfo.xml.gz"/></data>
</repomd>"#;
    server.put(
        &format!("{REPOSITORY}repodata/repomd.xml"),
        repomd.as_bytes().to_vec(),
    );
    let updateinfo = std::fs::read(repo("events/advisories/alas/al2023/updateinfo.xml")).unwrap();
    server.put(UPDATEINFO, gzip(&updateinfo));
}

fn settings(base: &str, work_dir: &Path) -> FetchSettings {
    FetchSettings {
        feeds: parse_feeds("osv:Debian,alas:2023").unwrap(),
        osv_base_url: Url::parse(&format!("{base}/osv/")).unwrap(),
        alas_base_url: Url::parse(&format!("{base}/alas/")).unwrap(),
        work_dir: work_dir.to_owned(),
    }
}

fn results(report: &FetchReport) -> Vec<String> {
    report
        .feeds
        .iter()
        .map(|f| {
            let what = match &f.outcome {
                FeedOutcome::NotModified => "not modified".to_owned(),
                FeedOutcome::Imported { summary, .. } => {
                    format!("imported {}", summary.imported)
                }
                FeedOutcome::Failed { .. } => "failed".to_owned(),
            };
            format!("{} {what}", f.feed)
        })
        .collect()
}

fn error_of(report: &FetchReport, feed: &str) -> String {
    match &report
        .feeds
        .iter()
        .find(|f| f.feed == feed)
        .unwrap()
        .outcome
    {
        FeedOutcome::Failed { error } => error.clone(),
        other => panic!("{feed}: {other:?}"),
    }
}

async fn state(store: &Store, feed: &str) -> FeedState {
    store
        .feed_states()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.feed == feed)
        .unwrap_or_else(|| panic!("no state for {feed}"))
}

/// Nothing of the downloads is left in the work directory.
fn assert_clean(work_dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(work_dir).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn conditional_fetches_and_failures_keep_the_last_good_data() {
    let (server, base) = FeedServer::start().await;
    let client = FeedClient::new().unwrap();
    common::on_each_backend(async |db| {
        let ctx = db.name;
        let s = &db.store;
        let work_dir = std::env::temp_dir().join(format!(
            "inventory-fetch-test-{ctx}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&work_dir).unwrap();
        let settings = settings(&base, &work_dir);
        let fixtures = fixture_records();
        server.put(ZIP_PATH, zip_of(&fixtures, false));
        serve_al2023(&server, &base);
        server.take_seen();

        // 1. The first run imports both feeds.
        let first = fetch(s, &client, &settings).await.unwrap();
        assert_eq!(
            results(&first),
            [
                format!("osv:Debian imported {}", fixtures.len()),
                "alas:2023 imported 3".to_owned()
            ],
            "{ctx}"
        );
        assert_eq!(first.failed().count(), 0);
        assert_eq!(
            first.feeds[1].url.as_deref(),
            Some(format!("{base}{UPDATEINFO}").as_str()),
            "{ctx}: the updateinfo repomd.xml names"
        );
        let advisories = db.count("SELECT COUNT(*) FROM advisory").await;
        assert_eq!(advisories, fixtures.len() as i64 + 3, "{ctx}");
        let osv = state(s, "osv:Debian").await;
        assert!(osv.etag.is_some() && osv.last_modified.is_some(), "{ctx}: {osv:?}");
        assert_eq!(osv.url.as_deref(), Some(format!("{base}{ZIP_PATH}").as_str()));
        assert!(osv.succeeded_at.is_some() && osv.error.is_none(), "{ctx}: {osv:?}");
        assert_clean(&work_dir);
        let seen = server.take_seen();
        assert!(
            seen.iter().all(|r| r.if_none_match.is_none() && r.if_modified_since.is_none()),
            "{ctx}: nothing stored yet, nothing to send back: {seen:?}"
        );

        // 2. Unchanged: both files answer 304, nothing is imported; the
        // run reads the states and records each feed's check, nothing else.
        let calls = s.data_api_calls();
        let second = fetch(s, &client, &settings).await.unwrap();
        assert_eq!(
            results(&second),
            ["osv:Debian not modified", "alas:2023 not modified"],
            "{ctx}"
        );
        assert_eq!(s.data_api_calls() - calls, 3, "{ctx}: 1 read, 2 state saves, no import");
        assert_eq!(second.data_api_calls, 3, "{ctx}");
        let seen = server.take_seen();
        let zip_request = seen.iter().find(|r| r.path == ZIP_PATH).unwrap();
        assert_eq!(zip_request.if_none_match, osv.etag, "{ctx}");
        assert_eq!(zip_request.if_modified_since, osv.last_modified, "{ctx}");
        assert_eq!(zip_request.status, 304);
        assert_eq!(seen.iter().find(|r| r.path == UPDATEINFO).unwrap().status, 304);
        assert_eq!(db.count("SELECT COUNT(*) FROM advisory").await, advisories);

        // 3. A changed zip (one more record) imports the new data only.
        let mut changed = fixtures.clone();
        changed.push(synthetic(1));
        server.put(ZIP_PATH, zip_of(&changed, false));
        let third = fetch(s, &client, &settings).await.unwrap();
        assert_eq!(
            results(&third),
            ["osv:Debian imported 1", "alas:2023 not modified"],
            "{ctx}"
        );
        let good = state(s, "osv:Debian").await;
        assert_ne!(good.etag, osv.etag, "{ctx}: the new file's validators");
        let advisories = advisories + 1;
        assert_eq!(db.count("SELECT COUNT(*) FROM advisory").await, advisories);

        // 4. Failures: each keeps the last good data and validators, records
        // its error, and the run reports the feed as failed.
        let mut big = changed.clone();
        big.extend((2..=2100).map(synthetic));
        // A zip whose last entry is corrupt: the importer has written a
        // batch of 2,000 advisories when it meets it.
        let mut corrupt = big.clone();
        corrupt.push(("ZZ-CORRUPT.json".into(), br#"{"id": "CORRUPT-ME-MARKER"}"#.to_vec()));
        let mut corrupt = zip_of(&corrupt, true);
        let at = corrupt
            .windows(10)
            .position(|w| w == b"CORRUPT-ME")
            .unwrap();
        corrupt[at] = b'X';
        let full = zip_of(&big, false);
        let failures: [(&str, Served, &str); 4] = [
            (
                "HTTP 500",
                Served::Error(StatusCode::INTERNAL_SERVER_ERROR),
                "HTTP 500",
            ),
            (
                "cut connection",
                Served::CutShort {
                    sent: full.len() / 2,
                    body: full.clone(),
                },
                ZIP_PATH,
            ),
            (
                "truncated zip",
                Served::File {
                    body: full[..full.len() - 100].to_vec(),
                    etag: "\"truncated\"".into(),
                    last_modified: "Sun, 29 Nov 2026 10:00:00 GMT".into(),
                },
                "truncated or corrupt",
            ),
            (
                "corrupt entry",
                Served::File {
                    body: corrupt,
                    etag: "\"corrupt\"".into(),
                    last_modified: "Sun, 29 Nov 2026 10:00:00 GMT".into(),
                },
                "truncated or corrupt",
            ),
        ];
        let mut calls_of = Vec::new();
        for (case, served, says) in failures {
            server.set(ZIP_PATH, served);
            let report = fetch(s, &client, &settings).await.unwrap();
            calls_of.push(report.data_api_calls);
            assert_eq!(
                results(&report),
                ["osv:Debian failed", "alas:2023 not modified"],
                "{ctx}: {case}"
            );
            assert_eq!(report.failed().count(), 1, "{ctx}: {case}");
            let error = error_of(&report, "osv:Debian");
            assert!(error.contains(says), "{ctx}: {case}: {error}");
            assert_eq!(
                db.count("SELECT COUNT(*) FROM advisory").await,
                advisories,
                "{ctx}: {case}: nothing half-imported"
            );
            let after = state(s, "osv:Debian").await;
            assert_eq!(after.error.as_deref(), Some(error.as_str()), "{ctx}: {case}");
            assert!(after.failed_at.is_some(), "{ctx}: {case}");
            assert_eq!(
                (&after.etag, &after.last_modified, &after.url, after.succeeded_at),
                (&good.etag, &good.last_modified, &good.url, good.succeeded_at),
                "{ctx}: {case}: the validators and last success stay"
            );
            assert_clean(&work_dir);
        }
        // The corrupt entry came after a batch of 2,000 advisories was
        // written in the import's transaction: more calls than a download
        // that failed before any import (read, 304, failure record: 3), all
        // rolled back (the count above).
        println!("{ctx}: Data API calls of the failed runs (500, cut, truncated, corrupt): {calls_of:?}");
        assert_eq!(calls_of[0], 3, "{ctx}");
        assert!(calls_of[3] > calls_of[2] + 2, "{ctx}: {calls_of:?}");
        // The import lock and the transaction were given back: the next
        // good file imports, and clears the error.
        server.put(ZIP_PATH, full);
        let recovered = fetch(s, &client, &settings).await.unwrap();
        assert_eq!(
            results(&recovered),
            ["osv:Debian imported 2099", "alas:2023 not modified"],
            "{ctx}"
        );
        assert_eq!(
            db.count("SELECT COUNT(*) FROM advisory").await,
            advisories + 2099
        );
        let osv = state(s, "osv:Debian").await;
        assert!(osv.error.is_none() && osv.failed_at.is_some(), "{ctx}: {osv:?}");

        // 5. Amazon Linux moves its file with a new release: the new URL is
        // fetched without the old file's validators.
        let moved = "/alas/al2023/core/guids/3c4d/x86_64/";
        server.put(MIRROR_LIST, format!("{base}{moved}\n").into_bytes());
        let repomd = std::fs::read(repo("events/advisories/alas/al2023/updateinfo.xml")).unwrap();
        server.put(
            &format!("{moved}repodata/repomd.xml"),
            br#"<repomd><data type="updateinfo"><location href="repodata/updateinfo.xml.gz"/></data></repomd>"#.to_vec(),
        );
        server.put(&format!("{moved}repodata/updateinfo.xml.gz"), gzip(&repomd));
        server.take_seen();
        let moved_run = fetch(s, &client, &settings).await.unwrap();
        assert_eq!(
            results(&moved_run),
            ["osv:Debian not modified", "alas:2023 imported 0"],
            "{ctx}: same advisories, same `modified`: unchanged"
        );
        let seen = server.take_seen();
        let request = seen
            .iter()
            .find(|r| r.path.ends_with("3c4d/x86_64/repodata/updateinfo.xml.gz"))
            .unwrap();
        assert_eq!(
            (request.if_none_match.as_deref(), request.status),
            (None, 200),
            "{ctx}"
        );

        // Back to the first state for the next backend.
        server.put(ZIP_PATH, zip_of(&fixtures, false));
        serve_al2023(&server, &base);
        std::fs::remove_dir_all(&work_dir).unwrap();
    })
    .await;
}

/// An Amazon Linux repository that fails on the way to its file (no
/// mirror, a broken repomd.xml) fails that feed only.
#[tokio::test]
async fn a_broken_repository_fails_its_feed_only() {
    let (server, base) = FeedServer::start().await;
    let client = FeedClient::new().unwrap();
    let db = common::sqlite().await;
    let work_dir =
        std::env::temp_dir().join(format!("inventory-fetch-repo-{}", std::process::id()));
    std::fs::create_dir_all(&work_dir).unwrap();
    let settings = settings(&base, &work_dir);
    server.put(ZIP_PATH, zip_of(&fixture_records(), false));
    for (mirror_list, repomd, says) in [
        ("# none\n".to_owned(), None, "no mirror listed"),
        (
            format!("{base}{REPOSITORY}\n"),
            Some("<repomd><data type=\"primary\"/></repomd>"),
            "no updateinfo",
        ),
        (
            format!("{base}{REPOSITORY}\n"),
            Some("<repomd><data type=\"updateinfo\"></repomd>"),
            "malformed repomd.xml",
        ),
        // A mirror that is not HTTPS (nor this machine) is not followed.
        (
            "http://mirror.example.com/al2023/\n".to_owned(),
            None,
            "only https",
        ),
    ] {
        server.put(MIRROR_LIST, mirror_list.into_bytes());
        if let Some(repomd) = repomd {
            server.put(&format!("{REPOSITORY}repodata/repomd.xml"), repomd.into());
        }
        let report = fetch(&db.store, &client, &settings).await.unwrap();
        assert_eq!(report.failed().count(), 1, "{says}");
        let error = error_of(&report, "alas:2023");
        assert!(error.contains(says), "{says}: {error}");
        assert!(!matches!(
            report.feeds[0].outcome,
            FeedOutcome::Failed { .. }
        ));
    }
    std::fs::remove_dir_all(&work_dir).unwrap();
    db.finish().await;
}
