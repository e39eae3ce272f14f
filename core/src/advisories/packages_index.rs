//! A Debian or Ubuntu `Packages` index (plain, `.gz` or `.xz`), streamed stanza by stanza into
//! which source package each binary package was built from.
//!
//! Debian and Ubuntu advisories name source packages (`openssl`); SSM reports binary packages
//! (`libssl3`). A stanza's `Source:` field names the source, with the source's version in
//! parentheses when it differs from the binary's (`Source: inetutils (2:2.4-2+deb12u3)`); without
//! the field, the source is the package itself.

use std::io::BufRead;
use std::path::{Component, Path, PathBuf};

use super::{open_decompressed, until_end_or_error, BadRecord, FeedError, FeedItem, Release};

/// One binary package of an index and the source it was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceOf {
    pub release: Release,
    /// `Package:`.
    pub binary: String,
    /// `Version:` of the binary package.
    pub binary_version: String,
    /// The source package's name.
    pub source: String,
    /// The source package's version: the one in `Source:`'s parentheses, else the binary's.
    pub source_version: String,
}

/// What the index reader yields.
pub type PackagesItem = FeedItem<SourceOf>;

/// The release of an index from its place in a mirror's tree, `…/dists/<codename>/…`, or from
/// an apt list file name (`…_dists_<codename>_main_binary-amd64_Packages`); `None` when the path
/// names no known codename.
pub fn release_of_path(path: &Path) -> Option<Release> {
    let parts: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let from_dirs = parts
        .windows(2)
        .find(|pair| pair[0] == "dists")
        .and_then(|pair| Release::from_codename(&pair[1]));
    from_dirs.or_else(|| {
        let file = parts.last()?;
        let (_, after) = file.split_once("_dists_")?;
        Release::from_codename(after.split('_').next()?)
    })
}

/// Reads the index at `path`. `release` names its release; without it, the path must say
/// ([`release_of_path`]), or this fails before reading anything.
///
/// A stanza without `Package:` or `Version:`, or with an unreadable `Source:`, is a bad record
/// named by its line; a decompression error (a truncated `.gz` or `.xz`) is an `Err` item, after
/// which the reader stops.
pub fn read_path(
    path: &Path,
    release: Option<Release>,
) -> Result<impl Iterator<Item = Result<PackagesItem, FeedError>>, FeedError> {
    let Some(release) = release.or_else(|| release_of_path(path)) else {
        return Err(FeedError::Invalid {
            path: path.to_owned(),
            message: "the path names no release (…/dists/<codename>/…); name the release"
                .to_owned(),
        });
    };
    let mut reader = Stanzas {
        path: path.to_owned(),
        input: open_decompressed(path)?,
        release,
        line: 0,
    };
    Ok(until_end_or_error(move || reader.next_stanza()))
}

struct Stanzas {
    path: PathBuf,
    input: Box<dyn BufRead + Send>,
    release: Release,
    /// Lines read so far.
    line: usize,
}

impl Stanzas {
    /// The fields of the next stanza we need, read up to its blank line; `None` at the end.
    fn next_stanza(&mut self) -> Result<Option<PackagesItem>, FeedError> {
        let mut first_line = None;
        let (mut package, mut version, mut source) = (None, None, None);
        let mut text = String::new();
        loop {
            text.clear();
            let read = self
                .input
                .read_line(&mut text)
                .map_err(|source| FeedError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            if read == 0 && first_line.is_none() {
                return Ok(None);
            }
            self.line += 1;
            let line = text.trim_end_matches(['\n', '\r']);
            if read == 0 || line.trim().is_empty() {
                if first_line.is_some() {
                    break;
                }
                continue;
            }
            first_line.get_or_insert(self.line);
            // Continuation lines (" …") belong to multi-line fields we do not read.
            if line.starts_with([' ', '\t']) {
                continue;
            }
            let Some((field, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim().to_owned();
            match field {
                "Package" => package = Some(value),
                "Version" => version = Some(value),
                "Source" => source = Some(value),
                _ => {}
            }
        }
        let name = format!(
            "{}:{}",
            self.path.display(),
            first_line.unwrap_or(self.line)
        );
        Ok(Some(self.mapping(name, package, version, source)))
    }

    fn mapping(
        &self,
        name: String,
        package: Option<String>,
        version: Option<String>,
        source: Option<String>,
    ) -> PackagesItem {
        let bad = |reason: &str| {
            FeedItem::Bad(BadRecord {
                name: name.clone(),
                reason: reason.to_owned(),
            })
        };
        let (Some(binary), Some(binary_version)) = (package, version) else {
            return bad("a stanza without Package: or Version:");
        };
        let name = format!("{binary} ({name})");
        let bad = |reason: &str| {
            FeedItem::Bad(BadRecord {
                name: name.clone(),
                reason: reason.to_owned(),
            })
        };
        let (source, source_version) = match source.as_deref() {
            None => (binary.clone(), binary_version.clone()),
            Some(field) => match field.split_once('(') {
                None if !field.contains(char::is_whitespace) => {
                    (field.to_owned(), binary_version.clone())
                }
                Some((source, version)) => match version.strip_suffix(')') {
                    Some(version) if !source.trim().is_empty() && !version.trim().is_empty() => {
                        (source.trim().to_owned(), version.trim().to_owned())
                    }
                    _ => return bad("unreadable Source: field"),
                },
                None => return bad("unreadable Source: field"),
            },
        };
        if source.is_empty() || binary.is_empty() {
            return bad("empty package name");
        }
        FeedItem::Record(SourceOf {
            release: self.release.clone(),
            binary,
            binary_version,
            source,
            source_version,
        })
    }
}

#[cfg(test)]
mod tests;
