//! Version ordering per packaging ecosystem, and an order-preserving sort key for SQL.
//!
//! "Which instances run openssl older than 3.0.13?" has to be answered by the database with an
//! indexed range scan, on PostgreSQL (`COLLATE "C"`), MySQL (`VARBINARY`) and SQLite (`BINARY`)
//! alike. The one ordering all three share is plain byte comparison, so every package row stores
//! [`VersionScheme::sort_key`]: a string whose byte order is the scheme's version order (equal
//! versions get identical keys), and [`VersionRange::key_interval`] turns a range into
//! `key >= from AND key < to`.
//!
//! # Encoding
//!
//! A key is the scheme's tag char followed by tokens. Every token starts with a class char, and
//! the class chars are picked so that their ASCII order is the order the scheme gives those
//! elements; within a class the payload is ordered the same way. Every token is self-delimiting
//! and every part ends with a terminator, so (below the length cap) no key is a proper prefix of
//! another: two keys differ at a token where the scheme decides, or are identical.
//!
//! - Numbers lose their leading zeros and are written as `0` for zero, else as the digit count of
//!   their length, their length, their digits (`9` -> `119`, `13` -> `1213`): more digits sort later.
//! - dpkg's `verrevcmp` (dpkg, natural, dotted) splits a version into (non-digit run, number)
//!   pairs. Run chars: `~` -> `!`, letters as themselves, other chars as `{hh` (control chars and
//!   space), `|c` (printable ASCII) or `}hhhhhh` (DEL and non-ASCII), i.e. in code point order
//!   after the letters. A run ends with `/`, the whole string with `#`:
//!   `~` < end of string < end of run < letters < other chars. Every key has a first pair (`""`
//!   and `"0"` are both `/0#`), so a version that ends always meets a run, as dpkg's padding does.
//! - rpm's `rpmvercmp`: separators are dropped; `~` -> `!`, end -> `#`, `^` -> `^`,
//!   letters -> `a<letters>.`, digits -> `n<number>`: `~` < end < `^` < alpha < numeric.
//!
//! Keys only contain printable ASCII from `!` to `~`: no NUL (PostgreSQL text cannot hold it),
//! never a trailing space (MySQL PAD SPACE collations would ignore it), valid UTF-8 everywhere.

use std::cmp::Ordering;
use std::fmt::Write as _;

/// How a package's versions are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VersionScheme {
    /// Debian and Ubuntu (deb-version(7)): `[epoch:]upstream[-revision]`, compared with `verrevcmp`.
    Dpkg,
    /// Amazon Linux, RHEL and clones, SUSE, Fedora: `[epoch:]version[-release]` with `rpmvercmp`.
    Rpm,
    /// Windows: dot-separated numbers, trailing zero components ignored (`10.0` == `10.0.0`).
    ///
    /// Versions that are not all plain numbers ("1.2.3 beta", "2.0.0-rc1") are not pushed to one
    /// end: every comparison is [`Natural`](VersionScheme::Natural)'s `verrevcmp`, after
    /// all-numeric versions drop their trailing zero components (`10.0.0` -> `10`). On numbers
    /// that is exactly the component-wise order, and it stays one total order across both kinds:
    /// "1.2.3" < "1.2.3 beta" < "1.2.4".
    Dotted,
    /// The fallback: dpkg's `verrevcmp` on the whole string, without an epoch or revision split.
    Natural,
}

/// Longest key stored; longer keys are cut (at a char boundary) to fit the indexed column (bytes).
///
/// Versions whose keys share the first 700 bytes then compare equal in SQL; real versions are far
/// shorter.
pub const MAX_SORT_KEY_BYTES: usize = 700;

// Tokens of the verrevcmp encoding (dpkg, dotted, natural), in ascending order.
const NAT_TILDE: char = '!';
const NAT_END: char = '#';
const NAT_RUN_END: char = '/';
// (letters stand for themselves: 'A'..='Z', 'a'..='z')
const NAT_CONTROL: char = '{';
const NAT_PUNCT: char = '|';
const NAT_WIDE: char = '}';

// Tokens of the rpmvercmp encoding, in ascending order.
const RPM_TILDE: char = '!';
const RPM_END: char = '#';
const RPM_CARET: char = '^';
const RPM_ALPHA: char = 'a';
const RPM_NUMBER: char = 'n';
/// Ends an alpha segment; below every letter so that "a" < "ab".
const RPM_ALPHA_END: char = '.';
/// After the version part: a missing release sorts before any release.
const RPM_NO_RELEASE: char = '!';
const RPM_RELEASE: char = '-';

impl std::str::FromStr for VersionScheme {
    type Err = String;

    /// The stored name ([`VersionScheme::as_str`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|scheme| scheme.as_str() == s)
            .ok_or_else(|| format!("unknown version scheme {s:?}"))
    }
}

impl VersionScheme {
    /// Every scheme, in tag order.
    pub const ALL: [VersionScheme; 4] = [
        VersionScheme::Dpkg,
        VersionScheme::Rpm,
        VersionScheme::Dotted,
        VersionScheme::Natural,
    ];

