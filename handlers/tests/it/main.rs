//! The integration tests of inventory-handlers, one test binary (each file a
//! module): linking the AWS SDKs once instead of once per file.

#[path = "../local_support/mod.rs"]
mod local_support;
#[path = "../../../test-support/optional.rs"]
// Each test binary uses a different part (Chromium is the CLI's).
#[allow(dead_code)]
mod optional;
#[path = "../template_support/mod.rs"]
mod template_support;

mod app_role;
mod lambda_binaries;
mod lambda_http_api;
mod lambda_schema;
mod org_scopes;
mod template;
mod xray_traces;
