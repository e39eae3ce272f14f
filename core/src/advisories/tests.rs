use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Command;

use super::*;

/// The repository's `events/advisories/` fixtures.
pub(crate) fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events/advisories")
        .join(path)
}

/// A fresh directory for one test's files.
pub(crate) fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "inventory-advisories-{}-{test}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every record of a reader, and its tally; panics on a feed error.
pub(crate) fn read_all<T>(
    items: impl Iterator<Item = Result<FeedItem<T>, FeedError>>,
) -> (Vec<T>, Tally) {
    let mut tally = Tally::default();
    let records = items
        .filter_map(|item| tally.count(item.unwrap()))
        .collect();
    (records, tally)
}

/// `dpkg --compare-versions a op b`, the real tool's answer (dpkg is on every Debian machine).
pub(crate) fn dpkg_holds(a: &str, op: &str, b: &str) -> bool {
    let status = Command::new("dpkg")
        .args(["--compare-versions", a, op, b])
        .status()
        .expect("dpkg runs");
    status.success()
}

fn release(key: &str) -> Release {
    key.parse().unwrap()
}

fn interval(introduced: Option<&str>, fixed: Option<&str>, last: Option<&str>) -> Interval {
    Interval {
        introduced: introduced.map(str::to_owned),
        fixed: fixed.map(str::to_owned),
        last_affected: last.map(str::to_owned),
    }
}

#[test]
fn severities_sort_most_severe_first_and_read_back() {
    let mut shuffled = vec![
        Severity::Low,
        Severity::Unknown,
        Severity::Critical,
        Severity::Medium,
        Severity::High,
    ];
    shuffled.sort();
    assert_eq!(shuffled, Severity::ALL);
    for severity in Severity::ALL {
        assert_eq!(severity.as_str().parse::<Severity>(), Ok(severity));
    }
    assert!("severe".parse::<Severity>().is_err());
}

#[test]
fn distribution_ratings_map_onto_five_levels() {
    let cases = [
        ("critical", Some(Severity::Critical)),
        ("Important", Some(Severity::High)),
        ("HIGH", Some(Severity::High)),
        ("Moderate", Some(Severity::Medium)),
        ("medium", Some(Severity::Medium)),
        ("low**", Some(Severity::Low)),
        ("negligible", Some(Severity::Low)),
        ("unimportant", Some(Severity::Low)),
        ("not yet assigned", None),
        ("end-of-life", None),
        ("", None),
    ];
    for (rating, expected) in cases {
        assert_eq!(Severity::from_rating(rating), expected, "{rating:?}");
    }
}

#[test]
fn cvss_vectors_are_scored_by_their_version() {
    let cases = [
        // CVE-2026-28388's vector: base score 7.5.
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
            Some(Severity::High),
        ),
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            Some(Severity::Critical),
        ),
        (
            "CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N",
            Some(Severity::Low),
        ),
        // v2 has no prefix; 5.0 is medium, and v2 tops out at high.
        ("AV:N/AC:L/Au:N/C:N/I:N/A:P", Some(Severity::Medium)),
        ("AV:N/AC:L/Au:N/C:C/I:C/A:C", Some(Severity::High)),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            Some(Severity::Critical),
        ),
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N",
            Some(Severity::Low),
        ),
        ("CVSS:3.1/AV:X", None),
        ("9.8", None),
    ];
    for (vector, expected) in cases {
        assert_eq!(Severity::from_cvss_vector(vector), expected, "{vector}");
    }
}

#[test]
fn osv_ecosystems_name_releases() {
    let cases = [
        ("Debian:12", Some("debian:12")),
        ("Debian:11", Some("debian:11")),
        ("Debian:sid", None),
        ("Debian", None),
        ("Ubuntu:22.04:LTS", Some("ubuntu:22.04")),
        ("Ubuntu:24.10", Some("ubuntu:24.10")),
        ("Ubuntu:Pro:18.04:LTS", Some("ubuntu:18.04")),
        ("Ubuntu:Pro:FIPS-updates:22.04:LTS", Some("ubuntu:22.04")),
        ("AlmaLinux:9", Some("almalinux:9")),
        ("Rocky Linux:8", Some("rocky:8")),
        ("Red Hat:enterprise_linux:9::baseos", Some("rhel:9")),
        ("Red Hat:enterprise_linux:8::appstream", Some("rhel:8")),
        ("Red Hat:enterprise_linux:10.1", Some("rhel:10")),
        ("Red Hat:rhel_eus:9.2::baseos", None),
        ("Red Hat:openshift:4.14::el8", None),
        ("PyPI", None),
        ("Alpine:v3.19", None),
        ("Amazon Linux:2023", None),
    ];
    for (ecosystem, expected) in cases {
        let got = Release::from_osv_ecosystem(ecosystem).map(|r| r.key());
        assert_eq!(got.as_deref(), expected, "{ecosystem}");
    }
}

