//! The integration tests of the `inventory` binary, one test binary (each
//! file a module).

#[path = "../../../test-support/optional.rs"]
#[allow(dead_code)]
mod optional;
mod support;

mod browser;
mod proxy;
mod serve;
mod terminal;
