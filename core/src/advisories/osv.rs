//! OSV records (<https://ossf.github.io/osv-schema/>): one JSON file, a directory of them, or an
//! OSV ecosystem `all.zip` read entry by entry.
//!
//! Only the `affected` entries of the ecosystems [`Release::from_osv_ecosystem`] knows are kept;
//! a record with none of them is skipped, not bad. `aliases` and `upstream` (where Debian and
//! Ubuntu put the CVE id) both become the advisory's aliases. Each `ECOSYSTEM` range's events
//! become [`Interval`]s in the release's version order; other range types (`SEMVER`, `GIT`) do
//! not apply to distribution packages and are ignored, their `versions` still count.

use std::fs;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{
    first_line, push_alias, read_capped, until_end_or_error, Advisory, Affected, BadRecord, Feed,
    FeedError, FeedItem, Interval, NameKind, Release, Severity, MAX_RECORD_BYTES,
};
use crate::version::VersionScheme;

/// What an OSV reader yields.
pub type OsvItem = FeedItem<Advisory>;

/// The records [`read_path`] reads, one at a time.
pub type OsvRecords = Box<dyn Iterator<Item = Result<OsvItem, FeedError>> + Send>;

/// The fields of an OSV record we read; unknown fields are ignored, a field of the wrong type
/// makes the record bad.
#[derive(Deserialize)]
struct Record {
    id: String,
    modified: DateTime<Utc>,
    #[serde(default)]
    published: Option<DateTime<Utc>>,
    #[serde(default)]
    withdrawn: Option<DateTime<Utc>>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    upstream: Vec<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    severity: Vec<SeverityScore>,
    #[serde(default)]
    affected: Vec<AffectedEntry>,
    #[serde(default)]
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct SeverityScore {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct AffectedEntry {
    package: Package,
    #[serde(default)]
    severity: Vec<SeverityScore>,
    #[serde(default)]
    ranges: Vec<Range>,
    #[serde(default)]
    versions: Vec<String>,
    #[serde(default)]
    ecosystem_specific: Option<Value>,
    #[serde(default)]
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct Package {
    ecosystem: String,
    name: String,
    #[serde(default)]
    purl: Option<String>,
}

#[derive(Deserialize)]
struct Range {
    #[serde(rename = "type")]
    kind: String,
    events: Vec<serde_json::Map<String, Value>>,
}

/// Reads one OSV record. `name` says where it came from (a file, a zip entry) for a bad record's
/// name. `Skipped` when it affects none of the releases we cover.
pub fn parse_record(name: &str, json: &[u8]) -> OsvItem {
    let bad = |id: Option<&str>, reason: String| {
        let name = match id {
            Some(id) => format!("{id} ({name})"),
            None => name.to_owned(),
        };
        FeedItem::Bad(BadRecord { name, reason })
    };
    let record: Record = match serde_json::from_slice(json) {
        Ok(record) => record,
        Err(err) => {
            // Name the record by its id when at least that much can be read.
            let id = serde_json::from_slice::<Value>(json)
                .ok()
                .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned));
            return bad(id.as_deref(), format!("not an OSV record: {err}"));
        }
    };
    if record.id.trim().is_empty() {
        return bad(None, "empty id".to_owned());
    }
    let mut affected = Vec::new();
    let mut ratings = Vec::new();
    let mut vectors: Vec<&SeverityScore> = record.severity.iter().collect();
    for entry in &record.affected {
        let Some(release) = Release::from_osv_ecosystem(&entry.package.ecosystem) else {
            continue;
        };
        match read_affected(entry, release) {
            Ok(read) => affected.push(read),
            Err(reason) => return bad(Some(&record.id), reason),
        }
        ratings.extend(distribution_ratings(&entry.severity));
        ratings.extend(
            [&entry.ecosystem_specific, &entry.database_specific]
                .into_iter()
                .flatten()
                .filter_map(rating_of),
        );
        vectors.extend(&entry.severity);
    }
    if affected.is_empty() {
        return FeedItem::Skipped(format!("{} ({name})", record.id));
    }
    ratings.extend(distribution_ratings(&record.severity));
    ratings.extend(record.database_specific.as_ref().and_then(rating_of));
    let severity = ratings
        .into_iter()
        .min()
        .or_else(|| cvss_severity(&vectors))
        .unwrap_or(Severity::Unknown);
    let mut aliases = Vec::new();
    for alias in record.aliases.iter().chain(&record.upstream) {
        push_alias(&mut aliases, &record.id, alias);
    }
    let summary = record
        .summary
        .as_deref()
        .and_then(first_line)
        .or_else(|| record.details.as_deref().and_then(first_line));
    FeedItem::Record(Advisory {
        id: record.id,
        aliases,
        summary,
        severity,
        published: record.published,
        modified: record.modified,
        withdrawn: record.withdrawn,
        source: Feed::Osv,
        affected,
    })
}

/// One covered `affected` entry; the error is the record's reason to be bad.
fn read_affected(entry: &AffectedEntry, release: Release) -> Result<Affected, String> {
    let package = entry.package.name.trim();
    if package.is_empty() {
        return Err(format!("{release}: empty package name"));
    }
    let scheme = release.scheme();
    let check = |version: &str| {
        scheme
            .check_syntax(version)
            .map_err(|why| format!("{package} ({release}): version {version:?}: {why}"))
    };
    let mut ranges = Vec::new();
    for range in entry.ranges.iter().filter(|r| r.kind == "ECOSYSTEM") {
        ranges.extend(
            intervals(scheme, &range.events)
                .map_err(|why| format!("{package} ({release}): {why}"))?,
        );
    }
    for version in &entry.versions {
        check(version)?;
    }
    for interval in &ranges {
        for bound in [
            &interval.introduced,
            &interval.fixed,
            &interval.last_affected,
        ] {
            bound.as_deref().map(check).transpose()?;
        }
    }
    Ok(Affected {
        names: name_kind(entry.package.purl.as_deref()),
        release,
        package: package.to_owned(),
        ranges,
        versions: entry.versions.clone(),
    })
}

/// Source or binary: a purl's `arch=src` / `arch=source` says source and any other `arch` says
/// binary (Red Hat names either); without one, the ecosystem's own rule: Debian, Ubuntu,
/// AlmaLinux and Rocky Linux name source packages, and so, by default, does Red Hat.
fn name_kind(purl: Option<&str>) -> NameKind {
    let arch = purl
        .and_then(|p| p.split_once('?'))
        .and_then(|(_, qualifiers)| qualifiers.split('&').find_map(|q| q.strip_prefix("arch=")));
    match arch {
        Some("src" | "source") | None => NameKind::Source,
        Some(_) => NameKind::Binary,
    }
}

/// The intervals of one range's events, in OSV's evaluation order: the events sorted by version,
/// an `introduced` opens an interval, the next `fixed` or `last_affected` closes it; one left
/// open is unfixed. `introduced: "0"` is the beginning.
fn intervals(
    scheme: VersionScheme,
    events: &[serde_json::Map<String, Value>],
) -> Result<Vec<Interval>, String> {
    #[derive(PartialEq)]
    enum Kind {
        Introduced,
        Fixed,
        LastAffected,
    }
    let mut read = Vec::with_capacity(events.len());
    for event in events {
        let mut fields = event.iter();
        let (Some((key, value)), None) = (fields.next(), fields.next()) else {
            return Err(format!(
                "an event must have exactly one field: {}",
                Value::Object(event.clone())
            ));
        };
        let kind = match key.as_str() {
            "introduced" => Kind::Introduced,
            "fixed" => Kind::Fixed,
            "last_affected" => Kind::LastAffected,
            "limit" => return Err("`limit` events are not supported".to_owned()),
            other => return Err(format!("unknown event {other:?}")),
        };
        let Some(version) = value.as_str() else {
            return Err(format!("{key}: expected a string, got {value}"));
        };
        // "0" sorts before every version (OSV's special value).
        let version = (!(kind == Kind::Introduced && version == "0")).then(|| version.to_owned());
        read.push((kind, version));
    }
    read.sort_by(|(_, a), (_, b)| match (a, b) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(a), Some(b)) => scheme.compare(a, b),
    });
    let mut intervals = Vec::new();
    let mut open: Option<Option<String>> = None;
    for (kind, version) in read {
        match (kind, open.take()) {
            (Kind::Introduced, None) => open = Some(version),
            (Kind::Introduced, Some(start)) => open = Some(start),
            (Kind::Fixed, Some(introduced)) => intervals.push(Interval {
                introduced,
                fixed: version,
                last_affected: None,
            }),
            (Kind::LastAffected, Some(introduced)) => intervals.push(Interval {
                introduced,
                fixed: None,
                last_affected: version,
            }),
            // A fix or a ceiling with nothing open: nothing to close.
            (_, None) => {}
        }
    }
    if let Some(introduced) = open {
        intervals.push(Interval {
            introduced,
            fixed: None,
            last_affected: None,
        });
    }
    Ok(intervals)
}

