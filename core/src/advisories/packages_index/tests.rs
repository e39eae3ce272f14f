use std::io::Write;

use super::*;
use crate::advisories::tests::{fixture, read_all, scratch_dir};
use crate::advisories::Tally;

const INDEX: &str = "debian/dists/bookworm-security/main/binary-amd64/Packages";

fn read(path: &Path, release: Option<Release>) -> (Vec<SourceOf>, Tally) {
    read_all(read_path(path, release).unwrap())
}

fn pairs(mappings: &[SourceOf]) -> Vec<(&str, &str, &str)> {
    mappings
        .iter()
        .map(|m| {
            (
                m.binary.as_str(),
                m.source.as_str(),
                m.source_version.as_str(),
            )
        })
        .collect()
}

#[test]
fn the_release_comes_from_the_dists_path() {
    let cases = [
        (
            "mirror/debian/dists/bookworm/main/binary-amd64/Packages.xz",
            Some("debian:12"),
        ),
        (
            "dists/bookworm-security/main/binary-arm64/Packages.gz",
            Some("debian:12"),
        ),
        (
            "ubuntu/dists/jammy-updates/main/binary-amd64/Packages",
            Some("ubuntu:22.04"),
        ),
        (
            "dists/noble/universe/binary-amd64/Packages",
            Some("ubuntu:24.04"),
        ),
        (
            "/var/lib/apt/lists/deb.debian.org_debian_dists_bullseye_main_binary-amd64_Packages",
            Some("debian:11"),
        ),
        ("dists/sid/main/binary-amd64/Packages", None),
        ("Packages", None),
    ];
    for (path, expected) in cases {
        let got = release_of_path(Path::new(path)).map(|r| r.key());
        assert_eq!(got.as_deref(), expected, "{path}");
    }
}

#[test]
fn binaries_map_to_their_source_with_its_version() {
    let (mappings, tally) = read(&fixture(INDEX), None);
    assert_eq!((tally.records, tally.skipped, tally.bad.len()), (4, 0, 0));
    assert!(mappings.iter().all(|m| m.release.key() == "debian:12"));
    assert_eq!(
        pairs(&mappings),
        [
            ("telnet", "inetutils", "2:2.4-2+deb12u3"),
            ("libssl-dev", "openssl", "3.0.22-1~deb12u2"),
            ("libssl3", "openssl", "3.0.22-1~deb12u2"),
            ("openssl", "openssl", "3.0.22-1~deb12u2"),
        ]
    );
    assert_eq!(mappings[0].binary_version, "0.17+2.4-2+deb12u3");
}

#[test]
fn xz_and_gzip_indexes_read_the_same_and_truncated_ones_fail() {
    let (plain, _) = read(&fixture(INDEX), None);
    let (xz, _) = read(&fixture(&format!("{INDEX}.xz")), None);
    assert_eq!(xz, plain);

    let dir = scratch_dir("packages-gz").join("dists/bookworm/main/binary-amd64");
    std::fs::create_dir_all(&dir).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(&std::fs::read(fixture(INDEX)).unwrap())
        .unwrap();
    let gz_bytes = encoder.finish().unwrap();
    std::fs::write(dir.join("Packages.gz"), &gz_bytes).unwrap();
    assert_eq!(read(&dir.join("Packages.gz"), None).0, plain);

    let xz_bytes = std::fs::read(fixture(&format!("{INDEX}.xz"))).unwrap();
    for (name, bytes) in [("Packages.gz", &gz_bytes), ("Packages.xz", &xz_bytes)] {
        let path = dir.join(format!("truncated-{name}"));
        std::fs::write(&path, &bytes[..bytes.len() - 20]).unwrap();
        let items: Vec<_> = read_path(&path, None).unwrap().collect();
        assert!(
            matches!(items.last(), Some(Err(FeedError::Io { .. }))),
            "{name}: {items:?}"
        );
        assert_eq!(items.iter().filter(|i| i.is_err()).count(), 1, "{name}");
    }
}

#[test]
fn an_index_outside_dists_needs_its_release_named() {
    let path = scratch_dir("packages-elsewhere").join("Packages");
    std::fs::copy(fixture(INDEX), &path).unwrap();
    let err = read_path(&path, None).err().expect("no release");
    assert!(err.to_string().contains("name the release"), "{err}");
    let jammy = Release::from_codename("jammy");
    let (mappings, _) = read(&path, jammy.clone());
    assert!(mappings.iter().all(|m| Some(&m.release) == jammy.as_ref()));
}

#[test]
fn bad_stanzas_are_named_by_line_and_the_rest_still_read() {
    let text = "Package: a\nVersion: 1.0-1\nDescription: one\n more text: with a colon\n\n\
                Package: b\nDescription: no version\n\n\
                Package: c\nSource: csrc (1.0\nVersion: 1.0-1\n\n\
                Package: d\nSource: dsrc\nVersion: 2.0-1+b1\n";
    let path = scratch_dir("packages-bad").join("Packages");
    std::fs::write(&path, text).unwrap();
    let (mappings, tally) = read(&path, Release::from_codename("bookworm"));
    assert_eq!(
        pairs(&mappings),
        [("a", "a", "1.0-1"), ("d", "dsrc", "2.0-1+b1")]
    );
    let names: Vec<String> = tally.bad.iter().map(|b| b.to_string()).collect();
    let prefix = path.display().to_string();
    assert_eq!(
        names,
        [
            format!("{prefix}:6: a stanza without Package: or Version:"),
            format!("c ({prefix}:9): unreadable Source: field"),
        ]
    );
}
