//! Amazon Linux advisories (ALAS) from a repository's `updateinfo.xml` (plain or gzip), for
//! Amazon Linux 2 and 2023, streamed element by element.
//!
//! Each `<update type="security">` is one advisory: `<id>` (ALAS2-…, ALAS2023-…), its `cve`
//! references as aliases, `<severity>`, the `<issued>`/`<updated>` dates, and every binary
//! package of its `<pkglist>` fixed at the listed epoch:version-release. Other update types
//! (bugfix, enhancement) are skipped.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use quick_xml::events::{BytesStart, Event};
use quick_xml::XmlVersion;

use super::{
    open_decompressed, push_alias, until_end_or_error, Advisory, Affected, BadRecord, Distro, Feed,
    FeedError, FeedItem, Interval, NameKind, Release, Severity,
};
use crate::version::VersionScheme;

/// What the ALAS reader yields.
pub type AlasItem = FeedItem<Advisory>;

/// Reads the advisories of the `updateinfo.xml` at `path` (plain, `.gz` or `.xz`, told by its
/// first bytes). `release` names the Amazon Linux release for every advisory; without it, each
/// advisory's id prefix says (`ALAS2023-` is 2023, any other `ALAS2…` is 2), and an id that says
/// neither is a bad record.
///
/// Malformed XML, or a file that ends inside an element (a truncated download), is an `Err`
/// item, after which the reader stops.
pub fn read_path(
    path: &Path,
    release: Option<Release>,
) -> Result<impl Iterator<Item = Result<AlasItem, FeedError>>, FeedError> {
    let input = open_decompressed(path)?;
    let mut reader = UpdateInfo {
        path: path.to_owned(),
        xml: quick_xml::Reader::from_reader(input),
        buf: Vec::new(),
        release,
        depth: 0,
        seen_root: false,
        updates: 0,
    };
    Ok(until_end_or_error(move || reader.next_update()))
}

/// The amzn release an ALAS id's prefix names.
fn release_of_id(id: &str) -> Option<Release> {
    let version = if id.starts_with("ALAS2023") {
        "2023"
    } else if id.starts_with("ALAS2") {
        "2"
    } else {
        return None;
    };
    Release::new(Distro::AmazonLinux, version)
}

struct UpdateInfo {
    path: PathBuf,
    xml: quick_xml::Reader<Box<dyn BufRead + Send>>,
    buf: Vec<u8>,
    release: Option<Release>,
    depth: usize,
    seen_root: bool,
    updates: usize,
}

/// The text elements of an update we keep.
#[derive(Clone, Copy, PartialEq)]
enum Field {
    Id,
    Title,
    Severity,
}

#[derive(Default)]
struct Update {
    kind: String,
    id: String,
    title: String,
    severity: String,
    issued: Option<String>,
    updated: Option<String>,
    cves: Vec<String>,
    packages: Vec<PackageAttrs>,
    /// The text element being read.
    field: Option<Field>,
}

#[derive(Default)]
struct PackageAttrs {
    name: String,
    epoch: String,
    version: String,
    release: String,
    arch: String,
}

impl UpdateInfo {
    fn xml_error(&self, message: String) -> FeedError {
        FeedError::Xml {
            path: self.path.clone(),
            position: self.xml.buffer_position(),
            message,
        }
    }

