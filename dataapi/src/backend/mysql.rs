//! MySQL and MariaDB.

use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use sqlx::mysql::types::MySqlTime;
use sqlx::mysql::{
    MySqlArguments, MySqlColumn, MySqlConnectOptions, MySqlConnection, MySqlQueryResult, MySqlRow,
};
use sqlx::{Column, MySql, Row, Type, TypeInfo, ValueRef};

use super::engine::{bind_scalar, get, quiet, type_name, Engine, Outcome};
use crate::dialect::Dialect;
use crate::errors::ApiError;
use crate::params::{Bound, ParamValue};
use crate::protocol::{Blob, Field};
use crate::values::{date, time, timestamp, ResultOptions};

pub(super) fn options(url: &str) -> Result<MySqlConnectOptions, sqlx::Error> {
    let url = url.replacen("mariadb:", "mysql:", 1);
    Ok(quiet(MySqlConnectOptions::from_str(&url)?))
}

/// Whether a column holds text: a string type whose charset is not `binary` (collation 63), which
/// is sqlx's test for `str`. The BINARY flag does not tell: text in a `_bin` collation (MariaDB's
/// JSON is utf8mb4_bin LONGTEXT) carries it too. Text comes transcoded to the connection's utf8mb4;
/// BLOB, BINARY, VARBINARY and binary expressions (`UNHEX()`, `X'..'`) are bytes whatever they hold.
fn is_text(column: &MySqlColumn) -> bool {
    <str as Type<MySql>>::compatible(column.type_info())
}

/// ER_UNSUPPORTED_PS (1295): "This command is not supported in the prepared statement protocol yet".
fn is_unpreparable(e: &ApiError) -> bool {
    matches!(e, ApiError::Database(m) if m.contains("prepared statement protocol"))
}

/// Runs `bound` prepared; a statement the server cannot prepare (CREATE PROCEDURE, TRIGGER,
/// EVENT...) and that has no values runs unprepared, as the hosted service runs it.
pub(super) async fn run(
    conn: &mut MySqlConnection,
    bound: &Bound,
    options: &ResultOptions,
    want_columns: bool,
) -> Result<Outcome, ApiError> {
    let (sql, values) = (bound.sql.as_str(), bound.values.as_slice());
    match super::run::<MySql>(conn, sql, values, options, want_columns, false).await {
        Err(e) if is_unpreparable(&e) && values.is_empty() => {
            super::run::<MySql>(conn, sql, values, options, want_columns, true).await
        }
        other => other,
    }
}

impl Engine for MySql {
    const DIALECT: Dialect = Dialect::MySql;

    fn bind(args: &mut MySqlArguments, value: &ParamValue) -> Result<(), ApiError> {
        bind_scalar::<Self, _>(args, value, None::<i64>)
    }

    fn field(row: &MySqlRow, i: usize, o: &ResultOptions) -> Result<Field, ApiError> {
        if row.try_get_raw(i)?.is_null() {
            return Ok(Field::IsNull(true));
        }
        type M = MySql;
        let name = type_name(row, i);
        Ok(match name.as_str() {
            "BOOLEAN" => Field::BooleanValue(get::<M, bool>(row, i)?),
            "TINYINT" | "SMALLINT" | "INT" | "MEDIUMINT" | "BIGINT" | "YEAR" => {
                o.long(get::<M, i64>(row, i)?)
            }
            "BIT" => o.unsigned(get::<M, u64>(row, i)?),
            n if n.ends_with("UNSIGNED") => o.unsigned(get::<M, u64>(row, i)?),
            "FLOAT" => Field::DoubleValue(get::<M, f32>(row, i)?.into()),
            "DOUBLE" => Field::DoubleValue(get::<M, f64>(row, i)?),
            "DECIMAL" => o.decimal(get::<M, String>(row, i)?),
            "DATE" => Field::StringValue(date(get::<M, NaiveDate>(row, i)?)),
            "DATETIME" | "TIMESTAMP" => {
                Field::StringValue(timestamp(get::<M, NaiveDateTime>(row, i)?))
            }
            // TIME may exceed a day or be negative; only then fall back to MySQL's own form.
            "TIME" => Field::StringValue(match get::<M, NaiveTime>(row, i) {
                Ok(t) => time(t),
                Err(_) => get::<M, MySqlTime>(row, i)?.to_string(),
            }),
            // MySQL's JSON type comes with the binary charset, yet is text.
            "JSON" => Field::StringValue(get::<M, String>(row, i)?),
            _ if is_text(&row.columns()[i]) => Field::StringValue(get::<M, String>(row, i)?),
            _ => Field::BlobValue(Blob(get::<M, Vec<u8>>(row, i)?)),
        })
    }

    /// The driver names a column after its BINARY flag, which text in a `_bin` collation carries
    /// too: such a column is reported by its text type, as its values are.
    fn metadata_type(column: &MySqlColumn) -> String {
        let name = column.type_info().name();
        if !is_text(column) {
            return name.to_string();
        }
        match name {
            "BLOB" => "TEXT",
            "TINYBLOB" => "TINYTEXT",
            "MEDIUMBLOB" => "MEDIUMTEXT",
            "LONGBLOB" => "LONGTEXT",
            "VARBINARY" => "VARCHAR",
            "BINARY" => "CHAR",
            text => text,
        }
        .to_string()
    }

    fn rows_affected(result: &MySqlQueryResult) -> u64 {
        result.rows_affected()
    }

    fn generated(result: &MySqlQueryResult, _sql: &str) -> Option<Field> {
        let id = result.last_insert_id();
        (id != 0).then(|| Field::LongValue(i64::try_from(id).unwrap_or(i64::MAX)))
    }
}
