//! The `state-change` Lambda: EventBridge EC2 state changes, SSM inventory
//! association changes and the sync schedule, handled by
//! `inventory_core::events::EventHandler` (see `docs/events.md`).
//!
//! The payload is taken as raw JSON so that a malformed event reaches our own
//! parser, which logs it with its id and rejects it as non-retryable, instead
//! of failing in the runtime's deserializer.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use inventory_core::config::{self, FleetSettings, OrgSettings, SyncSettings};
use inventory_core::events::{CoverageSettings, EventHandler, HandleError};
use inventory_handlers::scopes::AwsScopes;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;

/// The function's error: `error_type` is `Retryable.*` or `NonRetryable.*`,
/// so alarms and the dead-letter queue tell transient failures from events
/// that can never succeed.
struct StateChangeError(HandleError);

impl fmt::Debug for StateChangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<StateChangeError> for Diagnostic {
    fn from(e: StateChangeError) -> Self {
        Diagnostic {
            error_type: e.0.error_type(),
            error_message: e.0.to_string(),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let startup = inventory_handlers::start().await?;
    let settings = (|| {
        let lookup = config::from_env;
        Ok::<_, config::ConfigError>((
            SyncSettings::from_lookup(lookup)?,
            FleetSettings::from_lookup(lookup)?,
            OrgSettings::from_lookup(lookup)?,
            CoverageSettings {
                silent_after_hours: config::silent_after_hours(lookup)?,
                metrics_namespace: Some(config::metrics_namespace(lookup)),
            },
        ))
    })();
    let (sync, fleet, org, coverage) = settings.inspect_err(|e| {
        tracing::error!(error = %e, "cannot start: fix the function's environment");
    })?;
    let sources = AwsScopes::new(startup.sdk.clone(), org, startup.xray.clone());
    let handler = Arc::new(
        EventHandler::with_sources(startup.store, sources, sync)
            .with_fleet(fleet)
            .with_coverage(coverage),
    );
    // The response is the outcome, so `cargo lambda invoke` shows what changed.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let handler = Arc::clone(&handler);
        // Boxed: the SDK futures nest too deep for the runtime's future type.
        let handled: Pin<Box<dyn Future<Output = _> + Send>> = Box::pin(async move {
            // The own account, for admission, from the invoked function's ARN.
            handler
                .sources()
                .learn_own_account(&event.context.invoked_function_arn)
                .map_err(|e| StateChangeError(e.into()))?;
            handler
                .handle_json(event.payload)
                .await
                .map_err(StateChangeError)
        });
        handled
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventory_core::eventbridge::MalformedEvent;

    #[test]
    fn diagnostics_say_whether_to_retry() {
        let malformed = StateChangeError(HandleError::Malformed(MalformedEvent {
            event_id: Some("e-1".into()),
            reason: "no time".into(),
        }));
        let d = Diagnostic::from(malformed);
        assert_eq!(d.error_type, "NonRetryable.MalformedEvent");
        assert!(d.error_message.contains("e-1"), "{}", d.error_message);

        let throttled = StateChangeError(HandleError::Source(
            inventory_core::sources::SourceError::Retryable {
                service: "SSM",
                operation: "ListInventoryEntries",
                message: "ThrottlingException".into(),
            },
        ));
        assert_eq!(
            Diagnostic::from(throttled).error_type,
            "Retryable.SourceError"
        );
    }
}
