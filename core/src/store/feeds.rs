//! The scheduled advisory import's state per feed (table `feed_state`,
//! schema 009): the validators of the last file imported whole, when the feed
//! last succeeded and failed, and the last error. 1 call each.

use chrono::{DateTime, Utc};

use super::values::{micros, opt_text, text, time, Row};
use super::{Store, StoreError};

/// What the store keeps of one feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedState {
    /// The feed's name: "osv:Debian", "alas:2023".
    pub feed: String,
    /// The URL the validators belong to.
    pub url: Option<String>,
    pub etag: Option<String>,
    /// As the server sent it (an HTTP date), sent back unchanged.
    pub last_modified: Option<String>,
    /// The last attempt, successful or not.
    pub checked_at: Option<DateTime<Utc>>,
    /// The last attempt that imported the file or found it unchanged (304).
    pub succeeded_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed; `None` after a success.
    pub error: Option<String>,
}

fn state_from(row: &Row<'_>) -> Result<FeedState, StoreError> {
    let owned =
        |name| -> Result<Option<String>, StoreError> { Ok(row.opt_str(name)?.map(str::to_owned)) };
    Ok(FeedState {
        feed: row.str("feed")?.to_owned(),
        url: owned("url")?,
        etag: owned("etag")?,
        last_modified: owned("last_modified")?,
        checked_at: row.opt_time("checked_at")?,
        succeeded_at: row.opt_time("succeeded_at")?,
        failed_at: row.opt_time("failed_at")?,
        error: owned("error")?,
    })
}

impl Store {
    /// Every feed's state, by name.
    pub async fn feed_states(&self) -> Result<Vec<FeedState>, StoreError> {
        let out = self
            .query(
                "feed_state.read",
                self.sql().advisories.feed_state_read,
                &[],
            )
            .await?;
        out.iter().map(|row| state_from(&row)).collect()
    }

    /// Records a success at `now`: the validators of `url` (the file just
    /// imported, or the unchanged one), and no error.
    pub async fn feed_succeeded(
        &self,
        feed: &str,
        url: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let params = [
            text("feed", feed),
            text("url", url),
            opt_text("etag", etag),
            opt_text("last_modified", last_modified),
            time("now", micros(now)),
        ];
        self.run(
            "feed_state.succeeded",
            self.sql().advisories.feed_succeeded,
            &params,
        )
        .await?;
        Ok(())
    }

    /// Records a failure at `now`; the validators and the last success stay.
    pub async fn feed_failed(
        &self,
        feed: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let params = [
            text("feed", feed),
            text("error", error),
            time("now", micros(now)),
        ];
        self.run(
            "feed_state.failed",
            self.sql().advisories.feed_failed,
            &params,
        )
        .await?;
        Ok(())
    }
}
