//! Conversions between Rust values and Data API `Field`s / `SqlParameter`s.
//!
//! No type hints are sent: times travel as text in one fixed format
//! (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC) and the PostgreSQL SQL casts them, so
//! the same parameters work on every dialect and SQLite's text times sort.

use aws_sdk_rdsdata::operation::execute_statement::ExecuteStatementOutput;
use aws_sdk_rdsdata::types::{Field, SqlParameter};
use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

use super::StoreError;
use crate::model::InstanceKey;

const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.6f";

/// The stored precision: microseconds.
pub(crate) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

pub(crate) fn now() -> DateTime<Utc> {
    micros(Utc::now())
}

pub(crate) fn format_time(t: DateTime<Utc>) -> String {
    t.format(TIME_FORMAT).to_string()
}

/// Parses the time formats the Data API returns (`2024-01-02 03:04:05[.f]`,
/// also with `T` and a UTC offset).
pub(crate) fn parse_time(s: &str) -> Result<DateTime<Utc>, StoreError> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let naive = s
        .trim_end_matches('Z')
        .trim_end_matches("+00:00")
        .trim_end_matches("+00");
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(naive, f).ok())
        .map(|t| t.and_utc())
        .ok_or_else(|| StoreError::UnexpectedResult(format!("not a timestamp: {s:?}")))
}

pub(crate) fn param(name: &str, value: Field) -> SqlParameter {
    SqlParameter::builder().name(name).value(value).build()
}

pub(crate) fn text(name: &str, value: impl Into<String>) -> SqlParameter {
    param(name, Field::StringValue(value.into()))
}

pub(crate) fn opt_text(name: &str, value: Option<&str>) -> SqlParameter {
    match value {
        Some(v) => text(name, v),
        None => param(name, Field::IsNull(true)),
    }
}

pub(crate) fn time(name: &str, value: DateTime<Utc>) -> SqlParameter {
    text(name, format_time(value))
}

pub(crate) fn opt_time(name: &str, value: Option<DateTime<Utc>>) -> SqlParameter {
    match value {
        Some(v) => time(name, v),
        None => param(name, Field::IsNull(true)),
    }
}

pub(crate) fn long(name: &str, value: i64) -> SqlParameter {
    param(name, Field::LongValue(value))
}

/// One result row, read by column position.
pub(crate) struct Row<'a>(pub &'a [Field]);

/// The rows of a statement's result.
pub(crate) fn rows(out: &ExecuteStatementOutput) -> impl Iterator<Item = Row<'_>> {
    out.records().iter().map(|r| Row(r))
}

impl<'a> Row<'a> {
    fn field(&self, i: usize) -> Result<&'a Field, StoreError> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::UnexpectedResult(format!("row has no column {i}")))
    }

    pub(crate) fn opt_str(&self, i: usize) -> Result<Option<&'a str>, StoreError> {
        match self.field(i)? {
            Field::IsNull(_) => Ok(None),
            Field::StringValue(s) => Ok(Some(s)),
            other => Err(StoreError::UnexpectedResult(format!(
                "column {i}: expected text, got {other:?}"
            ))),
        }
    }

    pub(crate) fn str(&self, i: usize) -> Result<&'a str, StoreError> {
        self.opt_str(i)?
            .ok_or_else(|| StoreError::UnexpectedResult(format!("column {i} is null")))
    }

    pub(crate) fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.opt_str(i)?.map(parse_time).transpose()
    }

    pub(crate) fn time(&self, i: usize) -> Result<DateTime<Utc>, StoreError> {
        parse_time(self.str(i)?)
    }

    pub(crate) fn long(&self, i: usize) -> Result<i64, StoreError> {
        match self.field(i)? {
            Field::LongValue(v) => Ok(*v),
            Field::StringValue(s) => s
                .parse()
                .map_err(|_| StoreError::UnexpectedResult(format!("column {i}: not a number"))),
            other => Err(StoreError::UnexpectedResult(format!(
                "column {i}: expected a number, got {other:?}"
            ))),
        }
    }

    /// Booleans arrive as `booleanValue` (PostgreSQL) or as 0/1 (MySQL, SQLite).
    pub(crate) fn bool(&self, i: usize) -> Result<bool, StoreError> {
        match self.field(i)? {
            Field::BooleanValue(b) => Ok(*b),
            _ => Ok(self.long(i)? != 0),
        }
    }

    /// A column that must parse into a model type.
    pub(crate) fn parsed<T: std::str::FromStr>(&self, i: usize) -> Result<T, StoreError> {
        let s = self.str(i)?;
        s.parse()
            .map_err(|_| StoreError::UnexpectedResult(format!("column {i}: invalid value {s:?}")))
    }

    /// An instance's `id, account, region`, in the columns from `first` on.
    pub(crate) fn key(&self, first: usize) -> Result<InstanceKey, StoreError> {
        Ok(InstanceKey {
            id: self.parsed(first)?,
            account: self.parsed(first + 1)?,
            region: self.parsed(first + 2)?,
        })
    }

    pub(crate) fn opt_parsed<T: std::str::FromStr>(
        &self,
        i: usize,
    ) -> Result<Option<T>, StoreError> {
        match self.opt_str(i)? {
            None => Ok(None),
            Some(_) => self.parsed(i).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_round_trip_in_every_returned_form() {
        let t = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap()
            + chrono::Duration::microseconds(120_000);
        assert_eq!(format_time(t), "2024-01-02 03:04:05.120000");
        for s in [
            "2024-01-02 03:04:05.12",
            "2024-01-02 03:04:05.120000",
            "2024-01-02T03:04:05.12",
            "2024-01-02T03:04:05.12Z",
            "2024-01-02 03:04:05.12+00",
            "2024-01-02T03:04:05.120+00:00",
        ] {
            assert_eq!(parse_time(s).unwrap(), t, "{s}");
        }
        assert!(parse_time("yesterday").is_err());
        assert_eq!(
            parse_time("2024-01-02 03:04:05").unwrap(),
            Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap()
        );
    }

    #[test]
    fn rows_read_flexibly() {
        let fields = [
            Field::LongValue(1),
            Field::BooleanValue(false),
            Field::StringValue("7".into()),
            Field::IsNull(true),
        ];
        let row = Row(&fields);
        assert!(row.bool(0).unwrap());
        assert!(!row.bool(1).unwrap());
        assert_eq!(row.long(2).unwrap(), 7);
        assert_eq!(row.opt_str(3).unwrap(), None);
        assert!(row.str(3).is_err());
        assert!(row.str(9).is_err());
    }
}