/// The distribution ratings among `severity[]` scores: type `Ubuntu` (Ubuntu's priority).
fn distribution_ratings(scores: &[SeverityScore]) -> impl Iterator<Item = Severity> + '_ {
    scores
        .iter()
        .filter(|s| s.kind == "Ubuntu")
        .filter_map(|s| Severity::from_rating(&s.score))
}

/// A distribution rating in a `database_specific` / `ecosystem_specific` object: its `severity`
/// (Red Hat, AlmaLinux, Rocky Linux, GHSA) or Debian's `urgency`.
fn rating_of(object: &Value) -> Option<Severity> {
    ["severity", "urgency"]
        .into_iter()
        .filter_map(|key| object.get(key)?.as_str())
        .find_map(Severity::from_rating)
}

/// The most severe rating of the newest CVSS version present.
fn cvss_severity(scores: &[&SeverityScore]) -> Option<Severity> {
    ["CVSS_V4", "CVSS_V3", "CVSS_V2"]
        .into_iter()
        .find_map(|kind| {
            scores
                .iter()
                .filter(|s| s.kind == kind)
                .filter_map(|s| Severity::from_cvss_vector(&s.score))
                .min()
        })
}

/// Reads OSV records from `path`: a directory (every `.json` file below it, in path order), an
/// `all.zip` (by its `.zip` name), or one JSON file.
///
/// A zip whose central directory cannot be read (a truncated download) fails here, before any
/// record is yielded; an entry that fails to decompress or its CRC check later is an `Err` item,
/// after which the reader stops.
pub fn read_path(path: &Path) -> Result<OsvRecords, FeedError> {
    let meta = fs::metadata(path).map_err(|e| FeedError::io(path, e))?;
    if meta.is_dir() {
        return Ok(Box::new(read_dir(path)?));
    }
    let is_zip = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("zip"));
    if is_zip {
        let mut zip = ZipRecords::open(path)?;
        return Ok(Box::new(until_end_or_error(move || zip.next_record())));
    }
    let file = path.to_owned();
    Ok(Box::new(std::iter::once_with(move || read_file(&file))))
}

