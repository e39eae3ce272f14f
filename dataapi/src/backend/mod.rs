//! Backends: connection pools per cluster (and per database), and running one statement on a connection.
//! What differs per engine (binding, decoding, connecting) lives in `sqlite`, `postgres` and `mysql`.

mod mysql;
mod pool;
mod postgres;
mod sqlite;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::TryStreamExt;
use sqlx::mysql::MySqlConnection;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;
use sqlx::{
    Arguments, AssertSqlSafe, Column, ConnectOptions, Database, Decode, Either, Encode, Executor,
    IntoArguments, Row, SqlSafeStr, Sqlite, Statement, Type, TypeInfo,
};

pub(crate) use pool::TransactionSlot;
use pool::{ConnPool, Pooled};
pub(crate) use sqlite::BUSY_TIMEOUT as SQLITE_BUSY_TIMEOUT;

use crate::config::ClusterConfig;
use crate::errors::{ApiError, Error};
use crate::limits::{check_response, check_row, MAX_RESPONSE_BYTES};
use crate::params::{Bound, Dialect, ParamValue};
use crate::protocol::{ColumnMetadata, Field};
use crate::values::{column_metadata, row_size, ResultOptions};

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

fn is_insert(sql: &str) -> bool {
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

type OptionsOf<C> = <C as sqlx::Connection>::Options;

/// Pools of a server engine: the URL's database, plus one per `database` named by calls.
struct PerDatabase<C: sqlx::Connection> {
    options: OptionsOf<C>,
    default: Arc<ConnPool<C>>,
    named: Mutex<HashMap<String, Arc<ConnPool<C>>>>,
    with_database: fn(&OptionsOf<C>, &str) -> OptionsOf<C>,
    max_connections: usize,
}

impl<C: sqlx::Connection> PerDatabase<C> {
    async fn connect(
        options: OptionsOf<C>,
        with_database: fn(&OptionsOf<C>, &str) -> OptionsOf<C>,
        max_connections: usize,
    ) -> Result<PerDatabase<C>, sqlx::Error> {
        // Connect once now, so that a wrong URL fails at startup rather than on the first call.
        drop(options.connect().await?);
        Ok(PerDatabase {
            default: ConnPool::new(options.clone(), max_connections),
            options,
            named: Mutex::default(),
            with_database,
            max_connections,
        })
    }

    fn pool(&self, database: Option<&str>) -> Arc<ConnPool<C>> {
        let Some(name) = database.filter(|d| !d.is_empty()) else {
            return self.default.clone();
        };
        let mut named = self.named.lock().unwrap_or_else(|e| e.into_inner());
        named
            .entry(name.to_string())
            .or_insert_with(|| {
                ConnPool::new(
                    (self.with_database)(&self.options, name),
                    self.max_connections,
                )
            })
            .clone()
    }

    fn close(&self) {
        let named = self.named.lock().unwrap_or_else(|e| e.into_inner());
        for pool in named.values() {
            pool.close();
        }
        self.default.close();
    }
}

enum Pools {
    Sqlite(Arc<ConnPool<SqliteConnection>>),
    Postgres(PerDatabase<PgConnection>),
    MySql(PerDatabase<MySqlConnection>),
}

/// One configured cluster.
pub(crate) struct Cluster {
    pub arn: String,
    pub secret_arn: Option<String>,
    pools: Pools,
    /// The file standing in for `sqlite::memory:`, removed at shutdown.
    scratch_file: Option<std::path::PathBuf>,
}

impl Cluster {
    pub(crate) async fn connect(
        config: &ClusterConfig,
        max_connections: usize,
    ) -> Result<Cluster, Error> {
        let connect_error = |source| Error::Connect {
            arn: config.resource_arn.clone(),
            source,
        };
        let url = config.url.as_str();
        let mut scratch_file = None;
        let pools = if url.starts_with("sqlite:") {
            let (options, scratch) = sqlite::options(url).map_err(connect_error)?;
            scratch_file = scratch;
            drop(options.connect().await.map_err(connect_error)?);
            Pools::Sqlite(ConnPool::new(options, max_connections))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = postgres::options(url).map_err(connect_error)?;
            Pools::Postgres(
                PerDatabase::<PgConnection>::connect(
                    options,
                    |o, db| o.clone().database(db),
                    max_connections,
                )
                .await
                .map_err(connect_error)?,
            )
        } else if url.starts_with("mysql:") || url.starts_with("mariadb:") {
            let options = mysql::options(url).map_err(connect_error)?;
            Pools::MySql(
                PerDatabase::<MySqlConnection>::connect(
                    options,
                    |o, db| o.clone().database(db),
                    max_connections,
                )
                .await
                .map_err(connect_error)?,
            )
        } else {
            return Err(Error::Config(format!(
                "unsupported database URL scheme for {} (use sqlite:, postgres: or mysql:)",
                config.resource_arn
            )));
        };
        Ok(Cluster {
            arn: config.resource_arn.clone(),
            secret_arn: config.secret_arn.clone(),
            pools,
            scratch_file,
        })
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self.pools {
            Pools::Sqlite(_) => Dialect::Sqlite,
            Pools::Postgres(_) => Dialect::Postgres,
            Pools::MySql(_) => Dialect::MySql,
        }
    }

    /// A connection to `database` (ignored on SQLite, whose file is the only database).
    pub(crate) async fn acquire(&self, database: Option<&str>) -> Result<Conn, ApiError> {
        Ok(match &self.pools {
            Pools::Sqlite(pool) => Conn::Sqlite(pool.acquire().await?),
            Pools::Postgres(p) => Conn::Postgres(p.pool(database).acquire().await?),
            Pools::MySql(p) => Conn::MySql(p.pool(database).acquire().await?),
        })
    }

    /// Room for one more transaction on `database`'s pool, or an error at once.
    pub(crate) fn transaction_slot(
        &self,
        database: Option<&str>,
    ) -> Result<TransactionSlot, ApiError> {
        match &self.pools {
            Pools::Sqlite(pool) => pool.transaction_slot(),
            Pools::Postgres(p) => p.pool(database).transaction_slot(),
            Pools::MySql(p) => p.pool(database).transaction_slot(),
        }
    }

    pub(crate) fn close(&self) {
        match &self.pools {
            Pools::Sqlite(pool) => pool.close(),
            Pools::Postgres(p) => p.close(),
            Pools::MySql(p) => p.close(),
        }
        if let Some(path) = &self.scratch_file {
            sqlite::remove(path);
        }
    }
}

/// A connection taken from a cluster's pool.
pub(crate) enum Conn {
    Sqlite(Pooled<SqliteConnection>),
    Postgres(Pooled<PgConnection>),
    MySql(Pooled<MySqlConnection>),
}

impl Conn {
    pub(crate) async fn run(
        &mut self,
        bound: &Bound,
        options: &ResultOptions,
        want_columns: bool,
    ) -> Result<Outcome, ApiError> {
        match self {
            Conn::Sqlite(c) => {
                run::<Sqlite>(c, &bound.sql, &bound.values, options, want_columns, false).await
            }
            Conn::Postgres(c) => postgres::run(c, bound, options, want_columns).await,
            Conn::MySql(c) => mysql::run(c, bound, options, want_columns).await,
        }
    }

    async fn simple(&mut self, sql: &'static str) -> Result<(), ApiError> {
        match self {
            Conn::Sqlite(c) => (&mut **c).execute(sql).await.map(drop)?,
            Conn::Postgres(c) => (&mut **c).execute(sql).await.map(drop)?,
            Conn::MySql(c) => (&mut **c).execute(sql).await.map(drop)?,
        }
        Ok(())
    }

    /// Opens a transaction. On SQLite it takes no lock yet, so that other transactions and
    /// readers go on; its first write waits up to the busy timeout for another writer to finish.
    pub(crate) async fn begin(&mut self) -> Result<(), ApiError> {
        self.simple("BEGIN").await
    }

    /// Opens a transaction that will write at once (a batch): SQLite takes the write lock now.
    pub(crate) async fn begin_write(&mut self) -> Result<(), ApiError> {
        match self {
            Conn::Sqlite(_) => self.simple("BEGIN IMMEDIATE").await,
            _ => self.simple("BEGIN").await,
        }
    }

    pub(crate) async fn commit(&mut self) -> Result<(), ApiError> {
        self.simple("COMMIT").await
    }

    pub(crate) async fn rollback(&mut self) -> Result<(), ApiError> {
        self.simple("ROLLBACK").await
    }

    /// Closes the connection instead of returning it to the pool (its session state is unknown).
    pub(crate) async fn discard(self) {
        match self {
            Conn::Sqlite(c) => c.close().await,
            Conn::Postgres(c) => c.close().await,
            Conn::MySql(c) => c.close().await,
        }
    }
}

/// Silences the driver's per-statement logging: SQL and values must never reach the logs.
fn quiet<O: ConnectOptions>(options: O) -> O {
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
