use std::io::Write;

use super::*;
use crate::advisories::tests::{fixture, read_all, scratch_dir};
use crate::advisories::Tally;

fn read(path: &Path, release: Option<Release>) -> (Vec<Advisory>, Tally) {
    read_all(read_path(path, release).unwrap())
}

fn write(test: &str, name: &str, xml: &str) -> PathBuf {
    let path = scratch_dir(test).join(name);
    std::fs::write(&path, xml).unwrap();
    path
}

fn fixed(advisory: &Advisory) -> Vec<(String, String)> {
    advisory
        .affected
        .iter()
        .map(|a| (a.package.clone(), a.ranges[0].fixed.clone().unwrap()))
        .collect()
}

#[test]
fn al2023_updateinfo_reads_into_binary_package_fixes() {
    let (advisories, tally) = read(&fixture("alas/al2023/updateinfo.xml"), None);
    assert_eq!((tally.records, tally.skipped, tally.bad.len()), (3, 1, 0));
    let ids: Vec<&str> = advisories.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "ALAS2023-2023-181",
            "ALAS2023-2023-220",
            "ALAS2023-2024-640"
        ]
    );

    let openssl = &advisories[2];
    assert_eq!(openssl.source, Feed::Alas);
    assert_eq!(openssl.severity, Severity::Medium);
    assert_eq!(
        openssl.summary.as_deref(),
        Some("Amazon Linux 2023 - ALAS2023-2024-640: medium priority package update for openssl")
    );
    assert_eq!(
        fixed(openssl),
        [
            ("openssl".to_owned(), "1:3.0.8-1.amzn2023.0.12".to_owned()),
            (
                "openssl-libs".to_owned(),
                "1:3.0.8-1.amzn2023.0.12".to_owned()
            ),
        ]
    );
    for entry in &openssl.affected {
        assert_eq!(
            (entry.release.key().as_str(), entry.names),
            ("amzn:2023", NameKind::Binary)
        );
        assert!(entry.affects("1:3.0.8-1.amzn2023.0.11"));
        assert!(!entry.affects("1:3.0.8-1.amzn2023.0.12"));
        assert!(
            entry.affects("3.0.8-1.amzn2023.0.99"),
            "no epoch is epoch 0, below 1:"
        );
    }

    // The source RPM line is left out and the per-arch builds agree on one fix.
    assert_eq!(
        fixed(&advisories[0]),
        [(
            "openssl-libs".to_owned(),
            "1:3.0.8-1.amzn2023.0.2".to_owned()
        )]
    );
    // A zero epoch is left out, as SSM stores the version; no <updated>: issued is the modification.
    let ncurses = &advisories[1];
    assert_eq!(ncurses.severity, Severity::High, "important");
    assert_eq!(fixed(ncurses)[1].1, "6.2-4.20200222.amzn2023.0.4");
    assert_eq!(ncurses.modified.to_rfc3339(), "2023-07-01T00:00:00+00:00");
    assert_eq!(ncurses.published, Some(ncurses.modified));
}

