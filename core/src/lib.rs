//! ec2-inventory core: the domain model, the Data API store, the package and
//! instance sources, what each event does (`events`), the advisory feeds'
//! import and fetch (`feeds`) and the HTTP API (one axum Router that the
//! Lambda and `inventory serve` both serve), and the version orderings of
//! package ecosystems (`version`), and the security advisory feeds matched against installed
//! packages (`advisories`).
//!
//! Core never knows whether it runs in Lambda or locally: callers hand it SDK
//! clients and the settings of [`config`].

pub mod advisories;
pub mod config;
pub mod eventbridge;
pub mod events;
pub mod feeds;
pub mod http;
pub mod model;
pub mod query;
pub mod sources;
pub mod store;
pub mod version;
