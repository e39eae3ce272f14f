//! The read-only views over the fleet, for the HTTP API (`GET /ec2`,
//! `GET /packages/{name}`, the history routes) and `inventory search` /
//! `inventory packages`.

use crate::model::InstanceId;
use crate::query::{HistoryPage, HistoryQuery, PackageVersionCount, SearchPage, SearchQuery};
use crate::store::{Store, StoreError};

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
