//! MySQL and MariaDB.

use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use sqlx::mysql::types::MySqlTime;
use sqlx::mysql::{
    MySqlArguments, MySqlConnectOptions, MySqlConnection, MySqlQueryResult, MySqlRow,
};
use sqlx::{MySql, Row, ValueRef};

use super::{bind_scalar, get, quiet, type_name, Engine, Outcome};
use crate::errors::ApiError;
use crate::params::{Bound, Dialect, ParamValue};
use crate::protocol::{Blob, Field};
use crate::values::{date, text_or_blob, time, timestamp, ResultOptions};

pub(super) fn options(url: &str) -> Result<MySqlConnectOptions, sqlx::Error> {
    let url = url.replacen("mariadb:", "mysql:", 1);
    Ok(quiet(MySqlConnectOptions::from_str(&url)?))
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
            "GEOMETRY" => Field::BlobValue(Blob(get::<M, Vec<u8>>(row, i)?)),
            // The protocol flags binary-collation text (MariaDB's JSON is utf8mb4_bin LONGTEXT) like
            // binary data, without the charset: UTF-8 bytes come back as text, others as a blob.
            _ => text_or_blob(get::<M, &[u8]>(row, i)?),
        })
    }

    fn rows_affected(result: &MySqlQueryResult) -> u64 {
        result.rows_affected()
    }

    fn generated(result: &MySqlQueryResult, _sql: &str) -> Option<Field> {
        let id = result.last_insert_id();
        (id != 0).then(|| Field::LongValue(i64::try_from(id).unwrap_or(i64::MAX)))
    }
}
