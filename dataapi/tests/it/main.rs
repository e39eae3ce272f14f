//! The integration tests of data-api-local, one test binary (each file a
//! module): linking once instead of once per file.

#[path = "../common/mod.rs"]
mod common;

mod api;
mod boto3;
mod conformance;
mod keepalive;
mod operations;
