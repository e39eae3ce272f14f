//! Lambda entrypoint of the scheduled advisory import (`advisories-fetch`):
//! see `inventory_handlers::advisories_fetch` and docs/advisories.md.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use inventory_core::config;
use inventory_core::feeds::fetch::{FeedClient, FetchSettings};
use inventory_handlers::advisories_fetch::run;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let startup = inventory_handlers::start().await?;
    let settings = FetchSettings::from_lookup(config::from_env).inspect_err(|e| {
        tracing::error!(error = %e, "cannot start: fix the function's environment");
    })?;
    let client = FeedClient::new()?;
    let state = Arc::new((startup.store, client, settings));
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| {
        let state = Arc::clone(&state);
        // Boxed: the SDK futures nest too deep for the runtime's future type.
        let ran: Pin<Box<dyn Future<Output = _> + Send>> =
            Box::pin(async move { run(&state.0, &state.1, &state.2).await });
        ran
    }))
    .await
}
