//! Advisory feeds into the store: files imported in one transaction
//! (`import`, `inventory advisories import`), and the scheduled import that
//! fetches them over HTTPS with conditional requests (`fetch`: the only HTTP
//! client in `core`, hyper with rustls as the AWS SDK builds it). How a feed
//! is read is `crate::advisories`; what the store keeps of each feed's
//! fetches is `store::feeds`.

pub mod fetch;
pub mod import;
