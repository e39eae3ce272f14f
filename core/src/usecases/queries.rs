//! The read-only views over the fleet, for the HTTP API (`GET /ec2`,
//! `GET /packages/{name}`) and `inventory search` / `inventory packages`.

use crate::query::{PackageVersionCount, SearchPage, SearchQuery};
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
