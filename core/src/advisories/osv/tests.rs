use std::io::Write;

use super::*;
use crate::advisories::tests::{dpkg_holds, fixture, scratch_dir};
use crate::advisories::Tally;

fn record(path: &str) -> Advisory {
    let path = fixture(path);
    match read_file(&path).unwrap() {
        FeedItem::Record(advisory) => advisory,
        other => panic!("{}: {other:?}", path.display()),
    }
}

fn parse(json: &str) -> OsvItem {
    parse_record("test.json", json.as_bytes())
}

fn bad_reason(json: &str) -> BadRecord {
    match parse(json) {
        FeedItem::Bad(bad) => bad,
        other => panic!("expected a bad record, got {other:?}"),
    }
}

fn affected<'a>(advisory: &'a Advisory, release: &str) -> &'a Affected {
    advisory
        .affected
        .iter()
        .find(|a| a.release.key() == release)
        .unwrap_or_else(|| panic!("{} has no {release} entry", advisory.id))
}

#[test]
fn a_debian_record_keeps_each_release_apart() {
    let advisory = record("osv/DEBIAN-CVE-2026-28388.json");
    assert_eq!(advisory.id, "DEBIAN-CVE-2026-28388");
    assert_eq!(advisory.aliases, ["CVE-2026-28388"]);
    assert_eq!(advisory.source, Feed::Osv);
    assert_eq!(advisory.severity, Severity::High, "CVSS 3.1 base score 7.5");
    assert_eq!(
        advisory.modified.to_rfc3339(),
        "2026-04-20T00:00:35.206956+00:00"
    );
    assert!(advisory
        .summary
        .as_deref()
        .unwrap()
        .starts_with("Issue summary: When a delta CRL"));
    let bullseye = affected(&advisory, "debian:11");
    let bookworm = affected(&advisory, "debian:12");
    assert_eq!(
        (bullseye.package.as_str(), bullseye.names),
        ("openssl", NameKind::Source)
    );
    // Debian 11: unfixed, every version affected.
    assert_eq!(bullseye.ranges, [Interval::default()]);
    assert!(bullseye.affects("1.1.1w-0+deb11u1"));
    assert_eq!(bullseye.fixed_for("1.1.1w-0+deb11u1"), None);
    // Debian 12: fixed in 3.0.19-1~deb12u2, the version the sample fleet runs.
    assert!(bookworm.affects("3.0.19-1~deb12u1"));
    assert!(!bookworm.affects("3.0.19-1~deb12u2"));
    assert_eq!(
        bookworm.fixed_for("3.0.11-1~deb12u2"),
        Some("3.0.19-1~deb12u2")
    );
}

#[test]
fn the_tour_record_affects_the_fleet_before_its_upgrade_only() {
    let advisory = record("osv/TOUR-2026-0001.json");
    let bookworm = affected(&advisory, "debian:12");
    assert!(
        bookworm.affects("3.0.19-1~deb12u2"),
        "events/fixtures/ssm: before the upgrade"
    );
    assert!(
        !bookworm.affects("3.0.20-1~deb12u1"),
        "events/fixtures/upgrade: after it"
    );
    assert_eq!(advisory.severity, Severity::Critical);
}

#[test]
fn an_explicit_versions_list_is_kept_and_unassigned_urgency_says_nothing() {
    let advisory = record("osv/DEBIAN-CVE-2024-58382.json");
    assert_eq!(advisory.severity, Severity::Unknown);
    let bookworm = affected(&advisory, "debian:12");
    assert_eq!(bookworm.versions, ["2.3.9-1", "2.3.9-1+deb12u1"]);
    assert!(bookworm.affects("2.3.9-1+deb12u1"));
    let trixie = affected(&advisory, "debian:13");
    assert!(trixie.affects("2.5.3-1") && !trixie.affects("2.6.0-1"));

    let rocky = record("osv-shapes/TEST-2026-0003.json");
    let entry = affected(&rocky, "rocky:9");
    assert!(entry.ranges.is_empty());
    assert!(entry.affects("1:3.0.7-24.el9") && entry.affects("1:3.0.7-25.el9"));
    assert!(!entry.affects("1:3.0.7-26.el9") && !entry.affects("3.0.7-24.el9"));
    assert_eq!(
        rocky.severity,
        Severity::High,
        "database_specific.severity Important"
    );
}

