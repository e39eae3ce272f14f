//! The read-only views over the fleet, for the HTTP API (`GET /ec2`,
//! `GET /packages/{name}`, the history and vulnerability routes), the page
//! (`http::page`) and `inventory search` / `inventory packages`.

use crate::model::InstanceId;
use crate::query::{
    AdvisoryCountPage, AdvisoryPage, FleetCounts, HistoryPage, HistoryQuery, PackageVersionCount,
    ScopesPage, ScopesQuery, SearchPage, SearchQuery, VulnerabilityPage, VulnerabilityQuery,
    WidespreadPackages,
};
use crate::store::{Store, StoreError};

/// What the fleet overview shows.
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

/// The fleet overview with `widespread` package names, `recent` changes and
/// a page of `advisories`: 4 calls, made at once.
pub async fn fleet_overview(
    store: &Store,
    widespread: u32,
    recent: u32,
    advisories: u32,
) -> Result<FleetOverview, StoreError> {
    let recent = HistoryQuery {
        limit: recent,
        ..HistoryQuery::default()
    };
    let advisories = VulnerabilityQuery {
        limit: advisories,
        ..VulnerabilityQuery::default()
    };
    let (counts, widespread, recent, advisories) = futures::try_join!(
        store.fleet_counts(),
        store.widespread_packages(widespread),
        store.fleet_history(&recent),
        store.fleet_vulnerabilities(&advisories),
    )?;
    Ok(FleetOverview {
        counts,
        widespread,
        recent,
        advisories,
    })
}

/// One page of the instances matching every filter of `query`.
pub async fn search(store: &Store, query: &SearchQuery) -> Result<SearchPage, StoreError> {
    store.search(query).await
}

/// Each version of a package with the number of instances that have it.
pub async fn package_versions(
    store: &Store,
    name: &str,
) -> Result<Vec<PackageVersionCount>, StoreError> {
    store.package_versions(name).await
}

/// The changes of one instance, newest first.
pub async fn instance_history(
    store: &Store,
    id: &InstanceId,
    query: &HistoryQuery,
) -> Result<HistoryPage, StoreError> {
    store.instance_history(id, query).await
}

/// Which instances installed, removed or changed a package, newest first.
pub async fn package_history(
    store: &Store,
    name: &str,
    query: &HistoryQuery,
) -> Result<HistoryPage, StoreError> {
    store.package_history(name, query).await
}

/// Every change in the fleet, newest first.
pub async fn fleet_history(store: &Store, query: &HistoryQuery) -> Result<HistoryPage, StoreError> {
    store.fleet_history(query).await
}

/// Every known account and region with its instances and coverage.
pub async fn scopes(store: &Store, query: &ScopesQuery) -> Result<ScopesPage, StoreError> {
    store.scopes(query).await
}

/// The advisory named `id` or every advisory with that alias, and a page of
/// the instances affected; `None` when no advisory has that id or alias.
pub async fn advisory(
    store: &Store,
    id: &str,
    query: &VulnerabilityQuery,
) -> Result<Option<AdvisoryPage>, StoreError> {
    store.advisory(id, query).await
}

/// The advisories that affect an instance's packages, most severe first.
pub async fn instance_vulnerabilities(
    store: &Store,
    id: &InstanceId,
    query: &VulnerabilityQuery,
) -> Result<VulnerabilityPage, StoreError> {
    store.instance_vulnerabilities(id, query).await
}

/// The fleet's advisories with the instances each affects, most severe then
/// most widespread first.
pub async fn fleet_vulnerabilities(
    store: &Store,
    query: &VulnerabilityQuery,
) -> Result<AdvisoryCountPage, StoreError> {
    store.fleet_vulnerabilities(query).await
}