    /// The stored name: "dpkg", "rpm", "dotted" or "natural".
    pub fn as_str(self) -> &'static str {
        match self {
            VersionScheme::Dpkg => "dpkg",
            VersionScheme::Rpm => "rpm",
            VersionScheme::Dotted => "dotted",
            VersionScheme::Natural => "natural",
        }
    }

    /// First char of every key of this scheme.
    fn tag(self) -> char {
        match self {
            VersionScheme::Dpkg => 'd',
            VersionScheme::Rpm => 'r',
            VersionScheme::Dotted => 'w',
            VersionScheme::Natural => 'n',
        }
    }

    /// The char right after [`tag`](Self::tag): every key of the scheme sorts below it.
    fn tag_successor(self) -> char {
        match self {
            VersionScheme::Dpkg => 'e',
            VersionScheme::Rpm => 's',
            VersionScheme::Dotted => 'x',
            VersionScheme::Natural => 'o',
        }
    }

    /// The scheme an instance's platform implies: EC2 PlatformDetails ("Linux/UNIX" says nothing -> None,
    /// "Windows", "Windows with SQL Server ...", "Red Hat Enterprise Linux", "SUSE Linux", "Ubuntu Pro")
    /// or SSM's "PlatformName PlatformVersion" ("Ubuntu 22.04", "Amazon Linux 2023", "Debian GNU/Linux 12",
    /// "CentOS Linux 7", "Rocky Linux 9", "AlmaLinux 9", "Oracle Linux Server 8", "Fedora", "openSUSE",
    /// "Microsoft Windows Server 2022 Datacenter").
    /// Case-insensitive substring rules; None when nothing matches.
    pub fn from_platform(platform: &str) -> Option<VersionScheme> {
        const DPKG: &[&str] = &["ubuntu", "debian", "raspbian", "linux mint"];
        const RPM: &[&str] = &[
            "amazon linux",
            "red hat",
            "rhel",
            "centos",
            "rocky",
            "almalinux",
            "alma linux",
            "oracle linux",
            "fedora",
            "suse",
            "sles",
            "scientific linux",
        ];
        let platform = platform.to_lowercase();
        let any = |needles: &[&str]| needles.iter().any(|n| platform.contains(n));
        if platform.contains("windows") {
            Some(VersionScheme::Dotted)
        } else if any(DPKG) {
            Some(VersionScheme::Dpkg)
        } else if any(RPM) {
            Some(VersionScheme::Rpm)
        } else {
            None
        }
    }

    /// The scheme an SSM AWS:Application entry's PackageId implies: "*.deb" -> Dpkg, "*.rpm" -> Rpm, else None.
    pub fn from_package_id(package_id: &str) -> Option<VersionScheme> {
        let id = package_id.trim().to_ascii_lowercase();
        if id.ends_with(".deb") {
            Some(VersionScheme::Dpkg)
        } else if id.ends_with(".rpm") {
            Some(VersionScheme::Rpm)
        } else {
            None
        }
    }

    /// The scheme of a write: the packages' own format (from SSM attributes) wins, then the OS
    /// release's (`Release::scheme`), then what EC2's platform implies, then Natural.
    pub fn detect(
        package_format: Option<VersionScheme>,
        release: Option<VersionScheme>,
        platform: Option<&str>,
    ) -> VersionScheme {
        package_format
            .or(release)
            .or_else(|| platform.and_then(VersionScheme::from_platform))
            .unwrap_or(VersionScheme::Natural)
    }

    /// Bytewise-ordered sort key of `version` in this scheme, starting with the scheme's one-character tag
    /// (so keys of different schemes never interleave: 'd', 'r', 'w', 'n').
    ///
    /// `key(a) < key(b)` exactly when `compare(a, b)` is `Less`, and equal versions get equal
    /// keys (up to [`MAX_SORT_KEY_BYTES`]). The key is printable ASCII without spaces.
    pub fn sort_key(self, version: &str) -> String {
        let mut key = String::with_capacity(32);
        key.push(self.tag());
        match self {
            VersionScheme::Dpkg => {
                let (epoch, rest) = split_epoch(version);
                let (upstream, revision) = split_release(rest);
                push_number(&mut key, epoch);
                push_natural(&mut key, upstream);
                push_natural(&mut key, revision.unwrap_or(""));
            }
            VersionScheme::Rpm => {
                let (epoch, rest) = split_epoch(version);
                let (version, release) = split_release(rest);
                push_number(&mut key, epoch);
                push_rpm(&mut key, version);
                match release {
                    None => key.push(RPM_NO_RELEASE),
                    Some(release) => {
                        key.push(RPM_RELEASE);
                        push_rpm(&mut key, release);
                    }
                }
            }
            VersionScheme::Dotted => push_natural(&mut key, dotted_canonical(version)),
            VersionScheme::Natural => push_natural(&mut key, version),
        }
        truncate_key(key)
    }

    /// Whether `version` is well-formed in this scheme, as the package tools read it; the error
    /// says what is wrong. Advisory feeds use it to refuse a record rather than store a bound that
    /// orders by accident.
    ///
    /// - dpkg (deb-version(7), and what `dpkg --compare-versions` warns or fails on): an epoch of
    ///   digits, an upstream part that starts with a digit and holds only `A-Za-z0-9.+~-:`, a
    ///   revision of `A-Za-z0-9.+~`, nothing empty around `:` or the last `-`, no spaces.
    /// - rpm: an epoch of digits, a version and a release of `A-Za-z0-9._+~^` (rpmbuild refuses
    ///   others), nothing empty around `:` or `-`.
    /// - dotted and natural: any non-empty text without control characters.
    pub fn check_syntax(self, version: &str) -> Result<(), &'static str> {
        if version.is_empty() {
            return Err("empty version");
        }
        if version.chars().any(char::is_control) {
            return Err("version has control characters");
        }
        let (epoch, rest) = match version.split_once(':') {
            Some((epoch, rest)) => (Some(epoch), rest),
            None => (None, version),
        };
        match self {
            VersionScheme::Dpkg | VersionScheme::Rpm => {
                if version.contains(char::is_whitespace) {
                    return Err("version has spaces");
                }
                if let Some(epoch) = epoch {
                    if epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()) {
                        return Err("epoch is not a number");
                    }
                }
                if rest.is_empty() {
                    return Err("nothing after the epoch");
                }
            }
            VersionScheme::Dotted | VersionScheme::Natural => return Ok(()),
        }
        let (upstream, revision) = split_release(rest);
        if upstream.is_empty() {
            return Err("version part is empty");
        }
        if revision == Some("") {
            return Err("revision or release is empty");
        }
        let dpkg_upstream = |c: char| c.is_ascii_alphanumeric() || ".+~-:".contains(c);
        let dpkg_revision = |c: char| c.is_ascii_alphanumeric() || ".+~".contains(c);
        let rpm_part = |c: char| c.is_ascii_alphanumeric() || "._+~^".contains(c);
        let (upstream_ok, revision_ok): (&dyn Fn(char) -> bool, &dyn Fn(char) -> bool) = match self
        {
            VersionScheme::Dpkg => {
                if !upstream.starts_with(|c: char| c.is_ascii_digit()) {
                    return Err("version does not start with a digit");
                }
                (&dpkg_upstream, &dpkg_revision)
            }
            _ => (&rpm_part, &rpm_part),
        };
        if !upstream.chars().all(upstream_ok) {
            return Err("invalid character in the version part");
        }
        if !revision.unwrap_or_default().chars().all(revision_ok) {
            return Err("invalid character in the revision or release");
        }
        Ok(())
    }

    /// Reference comparison, written straight from the ecosystems' algorithms (dpkg's verrevcmp, rpm's rpmvercmp),
    /// independent of sort_key: the tests check that sort_key agrees with it.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            VersionScheme::Dpkg => dpkg_compare(a, b),
            VersionScheme::Rpm => rpm_compare(a, b),
            VersionScheme::Dotted => dotted_compare(a, b),
            VersionScheme::Natural => verrevcmp(a, b),
        }
    }
}

