//! SQLite: an embedded file (WAL, busy timeout); `sqlite::memory:` is a scratch file.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqliteQueryResult, SqliteRow,
};
use sqlx::{Row, Sqlite, TypeInfo, ValueRef};

use super::engine::{bind_scalar, get, is_insert, quiet, type_name, Engine, SQLITE_BUSY_TIMEOUT};
use crate::dialect::Dialect;
use crate::errors::ApiError;
use crate::params::ParamValue;
use crate::protocol::{Blob, Field};
use crate::values::ResultOptions;

/// Connection options for `url`. `sqlite::memory:` becomes a fresh file in the temporary directory
/// (returned, to be removed at shutdown): an in-memory database shared between connections uses
/// table locks that ignore the busy timeout, so a second writer would wait without bound.
pub(super) fn options(url: &str) -> Result<(SqliteConnectOptions, Option<PathBuf>), sqlx::Error> {
    let memory = url.contains(":memory:") || url.contains("mode=memory");
    let (options, scratch) = if memory {
        let path = std::env::temp_dir().join(format!(
            "data-api-local-{}.db",
            uuid::Uuid::new_v4().simple()
        ));
        (SqliteConnectOptions::new().filename(&path), Some(path))
    } else {
        (SqliteConnectOptions::from_str(url)?, None)
    };
    let options = options
        .create_if_missing(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .journal_mode(SqliteJournalMode::Wal);
    Ok((quiet(options), scratch))
}

/// Removes a database file and its WAL companions.
pub(super) fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(name);
    }
}

impl Engine for Sqlite {
    const DIALECT: Dialect = Dialect::Sqlite;

    fn bind(args: &mut SqliteArguments, value: &ParamValue) -> Result<(), ApiError> {
        bind_scalar::<Self, _>(args, value, None::<i64>)
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
