//! Lambda entrypoint of the schema custom resource (`Custom::DatabaseSchema`).

use inventory_handlers::custom_resource::{self, Request};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let startup = inventory_handlers::start().await?;
    let store = startup.store;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Request>| {
        let store = &store;
        async move {
            let response = custom_resource::handle(store, &event.payload).await;
            // An undelivered answer fails the invocation: Lambda retries it
            // (migrations are idempotent) before CloudFormation times out.
            custom_resource::send(&event.payload.response_url, &response).await?;
            Ok::<_, Error>(())
        }
    }))
    .await
}
