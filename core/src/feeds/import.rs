//! Importing advisory feeds: OSV records (a JSON file, a directory of them,
//! an ecosystem's `all.zip`), Amazon Linux `updateinfo.xml` (plain, `.gz`,
//! `.xz`) and Debian/Ubuntu `Packages` indexes, read by
//! [`crate::advisories`] and written by the store in ONE transaction: the
//! files are imported whole or not at all. Bad records are counted and named,
//! never fatal; a file broken as a whole (a truncated zip or stream) rolls
//! everything back.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::advisories::{
    alas, osv, packages_index, Advisory, BadRecord, FeedError, FeedItem, Release, Tally,
};
use crate::store::{AdvisoryImport, Store, StoreError};

/// Advisories handed to the store at a time (it splits them by request size).
const ADVISORY_CHUNK: usize = 2_000;
/// Binary -> source pairs handed to the store at a time.
const PAIR_CHUNK: usize = 20_000;

/// What kind of feed a path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    /// OSV: a `.json` record, a directory of them, or an `all.zip`.
    Osv,
    /// Amazon Linux's `updateinfo.xml` (`.gz`, `.xz`).
    Alas,
    /// A Debian or Ubuntu `Packages` index (`.gz`, `.xz`).
    PackagesIndex,
}

impl FeedKind {
    /// The kind a path's name says: a directory, `*.json` or `*.zip` is OSV;
    /// `updateinfo*` is ALAS; `Packages*` (or an apt list file ending in
    /// `_Packages`) is an index.
    pub fn of_path(path: &Path) -> Option<FeedKind> {
        if path.is_dir() {
            return Some(FeedKind::Osv);
        }
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        if name.ends_with(".json") || name.ends_with(".zip") {
            Some(FeedKind::Osv)
        } else if name.starts_with("updateinfo") {
            Some(FeedKind::Alas)
        } else if name.starts_with("packages") || name.contains("_packages") {
            Some(FeedKind::PackagesIndex)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Osv => "OSV",
            FeedKind::Alas => "ALAS updateinfo",
            FeedKind::PackagesIndex => "Packages index",
        }
    }
}

