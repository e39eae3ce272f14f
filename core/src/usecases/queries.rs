//! The read-only views over the fleet, for the HTTP API (`GET /ec2`,
//! `GET /packages/{name}`, the history routes), the page (`http::page`) and
//! `inventory search` / `inventory packages`.

use crate::model::InstanceId;
use crate::query::{
    FleetCounts, HistoryPage, HistoryQuery, PackageSpread, PackageVersionCount, ScopesPage,
    ScopesQuery, SearchPage,
    SearchQuery,
};
use crate::store::{Store, StoreError};

/// What the fleet overview shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetOverview {
    pub counts: FleetCounts,
    /// The package names on the most instances, most first.
    pub widespread: Vec<PackageSpread>,
    /// The fleet's latest changes, newest first.
    pub recent: HistoryPage,
}

/// The fleet overview with `widespread` package names and `recent` changes:
/// 3 calls, made at once.
pub async fn fleet_overview(
    store: &Store,
    widespread: u32,
    recent: u32,
) -> Result<FleetOverview, StoreError> {
    let recent = HistoryQuery {
        limit: recent,
        ..HistoryQuery::default()
    };
    let (counts, widespread, recent) = futures::try_join!(
        store.fleet_counts(),
        store.widespread_packages(widespread),
        store.fleet_history(&recent),
    )?;
    Ok(FleetOverview {
        counts,
        widespread,
        recent,
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
