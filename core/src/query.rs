//! What the store is asked and what it answers besides whole instances: the
//! search and its pages, package versions across the fleet, the history of
//! changes, and recorded instances as the sync compares them. Each query
//! validates itself here, once, with the field names and messages of the
//! HTTP API.

use chrono::{DateTime, Utc};

use crate::advisories::Severity;
use crate::model::{Account, InstanceId, InstanceState, Region, Scope, Source, ValidationError};
use crate::version::{VersionRange, VersionScheme};

const DEFAULT_SEARCH_LIMIT: u32 = 100;
const MAX_SEARCH_LIMIT: u32 = 1000;

/// Search filters (combined with AND) and the page wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    pub package_name: Option<String>,
    /// Only together with `package_name`.
    pub package_version: Option<String>,
    /// Versions of `package_name` in this range, in each package's own
    /// ordering (`version_lt`, `version_le`, `version_gt`, `version_ge`);
    /// not together with `package_version`.
    pub version_range: VersionRange,
    pub account: Option<Account>,
    pub region: Option<Region>,
    pub state: Option<InstanceState>,
    /// 1 to 1000; 100 by default.
    pub limit: u32,
    /// Opaque token from a previous [`SearchPage`].
    pub next_token: Option<String>,
}

impl Default for SearchQuery {
    fn default() -> Self {
        Self {
            package_name: None,
            package_version: None,
            version_range: VersionRange::default(),
            account: None,
            region: None,
            state: None,
            limit: DEFAULT_SEARCH_LIMIT,
            next_token: None,
        }
    }
}

impl SearchQuery {
    /// Checks the limit, that a version or a range comes with a name, and
    /// that a range does not come with an exact version.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !(1..=MAX_SEARCH_LIMIT).contains(&self.limit) {
            return Err(limit_error());
        }
        if self.package_version.is_some() && self.package_name.is_none() {
            return Err(ValidationError::new(
                "package_version",
                "needs package_name as well",
            ));
        }
        if let Some(field) = self.version_range.first_field() {
            if self.package_name.is_none() {
                return Err(ValidationError::new(field, "needs package_name as well"));
            }
            if self.package_version.is_some() {
                return Err(ValidationError::new(
                    field,
                    "cannot be combined with package_version",
                ));
            }
        }
        Ok(())
    }
}

/// A search limit as text (a query parameter): a whole number from 1 to 1000.
pub fn parse_search_limit(raw: &str) -> Result<u32, ValidationError> {
    raw.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_SEARCH_LIMIT).contains(n))
        .ok_or_else(limit_error)
}

fn limit_error() -> ValidationError {
    ValidationError::new(
        "limit",
        format!("must be an integer from 1 to {MAX_SEARCH_LIMIT}"),
    )
}

/// One page of search results, ordered by instance id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    pub instances: Vec<InstanceSummary>,
    /// Present when more results may follow.
    pub next_token: Option<String>,
}

/// An instance as a search lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSummary {
    pub id: InstanceId,
    pub account: Account,
    pub region: Region,
    pub state: Option<InstanceState>,
    pub instance_type: Option<String>,
    pub updated: DateTime<Utc>,
}

/// How many instances have one version of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageVersionCount {
    pub version: String,
    /// The order the version's rows were keyed in (an instance's OS decides).
    pub scheme: VersionScheme,
    pub instances: u64,
}

/// What the fleet overview shows ([`crate::store::Store::fleet_overview`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetOverview {
    pub counts: FleetCounts,
    /// The package names on the most instances, most first.
    pub widespread: WidespreadPackages,
    /// The fleet's latest changes, newest first.
    pub recent: HistoryPage,
    /// The first page of the fleet's advisories, most severe then most
    /// widespread first.
    pub advisories: AdvisoryCountPage,
}

/// How many recorded instances there are along each of the fleet's
/// dimensions, most first; `None` for instances with no value (no state
/// event yet, no platform reported).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetCounts {
    pub by_account: Vec<DimensionCount>,
    pub by_region: Vec<DimensionCount>,
    pub by_state: Vec<DimensionCount>,
    pub by_platform: Vec<DimensionCount>,
}

impl FleetCounts {
    /// Every recorded instance (each has exactly one account).
    pub fn total(&self) -> u64 {
        self.by_account.iter().map(|c| c.instances).sum()
    }
}

/// The instances with one value of a dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DimensionCount {
    pub value: Option<String>,
    pub instances: u64,
}

