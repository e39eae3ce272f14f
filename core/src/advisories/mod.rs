//! Security advisory feeds, read into one model the store imports: OSV records (`osv`), Amazon
//! Linux `updateinfo.xml` (`alas`), the binary → source map of Debian and Ubuntu `Packages`
//! indexes (`packages_index`), and where an Amazon Linux repository keeps its
//! `updateinfo.xml` (`repomd`). Pure parsing: no database, no network.
//!
//! Every reader streams: it yields one [`FeedItem`] at a time, so memory stays flat on a large
//! feed. A record that cannot be read is a [`FeedItem::Bad`] (counted and named, never fatal); a
//! record for an ecosystem we do not cover is a [`FeedItem::Skipped`]. A file that is broken as a
//! whole (a truncated zip, gzip or xz stream, malformed XML, an unreadable file) is an `Err`
//! ([`FeedError`]): the importer must then roll back whatever it took from that file.
//!
//! [`Affected::affects`] is the reference for which installed versions an advisory covers; the
//! store evaluates the same rules in SQL on [`VersionScheme::sort_key`]s. docs/advisories.md has
//! the rules in prose.

pub mod alas;
pub mod osv;
pub mod packages_index;
pub mod repomd;

use std::cmp::Ordering;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::version::VersionScheme;

/// One advisory, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advisory {
    /// The feed's id: `DSA-5764-1`, `DEBIAN-CVE-2024-5535`, `ALAS2023-2024-640`.
    pub id: String,
    /// Other ids of the same issue (CVE ids first of all), without the advisory's own id.
    pub aliases: Vec<String>,
    /// A one-line description, when the feed has one.
    pub summary: Option<String>,
    pub severity: Severity,
    pub published: Option<DateTime<Utc>>,
    /// A newer `modified` replaces a stored record; an older or equal one does not.
    pub modified: DateTime<Utc>,
    /// Set when the feed withdrew the record: it then matches nothing.
    pub withdrawn: Option<DateTime<Utc>>,
    pub source: Feed,
    /// The packages of the releases we cover; never empty.
    pub affected: Vec<Affected>,
}

/// Where an advisory came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feed {
    /// An OSV record (Debian, Ubuntu, AlmaLinux, Rocky Linux, Red Hat).
    Osv,
    /// Amazon Linux's `updateinfo.xml` (ALAS).
    Alas,
}

impl Feed {
    /// The stored name: "osv" or "alas".
    pub fn as_str(self) -> &'static str {
        match self {
            Feed::Osv => "osv",
            Feed::Alas => "alas",
        }
    }
}

/// An advisory's severity, normalized from whatever its feed says.
///
/// The derived order is "most severe first": `Critical < High < … < Unknown`, so sorting a list
/// ascending puts the worst on top.
///
/// Precedence (the first source present wins):
/// 1. the distribution's own rating: ALAS `<severity>` (critical, important, medium, low), OSV
///    `severity[]` of type `Ubuntu` (Ubuntu priority), `database_specific.severity` or
///    `ecosystem_specific.severity`, Debian's `ecosystem_specific.urgency` (unimportant, low,
///    medium, high; "not yet assigned" and "end-of-life" say nothing);
/// 2. CVSS: the base score computed (by the `cvss` crate) from the newest vector version present
///    (CVSS_V4, then CVSS_V3, then CVSS_V2), rated on CVSS's qualitative scale;
/// 3. [`Severity::Unknown`].
///
/// The distribution's rating goes first because it rates the package as that distribution builds
/// and ships it, which is what an instance runs; CVSS rates the upstream flaw. Where one record
/// rates several releases (Debian's per-release urgency), the most severe rating counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Unknown,
}