#[test]
fn last_affected_is_an_inclusive_ceiling() {
    let advisory = record("osv-shapes/TEST-2026-0001.json");
    let entry = affected(&advisory, "debian:12");
    assert!(!entry.affects("3.0.9-1"));
    assert!(entry.affects("3.0.11-1~deb12u1"));
    assert!(entry.affects("3.0.13-1~deb12u1"));
    assert!(!entry.affects("3.0.13-1~deb12u2"));
    assert_eq!(advisory.severity, Severity::Low, "Debian urgency low");
}

#[test]
fn two_ranges_and_two_intervals_in_one_range_leave_the_gaps_unaffected() {
    let advisory = record("osv-shapes/TEST-2026-0002.json");
    let entry = affected(&advisory, "debian:12");
    assert_eq!(
        entry.ranges.len(),
        3,
        "the GIT range is not a version range: {:?}",
        entry.ranges
    );
    let cases = [
        ("3.0.9-1", true),
        ("3.0.11-1~deb12u2", false),
        ("3.0.13-1~deb12u1", true),
        ("3.0.14-1~deb12u1", false),
        ("3.0.15-1~deb12u1", true),
        ("3.0.16-1~deb12u1", false),
        ("3.0.19-1~deb12u2", false),
    ];
    for (version, expected) in cases {
        assert_eq!(entry.affects(version), expected, "{version}");
    }
}

#[test]
fn a_withdrawn_record_says_so() {
    let advisory = record("osv-shapes/TEST-2026-0004.json");
    assert_eq!(
        advisory.withdrawn.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-02-01T00:00:00+00:00")
    );
    assert!(advisory.published.is_some());
}

#[test]
fn distribution_ratings_go_before_cvss_and_newer_cvss_before_older() {
    let ubuntu = record("osv-shapes/TEST-2026-0006.json");
    assert_eq!(
        ubuntu.severity,
        Severity::Medium,
        "the Ubuntu priority, not CVSS 9.8"
    );
    assert_eq!(ubuntu.aliases, ["CVE-2099-0006", "CVE-2099-0007"]);
    let keys: Vec<String> = ubuntu.affected.iter().map(|a| a.release.key()).collect();
    assert_eq!(keys, ["ubuntu:22.04", "ubuntu:18.04"]);

    let red_hat = record("osv-shapes/TEST-2026-0007.json");
    let v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N";
    assert_eq!(Some(red_hat.severity), Severity::from_cvss_vector(v4));
    assert_ne!(
        red_hat.severity,
        Severity::Critical,
        "the v3 vector does not count"
    );
}

#[test]
fn red_hat_names_source_or_binary_rpms_and_eus_streams_are_left_out() {
    let advisory = record("osv-shapes/TEST-2026-0007.json");
    let names: Vec<(&str, NameKind, String)> = advisory
        .affected
        .iter()
        .map(|a| (a.package.as_str(), a.names, a.release.key()))
        .collect();
    assert_eq!(
        names,
        [
            ("openssl", NameKind::Source, "rhel:9".to_owned()),
            ("openssl-perl", NameKind::Binary, "rhel:9".to_owned()),
        ]
    );
}

