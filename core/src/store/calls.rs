//! Every Data API call goes through here: counted, traced (one span per call
//! with its duration) and retried with backoff when the service says the
//! failure is retryable.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use aws_sdk_rdsdata::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_rdsdata::operation::execute_statement::ExecuteStatementOutput;
use aws_sdk_rdsdata::types::SqlParameter;
use aws_smithy_types::error::display::DisplayErrorContext;
use tracing::Instrument;

use super::values::Rows;
use super::{Store, StoreError};

/// How failed calls are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Delay before the first retry; doubles each time (with jitter) up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// About 25 s in all: enough for Aurora to resume from auto-pause.
    fn default() -> Self {
        Self {
            max_attempts: 10,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `attempt` (1-based), with up to 50 % jitter
    /// so that writers that collided do not collide again.
    fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        capped.mul_f64(0.5 + fastrand::f64() / 2.0)
    }
}

/// What a failed Data API call means for its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataApiFailure {
    /// Worth trying again later: the database resuming or unavailable,
    /// throttling, a timeout or network failure, a deadlock or serialization
    /// failure.
    Retryable,
    /// The result was over the Data API's response (1 MiB) or row (64 KB)
    /// limit: read it in smaller parts.
    ResultTooLarge,
    /// Retrying the same call will not help.
    Permanent,
}

/// Engine messages of deadlocks, serialization failures and busy databases.
const RETRYABLE_ENGINE_MESSAGES: &[&str] = &[
    "deadlock detected",                      // PostgreSQL 40P01
    "could not serialize access",             // PostgreSQL 40001
    "deadlock found when trying to get lock", // MySQL 1213
    "lock wait timeout exceeded",             // MySQL 1205
    "failed to read auto-increment value",    // MariaDB 1467: a deadlock on the AUTO-INC lock
    "database is locked",                     // SQLite BUSY
    "database table is locked",               // SQLite LOCKED
];

/// The service's messages of a result over its response or row size limit.
const RESULT_TOO_LARGE_MESSAGES: &[&str] = &["response size limit", "per row"];

/// Whether `message` contains one of the lowercase `needles`, in any case.
fn mentions_any(message: &str, needles: &[&str]) -> bool {
    let lower = message.to_ascii_lowercase();
    needles.iter().any(|n| lower.contains(n))
}

/// Sorts a failed call by the SDK's error kind and the service's error code
/// (the name of the SDK's error variant, the same for every operation).
fn failure_of<E: ProvideErrorMetadata>(err: &SdkError<E>) -> DataApiFailure {
    match err {
        SdkError::TimeoutError(_) => DataApiFailure::Retryable,
        SdkError::DispatchFailure(f) if f.is_timeout() || f.is_io() => DataApiFailure::Retryable,
        SdkError::ServiceError(_) => service_failure(err.code(), err.message().unwrap_or("")),
        _ => DataApiFailure::Permanent,
    }
}

fn service_failure(code: Option<&str>, message: &str) -> DataApiFailure {
    match code {
        Some(
            "DatabaseResumingException"
            | "DatabaseUnavailableException"
            | "ServiceUnavailableError"
            | "ThrottlingException"
            | "TooManyRequestsException",
        ) => DataApiFailure::Retryable,
        // The engine's refusals and the service's own: it has no code for a
        // deadlock, a serialization failure or a result over its size
        // limits, so here the message is all there is to go by.
        Some("DatabaseErrorException" | "BadRequestException") => {
            if mentions_any(message, RETRYABLE_ENGINE_MESSAGES) {
                DataApiFailure::Retryable
            } else if mentions_any(message, RESULT_TOO_LARGE_MESSAGES) {
                DataApiFailure::ResultTooLarge
            } else {
                DataApiFailure::Permanent
            }
        }
        // StatementTimeoutException among them: the statement may still be
        // running on the database, so the caller decides, not this wrapper.
        _ => DataApiFailure::Permanent,
    }
}

/// Turns an SDK error into a [`StoreError::DataApi`].
fn classify<E>(operation: &'static str, err: SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let failure = failure_of(&err);
    let code = err.code().map(str::to_owned);
    let message = err
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| DisplayErrorContext(&err).to_string());
    StoreError::DataApi {
        operation,
        code,
        message,
        failure,
        source: Box::new(err),
    }
}

/// The message and source of a failed call whose statement holds a secret
/// (MySQL quotes the statement in its errors): only the code is kept.
fn withhold(err: StoreError) -> StoreError {
    match err {
        StoreError::DataApi {
            operation,
            code,
            failure,
            ..
        } => StoreError::DataApi {
            operation,
            code,
            message: WITHHELD.into(),
            failure,
            source: WITHHELD.into(),
        },
        other => other,
    }
}

