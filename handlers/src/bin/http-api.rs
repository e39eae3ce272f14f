//! Lambda entrypoint of the HTTP API (API Gateway HTTP API, payload v2).

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let startup = inventory_handlers::start().await?;
    lambda_http::run(inventory_handlers::http_api::app(startup.store)).await
}