impl Severity {
    /// Every severity, most severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Unknown,
    ];

    /// The stored name: "critical", "high", "medium", "low" or "unknown".
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Unknown => "unknown",
        }
    }

    /// A distribution's word for a severity (case-insensitive, trailing `*` ignored as Debian's
    /// tracker writes some): critical; important and high; moderate and medium; low, negligible
    /// and unimportant. Anything else ("not yet assigned", "end-of-life", "none", "") says
    /// nothing: `None`.
    pub fn from_rating(rating: &str) -> Option<Severity> {
        let rating = rating.trim().trim_end_matches('*').to_ascii_lowercase();
        match rating.as_str() {
            "critical" => Some(Severity::Critical),
            "important" | "high" => Some(Severity::High),
            "moderate" | "medium" => Some(Severity::Medium),
            "low" | "negligible" | "unimportant" => Some(Severity::Low),
            _ => None,
        }
    }

    /// The qualitative rating of a CVSS vector's base score (v2 without the `CVSS:` prefix, v3.0,
    /// v3.1, v4.0); `None` when the vector does not parse. A score of 0.0 rates as low.
    pub fn from_cvss_vector(vector: &str) -> Option<Severity> {
        let cvss: cvss::Cvss = vector.trim().parse().ok()?;
        Some(match cvss.severity() {
            cvss::Severity::Critical => Severity::Critical,
            cvss::Severity::High => Severity::High,
            cvss::Severity::Medium => Severity::Medium,
            cvss::Severity::Low | cvss::Severity::None => Severity::Low,
        })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = UnknownName;

    /// Reads [`as_str`](Severity::as_str)'s names back.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| UnknownName(name.to_owned()))
    }
}

/// A stored name that names nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown name {0:?}")]
pub struct UnknownName(pub String);

/// Whether an affected entry names a source package or a binary package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameKind {
    /// A source package (Debian, Ubuntu) or source RPM (AlmaLinux, Rocky Linux, Red Hat): an
    /// installed binary matches through its source (a `Packages` index, SSM's RPM `PackageId`).
    Source,
    /// A binary package (ALAS), matched by the installed package's own name.
    Binary,
}

impl NameKind {
    /// The stored name: "source" or "binary".
    pub fn as_str(self) -> &'static str {
        match self {
            NameKind::Source => "source",
            NameKind::Binary => "binary",
        }
    }
}

/// One package of one release that an advisory affects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affected {
    pub release: Release,
    pub package: String,
    pub names: NameKind,
    /// Affected version intervals; a version in any of them is affected.
    pub ranges: Vec<Interval>,
    /// Versions affected one by one (OSV's `versions`), besides the ranges.
    pub versions: Vec<String>,
}

impl Affected {
    /// Whether `version` of this package, on this release, is affected: inside any interval, or
    /// equal (in the release's version order) to a listed version. OSV's evaluation rules.
    pub fn affects(&self, version: &str) -> bool {
        let scheme = self.release.scheme();
        self.ranges.iter().any(|r| r.contains(scheme, version))
            || self
                .versions
                .iter()
                .any(|listed| scheme.compare(listed, version) == Ordering::Equal)
    }

    /// The lowest fixed version above `version` among the intervals that contain it; `None` when
    /// `version` is not affected by a range or no such interval has a fix.
    pub fn fixed_for(&self, version: &str) -> Option<&str> {
        let scheme = self.release.scheme();
        self.ranges
            .iter()
            .filter(|r| r.contains(scheme, version))
            .filter_map(|r| r.fixed.as_deref())
            .min_by(|a, b| scheme.compare(a, b))
    }
}

/// One affected interval of versions: from `introduced` (inclusive; `None` = from the very
/// first version, OSV's `"0"`) up to `fixed` (exclusive) or `last_affected` (inclusive); with
/// neither, unbounded above (unfixed). At most one of `fixed` and `last_affected` is set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Interval {
    pub introduced: Option<String>,
    pub fixed: Option<String>,
    pub last_affected: Option<String>,
}

impl Interval {
    /// Whether `version` lies in the interval, compared in `scheme`.
    pub fn contains(&self, scheme: VersionScheme, version: &str) -> bool {
        let at_least = |bound: &Option<String>| {
            bound
                .as_deref()
                .is_none_or(|b| scheme.compare(version, b) != Ordering::Less)
        };
        at_least(&self.introduced)
            && self
                .fixed
                .as_deref()
                .is_none_or(|f| scheme.compare(version, f) == Ordering::Less)
            && self
                .last_affected
                .as_deref()
                .is_none_or(|l| scheme.compare(version, l) != Ordering::Greater)
    }
}

