//! Coverage: what the central functions heard from each account and region
//! (table `scope_coverage`, schema 8), and the listing of every known scope
//! with its instance counts. Each operation is 1 call.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};

use super::values::{long, micros, now, opt_text, opt_time, text, time, Row};
use super::{Store, StoreError};
use crate::model::{Scope, ValidationError};
use crate::query::{ScopeCoverage, ScopesPage, ScopesQuery, StateCounts};

/// The longest failure message kept (the column's length, in characters).
pub const MAX_ERROR_CHARS: usize = 1000;

/// What one sync run did to one scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeSyncReport {
    /// When the run ended.
    pub at: DateTime<Utc>,
    /// The run reached the scope (its listing answered).
    pub reached: bool,
    /// The run completed a pass of the scope's fleet.
    pub pass_completed: bool,
    /// The first failure, if any; `None` clears the stored one.
    pub error: Option<String>,
}

fn shortened(error: &str) -> &str {
    match error.char_indices().nth(MAX_ERROR_CHARS) {
        Some((end, _)) => &error[..end],
        None => error,
    }
}

fn scope_params(scope: &Scope) -> [aws_sdk_rdsdata::types::SqlParameter; 3] {
    [
        text("account", scope.account.as_str()),
        text("region", scope.region.as_str()),
        time("now", now()),
    ]
}

/// The opaque token: the last scope of a page, base64url.
fn encode_token(last: &Scope) -> String {
    URL_SAFE_NO_PAD.encode(last.to_string())
}

fn decode_token(token: &str) -> Result<Scope, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| StoreError::InvalidNextToken)?;
    let text = String::from_utf8(bytes).map_err(|_| StoreError::InvalidNextToken)?;
    let (account, region) = text.split_once(':').ok_or(StoreError::InvalidNextToken)?;
    Ok(Scope {
        account: account.parse().map_err(|_| StoreError::InvalidNextToken)?,
        region: region.parse().map_err(|_| StoreError::InvalidNextToken)?,
    })
}

fn count(row: &Row<'_>, name: &str) -> Result<u64, StoreError> {
    Ok(u64::try_from(row.long(name)?).unwrap_or_default())
}

fn coverage_from(row: &Row<'_>) -> Result<ScopeCoverage, StoreError> {
    Ok(ScopeCoverage {
        scope: Scope {
            account: row.parsed("account")?,
            region: row.parsed("region")?,
        },
        instances: StateCounts {
            total: count(row, "total_count")?,
            pending: count(row, "pending_count")?,
            running: count(row, "running_count")?,
            stopping: count(row, "stopping_count")?,
            stopped: count(row, "stopped_count")?,
            shutting_down: count(row, "shutting_down_count")?,
            terminated: count(row, "terminated_count")?,
        },
        first_seen: row.opt_time("first_seen")?,
        last_event_at: row.opt_time("last_event_at")?,
        last_sync_at: row.opt_time("last_sync_at")?,
        last_pass_at: row.opt_time("last_pass_at")?,
        last_error: row.opt_str("last_error")?.map(str::to_owned),
        last_error_at: row.opt_time("last_error_at")?,
    })
}

impl Store {
    /// An event from `scope` at `event_at`; with `error` when handling it
    /// failed (kept as the scope's last failure). 1 call.
    pub async fn record_scope_event(
        &self,
        scope: &Scope,
        event_at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut params = scope_params(scope).to_vec();
        params.extend([
            time("event_at", micros(event_at)),
            opt_text("error", error.map(shortened)),
            opt_time("error_at", error.map(|_| now())),
        ]);
        self.run("scope_event", self.sql().scope_event, &params)
            .await?;
        Ok(())
    }

    /// What a sync run did to `scope`. 1 call.
    pub async fn record_scope_sync(
        &self,
        scope: &Scope,
        report: &ScopeSyncReport,
    ) -> Result<(), StoreError> {
        let at = micros(report.at);
        let mut params = scope_params(scope).to_vec();
        params.extend([
            opt_time("synced_at", report.reached.then_some(at)),
            opt_time("pass_at", report.pass_completed.then_some(at)),
            opt_text("error", report.error.as_deref().map(shortened)),
            opt_time("error_at", report.error.as_ref().map(|_| at)),
        ]);
        self.run("scope_sync", self.sql().scope_sync, &params)
            .await?;
        Ok(())
    }

    /// Every known scope (one with recorded instances or coverage), by
    /// account then region, a page at a time. 1 call.
    pub async fn scopes(&self, q: &ScopesQuery) -> Result<ScopesPage, StoreError> {
        if !(1..=ScopesQuery::default().limit).contains(&q.limit) {
            return Err(ValidationError::new(
                "limit",
                format!(
                    "must be an integer from 1 to {}",
                    ScopesQuery::default().limit
                ),
            )
            .into());
        }
        let after = q.next_token.as_deref().map(decode_token).transpose()?;
        let params = [
            text(
                "after_account",
                after.as_ref().map_or("", |s| s.account.as_str()),
            ),
            text(
                "after_region",
                after.as_ref().map_or("", |s| s.region.as_str()),
            ),
            long("limit", i64::from(q.limit) + 1),
        ];
        let out = self.query("scopes", self.sql().scopes, &params).await?;
        let mut scopes = out
            .iter()
            .map(|row| coverage_from(&row))
            .collect::<Result<Vec<_>, _>>()?;
        let next_token = if scopes.len() > q.limit as usize {
            scopes.truncate(q.limit as usize);
            scopes.last().map(|c| encode_token(&c.scope))
        } else {
            None
        };
        Ok(ScopesPage { scopes, next_token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let scope = Scope {
            account: "123456789012".parse().unwrap(),
            region: "eu-west-1".parse().unwrap(),
        };
        assert_eq!(decode_token(&encode_token(&scope)).unwrap(), scope);
        for bad in ["", "!!", &URL_SAFE_NO_PAD.encode("123:eu-west-1")] {
            assert!(decode_token(bad).is_err(), "{bad}");
        }
        let long = "é".repeat(MAX_ERROR_CHARS + 5);
        assert_eq!(shortened(&long).chars().count(), MAX_ERROR_CHARS);
    }
}