/// A package name as the fleet has it: on how many instances (any version),
/// in how many versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSpread {
    pub name: String,
    pub instances: u64,
    pub versions: u64,
}

/// The package names on the most instances, as last counted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WidespreadPackages {
    pub packages: Vec<PackageSpread>,
    /// When the fleet's counts were taken; `None`: never.
    pub counted_at: Option<DateTime<Utc>>,
}

/// A page of history wanted: changes from `since` (inclusive) to `until`
/// (exclusive), newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only the changes of instances recorded in this account and region
    /// (their current record: a deleted instance's changes match neither).
    pub account: Option<Account>,
    pub region: Option<Region>,
    /// 1 to 1000; 100 by default.
    pub limit: u32,
    /// Opaque token from a previous [`HistoryPage`].
    pub next_token: Option<String>,
}

impl Default for HistoryQuery {
    fn default() -> Self {
        Self {
            since: None,
            until: None,
            account: None,
            region: None,
            limit: DEFAULT_SEARCH_LIMIT,
            next_token: None,
        }
    }
}

impl HistoryQuery {
    /// Checks the limit and that the window is not reversed.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !(1..=MAX_SEARCH_LIMIT).contains(&self.limit) {
            return Err(limit_error());
        }
        if let (Some(since), Some(until)) = (self.since, self.until) {
            if since > until {
                return Err(ValidationError::new("since", "must not be after until"));
            }
        }
        Ok(())
    }
}

/// What one change was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// A package (name and version) appeared.
    Installed,
    /// A package (name and version) disappeared.
    Removed,
    /// The one version of a package gave way to one other.
    Changed,
    /// The instance's state changed.
    State,
}

impl std::str::FromStr for ChangeKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "installed" => Ok(Self::Installed),
            "removed" => Ok(Self::Removed),
            "changed" => Ok(Self::Changed),
            "state" => Ok(Self::State),
            other => Err(format!("unknown change kind {other:?}")),
        }
    }
}

/// One recorded change of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub instance_id: InstanceId,
    /// The capture's time for inventories, the event's for states, the
    /// request's for the API.
    pub at: DateTime<Utc>,
    pub source: Source,
    pub kind: ChangeKind,
    pub package_name: Option<String>,
    pub old_version: Option<String>,
    pub new_version: Option<String>,
    pub old_state: Option<InstanceState>,
    pub new_state: Option<InstanceState>,
}

/// One page of history, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    pub changes: Vec<Change>,
    /// Present when more changes may follow.
    pub next_token: Option<String>,
}

/// The instances a vulnerability query looks at, and the page wanted.
/// Terminated instances count only when `state` asks for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VulnerabilityQuery {
    pub account: Option<Account>,
    pub region: Option<Region>,
    pub state: Option<InstanceState>,
    /// The fleet view only: advisories of this severity.
    pub severity: Option<Severity>,
    /// 1 to 1000; 100 by default.
    pub limit: u32,
    /// Opaque token from a previous page.
    pub next_token: Option<String>,
}

impl Default for VulnerabilityQuery {
    fn default() -> Self {
        Self {
            account: None,
            region: None,
            state: None,
            severity: None,
            limit: DEFAULT_SEARCH_LIMIT,
            next_token: None,
        }
    }
}

impl VulnerabilityQuery {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !(1..=MAX_SEARCH_LIMIT).contains(&self.limit) {
            return Err(limit_error());
        }
        Ok(())
    }
}

/// An advisory as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryRecord {
    pub id: String,
    /// "osv" or "alas".
    pub feed: String,
    pub summary: Option<String>,
    pub severity: Severity,
    pub aliases: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub modified: DateTime<Utc>,
    pub withdrawn: Option<DateTime<Utc>>,
}

/// An instance a package of which an advisory affects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedPackage {
    pub instance_id: InstanceId,
    pub advisory_id: String,
    pub package_name: String,
    pub package_version: String,
    /// `None` when the advisory has no fix for it.
    pub fixed_version: Option<String>,
    /// How the names met: "package", "source_map", "source_rpm" or "same_name".
    pub matched_by: String,
}

/// What `GET /advisories/{id}` answers: the advisory (several when the id
/// is an alias, such as a CVE, that several advisories share) and a page of
/// the instances it affects, by instance id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryPage {
    pub advisories: Vec<AdvisoryRecord>,
    pub affected: Vec<AffectedPackage>,
    pub next_token: Option<String>,
}

impl AdvisoryPage {
    /// The advisory that answers for the id: the most severe of those an
    /// alias names (the store lists them by id, never none).
    pub fn lead(&self) -> Option<&AdvisoryRecord> {
        self.advisories.iter().min_by_key(|a| a.severity)
    }
}