/// A distribution family whose advisories we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Distro {
    Debian,
    Ubuntu,
    AmazonLinux,
    AlmaLinux,
    RockyLinux,
    RedHat,
}

impl Distro {
    /// Every distribution, in key order.
    pub const ALL: [Distro; 6] = [
        Distro::Debian,
        Distro::Ubuntu,
        Distro::AmazonLinux,
        Distro::AlmaLinux,
        Distro::RockyLinux,
        Distro::RedHat,
    ];

    /// The key's first part: "debian", "ubuntu", "amzn", "almalinux", "rocky", "rhel" (the
    /// `ID` of each distribution's os-release).
    pub fn as_str(self) -> &'static str {
        match self {
            Distro::Debian => "debian",
            Distro::Ubuntu => "ubuntu",
            Distro::AmazonLinux => "amzn",
            Distro::AlmaLinux => "almalinux",
            Distro::RockyLinux => "rocky",
            Distro::RedHat => "rhel",
        }
    }

    /// How the distribution's package versions order.
    pub fn scheme(self) -> VersionScheme {
        match self {
            Distro::Debian | Distro::Ubuntu => VersionScheme::Dpkg,
            _ => VersionScheme::Rpm,
        }
    }
}

/// One OS release: the unit advisories apply to (Debian 12 is not Debian 11).
///
/// Its [key](Release::key) is stable text for the database: "debian:12", "ubuntu:22.04",
/// "amzn:2", "amzn:2023", "almalinux:9", "rocky:9", "rhel:9". Debian and the Enterprise Linux
/// family are keyed by their major version, Ubuntu by `YY.MM`, Amazon Linux by 2 or 2023.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Release {
    distro: Distro,
    version: String,
}

impl Release {
    /// The release `version` of `distro`, when it is a release of the shape that distribution
    /// uses (see the type's doc); `None` otherwise. A minor version is dropped where the key has
    /// none ("12.7" -> Debian 12, "9.4" -> RHEL 9); Amazon Linux takes "2" and "2023" only.
    pub fn new(distro: Distro, version: &str) -> Option<Release> {
        let version = version.trim();
        let number =
            |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
        let major = version.split('.').next().unwrap_or_default();
        let version = match distro {
            Distro::Ubuntu => {
                let mut parts = version.split('.');
                let (year, month) = (parts.next()?, parts.next()?);
                let valid = year.len() == 2 && month.len() == 2 && number(year) && number(month);
                valid.then(|| format!("{year}.{month}"))?
            }
            Distro::AmazonLinux => match major {
                "2" | "2023" => major.to_owned(),
                _ => return None,
            },
            _ => {
                if !number(major) || !version.split('.').all(number) {
                    return None;
                }
                major.trim_start_matches('0').to_owned()
            }
        };
        (!version.is_empty()).then_some(Release { distro, version })
    }

    pub fn distro(&self) -> Distro {
        self.distro
    }

    /// The release part of the key: "12", "22.04", "2023".
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The stored key, e.g. "debian:12".
    pub fn key(&self) -> String {
        self.to_string()
    }

    /// How this release's package versions order (dpkg or rpm).
    pub fn scheme(&self) -> VersionScheme {
        self.distro.scheme()
    }

