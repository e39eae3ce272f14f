//! Lambda entrypoint of the schema custom resource (`Custom::DatabaseSchema`).
//!
//! Nothing here can stop the function before it answers: the target comes
//! with each request, and [`custom_resource::answer`] turns failures, panics
//! and an exhausted time budget into FAILED answers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use inventory_handlers::custom_resource::{self, Request};
use inventory_handlers::{load_aws_config, rds_data_client, secrets_client, Xray};
use lambda_runtime::{service_fn, Error, LambdaEvent};

/// Time kept back from the invocation's deadline to deliver the answer.
const ANSWER_MARGIN: Duration = Duration::from_secs(15);

#[tokio::main]
async fn main() -> Result<(), Error> {
    inventory_handlers::init_tracing();
    let sdk = load_aws_config().await;
    let xray = Xray::from_env();
    let rds = rds_data_client(&sdk, xray.as_ref());
    let secrets = secrets_client(&sdk, xray.as_ref());
    lambda_runtime::run(service_fn(|event: LambdaEvent<Request>| {
        let (rds, secrets) = (rds.clone(), secrets.clone());
        async move {
            let url = event.payload.response_url.clone();
            let budget = until(event.context.deadline).saturating_sub(ANSWER_MARGIN);
            let response = custom_resource::answer(rds, secrets, event.payload, budget).await;
            // An undelivered answer fails the invocation: Lambda retries it
            // (migrations are idempotent) before CloudFormation times out.
            custom_resource::send(&url, &response).await?;
            Ok::<_, Error>(())
        }
    }))
    .await
}

/// The time left until `deadline_ms` (milliseconds since the epoch).
fn until(deadline_ms: u64) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Duration::from_millis(deadline_ms).saturating_sub(now)
}