/// One advisory that affects one package of an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vulnerability {
    pub advisory_id: String,
    pub aliases: Vec<String>,
    pub severity: Severity,
    pub package_name: String,
    pub package_version: String,
    pub fixed_version: Option<String>,
    pub matched_by: String,
}

/// An instance's vulnerabilities, most severe first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VulnerabilityPage {
    pub vulnerabilities: Vec<Vulnerability>,
    pub next_token: Option<String>,
}

/// An advisory with the number of instances it affects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryCount {
    pub advisory_id: String,
    pub aliases: Vec<String>,
    pub severity: Severity,
    pub summary: Option<String>,
    pub instances: u64,
}

/// The fleet's advisories, most severe then most widespread first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryCountPage {
    pub advisories: Vec<AdvisoryCount>,
    pub next_token: Option<String>,
    /// When the instance counts were taken; `None`: never.
    pub counted_at: Option<DateTime<Utc>>,
}

/// What the store holds of an instance, as the sync compares it with a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedInstance {
    pub id: InstanceId,
    pub state: Option<InstanceState>,
    pub inventory_captured_at: Option<DateTime<Utc>>,
    /// The last state event applied, or the creation for records written
    /// through the API.
    pub last_change: DateTime<Utc>,
}

/// A page of [`ScopeCoverage`]s, by account then region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopesQuery {
    /// 1 to 1000; 1000 by default.
    pub limit: u32,
    /// Opaque token from a previous [`ScopesPage`].
    pub next_token: Option<String>,
}

impl Default for ScopesQuery {
    fn default() -> Self {
        Self {
            limit: MAX_SEARCH_LIMIT,
            next_token: None,
        }
    }
}

/// One page of scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopesPage {
    pub scopes: Vec<ScopeCoverage>,
    /// Present when more scopes may follow.
    pub next_token: Option<String>,
}

/// Recorded instances of one scope by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateCounts {
    pub total: u64,
    pub pending: u64,
    pub running: u64,
    pub stopping: u64,
    pub stopped: u64,
    pub shutting_down: u64,
    pub terminated: u64,
}

impl StateCounts {
    /// Instances recorded without a state (by hand, through the API).
    pub fn unknown(&self) -> u64 {
        let known = self.pending
            + self.running
            + self.stopping
            + self.stopped
            + self.shutting_down
            + self.terminated;
        self.total.saturating_sub(known)
    }
}

/// What the store knows of one account and region: its recorded instances
/// and what the central functions heard from it (`scope_coverage`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeCoverage {
    pub scope: Scope,
    pub instances: StateCounts,
    /// When an event or a sync run first reached the scope; `None`: known
    /// only from recorded instances (records made by hand, or before the
    /// scope was watched).
    pub first_seen: Option<DateTime<Utc>>,
    /// The newest event received from the scope (organization mode).
    pub last_event_at: Option<DateTime<Utc>>,
    /// The end of the last sync run that reached the scope.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The end of the last sync run that completed a pass of its fleet.
    pub last_pass_at: Option<DateTime<Utc>>,
    /// The last failure; a sync run that succeeds clears it.
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

impl ScopeCoverage {
    /// The last time the scope was heard from: an event or a sync run.
    pub fn last_heard(&self) -> Option<DateTime<Utc>> {
        self.last_event_at.max(self.last_sync_at)
    }

    /// A watched scope from which nothing was heard since `before` (counted
    /// from when it was first seen if it was never heard from).
    pub fn is_silent(&self, before: DateTime<Utc>) -> bool {
        self.first_seen
            .is_some_and(|first| self.last_heard().unwrap_or(first) < before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_validated() {
        let q = SearchQuery {
            package_version: Some("1".into()),
            ..SearchQuery::default()
        };
        assert!(matches!(q.validate(), Err(e) if e.field == "package_version"));
        for limit in [0, MAX_SEARCH_LIMIT + 1] {
            let q = SearchQuery {
                limit,
                ..SearchQuery::default()
            };
            assert!(matches!(q.validate(), Err(e) if e.field == "limit"));
        }
        assert!(SearchQuery::default().validate().is_ok());
        for bad in ["0", "1001", "-1", "ten", ""] {
            assert_eq!(parse_search_limit(bad).unwrap_err(), limit_error(), "{bad}");
        }
        assert_eq!(parse_search_limit("1000"), Ok(1000));
    }
}
