//! Running one statement on a connection, whatever the engine: binding its
//! values, reading its rows within the response limits, and the column
//! metadata. What differs per engine is the [`Engine`] trait, implemented in
//! `sqlite`, `postgres` and `mysql`.

use std::time::Duration;

use futures::TryStreamExt;
use sqlx::{
    Arguments, AssertSqlSafe, Column, ConnectOptions, Database, Decode, Either, Encode, Executor,
    IntoArguments, Row, SqlSafeStr, Statement, Type, TypeInfo,
};

use crate::dialect::Dialect;
use crate::errors::ApiError;
use crate::limits::{check_response, check_row, MAX_RESPONSE_BYTES};
use crate::params::ParamValue;
use crate::protocol::{ColumnMetadata, Field};
use crate::values::{column_metadata, row_size, ResultOptions};

/// How long a SQLite writer waits for another transaction's write lock
/// before it is refused (`database is locked`).
pub(crate) const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A driver error while serving a call. Every statement comes from the client, so what the driver
/// refuses about it (placeholders, argument counts, protocol-level refusals) is the client's
/// `DatabaseErrorException`, as the hosted service reports its engine's refusals; only a lost
/// backend is `DatabaseUnavailableException`.
impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Database(db) if db.message() == "database is locked" => {
                ApiError::Database(format!(
                    "database is locked: another transaction holds the SQLite write lock (waited {} s)",
                    SQLITE_BUSY_TIMEOUT.as_secs()
                ))
            }
            sqlx::Error::Database(db) => ApiError::Database(db.message().to_string()),
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => {
                ApiError::Unavailable(format!("The database is not available: {e}"))
            }
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                ApiError::UnsupportedResult(format!("Unsupported result value: {e}"))
            }
            sqlx::Error::Encode(_) | sqlx::Error::TypeNotFound { .. } => {
                ApiError::BadRequest(format!("Invalid parameter: {e}"))
            }
            other => ApiError::Database(other.to_string()),
        }
    }
}

/// What one statement produced.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub columns: Vec<ColumnMetadata>,
    pub rows: Vec<Vec<Field>>,
    /// The statement yields a result set (possibly empty), so the response carries `records`.
    pub returns_rows: bool,
    pub updated: u64,
    pub generated: Vec<Field>,
}

/// The per-engine part of running a statement.
pub(crate) trait Engine: Database {
    const DIALECT: Dialect;
    fn bind(args: &mut <Self as Database>::Arguments, value: &ParamValue) -> Result<(), ApiError>;
    fn field(row: &Self::Row, index: usize, options: &ResultOptions) -> Result<Field, ApiError>;
    fn rows_affected(result: &Self::QueryResult) -> u64;
    /// The type reported in column metadata: the driver's name.
    fn metadata_type(column: &Self::Column) -> String {
        column.type_info().name().to_string()
    }
    /// The type reported in column metadata for a column of `row`.
    fn column_type(row: &Self::Row, index: usize) -> String {
        Self::metadata_type(&row.columns()[index])
    }
    /// The auto-generated key of an insert, where the engine reports one.
    fn generated(_result: &Self::QueryResult, _sql: &str) -> Option<Field> {
        None
    }
}

/// Decodes column `index` without the driver's type check (the caller matched the type by name).
pub(crate) fn get<'r, DB, T>(row: &'r DB::Row, index: usize) -> Result<T, ApiError>
where
    DB: Database,
    T: Decode<'r, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    row.try_get_unchecked(index).map_err(ApiError::from)
}

/// The driver's name for the type of column `index` (for SQLite: the declared type).
pub(crate) fn type_name<R: Row>(row: &R, index: usize) -> String {
    row.columns()[index].type_info().name().to_string()
}

/// Binds `value`, a NULL as `null`: SQLite and MySQL take a typed one
/// (`None::<i64>`), PostgreSQL an untyped one, so that the statement's cast
/// gives it its type.
pub(crate) fn bind_scalar<'q, DB: Database, N>(
    args: &mut <DB as Database>::Arguments,
    value: &'q ParamValue,
    null: N,
) -> Result<(), ApiError>
where
    N: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
    &'q [u8]: Encode<'q, DB> + Type<DB>,
{
    match value {
        ParamValue::Null => args.add(null),
        ParamValue::Bool(b) => args.add(*b),
        ParamValue::Long(v) => args.add(*v),
        ParamValue::Double(v) => args.add(*v),
        ParamValue::Text(s) => args.add(s.as_str()),
        ParamValue::Blob(b) => args.add(b.as_slice()),
    }
    .map_err(invalid_parameter)
}

