//! The history of changes (schema 4): written by the instance writes in the
//! same call (see `ddl/<dialect>/004_versions_history.sql`), read here a page
//! at a time, newest first, and pruned by the scheduled sync.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};

use super::values::{format_time, long, micros, opt_text, parse_time, text, time, Row};
use super::{Store, StoreError};
use crate::model::{Account, InstanceId, Region};
use crate::query::{Change, HistoryPage, HistoryQuery};

/// Where a page starts (exclusive), newest first: a change's time and id.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Position {
    at: DateTime<Utc>,
    id: i64,
}

/// The opaque token: the last change of a page, `<time>/<id>` in base64url.
fn encode_token(p: &Position) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}/{}", format_time(p.at), p.id))
}

fn decode_token(token: &str) -> Result<Position, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| StoreError::InvalidNextToken)?;
    let text = String::from_utf8(bytes).map_err(|_| StoreError::InvalidNextToken)?;
    let (at, id) = text.rsplit_once('/').ok_or(StoreError::InvalidNextToken)?;
    Ok(Position {
        at: parse_time(at).map_err(|_| StoreError::InvalidNextToken)?,
        id: id.parse().map_err(|_| StoreError::InvalidNextToken)?,
    })
}

/// The window's ends when the query leaves them open: every engine holds
/// these times (MySQL's DATETIME ends in year 9999).
fn earliest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(1000, 1, 1, 0, 0, 0).unwrap()
}

fn latest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap()
}

/// What a history statement filters on.
enum Subject<'a> {
    Instance(&'a InstanceId),
    Package(&'a str),
    /// Every instance's changes.
    Fleet,
}

impl Store {
    /// The changes of one instance (also after it was deleted), newest
    /// first, a page at a time: 1 call.
    pub async fn instance_history(
        &self,
        id: &InstanceId,
        q: &HistoryQuery,
    ) -> Result<HistoryPage, StoreError> {
        self.history(Subject::Instance(id), q).await
    }

    /// Which instances installed, removed or changed the version of the
    /// package `name`, and when, newest first, a page at a time: 1 call.
    pub async fn package_history(
        &self,
        name: &str,
        q: &HistoryQuery,
    ) -> Result<HistoryPage, StoreError> {
        self.history(Subject::Package(name), q).await
    }

    /// Every change in the fleet, newest first, a page at a time: 1 call.
    pub async fn fleet_history(&self, q: &HistoryQuery) -> Result<HistoryPage, StoreError> {
        self.history(Subject::Fleet, q).await
    }

    async fn history(
        &self,
        subject: Subject<'_>,
        q: &HistoryQuery,
    ) -> Result<HistoryPage, StoreError> {
        q.validate()?;
        let sql = self.sql();
        // A page starts before the last change of the previous one, or at
        // the window's end (exclusive: no id is below 0).
        let start = match q.next_token.as_deref() {
            Some(token) => decode_token(token)?,
            None => Position {
                at: micros(q.until.unwrap_or_else(latest)),
                id: 0,
            },
        };
        let (statement, key) = match subject {
            Subject::Instance(id) => (sql.instance_history, Some(text("id", id.as_str()))),
            Subject::Package(name) => (sql.package_history, Some(text("name", name))),
            Subject::Fleet => (sql.fleet_history, None),
        };
        let params: Vec<_> = key
            .into_iter()
            .chain([
                time("since", micros(q.since.unwrap_or_else(earliest))),
                opt_text("account", q.account.as_ref().map(Account::as_str)),
                opt_text("region", q.region.as_ref().map(Region::as_str)),
                time("until", start.at),
                long("before_id", start.id),
                long("limit", i64::from(q.limit) + 1),
            ])
            .collect();
        let out = self.query("history", statement, &params).await?;
        let mut rows = Vec::with_capacity(out.len());
        for row in out.iter() {
            rows.push((
                Position {
                    at: row.time("changed_at")?,
                    id: row.long("id")?,
                },
                change_from(&row)?,
            ));
        }
        let more = rows.len() > q.limit as usize;
        rows.truncate(q.limit as usize);
        let next_token = more
            .then(|| rows.last().map(|(position, _)| encode_token(position)))
            .flatten();
        let mut changes: Vec<Change> = rows.into_iter().map(|(_, change)| change).collect();
        if let Subject::Package(name) = subject {
            // Exact names on every dialect (MySQL's collation ignores
            // trailing spaces).
            changes.retain(|c| c.package_name.as_deref() == Some(name));
        }
        Ok(HistoryPage {
            changes,
            next_token,
        })
    }

    /// Deletes up to `limit` changes older than `before`, oldest first;
    /// answers how many went. 1 call.
    pub async fn prune_history(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let params = [time("before", micros(before)), long("limit", limit.into())];
        let out = self
            .run("prune_history", self.sql().prune_history, &params)
            .await?;
        Ok(u64::try_from(out.number_of_records_updated()).unwrap_or(0))
    }
}

fn change_from(row: &Row<'_>) -> Result<Change, StoreError> {
    let owned =
        |name| -> Result<Option<String>, StoreError> { Ok(row.opt_str(name)?.map(str::to_owned)) };
    Ok(Change {
        instance_id: row.parsed("ec2_id")?,
        at: row.time("changed_at")?,
        source: row.parsed("source")?,
        kind: row.parsed("kind")?,
        package_name: owned("package_name")?,
        old_version: owned("old_version")?,
        new_version: owned("new_version")?,
        old_state: row.opt_parsed("old_state")?,
        new_state: row.opt_parsed("new_state")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let p = Position {
            at: micros(Utc::now()),
            id: 42,
        };
        assert_eq!(decode_token(&encode_token(&p)).unwrap(), p);
        for bad in [
            "%%%",
            "",
            "aGVsbG8",
            "MjAyNi0wMS0wMSAwMDowMDowMC4wMDAwMDAveA",
        ] {
            assert!(
                matches!(decode_token(bad), Err(StoreError::InvalidNextToken)),
                "{bad}"
            );
        }
    }
}