    /// Reads up to the end of the next `<update>`; `None` at the end of the document.
    fn next_update(&mut self) -> Result<Option<AlasItem>, FeedError> {
        let mut update: Option<Update> = None;
        loop {
            self.buf.clear();
            let event = match self.xml.read_event_into(&mut self.buf) {
                Ok(event) => event.into_owned(),
                Err(err) => return Err(self.xml_error(err.to_string())),
            };
            match event {
                Event::Start(element) => {
                    self.depth += 1;
                    if self.depth == 1 {
                        self.check_root(&element)?;
                    }
                    update = open_element(update, &element);
                }
                Event::Empty(element) => {
                    if self.depth == 0 {
                        self.check_root(&element)?;
                    }
                    // An empty <update/> carries nothing to import.
                    if let Some(update) = update.as_mut() {
                        read_attributes(update, &element);
                    }
                }
                Event::End(element) => {
                    self.depth = self.depth.saturating_sub(1);
                    let name = element.local_name();
                    if name.as_ref() == "update" {
                        if let Some(done) = update.take() {
                            self.updates += 1;
                            return Ok(Some(self.finish(done)));
                        }
                    } else if let Some(update) = update.as_mut() {
                        update.field = None;
                    }
                }
                Event::Text(text) => append(&mut update, &text.xml10_content()),
                Event::CData(data) => append(&mut update, &data.into_inner()),
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => quick_xml::escape::resolve_predefined_entity(&reference)
                            .unwrap_or_default()
                            .to_owned(),
                    };
                    append(&mut update, &resolved);
                }
                Event::Eof => {
                    if self.depth > 0 || update.is_some() {
                        return Err(self.xml_error(
                            "the document ends inside an element (truncated?)".to_owned(),
                        ));
                    }
                    if !self.seen_root {
                        return Err(self.xml_error("no <updates> element".to_owned()));
                    }
                    return Ok(None);
                }
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
    }

    fn check_root(&mut self, element: &BytesStart) -> Result<(), FeedError> {
        if element.local_name().as_ref() != "updates" {
            let name = element.name().as_ref().to_owned();
            return Err(self.xml_error(format!("the root element is <{name}>, not <updates>")));
        }
        self.seen_root = true;
        Ok(())
    }

    /// The advisory an `<update>` describes, or why it cannot be one.
    fn finish(&self, update: Update) -> AlasItem {
        let id = update.id.trim().to_owned();
        let name = if id.is_empty() {
            format!("update #{} in {}", self.updates, self.path.display())
        } else {
            id.clone()
        };
        if update.kind != "security" {
            return FeedItem::Skipped(format!("{name} (type {:?})", update.kind));
        }
        let bad = |reason: String| {
            FeedItem::Bad(BadRecord {
                name: name.clone(),
                reason,
            })
        };
        if id.is_empty() {
            return bad("no <id>".to_owned());
        }
        let Some(release) = self.release.clone().or_else(|| release_of_id(&id)) else {
            return bad(
                "the id names no Amazon Linux release (ALAS2-, ALAS2023-); name the release"
                    .to_owned(),
            );
        };
        let issued = match update.issued.as_deref().map(parse_date).transpose() {
            Ok(date) => date,
            Err(raw) => return bad(format!("unreadable <issued> date {raw:?}")),
        };
        let updated = match update.updated.as_deref().map(parse_date).transpose() {
            Ok(date) => date,
            Err(raw) => return bad(format!("unreadable <updated> date {raw:?}")),
        };
        let Some(modified) = updated.or(issued) else {
            return bad("no <issued> or <updated> date".to_owned());
        };
        // One fixed version per binary package: the highest listed (builds per arch agree).
        let mut fixed: BTreeMap<String, String> = BTreeMap::new();
        for package in update.packages.iter().filter(|p| p.arch != "src") {
            if package.name.is_empty() || package.version.is_empty() || package.release.is_empty() {
                return bad("a <package> without name, version or release".to_owned());
            }
            let evr = evr(package);
            if let Err(why) = VersionScheme::Rpm.check_syntax(&evr) {
                return bad(format!("{}: version {evr:?}: {why}", package.name));
            }
            let keep = fixed
                .get(&package.name)
                .is_none_or(|known| VersionScheme::Rpm.compare(&evr, known).is_gt());
            if keep {
                fixed.insert(package.name.clone(), evr);
            }
        }
        if fixed.is_empty() {
            return bad("no binary packages in <pkglist>".to_owned());
        }
        let affected = fixed
            .into_iter()
            .map(|(package, evr)| Affected {
                release: release.clone(),
                package,
                names: NameKind::Binary,
                ranges: vec![Interval {
                    introduced: None,
                    fixed: Some(evr),
                    last_affected: None,
                }],
                versions: Vec::new(),
            })
            .collect();
        let mut aliases = Vec::new();
        for cve in &update.cves {
            push_alias(&mut aliases, &id, cve);
        }
        let title = update.title.trim();
        FeedItem::Record(Advisory {
            aliases,
            summary: (!title.is_empty()).then(|| title.to_owned()),
            severity: Severity::from_rating(&update.severity).unwrap_or(Severity::Unknown),
            published: issued,
            modified,
            withdrawn: None,
            source: Feed::Alas,
            affected,
            id,
        })
    }
}

