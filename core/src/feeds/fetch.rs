//! The scheduled advisory import: each configured feed is downloaded over
//! HTTPS with a conditional request (If-None-Match / If-Modified-Since, from
//! the validators the store kept of the last file imported whole), streamed
//! to a file in a work directory (Lambda's `/tmp`), and handed to
//! [`super::import::import`], which imports it in one
//! transaction or not at all. A 304 imports nothing. A feed that fails (the
//! network, an HTTP error, a truncated or corrupt file) keeps its last good
//! data and its validators; its error is recorded and the run reports it, so
//! the caller can fail (and the alarm fire). Feeds are independent: one
//! failing does not stop the others.
//!
//! Feeds (`FeedSource`): OSV's per-ecosystem `all.zip`
//! (`<osv base>/<Ecosystem>/all.zip`), and the `updateinfo.xml` of an Amazon
//! Linux core repository, found as `dnf` finds it: the repository's
//! `mirror.list`, then its `repodata/repomd.xml` (see
//! [`crate::advisories::repomd`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use chrono::Utc;
use http::header::{
    CONTENT_LENGTH, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION, USER_AGENT,
};
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::io::AsyncWriteExt;
use url::Url;

use super::import::{import, FileSummary, ImportError, ImportOptions};
use crate::advisories::{repomd, Distro, Release};
use crate::config::{self, ConfigError};
use crate::store::{FeedState, Store, StoreError};

/// OSV's public bucket of per-ecosystem exports.
pub const DEFAULT_OSV_BASE_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// Amazon Linux's repository CDN.
pub const DEFAULT_ALAS_BASE_URL: &str = "https://cdn.amazonlinux.com";
/// The OSV ecosystems whose records the importer reads (the rest would be
/// skipped whole), as OSV spells their folders.
pub const OSV_ECOSYSTEMS: [&str; 5] = ["Debian", "Ubuntu", "AlmaLinux", "Rocky Linux", "Red Hat"];
/// The architecture whose repository is read: advisories name the same
/// packages and versions on x86_64 and aarch64.
const ALAS_ARCH: &str = "x86_64";
/// Largest `mirror.list` or `repomd.xml` read.
const MAX_SMALL_FILE: usize = 1024 * 1024;
/// A response's headers, or the next piece of its body, must come within this.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_REDIRECTS: usize = 5;
/// Download directories older than this are a killed run's: removed.
const STALE_DOWNLOAD: Duration = Duration::from_secs(3600);
const DOWNLOAD_DIR_PREFIX: &str = "inventory-feed-";

/// One feed to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedSource {
    /// OSV's `all.zip` of one ecosystem (one of [`OSV_ECOSYSTEMS`]).
    Osv { ecosystem: String },
    /// The `updateinfo.xml` of Amazon Linux 2 or 2023's core repository.
    Alas { release: Release },
}

impl fmt::Display for FeedSource {
    /// The feed's name, as configured and stored: `osv:Debian`, `alas:2023`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeedSource::Osv { ecosystem } => write!(f, "osv:{ecosystem}"),
            FeedSource::Alas { release } => write!(f, "alas:{}", release.version()),
        }
    }
}

impl FromStr for FeedSource {
    type Err = String;

    /// `osv:<Ecosystem>` (Debian, Ubuntu, AlmaLinux, Rocky Linux, Red Hat)
    /// or `alas:2` / `alas:2023`.
    fn from_str(name: &str) -> Result<Self, String> {
        let name = name.trim();
        match name.split_once(':') {
            Some(("osv", ecosystem)) => OSV_ECOSYSTEMS
                .iter()
                .find(|e| **e == ecosystem.trim())
                .map(|e| FeedSource::Osv {
                    ecosystem: (*e).to_owned(),
                })
                .ok_or_else(|| {
                    format!(
                        "{name:?}: an OSV feed is osv:<ecosystem>, one of {}",
                        OSV_ECOSYSTEMS.join(", ")
                    )
                }),
            Some(("alas", version)) => match version.trim() {
                "2" | "2023" => Ok(FeedSource::Alas {
                    release: Release::new(Distro::AmazonLinux, version)
                        .expect("2 and 2023 are Amazon Linux releases"),
                }),
                _ => Err(format!("{name:?}: an ALAS feed is alas:2 or alas:2023")),
            },
            _ => Err(format!(
                "{name:?} is not a feed: osv:<ecosystem> (osv:Debian, ...) or alas:2 / alas:2023"
            )),
        }
    }
}