    /// The release an OSV `affected[].package.ecosystem` names, for the ecosystems we cover:
    /// `Debian:12`; `Ubuntu:22.04:LTS`, `Ubuntu:24.10`, `Ubuntu:Pro:18.04:LTS` (Pro/ESM fixes
    /// count for the release itself), `Ubuntu:Pro:FIPS-updates:22.04:LTS`; `AlmaLinux:9`;
    /// `Rocky Linux:9`; Red Hat's CPE form `Red Hat:enterprise_linux:9::baseos` (any repository;
    /// `enterprise_linux:10.1` counts as RHEL 10). `None` for everything else: other
    /// ecosystems (PyPI, Alpine, …), a release-less `Debian`, `Debian:sid`, and Red Hat's
    /// EUS/AUS/E4S streams and layered products, which an instance's platform cannot tell apart.
    pub fn from_osv_ecosystem(ecosystem: &str) -> Option<Release> {
        let (family, release) = ecosystem.split_once(':')?;
        match family {
            "Debian" => Release::new(Distro::Debian, release),
            "Ubuntu" => {
                // The YY.MM part among "Pro", "FIPS-updates", "LTS" and the like.
                let version = release
                    .split(':')
                    .find(|part| part.starts_with(|c: char| c.is_ascii_digit()))?;
                Release::new(Distro::Ubuntu, version)
            }
            "AlmaLinux" => Release::new(Distro::AlmaLinux, release),
            "Rocky Linux" => Release::new(Distro::RockyLinux, release),
            "Red Hat" => {
                let mut cpe = release.split(':');
                if cpe.next()? != "enterprise_linux" {
                    return None;
                }
                Release::new(Distro::RedHat, cpe.next()?)
            }
            _ => None,
        }
    }

    /// The release an instance runs, from SSM's `AWS:InstanceInformation` PlatformName and
    /// PlatformVersion (the agent reads os-release's NAME and VERSION_ID): "Amazon Linux" "2" /
    /// "2023", "Ubuntu" "22.04", "Debian GNU/Linux" "12", "Red Hat Enterprise Linux" (or "…
    /// Server") "9.4", "AlmaLinux" "9.4", "Rocky Linux" "9.4". `None` for any other platform
    /// (Windows, CentOS, SUSE, the Amazon Linux AMI 2018.03, …) and for a name without a
    /// version, such as EC2's PlatformDetails ("Red Hat Enterprise Linux", "Ubuntu Pro"), which
    /// never says which release: an unknown release gets no findings, and no error.
    pub fn of_platform(platform_name: &str, platform_version: &str) -> Option<Release> {
        let name = platform_name.trim().to_ascii_lowercase();
        let distro = if name.starts_with("debian") {
            Distro::Debian
        } else if name.starts_with("ubuntu") {
            Distro::Ubuntu
        } else if name == "amazon linux" {
            Distro::AmazonLinux
        } else if name.starts_with("red hat enterprise linux") {
            Distro::RedHat
        } else if name.starts_with("almalinux") {
            Distro::AlmaLinux
        } else if name.starts_with("rocky linux") {
            Distro::RockyLinux
        } else {
            return None;
        };
        Release::new(distro, platform_version)
    }

    /// The release of a Debian or Ubuntu suite codename, as in `dists/<codename>/` (a suffix
    /// such as `-security` or `-updates` is ignored): buster, bullseye, bookworm, trixie,
    /// forky; xenial, bionic, focal, jammy, noble, oracular, plucky, questing.
    pub fn from_codename(codename: &str) -> Option<Release> {
        let codename = codename.split('-').next().unwrap_or_default();
        let (distro, version) = match codename {
            "buster" => (Distro::Debian, "10"),
            "bullseye" => (Distro::Debian, "11"),
            "bookworm" => (Distro::Debian, "12"),
            "trixie" => (Distro::Debian, "13"),
            "forky" => (Distro::Debian, "14"),
            "xenial" => (Distro::Ubuntu, "16.04"),
            "bionic" => (Distro::Ubuntu, "18.04"),
            "focal" => (Distro::Ubuntu, "20.04"),
            "jammy" => (Distro::Ubuntu, "22.04"),
            "noble" => (Distro::Ubuntu, "24.04"),
            "oracular" => (Distro::Ubuntu, "24.10"),
            "plucky" => (Distro::Ubuntu, "25.04"),
            "questing" => (Distro::Ubuntu, "25.10"),
            _ => return None,
        };
        Release::new(distro, version)
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.distro.as_str(), self.version)
    }
}

impl FromStr for Release {
    type Err = UnknownName;