#[test]
fn records_of_other_ecosystems_are_skipped_not_bad() {
    let path = fixture("osv-shapes/TEST-2026-0005.json");
    match read_file(&path).unwrap() {
        FeedItem::Skipped(name) => assert!(name.starts_with("TEST-2026-0005 ("), "{name}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_records_are_named_with_the_reason() {
    let cases = [
        ("not json", None, "not an OSV record"),
        (
            r#"{"id": 5, "modified": "2026-01-01T00:00:00Z"}"#,
            None,
            "invalid type",
        ),
        (r#"{"id": "X-1"}"#, Some("X-1"), "missing field `modified`"),
        (
            r#"{"id": "X-2", "modified": "yesterday"}"#,
            Some("X-2"),
            "not an OSV record",
        ),
        (
            r#"{"id": "X-3", "modified": "2026-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"}, "versions": "3.0.1-1"}]}"#,
            Some("X-3"),
            "invalid type",
        ),
        (
            r#"{"id": "X-4", "modified": "2026-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11 beta"}]}]}]}"#,
            Some("X-4"),
            "version \"3.0.11 beta\"",
        ),
        (
            r#"{"id": "X-5", "modified": "2026-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "3.0.1-1"}]}]}]}"#,
            Some("X-5"),
            "exactly one field",
        ),
        (
            r#"{"id": "X-6", "modified": "2026-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "AlmaLinux:9", "name": "openssl"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"limit": "3.0.8"}]}]}]}"#,
            Some("X-6"),
            "limit",
        ),
        (
            r#"{"id": "X-7", "modified": "2026-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": 0}]}]}]}"#,
            Some("X-7"),
            "expected a string",
        ),
        (
            r#"{"id": "X-8", "modified": "2026-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Rocky Linux:9", "name": "openssl"}, "versions": ["x:3.0.7-24.el9"]}]}"#,
            Some("X-8"),
            "epoch is not a number",
        ),
        (
            r#"{"id": " ", "modified": "2026-01-01T00:00:00Z"}"#,
            None,
            "empty id",
        ),
    ];
    for (json, id, reason) in cases {
        let bad = bad_reason(json);
        let expected_name = match id {
            Some(id) => format!("{id} (test.json)"),
            None => "test.json".to_owned(),
        };
        assert_eq!(bad.name, expected_name, "{json}");
        assert!(bad.reason.contains(reason), "{json}: {}", bad.reason);
    }
}

#[test]
fn a_bad_version_in_an_uncovered_ecosystem_does_not_spoil_the_record() {
    let item = parse(
        r#"{"id": "X-9", "modified": "2026-01-01T00:00:00Z", "affected": [
            {"package": {"ecosystem": "PyPI", "name": "requests"}, "versions": ["not a version"]},
            {"package": {"ecosystem": "Debian:12", "name": "python-requests"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.28.1+dfsg-1+deb12u1"}]}]}
        ]}"#,
    );
    let FeedItem::Record(advisory) = item else {
        panic!("{item:?}");
    };
    assert_eq!(advisory.affected.len(), 1);
}

#[test]
fn a_directory_is_read_recursively_in_path_order() {
    let mut tally = Tally::default();
    let mut ids = Vec::new();
    for item in read_path(&fixture("osv-shapes")).unwrap() {
        if let Some(advisory) = tally.count(item.unwrap()) {
            ids.push(advisory.id);
        }
    }
    assert_eq!((tally.records, tally.skipped, tally.bad.len()), (6, 1, 0));
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
}

/// Writes an all.zip of every fixture record plus a bad entry and a non-JSON entry.
fn write_zip(path: &Path) {
    let file = fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for dir in ["osv", "osv-shapes"] {
        let mut files: Vec<_> = fs::read_dir(fixture(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            zip.start_file(name, deflated).unwrap();
            zip.write_all(&fs::read(&file).unwrap()).unwrap();
        }
    }
    zip.start_file("BROKEN-1.json", stored).unwrap();
    zip.write_all(br#"{"id": "BROKEN-1", "modified": 7}"#)
        .unwrap();
    zip.start_file("README.txt", stored).unwrap();
    zip.write_all(b"not a record").unwrap();
    zip.finish().unwrap();
}

#[test]
fn an_all_zip_is_read_entry_by_entry() {
    let dir = scratch_dir("all-zip");
    let path = dir.join("all.zip");
    write_zip(&path);
    let mut tally = Tally::default();
    for item in read_path(&path).unwrap() {
        tally.count(item.unwrap());
    }
    assert_eq!((tally.records, tally.skipped), (11, 1));
    assert_eq!(tally.bad.len(), 1);
    assert_eq!(
        tally.bad[0].name,
        format!("BROKEN-1 ({}:BROKEN-1.json)", path.display())
    );
}

#[test]
fn a_truncated_zip_fails_before_anything_is_read() {
    let dir = scratch_dir("truncated-zip");
    let whole = dir.join("whole.zip");
    write_zip(&whole);
    let bytes = fs::read(&whole).unwrap();
    for cut in [bytes.len() - 10, bytes.len() / 2, 100] {
        let path = dir.join(format!("cut-{cut}.zip"));
        fs::write(&path, &bytes[..cut]).unwrap();
        let err = read_path(&path)
            .err()
            .unwrap_or_else(|| panic!("cut at {cut} opened"));
        assert!(matches!(err, FeedError::Zip { .. }), "{err}");
        assert!(err.to_string().contains("truncated or corrupt"), "{err}");
    }
}

#[test]
fn a_damaged_entry_stops_the_zip_with_an_error() {
    let dir = scratch_dir("damaged-zip");
    let path = dir.join("all.zip");
    write_zip(&path);
    let mut bytes = fs::read(&path).unwrap();
    // Flip a byte inside the stored BROKEN-1 entry's data: its CRC no longer matches.
    let at = bytes.windows(8).position(|w| w == b"BROKEN-1").unwrap();
    let data = at
        + bytes[at..]
            .windows(6)
            .position(|w| w == b"\"id\": ")
            .unwrap();
    bytes[data + 1] ^= 0x20;
    fs::write(&path, &bytes).unwrap();
    let items: Vec<_> = read_path(&path).unwrap().collect();
    let last = items.last().unwrap();
    assert!(matches!(last, Err(FeedError::Zip { .. })), "{last:?}");
    assert_eq!(
        items.iter().filter(|i| i.is_err()).count(),
        1,
        "nothing after the error"
    );
}

/// The Debian fixtures' verdicts, re-derived with the real dpkg from each interval's bounds.
#[test]
fn debian_fixture_verdicts_agree_with_dpkg() {
    let installed = [
        "3.0.11-1~deb12u2",
        "3.0.15-1~deb12u1",
        "3.0.19-1~deb12u2",
        "3.0.20-1~deb12u1",
        "3.0.22-1~deb12u2",
        "2.36-9+deb12u9",
        "2.36-9+deb12u10",
        "2.3.9-1+deb12u1",
    ];
    let mut checked = 0;
    for item in read_path(&fixture("osv")).unwrap() {
        let FeedItem::Record(advisory) = item.unwrap() else {
            continue;
        };
        for entry in advisory
            .affected
            .iter()
            .filter(|a| a.release.scheme() == VersionScheme::Dpkg)
        {
            for version in installed {
                let in_range = entry.ranges.iter().any(|r| {
                    r.introduced
                        .as_deref()
                        .is_none_or(|i| dpkg_holds(version, "ge", i))
                        && r.fixed
                            .as_deref()
                            .is_none_or(|f| dpkg_holds(version, "lt", f))
                        && r.last_affected
                            .as_deref()
                            .is_none_or(|l| dpkg_holds(version, "le", l))
                });
                let listed = entry.versions.iter().any(|v| dpkg_holds(version, "eq", v));
                assert_eq!(
                    entry.affects(version),
                    in_range || listed,
                    "{} {version}",
                    advisory.id
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 7 * installed.len(), "{checked}");
}