/// The feeds from a comma-separated list; empty entries are ignored.
pub fn parse_feeds(list: &str) -> Result<Vec<FeedSource>, String> {
    let mut feeds: Vec<FeedSource> = Vec::new();
    for name in list.split(',').filter(|n| !n.trim().is_empty()) {
        let feed: FeedSource = name.parse()?;
        if !feeds.contains(&feed) {
            feeds.push(feed);
        }
    }
    Ok(feeds)
}

/// What a fetch run reads and where it downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchSettings {
    pub feeds: Vec<FeedSource>,
    /// Base of the OSV exports: `<base>/<Ecosystem>/all.zip`.
    pub osv_base_url: Url,
    /// Base of the Amazon Linux repositories: `<base>/2/core/latest/x86_64/mirror.list`,
    /// `<base>/al2023/core/mirrors/latest/x86_64/mirror.list`.
    pub alas_base_url: Url,
    /// Where files are downloaded (and removed after their import).
    pub work_dir: PathBuf,
}

impl FetchSettings {
    /// `INVENTORY_ADVISORY_FEEDS` (required, non-empty), `INVENTORY_OSV_BASE_URL`,
    /// `INVENTORY_ALAS_BASE_URL` and `INVENTORY_FEED_DIR` (the system's temporary
    /// directory by default: `/tmp` in Lambda).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let name = config::ENV_ADVISORY_FEEDS;
        let list = get(name).ok_or(ConfigError::Missing(name))?;
        let feeds = parse_feeds(&list).map_err(|reason| ConfigError::Invalid { name, reason })?;
        let url = |name: &'static str, default: &str| {
            let raw = get(name).unwrap_or_else(|| default.to_owned());
            base_url(&raw).map_err(|reason| ConfigError::Invalid { name, reason })
        };
        Ok(Self {
            feeds,
            osv_base_url: url(config::ENV_OSV_BASE_URL, DEFAULT_OSV_BASE_URL)?,
            alas_base_url: url(config::ENV_ALAS_BASE_URL, DEFAULT_ALAS_BASE_URL)?,
            work_dir: get(config::ENV_FEED_DIR)
                .map(PathBuf::from)
                .unwrap_or_else(std::env::temp_dir),
        })
    }
}

/// A base URL as [`Url::join`] wants it (ending in `/`), and allowed.
fn base_url(raw: &str) -> Result<Url, String> {
    let mut url = Url::parse(raw).map_err(|e| format!("{raw:?} is not a URL: {e}"))?;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    allowed(&url).map_err(|e| e.to_string())?;
    Ok(url)
}

/// Only HTTPS, or plain HTTP to this machine (a stand-in, a local mirror):
/// feeds are trusted input to the database.
fn allowed(url: &Url) -> Result<(), FetchError> {
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(FetchError::NotHttps(url.to_string())),
    }
}

/// Why a feed could not be fetched or imported.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}: only https:// URLs (or http:// to this machine) are fetched")]
    NotHttps(String),
    #[error("{url}: {source}")]
    Transport {
        url: String,
        source: hyper_util::client::legacy::Error,
    },
    #[error("{url}: {message}")]
    Body { url: String, message: String },
    #[error("{url}: no answer within {IDLE_TIMEOUT:?}")]
    Timeout { url: String },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: StatusCode },
    #[error("{url}: more than {MAX_REDIRECTS} redirects")]
    Redirects { url: String },
    #[error("{url}: {message}")]
    Repository { url: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("TLS set-up: {0}")]
    Tls(std::io::Error),
    #[error(transparent)]
    Import(#[from] ImportError),
}