fn invalid_parameter(e: sqlx::error::BoxDynError) -> ApiError {
    ApiError::BadRequest(format!("Invalid parameter: {e}"))
}

fn first_keyword(sql: &str) -> String {
    let mut rest = sql.trim_start();
    // Leading comments and parentheses do not decide the statement kind.
    loop {
        if let Some(r) = rest.strip_prefix("--") {
            rest = r
                .split_once('\n')
                .map_or("", |(_, after)| after)
                .trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r
                .split_once("*/")
                .map_or("", |(_, after)| after)
                .trim_start();
        } else if let Some(r) = rest.strip_prefix('(') {
            rest = r.trim_start();
        } else {
            break;
        }
    }
    rest.chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase()
}

fn is_query(sql: &str) -> bool {
    matches!(
        first_keyword(sql).as_str(),
        "SELECT"
            | "WITH"
            | "VALUES"
            | "SHOW"
            | "PRAGMA"
            | "EXPLAIN"
            | "DESCRIBE"
            | "DESC"
            | "TABLE"
    )
}

pub(crate) fn is_insert(sql: &str) -> bool {
    matches!(first_keyword(sql).as_str(), "INSERT" | "REPLACE")
}

/// Runs one bound statement; `want_columns` asks for column metadata even when no row comes back.
/// `text_protocol` sends it unprepared (it then must have no values).
pub(crate) async fn run<DB: Engine>(
    conn: &mut DB::Connection,
    sql: &str,
    values: &[ParamValue],
    options: &ResultOptions,
    want_columns: bool,
    text_protocol: bool,
) -> Result<Outcome, ApiError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    <DB as Database>::Arguments: IntoArguments<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    // The SQL is the client's, as on the hosted service; its values are bound, never spliced in.
    let statement = || AssertSqlSafe(sql);
    let mut outcome = Outcome::default();
    let mut total = 0usize;
    {
        let mut stream = if text_protocol {
            sqlx::raw_sql(statement()).fetch_many(&mut *conn)
        } else {
            let mut args = <DB as Database>::Arguments::default();
            for value in values {
                DB::bind(&mut args, value)?;
            }
            (&mut *conn).fetch_many(sqlx::query_with(statement(), args))
        };
        while let Some(item) = stream.try_next().await? {
            match item {
                Either::Left(result) => {
                    outcome.updated += DB::rows_affected(&result);
                    outcome.generated.extend(DB::generated(&result, sql));
                }
                Either::Right(row) => {
                    if outcome.columns.is_empty() {
                        outcome.columns = (0..row.len())
                            .map(|i| {
                                let name = row.columns()[i].name();
                                column_metadata(name, &DB::column_type(&row, i), DB::DIALECT)
                            })
                            .collect();
                    }
                    let fields = (0..row.len())
                        .map(|i| DB::field(&row, i, options))
                        .collect::<Result<Vec<_>, _>>()?;
                    let size = row_size(&fields);
                    check_row(size)?;
                    total += size;
                    // Stop reading early instead of buffering a result far over the limit.
                    check_response(total.min(MAX_RESPONSE_BYTES + 1))?;
                    outcome.rows.push(fields);
                }
            }
        }
    }
    if outcome.rows.is_empty() && want_columns && !text_protocol {
        let prepared = (&mut *conn).prepare(statement().into_sql_str()).await?;
        outcome.columns = columns::<DB>(prepared.columns());
    }
    outcome.returns_rows = !outcome.rows.is_empty() || !outcome.columns.is_empty() || is_query(sql);
    if outcome.returns_rows {
        // As the hosted service: a statement answering a result set (a query, or DML with
        // RETURNING) reports no update count.
        outcome.updated = 0;
    }
    Ok(outcome)
}

fn columns<DB: Engine>(cols: &[DB::Column]) -> Vec<ColumnMetadata> {
    cols.iter()
        .map(|c| column_metadata(c.name(), &DB::metadata_type(c), DB::DIALECT))
        .collect()
}

/// Silences the driver's per-statement logging: SQL and values must never reach the logs.
pub(crate) fn quiet<O: ConnectOptions>(options: O) -> O {
    options.disable_statement_logging()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_kind_from_first_keyword() {
        assert!(is_query("  -- hi\n /* x */ (select 1)"));
        assert!(is_query("with a as (select 1) select * from a"));
        assert!(!is_query("insert into t values (1)"));
        assert!(is_insert("INSERT into t values (1)"));
        assert!(!is_insert("update t set a = 1"));
    }
}