/// One JSON file as a record.
fn read_file(path: &Path) -> Result<OsvItem, FeedError> {
    let file = fs::File::open(path).map_err(|e| FeedError::io(path, e))?;
    let name = path.display().to_string();
    match read_capped(BufReader::new(file)).map_err(|e| FeedError::io(path, e))? {
        Some(bytes) => Ok(parse_record(&name, &bytes)),
        None => Ok(too_large(name)),
    }
}

fn too_large(name: String) -> OsvItem {
    FeedItem::Bad(BadRecord {
        name,
        reason: format!("larger than {MAX_RECORD_BYTES} bytes"),
    })
}

/// Every `.json` file below `dir`, sorted by path, read one at a time.
fn read_dir(dir: &Path) -> Result<impl Iterator<Item = Result<OsvItem, FeedError>>, FeedError> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).map_err(|e| FeedError::io(&dir, e))? {
            let path = entry.map_err(|e| FeedError::io(&dir, e))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files.into_iter().map(|file| read_file(&file)))
}

/// The `.json` entries of a zip archive over a `File`, decompressed one at a time.
struct ZipRecords {
    path: PathBuf,
    archive: zip::ZipArchive<BufReader<fs::File>>,
    next: usize,
}

impl ZipRecords {
    fn open(path: &Path) -> Result<ZipRecords, FeedError> {
        let file = fs::File::open(path).map_err(|e| FeedError::io(path, e))?;
        let archive =
            zip::ZipArchive::new(BufReader::new(file)).map_err(|source| FeedError::Zip {
                path: path.to_owned(),
                source,
            })?;
        Ok(ZipRecords {
            path: path.to_owned(),
            archive,
            next: 0,
        })
    }

    fn zip_error(&self, source: zip::result::ZipError) -> FeedError {
        FeedError::Zip {
            path: self.path.clone(),
            source,
        }
    }

    /// The next `.json` entry as a record; `None` after the last.
    fn next_record(&mut self) -> Result<Option<OsvItem>, FeedError> {
        while self.next < self.archive.len() {
            let index = self.next;
            self.next += 1;
            let mut entry = self.archive.by_index(index).map_err(|e| FeedError::Zip {
                path: self.path.clone(),
                source: e,
            })?;
            let entry_name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
            if entry.is_dir() || !entry_name.to_ascii_lowercase().ends_with(".json") {
                continue;
            }
            let mut bytes = Vec::new();
            let read = (&mut entry)
                .take(MAX_RECORD_BYTES + 1)
                .read_to_end(&mut bytes);
            drop(entry);
            let name = format!("{}:{entry_name}", self.path.display());
            return match read {
                // A failed read is a damaged archive (bad compressed data, a CRC mismatch), not
                // a bad record.
                Err(err) => Err(self.zip_error(zip::result::ZipError::Io(err))),
                Ok(_) if bytes.len() as u64 > MAX_RECORD_BYTES => Ok(Some(too_large(name))),
                Ok(_) => Ok(Some(parse_record(&name, &bytes))),
            };
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests;