/// The HTTPS client of the feeds: system roots, HTTP/1.1, redirects followed.
#[derive(Clone)]
pub struct FeedClient {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl FeedClient {
    pub fn new() -> Result<Self, FetchError> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(FetchError::Tls)?
            // Plain HTTP only where `allowed` lets it: to this machine.
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(https),
        })
    }

    /// GET `url` with `headers`, following redirects (each hop allowed too).
    async fn get(
        &self,
        url: &Url,
        headers: &HeaderMap,
    ) -> Result<(Url, http::Response<hyper::body::Incoming>), FetchError> {
        let mut url = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            allowed(&url)?;
            let mut request = Request::get(url.as_str())
                .header(
                    USER_AGENT,
                    concat!("ec2-inventory/", env!("CARGO_PKG_VERSION")),
                )
                .body(Empty::new())
                .map_err(|e| FetchError::Body {
                    url: url.to_string(),
                    message: e.to_string(),
                })?;
            request.headers_mut().extend(headers.clone());
            let response = tokio::time::timeout(IDLE_TIMEOUT, self.client.request(request))
                .await
                .map_err(|_| FetchError::Timeout {
                    url: url.to_string(),
                })?
                .map_err(|source| FetchError::Transport {
                    url: url.to_string(),
                    source,
                })?;
            if !response.status().is_redirection() || response.status() == StatusCode::NOT_MODIFIED
            {
                return Ok((url, response));
            }
            let next = response
                .headers()
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok())
                .ok_or_else(|| FetchError::Status {
                    url: url.to_string(),
                    status: response.status(),
                })?;
            url = next;
        }
        Err(FetchError::Redirects {
            url: url.to_string(),
        })
    }

    /// A small file whole (`mirror.list`, `repomd.xml`), which must be there.
    async fn get_small(&self, url: &Url) -> Result<(Url, Vec<u8>), FetchError> {
        let (url, response) = self.get(url, &HeaderMap::new()).await?;
        ok_status(&url, response.status())?;
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        while let Some(data) = next_data(&url, &mut body).await? {
            bytes.extend_from_slice(&data);
            if bytes.len() > MAX_SMALL_FILE {
                return Err(FetchError::Body {
                    url: url.to_string(),
                    message: format!("larger than {MAX_SMALL_FILE} bytes"),
                });
            }
        }
        Ok((url, bytes))
    }

    /// A conditional GET of `url`, the body streamed to `path`.
    async fn download(
        &self,
        url: &Url,
        validators: Validators<'_>,
        path: &Path,
    ) -> Result<Download, FetchError> {
        let mut headers = HeaderMap::new();
        let mut header = |name, value: Option<&str>| {
            if let Some(value) = value.and_then(|v| v.parse().ok()) {
                headers.insert(name, value);
            }
        };
        header(IF_NONE_MATCH, validators.etag);
        header(IF_MODIFIED_SINCE, validators.last_modified);
        let (url, response) = self.get(url, &headers).await?;
        let text = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (etag, last_modified) = (text(ETAG), text(LAST_MODIFIED));
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(Download::NotModified {
                url,
                etag,
                last_modified,
            });
        }
        ok_status(&url, response.status())?;
        let expected: Option<u64> = text(CONTENT_LENGTH).and_then(|l| l.parse().ok());
        let io = |source| FetchError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = tokio::fs::File::create(path).await.map_err(io)?;
        let mut body = response.into_body();
        let mut bytes = 0u64;
        while let Some(data) = next_data(&url, &mut body).await? {
            file.write_all(&data).await.map_err(io)?;
            bytes += data.len() as u64;
        }
        file.flush().await.map_err(io)?;
        if expected.is_some_and(|n| n != bytes) {
            return Err(FetchError::Body {
                url: url.to_string(),
                message: format!(
                    "truncated: {bytes} of {} bytes",
                    expected.unwrap_or_default()
                ),
            });
        }
        Ok(Download::Saved {
            url,
            etag,
            last_modified,
            bytes,
        })
    }
}

