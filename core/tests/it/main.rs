//! The integration tests of inventory-core, one test binary (each file a
//! module): linking the AWS SDKs once instead of once per file.

#[path = "../common/mod.rs"]
mod common;

mod advisory_fetch;
mod advisory_import;
mod events_handling;
mod fleet_sync;
mod http_api;
mod http_keepalive;
mod page;
mod scopes;
mod store_advisories;
mod store_coverage;
mod store_events;
mod store_fleet;
mod store_history;
mod store_instances;
mod store_races;
mod store_retry;
mod store_search;
mod store_sync_cursor;
mod store_versions;
mod store_writes;
