//! Lambda entrypoint of the HTTP API (API Gateway HTTP API, payload v2).

use inventory_core::config;
use inventory_core::http::SilentAfter;
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let startup = inventory_handlers::start().await?;
    let settings = (|| {
        Ok::<_, config::ConfigError>((
            config::silent_after_hours(config::from_env)?,
            config::counts_max_age(config::from_env)?,
        ))
    })();
    let (hours, counts_max_age) = settings.inspect_err(|e| {
        tracing::error!(error = %e, "cannot start: fix the function's environment");
    })?;
    let store = startup.store.with_counts_max_age(counts_max_age);
    let app = inventory_handlers::http_api::app(store, SilentAfter::hours(hours));
    lambda_http::run(app).await
}