/// A range of versions: each bound optional, inclusive or exclusive (version_lt / le / gt / ge).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionRange {
    /// Versions must sort after (or, if inclusive, equal to) this one.
    pub lower: Option<Bound>,
    /// Versions must sort before (or, if inclusive, equal to) this one.
    pub upper: Option<Bound>,
}

/// One end of a [`VersionRange`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    /// The version as written; it is interpreted in the scheme of each package it is matched against.
    pub version: String,
    /// Whether a version equal to `version` (by the scheme) is inside the range.
    pub inclusive: bool,
}

impl VersionRange {
    /// True when there is no bound at all, i.e. the range filters nothing.
    pub fn is_empty_filter(&self) -> bool {
        self.lower.is_none() && self.upper.is_none()
    }

    /// The query parameter of the first bound given (`version_lt`, `version_le`,
    /// `version_gt`, `version_ge`), for error messages; `None` without bounds.
    pub fn first_field(&self) -> Option<&'static str> {
        let upper = self.upper.as_ref().map(|b| {
            if b.inclusive {
                "version_le"
            } else {
                "version_lt"
            }
        });
        let lower = self.lower.as_ref().map(|b| {
            if b.inclusive {
                "version_ge"
            } else {
                "version_gt"
            }
        });
        upper.or(lower)
    }

    /// The half-open key interval [from, to) of this range in `scheme`: SQL `key >= from AND key < to`.
    /// No lower bound: from = the tag alone; no upper bound: to = the tag's successor char (e.g. "e" for 'd').
    /// Inclusive upper / exclusive lower use the key's successor (key + "\u{1}"): stored keys never contain
    /// a char below '!' right after a complete key, so nothing lies between a key and its successor.
    ///
    /// Either way the interval only ever holds keys of `scheme`. When the bounds cross, `from >= to`
    /// and the interval is empty.
    pub fn key_interval(&self, scheme: VersionScheme) -> (String, String) {
        let from = match &self.lower {
            None => scheme.tag().to_string(),
            Some(bound) if bound.inclusive => scheme.sort_key(&bound.version),
            Some(bound) => successor(scheme.sort_key(&bound.version)),
        };
        let to = match &self.upper {
            None => scheme.tag_successor().to_string(),
            Some(bound) if bound.inclusive => successor(scheme.sort_key(&bound.version)),
            Some(bound) => scheme.sort_key(&bound.version),
        };
        (from, to)
    }
}

/// The smallest string above `key` that is not a stored key or an extension of one.
fn successor(mut key: String) -> String {
    key.push('\u{1}');
    key
}

fn truncate_key(mut key: String) -> String {
    if key.len() > MAX_SORT_KEY_BYTES {
        let mut cut = MAX_SORT_KEY_BYTES;
        while !key.is_char_boundary(cut) {
            cut -= 1;
        }
        key.truncate(cut);
    }
    key
}

// ---------------------------------------------------------------------------------------------
// Parsing shared by compare and sort_key.

/// Splits `[epoch:]rest`: the epoch is the part before the first colon when it is all ASCII
/// digits (empty means 0, as rpm reads it); otherwise there is no epoch ("").
fn split_epoch(version: &str) -> (&str, &str) {
    match version.split_once(':') {
        Some((epoch, rest)) if epoch.bytes().all(|b| b.is_ascii_digit()) => (epoch, rest),
        _ => ("", version),
    }
}

/// Splits `version[-release]` at the last hyphen.
fn split_release(version: &str) -> (&str, Option<&str>) {
    match version.rsplit_once('-') {
        Some((version, release)) => (version, Some(release)),
        None => (version, None),
    }
}

/// The components of an all-numeric dotted version ("10.0.19041"), or None.
fn numeric_components(version: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = version.split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    numeric.then_some(parts)
}

fn is_zero(digits: &str) -> bool {
    digits.bytes().all(|b| b == b'0')
}

/// An all-numeric dotted version without its trailing zero components (keeping the first);
/// any other version unchanged.
fn dotted_canonical(version: &str) -> &str {
    if numeric_components(version).is_none() {
        return version;
    }
    let mut canonical = version;
    while let Some((head, last)) = canonical.rsplit_once('.') {
        if !is_zero(last) {
            break;
        }
        canonical = head;
    }
    canonical
}

// ---------------------------------------------------------------------------------------------
// Reference comparisons.

/// Compares two ASCII digit strings by value, of any length.
fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn dpkg_compare(a: &str, b: &str) -> Ordering {
    let (epoch_a, rest_a) = split_epoch(a);
    let (epoch_b, rest_b) = split_epoch(b);
    let (upstream_a, revision_a) = split_release(rest_a);
    let (upstream_b, revision_b) = split_release(rest_b);
    cmp_digits(epoch_a, epoch_b)
        .then_with(|| verrevcmp(upstream_a, upstream_b))
        .then_with(|| verrevcmp(revision_a.unwrap_or(""), revision_b.unwrap_or("")))
}

fn rpm_compare(a: &str, b: &str) -> Ordering {
    let (epoch_a, rest_a) = split_epoch(a);
    let (epoch_b, rest_b) = split_epoch(b);
    let (version_a, release_a) = split_release(rest_a);
    let (version_b, release_b) = split_release(rest_b);
    cmp_digits(epoch_a, epoch_b)
        .then_with(|| rpmvercmp(version_a, version_b))
        .then_with(|| match (release_a, release_b) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(a), Some(b)) => rpmvercmp(a, b),
        })
}

fn dotted_compare(a: &str, b: &str) -> Ordering {
    match (numeric_components(a), numeric_components(b)) {
        (Some(a), Some(b)) => (0..a.len().max(b.len()))
            .map(|i| {
                cmp_digits(
                    a.get(i).copied().unwrap_or("0"),
                    b.get(i).copied().unwrap_or("0"),
                )
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal),
        _ => verrevcmp(dotted_canonical(a), dotted_canonical(b)),
    }
}

/// dpkg's `order()`: weight of a char in a non-digit run; the end of the run (a digit or the end
/// of the string) weighs 0. Letters are ASCII only, as dpkg's `c_isalpha`.
fn dpkg_order(c: Option<char>) -> i64 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i64::from(u32::from(c)),
        Some('~') => -1,
        Some(c) => i64::from(u32::from(c)) + 256,
    }
}