#[test]
fn ssm_platforms_name_releases_and_unknown_ones_none() {
    let cases = [
        ("Amazon Linux", "2023", Some("amzn:2023")),
        ("Amazon Linux", "2", Some("amzn:2")),
        ("Amazon Linux AMI", "2018.03", None),
        ("Ubuntu", "22.04", Some("ubuntu:22.04")),
        ("Debian GNU/Linux", "12", Some("debian:12")),
        ("Debian GNU/Linux", "11", Some("debian:11")),
        ("Red Hat Enterprise Linux", "9.4", Some("rhel:9")),
        ("Red Hat Enterprise Linux Server", "7.9", Some("rhel:7")),
        ("AlmaLinux", "9.4", Some("almalinux:9")),
        ("Rocky Linux", "8.10", Some("rocky:8")),
        ("CentOS Linux", "7", None),
        (
            "Microsoft Windows Server 2022 Datacenter",
            "10.0.20348",
            None,
        ),
        // EC2's PlatformDetails names no release.
        ("Red Hat Enterprise Linux", "", None),
        ("Ubuntu Pro", "", None),
        ("Debian GNU/Linux", "bookworm/sid", None),
    ];
    for (name, version, expected) in cases {
        let got = Release::of_platform(name, version).map(|r| r.key());
        assert_eq!(got.as_deref(), expected, "{name} {version}");
    }
}

#[test]
fn release_keys_read_back_and_imply_the_scheme() {
    for key in [
        "debian:12",
        "ubuntu:22.04",
        "amzn:2",
        "amzn:2023",
        "almalinux:9",
        "rocky:9",
        "rhel:9",
    ] {
        let release = release(key);
        assert_eq!(release.key(), key);
        let expected = if key.starts_with("debian") || key.starts_with("ubuntu") {
            VersionScheme::Dpkg
        } else {
            VersionScheme::Rpm
        };
        assert_eq!(release.scheme(), expected, "{key}");
    }
    for key in [
        "debian:12.4",
        "debian",
        "amzn:1",
        "ubuntu:22",
        "suse:15",
        "rhel:09",
    ] {
        assert!(key.parse::<Release>().is_err(), "{key}");
    }
    assert_eq!(
        Release::from_codename("bookworm-security"),
        Some(release("debian:12"))
    );
    assert_eq!(
        Release::from_codename("jammy-updates"),
        Some(release("ubuntu:22.04"))
    );
    assert_eq!(Release::from_codename("sid"), None);
}

