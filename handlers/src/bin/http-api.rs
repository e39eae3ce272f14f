//! Lambda entrypoint of the HTTP API (API Gateway HTTP API, payload v2).

use inventory_core::http::Api;
use lambda_http::{service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let startup = inventory_handlers::start().await?;
    let api = Api::new(startup.store);
    lambda_http::run(service_fn(|req: Request| async {
        Ok::<_, Error>(inventory_handlers::http_api::handle(&api, req).await)
    }))
    .await
}
