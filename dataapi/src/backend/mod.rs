//! Backends: connection pools per cluster (and per database). Running one statement on any engine
//! is `engine`; what differs per engine (binding, decoding, connecting) lives in `sqlite`,
//! `postgres` and `mysql`.

mod engine;
mod mysql;
mod pool;
mod postgres;
mod sqlite;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::mysql::MySqlConnection;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;
use sqlx::{ConnectOptions, Executor, Sqlite};

use engine::run;
pub(crate) use engine::Outcome;
pub(crate) use pool::TransactionSlot;
use pool::{ConnPool, Pooled};

use crate::config::ClusterConfig;
use crate::dialect::Dialect;
use crate::errors::{ApiError, Error};
use crate::params::Bound;
use crate::values::ResultOptions;

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