fn ok_status(url: &Url, status: StatusCode) -> Result<(), FetchError> {
    if status == StatusCode::OK {
        Ok(())
    } else {
        Err(FetchError::Status {
            url: url.to_string(),
            status,
        })
    }
}

/// The next piece of a body, within the idle timeout; `None` at its end.
async fn next_data(
    url: &Url,
    body: &mut hyper::body::Incoming,
) -> Result<Option<Bytes>, FetchError> {
    loop {
        let frame = tokio::time::timeout(IDLE_TIMEOUT, body.frame())
            .await
            .map_err(|_| FetchError::Timeout {
                url: url.to_string(),
            })?;
        match frame {
            None => return Ok(None),
            Some(Err(e)) => {
                return Err(FetchError::Body {
                    url: url.to_string(),
                    message: e.to_string(),
                })
            }
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    return Ok(Some(data));
                }
            }
        }
    }
}

/// What a conditional request sends back.
#[derive(Clone, Copy, Default)]
struct Validators<'a> {
    etag: Option<&'a str>,
    last_modified: Option<&'a str>,
}

enum Download {
    NotModified {
        url: Url,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    Saved {
        url: Url,
        etag: Option<String>,
        last_modified: Option<String>,
        bytes: u64,
    },
}

/// What became of one feed.
#[derive(Debug)]
pub enum FeedOutcome {
    /// 304: the stored data is current; nothing imported.
    NotModified,
    /// Downloaded (`bytes`) and imported in one transaction.
    Imported { bytes: u64, summary: FileSummary },
    /// Nothing imported; the last good data stays.
    Failed { error: String },
}

#[derive(Debug)]
pub struct FeedReport {
    pub feed: String,
    /// The file's URL, once known.
    pub url: Option<String>,
    pub outcome: FeedOutcome,
}

/// What a fetch run did.
#[derive(Debug, Default)]
pub struct FetchReport {
    pub feeds: Vec<FeedReport>,
    pub data_api_calls: u64,
}

impl FetchReport {
    /// The feeds that failed.
    pub fn failed(&self) -> impl Iterator<Item = &FeedReport> {
        self.feeds
            .iter()
            .filter(|f| matches!(f.outcome, FeedOutcome::Failed { .. }))
    }
}

/// Fetches and imports every feed of `settings`, one after the other; a
/// feed's failure is recorded and reported, not returned. `Err` only when
/// the feeds' state cannot be read.
pub async fn fetch(
    store: &Store,
    client: &FeedClient,
    settings: &FetchSettings,
) -> Result<FetchReport, StoreError> {
    let calls_before = store.data_api_calls();
    remove_stale_downloads(&settings.work_dir);
    let states = store.feed_states().await?;
    let mut report = FetchReport::default();
    for feed in &settings.feeds {
        let name = feed.to_string();
        let state = states.iter().find(|s| s.feed == name);
        let mut url = None;
        let outcome = match fetch_one(store, client, settings, feed, state, &mut url).await {
            Ok(outcome) => outcome,
            Err(e) => {
                let error = e.to_string();
                tracing::error!(feed = %name, error = %error, "advisory feed failed; its last good data stays");
                if let Err(record) = store.feed_failed(&name, &error, Utc::now()).await {
                    tracing::error!(feed = %name, error = %record, "cannot record the feed's failure");
                }
                FeedOutcome::Failed { error }
            }
        };
        report.feeds.push(FeedReport {
            feed: name,
            url: url.map(|u: Url| u.to_string()),
            outcome,
        });
    }
    report.data_api_calls = store.data_api_calls() - calls_before;
    Ok(report)
}

async fn fetch_one(
    store: &Store,
    client: &FeedClient,
    settings: &FetchSettings,
    feed: &FeedSource,
    state: Option<&FeedState>,
    resolved: &mut Option<Url>,
) -> Result<FeedOutcome, FetchError> {
    let (url, file_name, release) = match feed {
        FeedSource::Osv { ecosystem } => {
            let url = settings
                .osv_base_url
                .join(&format!("{}/all.zip", encode_segment(ecosystem)))
                .map_err(|e| FetchError::NotHttps(e.to_string()))?;
            (url, "all.zip", None)
        }
        FeedSource::Alas { release } => {
            let url = updateinfo_url(client, &settings.alas_base_url, release).await?;
            // The importer tells gzip by its first bytes, not the name.
            (url, "updateinfo.xml", Some(release.clone()))
        }
    };
    *resolved = Some(url.clone());
    // Validators belong to the URL they came with: a repository that moved
    // its file (a new Amazon Linux release) is downloaded afresh.
    let validators = match state {
        Some(s) if s.url.as_deref() == Some(url.as_str()) => Validators {
            etag: s.etag.as_deref(),
            last_modified: s.last_modified.as_deref(),
        },
        _ => Validators::default(),
    };
    let dir = DownloadDir::create(&settings.work_dir)?;
    let path = dir.0.join(file_name);
    match client.download(&url, validators, &path).await? {
        Download::NotModified {
            url,
            etag,
            last_modified,
        } => {
            // A 304 may carry fresh validators; otherwise the stored ones stand.
            let etag = etag.as_deref().or(validators.etag);
            let last_modified = last_modified.as_deref().or(validators.last_modified);
            store
                .feed_succeeded(
                    &feed.to_string(),
                    url.as_str(),
                    etag,
                    last_modified,
                    Utc::now(),
                )
                .await
                .map_err(ImportError::from)?;
            tracing::info!(feed = %feed, %url, "advisory feed not modified");
            Ok(FeedOutcome::NotModified)
        }
        Download::Saved {
            url,
            etag,
            last_modified,
            bytes,
        } => {
            let options = ImportOptions { release };
            let mut summary = import(store, &[path], &options, &|_, _| {}).await?;
            let summary = summary.files.remove(0);
            // Only after the commit: a failed import keeps the old validators,
            // so the next run downloads again.
            store
                .feed_succeeded(
                    &feed.to_string(),
                    url.as_str(),
                    etag.as_deref(),
                    last_modified.as_deref(),
                    Utc::now(),
                )
                .await
                .map_err(ImportError::from)?;
            tracing::info!(
                feed = %feed, %url, bytes,
                records = summary.tally.records,
                imported = summary.imported,
                unchanged = summary.unchanged,
                bad = summary.tally.bad.len(),
                "advisory feed imported"
            );
            Ok(FeedOutcome::Imported { bytes, summary })
        }
    }
}

/// The URL of the `updateinfo.xml` of Amazon Linux `release`'s core
/// repository: its `mirror.list`'s first repository, that repository's
/// `repodata/repomd.xml`, the `updateinfo` entry's location.
async fn updateinfo_url(
    client: &FeedClient,
    base: &Url,
    release: &Release,
) -> Result<Url, FetchError> {
    let list_path = match release.version() {
        "2" => format!("2/core/latest/{ALAS_ARCH}/mirror.list"),
        _ => format!("al2023/core/mirrors/latest/{ALAS_ARCH}/mirror.list"),
    };
    let list_url = base
        .join(&list_path)
        .map_err(|e| FetchError::NotHttps(e.to_string()))?;
    let (list_url, list) = client.get_small(&list_url).await?;
    let repository = |message: String| FetchError::Repository {
        url: list_url.to_string(),
        message,
    };
    let text = String::from_utf8_lossy(&list);
    let mirror =
        repomd::first_mirror(&text).ok_or_else(|| repository("no mirror listed".into()))?;
    let mirror = base_url(mirror).map_err(repository)?;
    let repomd_url = mirror
        .join("repodata/repomd.xml")
        .map_err(|e| repository(e.to_string()))?;
    let (repomd_url, repomd) = client.get_small(&repomd_url).await?;
    let repository = |message: String| FetchError::Repository {
        url: repomd_url.to_string(),
        message,
    };
    let href = repomd::updateinfo_href(&repomd)
        .map_err(|e| repository(format!("malformed repomd.xml: {e}")))?
        .ok_or_else(|| repository("no updateinfo in repomd.xml".into()))?;
    mirror.join(&href).map_err(|e| repository(e.to_string()))
}

/// An ecosystem as one path segment ("Rocky Linux" -> "Rocky%20Linux").
fn encode_segment(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A download's own directory, removed with what it holds when dropped
/// (after the import, or on any failure).
struct DownloadDir(PathBuf);

impl DownloadDir {
    fn create(work_dir: &Path) -> Result<Self, FetchError> {
        let dir = work_dir.join(format!("{DOWNLOAD_DIR_PREFIX}{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).map_err(|source| FetchError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Self(dir))
    }
}

impl Drop for DownloadDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Removes the download directories a killed run left (a Lambda timeout
/// keeps `/tmp` for the next invocation), older than [`STALE_DOWNLOAD`].
fn remove_stale_downloads(work_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(work_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > STALE_DOWNLOAD);
        if stale
            && entry
                .file_name()
                .to_string_lossy()
                .starts_with(DOWNLOAD_DIR_PREFIX)
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_names() {
        let feeds =
            parse_feeds(" osv:Debian, osv:Rocky Linux,alas:2023,, alas:2,osv:Debian").unwrap();
        let names: Vec<String> = feeds.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            ["osv:Debian", "osv:Rocky Linux", "alas:2023", "alas:2"]
        );
        for bad in ["osv:PyPI", "alas:2018.03", "debian", "osv:"] {
            assert!(parse_feeds(bad).is_err(), "{bad}");
        }
        assert_eq!(encode_segment("Rocky Linux"), "Rocky%20Linux");
        assert_eq!(encode_segment("Red Hat"), "Red%20Hat");
    }

    #[test]
    fn settings() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let s = FetchSettings::from_lookup(vars(&[("INVENTORY_ADVISORY_FEEDS", "osv:Debian")]))
            .unwrap();
        assert_eq!(
            s.osv_base_url.as_str(),
            "https://osv-vulnerabilities.storage.googleapis.com/"
        );
        assert_eq!(s.alas_base_url.as_str(), "https://cdn.amazonlinux.com/");
        assert_eq!(
            FetchSettings::from_lookup(vars(&[])),
            Err(ConfigError::Missing("INVENTORY_ADVISORY_FEEDS"))
        );
        // Plain HTTP only to this machine.
        let local = FetchSettings::from_lookup(vars(&[
            ("INVENTORY_ADVISORY_FEEDS", "alas:2023"),
            ("INVENTORY_OSV_BASE_URL", "http://127.0.0.1:8080/osv"),
        ]))
        .unwrap();
        assert_eq!(local.osv_base_url.as_str(), "http://127.0.0.1:8080/osv/");
        let remote = FetchSettings::from_lookup(vars(&[
            ("INVENTORY_ADVISORY_FEEDS", "alas:2023"),
            ("INVENTORY_ALAS_BASE_URL", "http://mirror.example.com/"),
        ]));
        assert!(
            matches!(
                remote,
                Err(ConfigError::Invalid {
                    name: "INVENTORY_ALAS_BASE_URL",
                    ..
                })
            ),
            "{remote:?}"
        );
        let bad = FetchSettings::from_lookup(vars(&[("INVENTORY_ADVISORY_FEEDS", "osv:npm")]));
        assert!(matches!(bad, Err(ConfigError::Invalid { .. })), "{bad:?}");
    }
}
