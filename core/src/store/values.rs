//! Conversions between Rust values and Data API `Field`s / `SqlParameter`s.
//!
//! No type hints are sent: times travel as text in one fixed format
//! (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC) and the PostgreSQL SQL casts them, so
//! the same parameters work on every dialect and SQLite's text times sort.

use aws_sdk_rdsdata::operation::execute_statement::ExecuteStatementOutput;
use aws_sdk_rdsdata::types::{ColumnMetadata, Field, SqlParameter};
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

pub(crate) fn opt_long(name: &str, value: Option<i64>) -> SqlParameter {
    match value {
        Some(v) => long(name, v),
        None => param(name, Field::IsNull(true)),
    }
}

/// A statement's result, its columns read by name: the call asks for
/// `includeResultMetadata`, and the statements name every column they answer.
pub(crate) struct Rows {
    out: ExecuteStatementOutput,
}

impl Rows {
    pub(crate) fn new(out: ExecuteStatementOutput) -> Self {
        Self { out }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        let columns = self.out.column_metadata();
        self.out
            .records()
            .iter()
            .map(move |fields| Row { columns, fields })
    }

    pub(crate) fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }

    pub(crate) fn len(&self) -> usize {
        self.out.records().len()
    }
}

/// One result row.
pub(crate) struct Row<'a> {
    columns: &'a [ColumnMetadata],
    fields: &'a [Field],
}

impl<'a> Row<'a> {
    /// The value of column `name` (its label: the statement's alias).
    fn field(&self, name: &str) -> Result<&'a Field, StoreError> {
        self.columns
            .iter()
            .position(|c| c.label().or(c.name()) == Some(name))
            .and_then(|i| self.fields.get(i))
            .ok_or_else(|| StoreError::UnexpectedResult(format!("the row has no column {name}")))
    }

    pub(crate) fn opt_str(&self, name: &str) -> Result<Option<&'a str>, StoreError> {
        match self.field(name)? {
            Field::IsNull(_) => Ok(None),
            Field::StringValue(s) => Ok(Some(s)),
            other => Err(StoreError::UnexpectedResult(format!(
                "column {name}: expected text, got {other:?}"
            ))),
        }
    }

    pub(crate) fn str(&self, name: &str) -> Result<&'a str, StoreError> {
        self.opt_str(name)?
            .ok_or_else(|| StoreError::UnexpectedResult(format!("column {name} is null")))
    }

    pub(crate) fn opt_time(&self, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.opt_str(name)?.map(parse_time).transpose()
    }

    pub(crate) fn time(&self, name: &str) -> Result<DateTime<Utc>, StoreError> {
        parse_time(self.str(name)?)
    }

    pub(crate) fn long(&self, name: &str) -> Result<i64, StoreError> {
        match self.field(name)? {
            Field::LongValue(v) => Ok(*v),
            Field::StringValue(s) => s
                .parse()
                .map_err(|_| StoreError::UnexpectedResult(format!("column {name}: not a number"))),
            other => Err(StoreError::UnexpectedResult(format!(
                "column {name}: expected a number, got {other:?}"
            ))),
        }
    }

    /// Booleans arrive as `booleanValue` (PostgreSQL) or as 0/1 (MySQL, SQLite).
    pub(crate) fn bool(&self, name: &str) -> Result<bool, StoreError> {
        match self.field(name)? {
            Field::BooleanValue(b) => Ok(*b),
            _ => Ok(self.long(name)? != 0),
        }
    }

    /// A column that must parse into a model type.
    pub(crate) fn parsed<T: std::str::FromStr>(&self, name: &str) -> Result<T, StoreError> {
        let s = self.str(name)?;
        s.parse().map_err(|_| {
            StoreError::UnexpectedResult(format!("column {name}: invalid value {s:?}"))
        })
    }

    pub(crate) fn opt_parsed<T: std::str::FromStr>(
        &self,
        name: &str,
    ) -> Result<Option<T>, StoreError> {
        match self.opt_str(name)? {
            None => Ok(None),
            Some(_) => self.parsed(name).map(Some),
        }
    }

    /// An instance's `id, account, region`.
    pub(crate) fn key(&self) -> Result<InstanceKey, StoreError> {
        Ok(InstanceKey {
            id: self.parsed("id")?,
            account: self.parsed("account")?,
            region: self.parsed("region")?,
        })
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
    fn rows_read_by_column_name() {
        let columns = ["n", "b", "s", "z"]
            .map(|name| ColumnMetadata::builder().name(name).label(name).build())
            .to_vec();
        let out = ExecuteStatementOutput::builder()
            .set_column_metadata(Some(columns))
            .records(vec![
                Field::LongValue(1),
                Field::BooleanValue(false),
                Field::StringValue("7".into()),
                Field::IsNull(true),
            ])
            .build();
        let rows = Rows::new(out);
        let row = rows.first().unwrap();
        assert!(row.bool("n").unwrap());
        assert!(!row.bool("b").unwrap());
        assert_eq!(row.long("s").unwrap(), 7);
        assert_eq!(row.opt_str("z").unwrap(), None);
        assert!(row.str("z").is_err());
        assert!(row.str("missing").is_err());
    }
}