/// `[epoch:]version-release` as SSM stores an RPM's version: a zero or missing epoch is left out
/// (core/src/sources/mod.rs joins `Epoch` the same way).
fn evr(package: &PackageAttrs) -> String {
    let epoch = package.epoch.trim();
    let zero = epoch.is_empty() || epoch == "(none)" || epoch.bytes().all(|b| b == b'0');
    if zero {
        format!("{}-{}", package.version, package.release)
    } else {
        format!("{epoch}:{}-{}", package.version, package.release)
    }
}

/// updateinfo dates: `2024-06-11 20:56`, `2024-07-01 20:41:00` (UTC), or a bare date.
fn parse_date(raw: &str) -> Result<DateTime<Utc>, String> {
    let text = raw.trim();
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"]
        .into_iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .map(|t| t.and_utc())
        .or_else(|| DateTime::parse_from_rfc3339(text).ok().map(|t| t.to_utc()))
        .ok_or_else(|| raw.to_owned())
}

/// Starts reading `element`: an `<update>` opens a new one; inside one, a kept text element
/// starts collecting its text and the attributes are read.
fn open_element(update: Option<Update>, element: &BytesStart) -> Option<Update> {
    let name = element.local_name();
    if name.as_ref() == "update" {
        return Some(Update {
            kind: attribute(element, "type").unwrap_or_default(),
            ..Update::default()
        });
    }
    let mut update = update?;
    update.field = match name.as_ref() {
        "id" => Some(Field::Id),
        "title" => Some(Field::Title),
        "severity" => Some(Field::Severity),
        _ => None,
    };
    read_attributes(&mut update, element);
    Some(update)
}

/// The attributes an update keeps: dates, CVE references, packages.
fn read_attributes(update: &mut Update, element: &BytesStart) {
    let attr = |key: &str| attribute(element, key);
    match element.local_name().as_ref() {
        "issued" => update.issued = attr("date"),
        "updated" => update.updated = attr("date"),
        "reference" => {
            let is_cve = attr("type").is_some_and(|t| t.eq_ignore_ascii_case("cve"));
            if let (true, Some(id)) = (is_cve, attr("id")) {
                update.cves.push(id);
            }
        }
        "package" => update.packages.push(PackageAttrs {
            name: attr("name").unwrap_or_default(),
            epoch: attr("epoch").unwrap_or_default(),
            version: attr("version").unwrap_or_default(),
            release: attr("release").unwrap_or_default(),
            arch: attr("arch").unwrap_or_default(),
        }),
        _ => {}
    }
}

/// An attribute's value, unescaped and trimmed; `None` when missing or unreadable.
pub(super) fn attribute(element: &BytesStart, key: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key)
        .and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.trim().to_owned())
        })
}

/// Adds text to the element being read, if it is one we keep.
fn append(update: &mut Option<Update>, text: &str) {
    let Some(update) = update.as_mut() else {
        return;
    };
    let target = match update.field {
        Some(Field::Id) => &mut update.id,
        Some(Field::Title) => &mut update.title,
        Some(Field::Severity) => &mut update.severity,
        None => return,
    };
    target.push_str(text);
}

#[cfg(test)]
mod tests;