/// Why an import failed; nothing of it was kept.
#[derive(Debug, Error)]
pub enum ImportError {
    #[error("{0}: not a feed this importer reads (an OSV .json, a directory of them or an all.zip, an updateinfo.xml[.gz|.xz], or a Packages[.gz|.xz] index)")]
    UnknownKind(PathBuf),
    #[error("{0}; nothing was imported")]
    Feed(#[from] FeedError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    pub path: PathBuf,
    pub kind: FeedKind,
    /// Records read, skipped (ecosystems or kinds not covered) and bad.
    pub tally: Tally,
    /// Advisories new or newer than the stored ones; for an index, pairs.
    pub imported: u64,
    /// Advisories stored already with the same or a newer `modified`.
    pub unchanged: u64,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportSummary {
    pub files: Vec<FileSummary>,
    pub data_api_calls: u64,
}

impl ImportSummary {
    pub fn bad(&self) -> impl Iterator<Item = &BadRecord> {
        self.files.iter().flat_map(|f| f.tally.bad.iter())
    }
}

/// Options of an import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The release of a `Packages` index outside a `dists/<codename>/`
    /// tree, or of an `updateinfo.xml` whose ids do not say.
    pub release: Option<Release>,
}

/// Progress, after each record: the file and the records read from it.
pub type Progress<'a> = &'a (dyn Fn(&Path, usize) + Sync);

/// Imports every file of `paths` in one transaction.
pub async fn import(
    store: &Store,
    paths: &[PathBuf],
    options: &ImportOptions,
    progress: Progress<'_>,
) -> Result<ImportSummary, ImportError> {
    // Every path's kind first: a typo fails before anything is written.
    let kinds = paths
        .iter()
        .map(|p| FeedKind::of_path(p).ok_or_else(|| ImportError::UnknownKind(p.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    let calls_before = store.data_api_calls();
    let mut import = store.begin_import().await?;
    let mut files = Vec::new();
    for (path, kind) in paths.iter().zip(kinds) {
        match import_file(&mut import, path, kind, options, progress).await {
            Ok(summary) => files.push(summary),
            Err(e) => {
                import.rollback().await;
                return Err(e);
            }
        }
    }
    import.commit().await?;
    Ok(ImportSummary {
        files,
        data_api_calls: store.data_api_calls() - calls_before,
    })
}

async fn import_file(
    import: &mut AdvisoryImport<'_>,
    path: &Path,
    kind: FeedKind,
    options: &ImportOptions,
    progress: Progress<'_>,
) -> Result<FileSummary, ImportError> {
    let mut summary = FileSummary {
        path: path.to_owned(),
        kind,
        tally: Tally::default(),
        imported: 0,
        unchanged: 0,
    };
    match kind {
        FeedKind::Osv => {
            let records = osv::read_path(path)?;
            advisories(import, records, &mut summary, progress).await?;
        }
        FeedKind::Alas => {
            let records = alas::read_path(path, options.release.clone())?;
            advisories(import, records, &mut summary, progress).await?;
        }
        FeedKind::PackagesIndex => {
            let mut pairs: Vec<(String, String)> = Vec::new();
            let mut release = None;
            for item in packages_index::read_path(path, options.release.clone())? {
                let Some(pair) = summary.tally.count(item?) else {
                    continue;
                };
                progress(path, summary.tally.records);
                release.get_or_insert(pair.release);
                pairs.push((pair.binary, pair.source));
                if pairs.len() >= PAIR_CHUNK {
                    flush_pairs(import, release.as_ref(), &mut pairs, &mut summary).await?;
                }
            }
            flush_pairs(import, release.as_ref(), &mut pairs, &mut summary).await?;
        }
    }
    Ok(summary)
}

/// Reads advisories and writes them a chunk at a time.
async fn advisories(
    import: &mut AdvisoryImport<'_>,
    records: impl Iterator<Item = Result<FeedItem<Advisory>, FeedError>>,
    summary: &mut FileSummary,
    progress: Progress<'_>,
) -> Result<(), ImportError> {
    let mut chunk = Vec::with_capacity(ADVISORY_CHUNK);
    for item in records {
        if let Some(advisory) = summary.tally.count(item?) {
            chunk.push(advisory);
        }
        progress(&summary.path, summary.tally.records);
        if chunk.len() >= ADVISORY_CHUNK {
            write_advisories(import, &mut chunk, summary).await?;
        }
    }
    write_advisories(import, &mut chunk, summary).await
}

async fn write_advisories(
    import: &mut AdvisoryImport<'_>,
    chunk: &mut Vec<Advisory>,
    summary: &mut FileSummary,
) -> Result<(), ImportError> {
    if chunk.is_empty() {
        return Ok(());
    }
    let outcome = import.advisories(chunk).await?;
    summary.imported += outcome.imported;
    summary.unchanged += outcome.unchanged;
    chunk.clear();
    Ok(())
}

async fn flush_pairs(
    import: &mut AdvisoryImport<'_>,
    release: Option<&Release>,
    pairs: &mut Vec<(String, String)>,
    summary: &mut FileSummary,
) -> Result<(), ImportError> {
    let Some(release) = release else {
        return Ok(());
    };
    import.source_map(release, pairs).await?;
    summary.imported += pairs.len() as u64;
    pairs.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_names() {
        for (name, kind) in [
            ("DEBIAN-CVE-2024-5535.json", Some(FeedKind::Osv)),
            ("all.zip", Some(FeedKind::Osv)),
            ("updateinfo.xml.gz", Some(FeedKind::Alas)),
            ("updateinfo.xml", Some(FeedKind::Alas)),
            ("Packages.xz", Some(FeedKind::PackagesIndex)),
            (
                "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages",
                Some(FeedKind::PackagesIndex),
            ),
            ("notes.txt", None),
        ] {
            assert_eq!(FeedKind::of_path(Path::new(name)), kind, "{name}");
        }
    }
}