/// OSV's rules, cross-checked with the real dpkg on the cases that trip naive comparisons:
/// `~deb12u1` sorts before the Debian revision it patches and `+deb12u1` after it; a backport
/// `~bpo12+1` sorts before the version it backports; an epoch outranks everything after it.
#[test]
fn intervals_order_debian_versions_as_dpkg_does() {
    let intervals = [
        interval(None, Some("3.0.15-1~deb12u1"), None),
        interval(None, Some("2.36-9+deb12u10"), None),
        interval(Some("1:10.0.2+ds-2+deb13u1~bpo12+1"), None, None),
        interval(Some("3.0.11-1~deb12u1"), None, Some("3.0.13-1~deb12u1")),
        interval(None, Some("1:3.0.8-1"), None),
    ];
    let installed = [
        "3.0.15-1",
        "3.0.15-1~deb12u1",
        "3.0.14-1~deb12u2",
        "3.0.15-1+deb12u1",
        "2.36-9",
        "2.36-9+deb12u9",
        "2.36-9+deb12u10",
        "2.36-9~deb12u1",
        "10.0.2+ds-2+deb13u1",
        "1:10.0.2+ds-2+deb13u1",
        "1:10.0.2+ds-2+deb13u1~bpo12+1",
        "1:10.0.2+ds-1~bpo12+1",
        "3.0.13-1~deb12u1",
        "3.0.13-1~deb12u1+b1",
        "3.0.11-1~deb12u1",
        "3.0.11-1",
        "9.9.9",
        "1:3.0.7",
        "0:3.0.8-1",
    ];
    let mut checked = 0;
    for interval in &intervals {
        for version in installed {
            let expected = interval
                .introduced
                .as_deref()
                .is_none_or(|i| dpkg_holds(version, "ge", i))
                && interval
                    .fixed
                    .as_deref()
                    .is_none_or(|f| dpkg_holds(version, "lt", f))
                && interval
                    .last_affected
                    .as_deref()
                    .is_none_or(|l| dpkg_holds(version, "le", l));
            assert_eq!(
                interval.contains(VersionScheme::Dpkg, version),
                expected,
                "{version} in {interval:?}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, intervals.len() * installed.len());
    // And the cases the test is about, spelled out.
    let ubuntu_style = &intervals[0];
    assert!(ubuntu_style.contains(VersionScheme::Dpkg, "3.0.14-1~deb12u2"));
    assert!(!ubuntu_style.contains(VersionScheme::Dpkg, "3.0.15-1"));
    let plus = &intervals[1];
    assert!(plus.contains(VersionScheme::Dpkg, "2.36-9"));
    assert!(!plus.contains(VersionScheme::Dpkg, "2.36-9+deb12u10"));
    let backport = &intervals[2];
    assert!(backport.contains(VersionScheme::Dpkg, "1:10.0.2+ds-2+deb13u1"));
    assert!(!backport.contains(VersionScheme::Dpkg, "1:10.0.2+ds-1~bpo12+1"));
    assert!(
        !backport.contains(VersionScheme::Dpkg, "10.0.2+ds-2+deb13u1"),
        "no epoch is epoch 0"
    );
}

#[test]
fn epochs_in_rpm_fixed_versions_outrank_the_rest() {
    let fixed = interval(None, Some("1:3.0.8-1.amzn2023.0.12"), None);
    assert!(fixed.contains(VersionScheme::Rpm, "1:3.0.8-1.amzn2023.0.11"));
    assert!(!fixed.contains(VersionScheme::Rpm, "1:3.0.8-1.amzn2023.0.12"));
    assert!(!fixed.contains(VersionScheme::Rpm, "1:3.0.9-1.amzn2023.0.1"));
    // SSM leaves a zero epoch out: "3.0.10-1" is epoch 0, below any 1:… version.
    assert!(fixed.contains(VersionScheme::Rpm, "3.0.10-1.amzn2023.0.1"));
    assert!(fixed.contains(VersionScheme::Rpm, "0:3.0.10-1.amzn2023.0.1"));
}

#[test]
fn affected_versions_count_besides_ranges_and_the_fix_is_named() {
    let affected = Affected {
        release: release("rocky:9"),
        package: "openssl".to_owned(),
        names: NameKind::Source,
        ranges: vec![
            interval(None, Some("1:3.0.7-20.el9"), None),
            interval(Some("1:3.0.7-22.el9"), Some("1:3.0.7-24.el9"), None),
        ],
        versions: vec!["1:3.0.7-27.el9".to_owned()],
    };
    assert!(affected.affects("1:3.0.7-19.el9"));
    assert!(!affected.affects("1:3.0.7-20.el9"));
    assert!(
        !affected.affects("1:3.0.7-21.el9"),
        "between the two ranges"
    );
    assert!(affected.affects("1:3.0.7-23.el9"));
    assert!(affected.affects("1:3.0.7-27.el9"), "listed");
    assert!(
        affected.affects("3.0.7-27.el9"),
        "epoch 0 sorts below 1:3.0.7-20.el9"
    );
    assert!(!affected.affects("1:3.0.7-28.el9"));
    assert_eq!(affected.fixed_for("1:3.0.7-23.el9"), Some("1:3.0.7-24.el9"));
    assert_eq!(
        affected.fixed_for("1:3.0.7-27.el9"),
        None,
        "affected by the list only"
    );
}

#[test]
fn tally_counts_and_names_bad_records() {
    let mut tally = Tally::default();
    let items = [
        FeedItem::Record(1),
        FeedItem::Skipped("PYSEC-1".to_owned()),
        FeedItem::Bad(BadRecord {
            name: "X-1".to_owned(),
            reason: "why".to_owned(),
        }),
        FeedItem::Record(2),
    ];
    let kept: Vec<i32> = items.into_iter().filter_map(|i| tally.count(i)).collect();
    assert_eq!(kept, [1, 2]);
    assert_eq!((tally.records, tally.skipped), (2, 1));
    assert_eq!(tally.bad[0].to_string(), "X-1: why");
}

#[test]
fn compressed_inputs_are_told_by_their_bytes_and_a_truncated_one_fails() {
    let plain = fixture("debian/dists/bookworm-security/main/binary-amd64/Packages");
    let expected = std::fs::read_to_string(&plain).unwrap();
    let dir = scratch_dir("compressed");
    let gz = dir.join("Packages.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(expected.as_bytes()).unwrap();
    let gz_bytes = encoder.finish().unwrap();
    std::fs::write(&gz, &gz_bytes).unwrap();
    // The .xz fixture was made by xz(1); a name that says nothing does not matter.
    let xz = dir.join("Packages.data");
    std::fs::copy(
        fixture("debian/dists/bookworm-security/main/binary-amd64/Packages.xz"),
        &xz,
    )
    .unwrap();
    for path in [&plain, &gz, &xz] {
        let mut text = String::new();
        open_decompressed(path)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, expected, "{}", path.display());
    }
    let truncated = dir.join("truncated.gz");
    std::fs::write(&truncated, &gz_bytes[..gz_bytes.len() / 2]).unwrap();
    let mut text = String::new();
    let read = open_decompressed(&truncated)
        .unwrap()
        .read_to_string(&mut text);
    assert!(
        read.is_err(),
        "a truncated gzip stream is an error, not a short file"
    );
}
