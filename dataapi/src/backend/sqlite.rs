//! SQLite: an embedded file (WAL, busy timeout) or a shared in-memory database.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteRow,
};
use sqlx::{Pool, Row, Sqlite, TypeInfo, ValueRef};

use super::{bind_scalar, get, is_insert, quiet, type_name, Engine};
use crate::errors::ApiError;
use crate::params::{Dialect, ParamValue};
use crate::protocol::{Blob, Field};
use crate::values::ResultOptions;

pub(super) async fn connect(url: &str) -> Result<Pool<Sqlite>, sqlx::Error> {
    let memory = url.contains(":memory:") || url.contains("mode=memory");
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .busy_timeout(Duration::from_secs(10));
    let options = if memory {
        options
    } else {
        options.journal_mode(SqliteJournalMode::Wal)
    };
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire(false);
    // An in-memory database lives as long as one connection to it: keep one open for good.
    let pool = if memory {
        pool.min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        pool
    };
    pool.connect_with(quiet(options)).await
}

impl Engine for Sqlite {
    const DIALECT: Dialect = Dialect::Sqlite;

    fn bind<'q>(args: &mut SqliteArguments<'q>, value: &'q ParamValue) -> Result<(), ApiError> {
        bind_scalar::<Self>(args, value)
    }

    fn field(row: &SqliteRow, index: usize, options: &ResultOptions) -> Result<Field, ApiError> {
        let raw = row.try_get_raw(index)?;
        if raw.is_null() {
            return Ok(Field::IsNull(true));
        }
        // SQLite types values, not columns: the stored class decides, the declared type refines.
        let stored = raw.type_info().name().to_string();
        let declared = type_name(row, index);
        Ok(match stored.as_str() {
            "INTEGER" | "BOOLEAN" if declared.eq_ignore_ascii_case("BOOLEAN") => {
                Field::BooleanValue(get::<Sqlite, bool>(row, index)?)
            }
            "INTEGER" | "BOOLEAN" => options.long(get::<Sqlite, i64>(row, index)?),
            "REAL" => Field::DoubleValue(get::<Sqlite, f64>(row, index)?),
            "BLOB" => Field::BlobValue(Blob(get::<Sqlite, Vec<u8>>(row, index)?)),
            _ => Field::StringValue(get::<Sqlite, String>(row, index)?),
        })
    }

    /// The declared type; for expressions (declared NULL) the stored class of the first row's value.
    fn column_type(row: &SqliteRow, index: usize) -> String {
        let declared = type_name(row, index);
        if declared != "NULL" {
            return declared;
        }
        row.try_get_raw(index)
            .map(|v| v.type_info().name().to_string())
            .unwrap_or(declared)
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    fn generated(result: &SqliteQueryResult, sql: &str) -> Option<Field> {
        (result.rows_affected() > 0 && is_insert(sql))
            .then(|| Field::LongValue(result.last_insert_rowid()))
    }
}
