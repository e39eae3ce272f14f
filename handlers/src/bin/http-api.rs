//! Lambda entrypoint of the HTTP API (API Gateway HTTP API, payload v2).

use inventory_core::config;
use inventory_core::http::SilentAfter;
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let startup = inventory_handlers::start().await?;
    let hours = config::silent_after_hours(config::from_env).inspect_err(|e| {
        tracing::error!(error = %e, "cannot start: fix the function's environment");
    })?;
    let app = inventory_handlers::http_api::app(startup.store, SilentAfter::hours(hours));
    lambda_http::run(app).await
}
