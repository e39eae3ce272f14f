//! The `advisories-fetch` function: on its schedule, fetches the configured
//! advisory feeds and imports what changed (`inventory_core::feeds::fetch`).
//! A feed that failed fails the invocation, so the function's error alarm
//! fires; the other feeds were imported all the same, and every feed's last
//! good data stays.

use inventory_core::feeds::fetch::{fetch, FeedClient, FeedOutcome, FetchReport, FetchSettings};
use inventory_core::store::Store;
use lambda_runtime::Diagnostic;
use serde_json::{json, Value};

/// The invocation's failure: `error_type` `FeedFailed` (a feed's download or
/// import) or `StoreError` (the feeds' state could not be read).
#[derive(Debug)]
pub struct FetchFailed {
    pub error_type: &'static str,
    pub message: String,
    /// What the run did, logged with the failure.
    pub outcome: Value,
}

impl From<FetchFailed> for Diagnostic {
    fn from(e: FetchFailed) -> Self {
        Diagnostic {
            error_type: e.error_type.to_owned(),
            error_message: e.message,
        }
    }
}

/// One scheduled run: the outcome of every feed, or the failure.
pub async fn run(
    store: &Store,
    client: &FeedClient,
    settings: &FetchSettings,
) -> Result<Value, FetchFailed> {
    let report = fetch(store, client, settings)
        .await
        .map_err(|e| FetchFailed {
            error_type: "StoreError",
            message: format!("cannot read the feeds' state: {e}"),
            outcome: Value::Null,
        })?;
    let outcome = outcome(&report);
    let failed: Vec<String> = report
        .failed()
        .map(|f| match &f.outcome {
            FeedOutcome::Failed { error } => format!("{}: {error}", f.feed),
            _ => f.feed.clone(),
        })
        .collect();
    if failed.is_empty() {
        tracing::info!(%outcome, "advisory feeds fetched");
        Ok(outcome)
    } else {
        tracing::error!(%outcome, "advisory feeds failed");
        Err(FetchFailed {
            error_type: "FeedFailed",
            message: format!(
                "{} of {} feeds failed (their last good data stays): {}",
                failed.len(),
                report.feeds.len(),
                failed.join("; ")
            ),
            outcome,
        })
    }
}

/// The run as JSON: per feed, what happened; and the Data API calls.
pub fn outcome(report: &FetchReport) -> Value {
    let feeds: Vec<Value> = report
        .feeds
        .iter()
        .map(|f| {
            let mut v = match &f.outcome {
                FeedOutcome::NotModified => json!({"result": "not_modified"}),
                FeedOutcome::Imported { bytes, summary } => json!({
                    "result": "imported",
                    "bytes": bytes,
                    "records": summary.tally.records,
                    "imported": summary.imported,
                    "unchanged": summary.unchanged,
                    "skipped": summary.tally.skipped,
                    "bad": summary.tally.bad.len(),
                }),
                FeedOutcome::Failed { error } => json!({"result": "failed", "error": error}),
            };
            v["feed"] = json!(f.feed);
            v["url"] = json!(f.url);
            v
        })
        .collect();
    json!({"feeds": feeds, "data_api_calls": report.data_api_calls})
}