    /// Reads a [key](Release::key) back ("debian:12").
    fn from_str(key: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownName(key.to_owned());
        let (distro, version) = key.split_once(':').ok_or_else(unknown)?;
        let distro = Distro::ALL
            .into_iter()
            .find(|d| d.as_str() == distro)
            .ok_or_else(unknown)?;
        Release::new(distro, version)
            .filter(|r| r.version == version)
            .ok_or_else(unknown)
    }
}

/// A record of a feed that could not be read: counted and named in the import's summary, never
/// fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    /// The record's id when it has one, and where it sits (file, zip entry, line).
    pub name: String,
    pub reason: String,
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.reason)
    }
}

/// What a feed reader yields for each record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedItem<T> {
    /// A record to import.
    Record(T),
    /// A record for ecosystems or kinds we do not cover (PyPI, a bug-fix update): named,
    /// counted apart from bad records.
    Skipped(String),
    /// A record that could not be read.
    Bad(BadRecord),
}

/// A feed file that is broken as a whole: nothing read from it may be kept.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: not a readable zip archive (truncated or corrupt?): {source}")]
    Zip {
        path: PathBuf,
        source: zip::result::ZipError,
    },
    #[error("{path}: malformed XML at byte {position}: {message}")]
    Xml {
        path: PathBuf,
        position: u64,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl FeedError {
    fn io(path: &Path, source: io::Error) -> FeedError {
        FeedError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// How many records of each kind a feed gave, and which were bad: the import's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub records: usize,
    pub skipped: usize,
    pub bad: Vec<BadRecord>,
}

impl Tally {
    /// Counts `item`, and hands back its record, if it is one.
    pub fn count<T>(&mut self, item: FeedItem<T>) -> Option<T> {
        match item {
            FeedItem::Record(record) => {
                self.records += 1;
                return Some(record);
            }
            FeedItem::Skipped(_) => self.skipped += 1,
            FeedItem::Bad(bad) => self.bad.push(bad),
        }
        None
    }
}

/// A reader's items: what `next` gives until it answers `Ok(None)`, or up to and including its
/// first error, after which nothing more is read (a broken file is not read past the break).
fn until_end_or_error<T>(
    mut next: impl FnMut() -> Result<Option<T>, FeedError>,
) -> impl Iterator<Item = Result<T, FeedError>> {
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let item = next().transpose();
        done = !matches!(item, Some(Ok(_)));
        item
    })
}

/// Largest single record read into memory (an OSV JSON file or zip entry); a larger one is a bad
/// record, so a hostile or broken entry cannot make the reader's memory grow without bound.
pub const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// Opens `path` for reading, decompressing gzip or xz as its first bytes say (not its name).
/// A truncated or corrupt stream surfaces as an error from a later read.
pub(crate) fn open_decompressed(path: &Path) -> Result<Box<dyn BufRead + Send>, FeedError> {
    const GZIP: &[u8] = &[0x1f, 0x8b];
    const XZ: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0x00];
    let file = File::open(path).map_err(|e| FeedError::io(path, e))?;
    let mut file = BufReader::new(file);
    let head = file.fill_buf().map_err(|e| FeedError::io(path, e))?;
    Ok(if head.starts_with(GZIP) {
        Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(file)))
    } else if head.starts_with(XZ) {
        Box::new(BufReader::new(lzma_rust2::XzReader::new(file, true)))
    } else {
        Box::new(file)
    })
}

/// Reads at most [`MAX_RECORD_BYTES`] of `reader`; `Ok(None)` when there was more.
fn read_capped(reader: impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    reader.take(MAX_RECORD_BYTES + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= MAX_RECORD_BYTES).then_some(bytes))
}

/// The first non-empty line of `text`, cut to 300 chars: a summary for feeds that only have a
/// long description.
fn first_line(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(line.chars().take(300).collect())
}

/// Adds `id` to `ids` unless it is there already or is `own`.
fn push_alias(ids: &mut Vec<String>, own: &str, id: &str) {
    let id = id.trim();
    if !id.is_empty() && id != own && !ids.iter().any(|known| known == id) {
        ids.push(id.to_owned());
    }
}

#[cfg(test)]
mod tests;