/// What a withheld error says instead of the service's message.
const WITHHELD: &str = "the message is withheld: the statement holds a secret";

/// Whether a failed call's message may be logged and returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Errors {
    Shown,
    /// The statement holds a secret: see [`withhold`].
    Withheld,
}

/// An open Data API transaction.
pub(crate) struct Tx {
    id: String,
}

/// The request builder of the client's `$op`, aimed at the store's cluster
/// and secret.
macro_rules! aimed {
    ($store:ident . $op:ident) => {
        $store
            .client
            .$op()
            .resource_arn(&$store.target.resource_arn)
            .secret_arn(&$store.target.secret_arn)
    };
}

impl Store {
    /// Runs one call: counts it, traces it, and retries it while retryable
    /// errors last, unless `retry` is false (a call inside a transaction: the
    /// whole transaction is retried instead).
    async fn call<T, E, F, Fut>(
        &self,
        operation: &'static str,
        label: &'static str,
        retry: bool,
        errors: Errors,
        send: F,
    ) -> Result<T, StoreError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let mut attempt = 1;
        loop {
            self.calls.fetch_add(1, Ordering::Relaxed);
            let span = tracing::debug_span!(
                "data_api",
                operation,
                label,
                attempt,
                elapsed_ms = tracing::field::Empty
            );
            let started = Instant::now();
            let result = send().instrument(span.clone()).await;
            let elapsed = started.elapsed();
            span.record("elapsed_ms", elapsed.as_secs_f64() * 1000.0);
            let err = match result {
                Ok(out) => {
                    span.in_scope(|| tracing::debug!("data api call done"));
                    return Ok(out);
                }
                Err(e) if errors == Errors::Withheld => withhold(classify(operation, e)),
                Err(e) => classify(operation, e),
            };
            span.in_scope(|| tracing::debug!(error = %err, "data api call failed"));
            if !(retry && err.is_retryable() && attempt < self.retry.max_attempts) {
                return Err(err);
            }
            tokio::time::sleep(self.retry.delay(attempt)).await;
            attempt += 1;
        }
    }

    /// Retries a whole unit of work (a transaction or a single statement)
    /// while its failure is retryable, e.g. a deadlock.
    pub(crate) async fn retrying<T, F, Fut>(&self, mut work: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let mut attempt = 1;
        loop {
            match work().await {
                Err(e) if e.is_retryable() && attempt < self.retry.max_attempts => {
                    tracing::debug!(error = %e, attempt, "retrying transient failure");
                    tokio::time::sleep(self.retry.delay(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// One statement, in `tx` or on its own (then auto-committed and retried
    /// on retryable errors); `with_columns` asks for the column metadata, so
    /// that the answer's rows can be read by name.
    async fn send_statement(
        &self,
        label: &'static str,
        tx: Option<&Tx>,
        sql: &str,
        params: &[SqlParameter],
        with_columns: bool,
    ) -> Result<ExecuteStatementOutput, StoreError> {
        self.call(
            "ExecuteStatement",
            label,
            tx.is_none(),
            Errors::Shown,
            || {
                aimed!(self.execute_statement)
                    .set_database(self.target.database.clone())
                    .set_transaction_id(tx.map(|tx| tx.id.clone()))
                    .sql(sql)
                    .set_parameters(Some(params.to_vec()))
                    .set_include_result_metadata(with_columns.then_some(true))
                    .send()
            },
        )
        .await
    }

    /// A statement whose number of rows written is what counts, in `tx` or on
    /// its own (then auto-committed and retried on retryable errors).
    pub(crate) async fn execute(
        &self,
        label: &'static str,
        tx: Option<&Tx>,
        sql: &str,
        params: &[SqlParameter],
    ) -> Result<ExecuteStatementOutput, StoreError> {
        self.send_statement(label, tx, sql, params, false).await
    }

    /// One auto-committed statement holding a secret (no parameters: the
    /// statements that hold one take none), retried on retryable errors; a
    /// failure keeps the service's error code only, in logs and in the error.
    pub(crate) async fn run_withholding_errors(
        &self,
        label: &'static str,
        sql: &str,
    ) -> Result<ExecuteStatementOutput, StoreError> {
        self.call("ExecuteStatement", label, true, Errors::Withheld, || {
            aimed!(self.execute_statement)
                .set_database(self.target.database.clone())
                .sql(sql)
                .send()
        })
        .await
    }

    /// One auto-committed statement, retried on retryable errors.
    pub(crate) async fn run(
        &self,
        label: &'static str,
        sql: &str,
        params: &[SqlParameter],
    ) -> Result<ExecuteStatementOutput, StoreError> {
        self.execute(label, None, sql, params).await
    }

    /// A statement whose rows are read, in `tx` or on its own.
    pub(crate) async fn query_in(
        &self,
        label: &'static str,
        tx: Option<&Tx>,
        sql: &str,
        params: &[SqlParameter],
    ) -> Result<Rows, StoreError> {
        let out = self.send_statement(label, tx, sql, params, true).await?;
        Ok(Rows::new(out))
    }

    /// One auto-committed statement whose rows are read, retried on retryable errors.
    pub(crate) async fn query(
        &self,
        label: &'static str,
        sql: &str,
        params: &[SqlParameter],
    ) -> Result<Rows, StoreError> {
        self.query_in(label, None, sql, params).await
    }

    pub(crate) async fn begin(&self) -> Result<Tx, StoreError> {
        let out = self
            .call("BeginTransaction", "begin", true, Errors::Shown, || {
                aimed!(self.begin_transaction)
                    .set_database(self.target.database.clone())
                    .send()
            })
            .await?;
        let id = out.transaction_id().ok_or_else(|| {
            StoreError::UnexpectedResult("BeginTransaction returned no transaction id".into())
        })?;
        Ok(Tx { id: id.to_owned() })
    }

    /// Runs `work` in a transaction, committed when it succeeds.
    pub(crate) async fn in_transaction<T, F, Fut>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: std::future::Future<Output = (Tx, Result<T, StoreError>)>,
    {
        let (tx, result) = work(self.begin().await?).await;
        self.finish(tx, result).await
    }

    /// Commits `tx` when `result` is Ok, else rolls it back (best effort) and
    /// returns the error.
    pub(crate) async fn finish<T>(
        &self,
        tx: Tx,
        result: Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match result {
            Ok(value) => {
                self.call("CommitTransaction", "commit", false, Errors::Shown, || {
                    aimed!(self.commit_transaction)
                        .transaction_id(&tx.id)
                        .send()
                })
                .await?;
                Ok(value)
            }
            Err(e) => {
                self.rollback(tx).await;
                Err(e)
            }
        }
    }

    /// Rolls `tx` back; a failure only means the service already ended it.
    pub(crate) async fn rollback(&self, tx: Tx) {
        let rolled_back = self
            .call(
                "RollbackTransaction",
                "rollback",
                false,
                Errors::Shown,
                || {
                    aimed!(self.rollback_transaction)
                        .transaction_id(&tx.id)
                        .send()
                },
            )
            .await;
        if let Err(e) = rolled_back {
            tracing::debug!(error = %e, "rollback failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        let first = p.delay(1);
        assert!(first >= Duration::from_millis(25) && first <= Duration::from_millis(50));
        assert!(p.delay(30) <= p.max_delay);
        assert!(p.delay(30) >= p.max_delay / 2);
    }

    #[test]
    fn failures_are_sorted_by_code_then_engine_message() {
        for m in [
            "ERROR: deadlock detected",
            "Deadlock found when trying to get lock; try restarting transaction",
            "Lock wait timeout exceeded; try restarting transaction",
            "database is locked",
            "ERROR: could not serialize access due to concurrent update",
        ] {
            let failure = service_failure(Some("DatabaseErrorException"), m);
            assert_eq!(failure, DataApiFailure::Retryable, "{m}");
        }
        let syntax = service_failure(Some("DatabaseErrorException"), "syntax error at \"SELEC\"");
        assert_eq!(syntax, DataApiFailure::Permanent);
        let too_large = service_failure(
            Some("BadRequestException"),
            "Database returned more than the allowed response size limit",
        );
        assert_eq!(too_large, DataApiFailure::ResultTooLarge);
        for code in ["DatabaseResumingException", "ThrottlingException"] {
            assert_eq!(service_failure(Some(code), ""), DataApiFailure::Retryable);
        }
        let timeout = service_failure(Some("StatementTimeoutException"), "deadlock detected");
        assert_eq!(timeout, DataApiFailure::Permanent);
    }

    #[test]
    fn a_withheld_failure_keeps_the_code_only() {
        let secret = "IDENTIFIED BY 'Zx81QwErTy0123456789'";
        let failed = StoreError::DataApi {
            operation: "ExecuteStatement",
            code: Some("DatabaseErrorException".into()),
            message: format!("You have an error near {secret}"),
            failure: DataApiFailure::Permanent,
            source: format!("service error: {secret}").into(),
        };
        let withheld = withhold(failed);
        let shown = format!(
            "{withheld} {withheld:?} {:?}",
            std::error::Error::source(&withheld)
        );
        assert!(!shown.contains("Zx81"), "{shown}");
        assert!(shown.contains("DatabaseErrorException"), "{shown}");
        assert!(matches!(
            withheld,
            StoreError::DataApi {
                failure: DataApiFailure::Permanent,
                ..
            }
        ));
    }
}