#[test]
fn a_gzip_updateinfo_reads_the_same() {
    let plain = fixture("alas/al2023/updateinfo.xml");
    let path = scratch_dir("alas-gz").join("updateinfo.xml.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    std::fs::write(&path, encoder.finish().unwrap()).unwrap();
    assert_eq!(read(&path, None).0, read(&plain, None).0);
}

const AL2: &str = r#"<?xml version="1.0" ?>
<updates>
<update status="final" version="1.4" type="security" author="linux-security@amazon.com">
  <id>ALAS2-2024-0001</id>
  <title>Amazon Linux 2 - ALAS2-2024-0001: important priority package update for openssl11 &amp; friends</title>
  <issued date="2024-07-01 20:41:00" /><updated date="2024-07-02 23:22" />
  <severity>Important</severity>
  <references>
    <reference href="x" id="CVE-2024-0001" type="cve" />
    <reference href="x" id="CVE-2024-0001" type="cve" />
    <reference href="x" id="CVE-2024-0002" type="CVE" />
    <reference href="x" id="ALAS2-2024-0001" type="self" />
  </references>
  <pkglist><collection short="amazon-linux-2">
    <package name="openssl11-libs" version="1.1.1g" release="3.amzn2.0.1" epoch="1" arch="x86_64" />
    <package name="openssl11-libs" version="1.1.1g" release="3.amzn2.0.2" epoch="1" arch="aarch64" />
  </collection></pkglist>
</update>
<update type="security"><id>ALAS-2018-1000</id><issued date="2018-01-01 00:00" /><severity>low</severity>
  <pkglist><collection><package name="x" version="1" release="1" epoch="0" arch="x86_64" /></collection></pkglist></update>
</updates>
"#;

#[test]
fn al2_ids_name_their_release_and_cve_references_become_aliases() {
    let path = write("alas-al2", "updateinfo.xml", AL2);
    let (advisories, tally) = read(&path, None);
    assert_eq!(advisories.len(), 1);
    let advisory = &advisories[0];
    assert_eq!(advisory.affected[0].release.key(), "amzn:2");
    assert_eq!(advisory.aliases, ["CVE-2024-0001", "CVE-2024-0002"]);
    assert_eq!(advisory.severity, Severity::High);
    assert!(advisory
        .summary
        .as_deref()
        .unwrap()
        .ends_with("openssl11 & friends"));
    assert_eq!(advisory.modified.to_rfc3339(), "2024-07-02T23:22:00+00:00");
    assert_eq!(
        fixed(advisory)[0].1,
        "1:1.1.1g-3.amzn2.0.2",
        "the highest build listed"
    );
    // Amazon Linux 1's ALAS- prefix names no release we cover: bad unless one is named.
    assert_eq!(tally.bad.len(), 1);
    assert_eq!(tally.bad[0].name, "ALAS-2018-1000");
    assert!(tally.bad[0].reason.contains("name the release"));
    let amzn2 = Release::new(Distro::AmazonLinux, "2");
    let (named, tally) = read(&path, amzn2);
    assert_eq!((named.len(), tally.bad.len()), (2, 0));
}

#[test]
fn bad_updates_are_named_and_the_rest_still_read() {
    let xml = r#"<updates>
      <update type="security"><id>ALAS2023-2024-1</id><severity>low</severity>
        <pkglist><collection><package name="a" version="1" release="1" arch="x86_64" /></collection></pkglist></update>
      <update type="security"><id>ALAS2023-2024-2</id><issued date="last tuesday" />
        <pkglist><collection><package name="a" version="1" release="1" arch="x86_64" /></collection></pkglist></update>
      <update type="security"><id>ALAS2023-2024-3</id><issued date="2024-01-01 00:00" />
        <pkglist><collection><package name="a" version="1" release="1" epoch="x" arch="x86_64" /></collection></pkglist></update>
      <update type="security"><id>ALAS2023-2024-4</id><issued date="2024-01-01 00:00" /><pkglist /></update>
      <update type="security"><issued date="2024-01-01 00:00" /></update>
      <update type="security"><id>ALAS2023-2024-6</id><issued date="2024-01-01" />
        <pkglist><collection><package name="b" version="2.0" release="1.amzn2023" arch="noarch" /></collection></pkglist></update>
    </updates>"#;
    let path = write("alas-bad", "updateinfo.xml", xml);
    let (advisories, tally) = read(&path, None);
    let reasons: Vec<(String, String)> = tally
        .bad
        .iter()
        .map(|b| (b.name.clone(), b.reason.clone()))
        .collect();
    let expect = [
        ("ALAS2023-2024-1", "no <issued> or <updated> date"),
        ("ALAS2023-2024-2", "unreadable <issued> date"),
        ("ALAS2023-2024-3", "epoch is not a number"),
        ("ALAS2023-2024-4", "no binary packages"),
        ("update #5 in", "no <id>"),
    ];
    assert_eq!(reasons.len(), expect.len(), "{reasons:?}");
    for ((name, reason), (want_name, want_reason)) in reasons.iter().zip(expect) {
        assert!(name.starts_with(want_name), "{name}");
        assert!(reason.contains(want_reason), "{name}: {reason}");
    }
    assert_eq!(advisories.len(), 1);
    assert_eq!(advisories[0].severity, Severity::Unknown);
    assert_eq!(fixed(&advisories[0])[0].1, "2.0-1.amzn2023");
}

#[test]
fn a_truncated_or_malformed_file_is_an_error_after_which_nothing_follows() {
    let whole = std::fs::read_to_string(fixture("alas/al2023/updateinfo.xml")).unwrap();
    let cut = whole.find("<id>ALAS2023-2024-640").unwrap();
    let cases = [
        ("truncated.xml", whole[..cut].to_owned(), "truncated"),
        (
            "mismatched.xml",
            whole.replacen("</severity>", "</sev>", 1),
            "malformed XML",
        ),
        (
            "wrong-root.xml",
            "<html><body/></html>".to_owned(),
            "not <updates>",
        ),
        ("empty.xml", String::new(), "no <updates>"),
    ];
    for (name, xml, message) in cases {
        let path = write("alas-broken", name, &xml);
        let items: Vec<_> = read_path(&path, None).unwrap().collect();
        let last = items.last().unwrap_or_else(|| panic!("{name}: no items"));
        let Err(err) = last else {
            panic!("{name}: ends with {last:?}");
        };
        assert!(err.to_string().contains(message), "{name}: {err}");
        assert_eq!(items.iter().filter(|i| i.is_err()).count(), 1, "{name}");
    }
}