/// dpkg's `verrevcmp` (lib/dpkg/version.c), on chars instead of bytes.
fn verrevcmp(a: &str, b: &str) -> Ordering {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let digit_at = |s: &[char], k: usize| s.get(k).is_some_and(char::is_ascii_digit);
    let non_digit_at = |s: &[char], k: usize| s.get(k).is_some_and(|c| !c.is_ascii_digit());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while non_digit_at(&a, i) || non_digit_at(&b, j) {
            let ac = dpkg_order(a.get(i).copied());
            let bc = dpkg_order(b.get(j).copied());
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&'0') {
            i += 1;
        }
        while b.get(j) == Some(&'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while digit_at(&a, i) && digit_at(&b, j) {
            if first_diff == Ordering::Equal {
                first_diff = a.get(i).cmp(&b.get(j));
            }
            i += 1;
            j += 1;
        }
        if digit_at(&a, i) {
            return Ordering::Greater;
        }
        if digit_at(&b, j) {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

/// rpm's `rpmvercmp` (rpmio/rpmvercmp.c, rpm 4.15+ with `^`), on chars instead of bytes.
fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let is_separator =
        |c: Option<char>| c.is_some_and(|c| !c.is_ascii_alphanumeric() && c != '~' && c != '^');
    let (mut one, mut two) = (0, 0);
    while one < a.len() || two < b.len() {
        while is_separator(a.get(one).copied()) {
            one += 1;
        }
        while is_separator(b.get(two).copied()) {
            two += 1;
        }
        let (c1, c2) = (a.get(one).copied(), b.get(two).copied());

        // Tilde sorts before everything else, even the end.
        if c1 == Some('~') || c2 == Some('~') {
            if c1 != Some('~') {
                return Ordering::Greater;
            }
            if c2 != Some('~') {
                return Ordering::Less;
            }
            one += 1;
            two += 1;
            continue;
        }

        // Caret sorts after the end but before any segment.
        if c1 == Some('^') || c2 == Some('^') {
            if c1.is_none() {
                return Ordering::Less;
            }
            if c2.is_none() {
                return Ordering::Greater;
            }
            if c1 != Some('^') {
                return Ordering::Greater;
            }
            if c2 != Some('^') {
                return Ordering::Less;
            }
            one += 1;
            two += 1;
            continue;
        }

        let (Some(c1), Some(_)) = (c1, c2) else {
            break;
        };

        let is_num = c1.is_ascii_digit();
        let segment_end = |s: &[char], start: usize| {
            let mut end = start;
            while s.get(end).is_some_and(|c| {
                if is_num {
                    c.is_ascii_digit()
                } else {
                    c.is_ascii_alphabetic()
                }
            }) {
                end += 1;
            }
            end
        };
        let (end1, end2) = (segment_end(&a, one), segment_end(&b, two));

        // Different segment types: numeric is newer than alpha.
        if end2 == two {
            return if is_num {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }

        let mut seg1 = a.get(one..end1).unwrap_or_default();
        let mut seg2 = b.get(two..end2).unwrap_or_default();
        if is_num {
            while seg1.first() == Some(&'0') {
                seg1 = &seg1[1..];
            }
            while seg2.first() == Some(&'0') {
                seg2 = &seg2[1..];
            }
            if seg1.len() != seg2.len() {
                return seg1.len().cmp(&seg2.len());
            }
        }
        let rc = seg1.cmp(seg2);
        if rc != Ordering::Equal {
            return rc;
        }
        one = end1;
        two = end2;
    }
    // All segments equal: whichever version has something left over wins.
    match (one >= a.len(), two >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

// ---------------------------------------------------------------------------------------------
// Key encoding.

/// Appends the order-preserving form of a run of ASCII digits: "0" for zero, else the digit count
/// of its length, its length, its digits. Self-delimiting; more digits sort later.
fn push_number(out: &mut String, digits: &str) {
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        out.push('0');
        return;
    }
    let len = digits.len().to_string();
    // At most 20 digits in a usize length: '0' + 20 = 'D', still printable and ordered.
    out.push(char::from(b'0' + len.len() as u8));
    out.push_str(&len);
    out.push_str(digits);
}

/// Appends a char of a non-digit run that is neither `~` nor a letter, in code point order.
fn push_other(out: &mut String, c: char) {
    let code = u32::from(c);
    if code < 0x21 {
        out.push(NAT_CONTROL);
        let _ = write!(out, "{code:02X}"); // writing to a String cannot fail
    } else if code < 0x7F {
        out.push(NAT_PUNCT);
        out.push(c);
    } else {
        out.push(NAT_WIDE);
        let _ = write!(out, "{code:06X}");
    }
}

/// Appends the key of `version` under dpkg's `verrevcmp`: (non-digit run, number) pairs, then `#`.
fn push_natural(out: &mut String, version: &str) {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let mut rest = version;
    while !rest.is_empty() {
        let run_end = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (run, after) = rest.split_at(run_end);
        let digits_end = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        let (digits, tail) = after.split_at(digits_end);
        pairs.push((run, digits));
        rest = tail;
    }
    // verrevcmp pads the shorter version with ("", 0) pairs. Only the first pair can have an empty
    // run, so give every version a first pair ("" == "0" == "/0"): from then on a version that
    // ends meets a run, and `#` sorts exactly between a leading `~` and anything else.
    if pairs.is_empty() {
        pairs.push(("", ""));
    }
    for (run, digits) in pairs {
        for c in run.chars() {
            match c {
                '~' => out.push(NAT_TILDE),
                c if c.is_ascii_alphabetic() => out.push(c),
                c => push_other(out, c),
            }
        }
        out.push(NAT_RUN_END);
        push_number(out, digits);
    }
    out.push(NAT_END);
}

/// Appends the key of `version` under `rpmvercmp`: `~`, `^`, alpha and numeric segments, then `#`.
fn push_rpm(out: &mut String, version: &str) {
    let mut rest = version;
    loop {
        rest =
            rest.trim_start_matches(|c: char| !c.is_ascii_alphanumeric() && c != '~' && c != '^');
        let Some(c) = rest.chars().next() else {
            break;
        };
        let end = match c {
            '~' | '^' => {
                out.push(if c == '~' { RPM_TILDE } else { RPM_CARET });
                1
            }
            c if c.is_ascii_digit() => {
                let end = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                out.push(RPM_NUMBER);
                push_number(out, &rest[..end]);
                end
            }
            _ => {
                let end = rest
                    .find(|c: char| !c.is_ascii_alphabetic())
                    .unwrap_or(rest.len());
                out.push(RPM_ALPHA);
                out.push_str(&rest[..end]);
                out.push(RPM_ALPHA_END);
                end
            }
        };
        rest = &rest[end..];
    }
    out.push(RPM_END);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Ordering::{Equal, Greater, Less};
    use VersionScheme::{Dotted, Dpkg, Natural, Rpm};

    /// (scheme, a, expected compare(a, b), b), real versions from real distributions.
    const PAIRS: &[(VersionScheme, &str, Ordering, &str)] = &[
        // dpkg (Debian, Ubuntu)
        (Dpkg, "1.0~rc1", Less, "1.0"),
        (Dpkg, "2:1.0", Greater, "1:9.9"),
        (Dpkg, "1.0-10", Greater, "1.0-9"),
        (Dpkg, "3.0.9", Less, "3.0.13"),
        (Dpkg, "3.0.2-0ubuntu1.15", Less, "3.0.2-0ubuntu1.16"),
        (Dpkg, "3.0.2-0ubuntu1.9", Less, "3.0.2-0ubuntu1.10"),
        (Dpkg, "1.1.1f-1ubuntu2.20", Less, "3.0.2-0ubuntu1.15"),
        (Dpkg, "1:2.38.1-5+deb12u1", Greater, "2.39.3-6"),
        (Dpkg, "1:2.38.1-5", Less, "1:2.38.1-5+deb12u1"),
        (Dpkg, "1:2.38.1-5+deb12u1", Less, "1:2.38.1-5+deb12u2"),
        (Dpkg, "7.88.1-10+deb12u5", Less, "7.88.1-10+deb12u7"),
        (Dpkg, "1.2.3+dfsg-1", Greater, "1.2.3-1"),
        (Dpkg, "1:9.18.19-1~deb12u1", Less, "1:9.18.19-1"),
        (Dpkg, "2.36-9+deb12u3", Less, "2.36-9+deb12u10"),
        (Dpkg, "5.15.0-91.101", Less, "5.15.0-101.111"),
        (Dpkg, "2:8.2.3995-1ubuntu2.15", Greater, "9.0.1378-2"),
        (Dpkg, "1.0", Equal, "1.0-0"),
        (Dpkg, "1.0", Equal, "0:1.0"),
        (Dpkg, "0:1.0-0", Equal, "1.0"),
        (Dpkg, "1.01", Equal, "1.1"),
        // rpm (Amazon Linux, RHEL and clones, SUSE, Fedora)
        (Rpm, "3.0.8-1.amzn2023.0.12", Less, "3.0.8-1.amzn2023.0.14"),
        (Rpm, "1:3.0.7-27.el9", Greater, "3.0.9-1.el9"),
        (Rpm, "1.0~rc1", Less, "1.0"),
        (Rpm, "1.0^git1", Greater, "1.0"),
        (Rpm, "1.0^git1", Less, "1.0.1"),
        (Rpm, "2.02-142.el8", Less, "2.02-148.el8"),
        (Rpm, "5.14.0-362.8.1.el9_3", Less, "5.14.0-362.24.1.el9_3"),
        (Rpm, "5.14.0-284.11.1.el9_2", Less, "5.14.0-362.8.1.el9_3"),
        (Rpm, "1.0a", Less, "1.0.1"),
        (Rpm, "1.a", Less, "1.1"),
        (Rpm, "a", Less, "1"),
        (Rpm, "1.0", Equal, "1_0"),
        (Rpm, "1.0", Equal, "0:1.0"),
        (Rpm, "3.0.13", Less, "3.0.13-1"),
        (Rpm, "1:1.0.2k-24.amzn2.0.7", Less, "1:1.0.2k-24.amzn2.0.11"),
        (
            Rpm,
            "1:1.0.2k-24.amzn2.0.7",
            Greater,
            "3.0.8-1.amzn2023.0.12",
        ),
        (Rpm, "2.0.1-1.el7", Less, "2.0.1-1.el7_9"),
        (Rpm, "3.1.4-150600.5.7.1", Less, "3.1.4-150600.5.10.1"),
        (Rpm, "6.5.6-300.fc39", Less, "6.6.2-200.fc39"),
        (Rpm, "1.0.0", Greater, "1.0"),
        // dotted (Windows)
        (Dotted, "10.0.19041.1", Less, "10.0.19041.3570"),
        (Dotted, "3.0.9", Less, "3.0.13"),
        (Dotted, "119.0.2151.58", Less, "119.0.2151.97"),
        (Dotted, "119.0.2151.58", Less, "120.0.2210.61"),
        (Dotted, "10.0", Equal, "10.0.0"),
        (Dotted, "14.36.32532.0", Equal, "14.36.32532"),
        (Dotted, "10.0.17763.5206", Greater, "10.0.17763"),
        (Dotted, "1.2.3 beta", Greater, "1.2.3"),
        (Dotted, "1.2.3 beta", Less, "1.2.4"),
        // natural (anything else)
        (Natural, "3.0.9", Less, "3.0.13"),
        (Natural, "v1.2", Less, "v1.10"),
        (Natural, "1.0~rc1", Less, "1.0"),
        (Natural, "1.0", Less, "1.0.0"),
        (Natural, "0", Equal, ""),
    ];

    /// Each list is ascending, strictly.
    const CHAINS: &[(VersionScheme, &[&str])] = &[
        (Dpkg, &["1.0~~", "1.0~", "1.0", "1.0a", "1.0+"]),
        (
            Rpm,
            &["1.0~~", "1.0~", "1.0", "1.0^", "1.0^git1", "1.0a", "1.0.1"],
        ),
        (Dotted, &["1", "1.0.1", "1.2", "1.10", "2"]),
        (Natural, &["1.0~~", "1.0~", "1.0", "1.0a", "1.0+", "1.0.1"]),
    ];

    const ODD: &[&str] = &[
        "",
        "::::",
        "----",
        "~",
        "^",
        "0",
        "00",
        ":",
        "-",
        "1:",
        ":1",
        "1-",
        "-1",
        "~~^^~~",
        "\0",
        "\0\0",
        "\t 1.0 \n",
        " ",
        "1 ",
        "\u{7f}",
        "é",
        "\u{1F600}1.0",
        "١٢٣",
        "𝟙.𝟚",
        "\u{10FFFF}",
        "a\u{0301}",
        "0000000000000000000000000000001",
    ];

    fn check(scheme: VersionScheme, a: &str, expected: Ordering, b: &str) {
        assert_eq!(scheme.compare(a, b), expected, "{scheme:?}: {a:?} vs {b:?}");
        assert_eq!(
            scheme.compare(b, a),
            expected.reverse(),
            "{scheme:?}: {b:?} vs {a:?}"
        );
        let (ka, kb) = (scheme.sort_key(a), scheme.sort_key(b));
        assert_eq!(
            ka.cmp(&kb),
            expected,
            "{scheme:?}: keys {ka:?} of {a:?} vs {kb:?} of {b:?}"
        );
    }

    fn assert_key_chars(key: &str) {
        assert!(
            key.len() <= MAX_SORT_KEY_BYTES,
            "key too long: {}",
            key.len()
        );
        assert!(
            key.chars().all(|c| ('!'..='~').contains(&c)),
            "key {key:?} has a char outside '!'..='~'"
        );
    }

    #[test]
    fn listed_pairs() {
        for &(scheme, a, expected, b) in PAIRS {
            check(scheme, a, expected, b);
        }
    }

    #[test]
    fn chains() {
        for &(scheme, chain) in CHAINS {
            for (i, a) in chain.iter().enumerate() {
                for (j, b) in chain.iter().enumerate() {
                    check(scheme, a, i.cmp(&j), b);
                }
            }
        }
    }

    /// The vectors of rpm's own test suite (tests/rpmvercmp.at, rpm 4.15+), including the
    /// "oddities" it documents: non-ASCII chars are separators.
    #[test]
    fn rpm_upstream_vectors() {
        const VECTORS: &[(&str, &str, i8)] = &[
            ("1.0", "1.0", 0),
            ("1.0", "2.0", -1),
            ("2.0.1", "2.0.1", 0),
            ("2.0", "2.0.1", -1),
            ("2.0.1a", "2.0.1a", 0),
            ("2.0.1a", "2.0.1", 1),
            ("5.5p1", "5.5p2", -1),
            ("5.5p10", "5.5p10", 0),
            ("5.5p1", "5.5p10", -1),
            ("10xyz", "10.1xyz", -1),
            ("xyz10", "xyz10", 0),
            ("xyz10", "xyz10.1", -1),
            ("xyz.4", "xyz.4", 0),
            ("xyz.4", "8", -1),
            ("xyz.4", "2", -1),
            ("5.5p2", "5.6p1", -1),
            ("5.6p1", "6.5p1", -1),
            ("6.0.rc1", "6.0", 1),
            ("10b2", "10a1", 1),
            ("10a2", "10b2", -1),
            ("1.0aa", "1.0aa", 0),
            ("1.0a", "1.0aa", -1),
            ("10.0001", "10.1", 0),
            ("10.0001", "10.0039", -1),
            ("4.999.9", "5.0", -1),
            ("20101121", "20101122", -1),
            ("2_0", "2_0", 0),
            ("2.0", "2_0", 0),
            ("a", "a", 0),
            ("a+", "a_", 0),
            ("+a", "_a", 0),
            ("_+", "+_", 0),
            ("+", "_", 0),
            ("1.0~rc1", "1.0~rc1", 0),
            ("1.0~rc1", "1.0", -1),
            ("1.0~rc1", "1.0~rc2", -1),
            ("1.0~rc1~git123", "1.0~rc1", -1),
            ("1.0^", "1.0^", 0),
            ("1.0^", "1.0", 1),
            ("1.0^git1", "1.0", 1),
            ("1.0^git1", "1.0^git2", -1),
            ("1.0^git1", "1.01", -1),
            ("1.0^20160101", "1.0.1", -1),
            ("1.0^20160102", "1.0^20160101^git1", 1),
            ("1.0~rc1^git1", "1.0~rc1", 1),
            ("1.0^git1", "1.0^git1~pre", 1),
            ("1b.fc17", "1.fc17", -1),
            ("1g.fc17", "1.fc17", 1),
            ("1.1.α", "1.1.β", 0),
            ("1.1.αα", "1.1.α", 0),
            ("1.1.ββ", "1.1.αα", 0),
        ];
        for &(a, b, expected) in VECTORS {
            check(Rpm, a, expected.cmp(&0), b);
        }
    }

    /// The pieces generated versions are made of: digits, letters and every
    /// separator the schemes treat apart.
    const PIECES: &[&str] = &[
        "0", "1", "9", "10", "00", "a", "b", "z", "A", "~", "^", ".", "-", "+", ":", "_", " ", "é",
    ];
    /// The numbers of all-numeric dotted versions (Dotted's trailing zeros).
    const NUMBERS: &[&str] = &["0", "00", "1", "9", "10", "010"];

    /// Odd strings of up to 6 pieces, and dotted numbers of 1 to 4 parts.
    fn generated_version() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::collection::vec(prop::sample::select(PIECES), 0..7).prop_map(|p| p.concat()),
            prop::collection::vec(prop::sample::select(NUMBERS), 1..5).prop_map(|p| p.join(".")),
        ]
    }

    /// Real versions and odd inputs, each compared with every other.
    fn corpus() -> Vec<String> {
        let mut versions: Vec<String> = PAIRS
            .iter()
            .flat_map(|&(_, a, _, b)| [a, b])
            .chain(CHAINS.iter().flat_map(|&(_, chain)| chain.iter().copied()))
            .chain(ODD.iter().copied())
            .map(str::to_string)
            .collect();
        versions.sort();
        versions.dedup();
        versions
    }

    proptest! {
        // Many cheap cases: the generated corpus compared 500 versions
        // pairwise before it became a property.
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Generated versions, shrunk to the smallest pair that disagrees.
        #[test]
        fn sort_key_agrees_with_compare_on_generated_versions(
            a in generated_version(),
            b in generated_version(),
        ) {
            for scheme in VersionScheme::ALL {
                let (ka, kb) = (scheme.sort_key(&a), scheme.sort_key(&b));
                assert_key_chars(&ka);
                prop_assert!(ka.starts_with(scheme.tag()));
                prop_assert_eq!(ka.cmp(&kb), scheme.compare(&a, &b), "{:?}: {:?} vs {:?}", scheme, a, b);
            }
        }

        /// A generated version is selected by a generated range's key
        /// interval exactly when the scheme's comparison puts it inside.
        #[test]
        fn key_interval_selects_exactly_the_generated_range(
            v in generated_version(),
            lower in prop::option::of((generated_version(), any::<bool>())),
            upper in prop::option::of((generated_version(), any::<bool>())),
        ) {
            let range = VersionRange {
                lower: lower.map(|(version, inclusive)| Bound { version, inclusive }),
                upper: upper.map(|(version, inclusive)| Bound { version, inclusive }),
            };
            for scheme in VersionScheme::ALL {
                let (from, to) = range.key_interval(scheme);
                let key = scheme.sort_key(&v);
                let selected = from.as_str() <= key.as_str() && key.as_str() < to.as_str();
                prop_assert_eq!(selected, in_range(scheme, &range, &v), "{:?} {:?}: {:?}", scheme, range, v);
            }
        }
    }

    #[test]
    fn sort_key_agrees_with_compare_exhaustively() {
        let versions = corpus();
        assert!(
            versions.len() > 100,
            "corpus has {} versions",
            versions.len()
        );
        for scheme in VersionScheme::ALL {
            let keys: Vec<String> = versions.iter().map(|v| scheme.sort_key(v)).collect();
            for key in &keys {
                assert_key_chars(key);
                assert!(key.starts_with(scheme.tag()));
            }
            for (a, ka) in versions.iter().zip(&keys) {
                for (b, kb) in versions.iter().zip(&keys) {
                    assert_eq!(
                        ka.cmp(kb),
                        scheme.compare(a, b),
                        "{scheme:?}: {a:?} (key {ka:?}) vs {b:?} (key {kb:?})"
                    );
                }
            }
        }
    }

    fn in_range(scheme: VersionScheme, range: &VersionRange, v: &str) -> bool {
        let above = range
            .lower
            .as_ref()
            .is_none_or(|b| match scheme.compare(v, &b.version) {
                Greater => true,
                Equal => b.inclusive,
                Less => false,
            });
        let below = range
            .upper
            .as_ref()
            .is_none_or(|b| match scheme.compare(v, &b.version) {
                Less => true,
                Equal => b.inclusive,
                Greater => false,
            });
        above && below
    }

    fn bound(version: &str, inclusive: bool) -> Option<Bound> {
        Some(Bound {
            version: version.to_string(),
            inclusive,
        })
    }

    #[test]
    fn key_interval_selects_exactly_the_range() {
        let versions = corpus();
        let bounds = [
            "",
            "0",
            "~",
            "^",
            "1.0",
            "1.0~rc1",
            "1.0-0",
            "0:1.0",
            "1:1.0",
            "1.0^git1",
            "1.0.0",
            "3.0.13",
            "3.0.13-1",
            "3.0.2-0ubuntu1.15",
            "3.0.8-1.amzn2023.0.12",
            "10.0",
            "10.0.19041.3570",
            "1.2.3 beta",
            "a",
            "z~",
            "é",
            "::::",
            "----",
        ];
        let all_keys: Vec<(VersionScheme, &str, String)> = VersionScheme::ALL
            .iter()
            .flat_map(|&s| versions.iter().map(move |v| (s, v.as_str(), s.sort_key(v))))
            .collect();
        let mut ranges = vec![VersionRange::default()];
        for (i, &b) in bounds.iter().enumerate() {
            let next = bounds[(i + 7) % bounds.len()];
            ranges.extend([
                VersionRange {
                    lower: None,
                    upper: bound(b, false),
                },
                VersionRange {
                    lower: None,
                    upper: bound(b, true),
                },
                VersionRange {
                    lower: bound(b, false),
                    upper: None,
                },
                VersionRange {
                    lower: bound(b, true),
                    upper: None,
                },
                VersionRange {
                    lower: bound(b, true),
                    upper: bound(next, false),
                },
                VersionRange {
                    lower: bound(b, false),
                    upper: bound(next, true),
                },
            ]);
        }
        for scheme in VersionScheme::ALL {
            for range in &ranges {
                let (from, to) = range.key_interval(scheme);
                assert!(!from.contains('\0') && !to.contains('\0'));
                for (key_scheme, v, key) in &all_keys {
                    let selected = from.as_str() <= key.as_str() && key.as_str() < to.as_str();
                    let expected = *key_scheme == scheme && in_range(scheme, range, v);
                    assert_eq!(
                        selected, expected,
                        "{scheme:?} {range:?}: [{from:?}, {to:?}) vs {key_scheme:?} {v:?} key {key:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn empty_filter() {
        assert!(VersionRange::default().is_empty_filter());
        let range = VersionRange {
            lower: None,
            upper: bound("1.0", false),
        };
        assert!(!range.is_empty_filter());
        assert_eq!(
            VersionRange::default().key_interval(Dpkg),
            ("d".to_string(), "e".to_string())
        );
    }

    #[test]
    fn no_panic_on_odd_input() {
        let long_digits = "1".repeat(128);
        let zeros_then_digits = format!("{}{}", "0".repeat(200), "7".repeat(128));
        let huge = "é.~^-:".repeat(2000);
        let huge_digits = "9".repeat(5000);
        let inputs: Vec<&str> = ODD
            .iter()
            .copied()
            .chain([
                long_digits.as_str(),
                zeros_then_digits.as_str(),
                huge.as_str(),
                huge_digits.as_str(),
            ])
            .collect();
        for scheme in VersionScheme::ALL {
            for a in &inputs {
                assert_key_chars(&scheme.sort_key(a));
                for b in &inputs {
                    let _ = scheme.compare(a, b);
                }
                let range = VersionRange {
                    lower: bound(a, false),
                    upper: bound(a, true),
                };
                let _ = range.key_interval(scheme);
            }
        }
        for a in &inputs {
            let _ = VersionScheme::from_platform(a);
            let _ = VersionScheme::from_package_id(a);
        }
        // 128-digit runs still compare by value.
        let bigger = format!("1{long_digits}");
        for scheme in VersionScheme::ALL {
            check(scheme, &long_digits, Less, &bigger);
            check(scheme, &long_digits, Equal, &format!("000{long_digits}"));
        }
        assert_eq!(Natural.sort_key(&huge_digits).len(), MAX_SORT_KEY_BYTES);
    }

    #[test]
    fn names_and_tags() {
        let names: Vec<&str> = VersionScheme::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["dpkg", "rpm", "dotted", "natural"]);
        for scheme in VersionScheme::ALL {
            assert_eq!(
                u32::from(scheme.tag_successor()),
                u32::from(scheme.tag()) + 1
            );
            for other in VersionScheme::ALL {
                assert_eq!(scheme.tag() == other.tag(), scheme == other);
            }
        }
    }

    #[test]
    fn platform_detection() {
        let cases: &[(&str, Option<VersionScheme>)] = &[
            ("Linux/UNIX", None),
            ("Linux with SQL Server Standard", None),
            ("", None),
            ("Windows", Some(Dotted)),
            ("Windows BYOL", Some(Dotted)),
            ("Windows with SQL Server Enterprise", Some(Dotted)),
            ("Microsoft Windows Server 2022 Datacenter", Some(Dotted)),
            ("Red Hat Enterprise Linux", Some(Rpm)),
            ("Red Hat Enterprise Linux with HA", Some(Rpm)),
            ("Red Hat BYOL Linux", Some(Rpm)),
            ("SUSE Linux", Some(Rpm)),
            ("Ubuntu Pro", Some(Dpkg)),
            ("Ubuntu 22.04", Some(Dpkg)),
            ("UBUNTU", Some(Dpkg)),
            ("Debian GNU/Linux 12", Some(Dpkg)),
            ("Amazon Linux 2023", Some(Rpm)),
            ("Amazon Linux 2", Some(Rpm)),
            ("CentOS Linux 7", Some(Rpm)),
            ("Rocky Linux 9", Some(Rpm)),
            ("AlmaLinux 9", Some(Rpm)),
            ("Oracle Linux Server 8", Some(Rpm)),
            ("Fedora", Some(Rpm)),
            ("openSUSE", Some(Rpm)),
            ("openSUSE Leap 15.5", Some(Rpm)),
        ];
        for &(platform, expected) in cases {
            assert_eq!(
                VersionScheme::from_platform(platform),
                expected,
                "{platform:?}"
            );
        }
    }

    #[test]
    fn package_id_detection() {
        let cases: &[(&str, Option<VersionScheme>)] = &[
            ("openssl_3.0.2-0ubuntu1.15_amd64.deb", Some(Dpkg)),
            ("openssl-3.0.8-1.amzn2023.0.12.x86_64.rpm", Some(Rpm)),
            ("kernel-5.14.0-362.8.1.el9_3.x86_64.RPM", Some(Rpm)),
            ("{90160000-008C-0000-1000-0000000FF1CE}", None),
            ("openssl", None),
            ("notes.deb.txt", None),
            ("", None),
        ];
        for &(id, expected) in cases {
            assert_eq!(VersionScheme::from_package_id(id), expected, "{id:?}");
        }
    }

    #[test]
    fn scheme_detection() {
        assert_eq!(
            VersionScheme::detect(Some(Rpm), Some(Dpkg), Some("Ubuntu")),
            Rpm
        );
        assert_eq!(VersionScheme::detect(Some(Dpkg), None, None), Dpkg);
        // The OS release says more than EC2's platform.
        assert_eq!(
            VersionScheme::detect(None, Some(Dpkg), Some("Linux/UNIX")),
            Dpkg
        );
        assert_eq!(
            VersionScheme::detect(None, Some(Rpm), Some("Ubuntu 22.04")),
            Rpm
        );
        assert_eq!(
            VersionScheme::detect(None, None, Some("Ubuntu 22.04")),
            Dpkg
        );
        assert_eq!(
            VersionScheme::detect(None, None, Some("Amazon Linux 2023")),
            Rpm
        );
        assert_eq!(
            VersionScheme::detect(None, None, Some("Windows with SQL Server Standard")),
            Dotted
        );
        assert_eq!(
            VersionScheme::detect(None, None, Some("Linux/UNIX")),
            Natural
        );
        assert_eq!(VersionScheme::detect(None, None, None), Natural);
        for scheme in VersionScheme::ALL {
            assert_eq!(scheme.as_str().parse::<VersionScheme>(), Ok(scheme));
        }
        assert!("deb".parse::<VersionScheme>().is_err());
    }

    #[test]
    fn check_syntax_refuses_what_dpkg_and_rpm_refuse() {
        let good = [
            (Dpkg, "0"),
            (Dpkg, "3.0.15-1~deb12u1"),
            (Dpkg, "1:10.0.2+ds-2+deb13u1~bpo12+1"),
            (Dpkg, "0.17+2.4-2+deb12u3"),
            (Dpkg, "1.0-1-2"),
            (Rpm, "1:3.0.8-1.amzn2023.0.12"),
            (Rpm, "8.7p1-38.el9"),
            (Rpm, "1.0~rc1^git1-1"),
            (Natural, "1.2.3 beta"),
        ];
        for (scheme, version) in good {
            assert_eq!(scheme.check_syntax(version), Ok(()), "{scheme:?} {version}");
        }
        let bad = [
            (Dpkg, "", "empty"),
            (Dpkg, "1.0 beta", "spaces"),
            (Dpkg, "1:", "nothing after the epoch"),
            (Dpkg, ":1.0", "epoch"),
            (Dpkg, "a:1.0", "epoch"),
            (Dpkg, "1.0-", "empty"),
            (Dpkg, "abc", "start with a digit"),
            (Dpkg, "1.0_1", "invalid character in the version"),
            (Dpkg, "1.0-a_b", "invalid character in the revision"),
            (Rpm, "x:1.0-1", "epoch"),
            (Rpm, "1.0-1/2", "invalid character in the revision"),
            (Rpm, "-1", "version part is empty"),
            (Natural, "\u{7}", "control"),
        ];
        for (scheme, version, why) in bad {
            let err = scheme.check_syntax(version).expect_err(version);
            assert!(err.contains(why), "{scheme:?} {version:?}: {err}");
        }
    }
}
