//! Shared test harness: a migrated [`Store`] per database backend, each on
//! its own in-process local Data API endpoint (`data-api-local`).
//!
//! ```ignore
//! mod common;
//!
//! #[tokio::test]
//! async fn my_test() {
//!     common::on_each_backend(async |db| {
//!         // db.name: "sqlite" | "postgres" | "mysql"; db.store: a migrated Store;
//!         // db.client / db.target: the raw Data API client for checks (db.sql(..)).
//!         let calls = db.store.data_api_calls();
//!         // ... assertions, with db.name in the messages ...
//!     })
//!     .await;
//! }
//! ```
//!
//! (`common::backends()` gives the databases themselves; call
//! `db.finish().await` on each.)
//!
//! SQLite always runs (a fresh in-memory database per test). PostgreSQL runs
//! when `INVENTORY_TEST_POSTGRES_URL` is set (each test gets its own schema
//! `t_<random>`, through the connection's `search_path`), MySQL/MariaDB when
//! `INVENTORY_TEST_MYSQL_URL` is set (its own database `t_<random>`). Both are
//! dropped by [`TestDb::finish`]. A set but unreachable URL fails the test;
//! an unset one prints a SKIPPED line, or fails under
//! `INVENTORY_TEST_REQUIRE_ALL=1` (see [`optional`]).

#![allow(dead_code)]

pub mod fleet_data;
pub mod generated_fleet;

use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_rdsdata::operation::execute_statement::ExecuteStatementOutput;
use aws_sdk_rdsdata::Client;
use data_api_local::{Config, Server, LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN};
use inventory_core::store::{schema_statements, DbTarget, Dialect, RetryPolicy, Store};

#[path = "../../../test-support/optional.rs"]
pub mod optional;

#[path = "../../../test-support/keepalive.rs"]
pub mod keepalive;

pub const POSTGRES_URL_VAR: &str = optional::POSTGRES.url_var;
pub const MYSQL_URL_VAR: &str = optional::MYSQL.url_var;

/// One backend under test.
pub struct TestDb {
    /// `sqlite`, `postgres` or `mysql` (the dialect's name): put it in
    /// assertion messages.
    pub name: &'static str,
    pub dialect: Dialect,
    /// Migrated; retries with short delays.
    pub store: Store,
    /// The raw Data API client and target, for checks behind the store's back.
    pub client: Client,
    pub target: DbTarget,
    pub endpoint_url: String,
    server: Option<Server>,
    cleanup: Cleanup,
}

/// What [`TestDb::finish`] removes.
enum Cleanup {
    /// The SQLite file (and its WAL files).
    File(std::path::PathBuf),
    /// A statement dropping the test's schema/database, run on the base URL.
    Sql {
        base_url: String,
        sql: String,
    },
    Done,
}

impl Drop for TestDb {
    /// Cleans up after a test that panicked before [`TestDb::finish`].
    fn drop(&mut self) {
        match std::mem::replace(&mut self.cleanup, Cleanup::Done) {
            Cleanup::Done => {}
            Cleanup::File(path) => remove_sqlite_files(&path),
            Cleanup::Sql { base_url, sql } => {
                // Drop runs inside the test's runtime: clean up from another thread.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    // A DROP can wait on locks of the panicked test's
                    // transactions: give up rather than hang the run.
                    if let Ok(rt) = rt {
                        let dropping = bootstrap(&base_url, &sql);
                        let _ = rt.block_on(async {
                            tokio::time::timeout(Duration::from_secs(10), dropping).await
                        });
                    }
                })
                .join();
            }
        }
    }
}

fn remove_sqlite_files(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.to_path_buf().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

/// Every available backend with default endpoint settings.
pub async fn backends() -> Vec<TestDb> {
    backends_with(|_| {}).await
}

/// Every available backend, with endpoint settings changed by `configure`
/// (e.g. `latency`, `auto_pause`).
pub async fn backends_with(configure: impl Fn(&mut Config)) -> Vec<TestDb> {
    backends_in(Schema::Current, configure).await
}

/// What a new test database is migrated with.
#[derive(Debug, Clone, Copy)]
pub enum Schema<'a> {
    /// This build's schema files and write routines ([`Store::migrate`]).
    Current,
    /// The `ddl/<dialect>/` files of a git revision (the numbered files in
    /// order, then `routines.sql`), each statement in its own call: the
    /// "before" side of a bench that compares SQL. SQLite's statements are
    /// compiled into the store, so there only the schema differs.
    AtRevision(&'a str),
}

/// Every available backend migrated with `schema`, with endpoint settings
/// changed by `configure`.
pub async fn backends_in(schema: Schema<'_>, configure: impl Fn(&mut Config)) -> Vec<TestDb> {
    let mut dbs = vec![TestDb::sqlite(&configure).await];
    if let Some(url) = optional::POSTGRES.url() {
        dbs.push(TestDb::postgres(&url, &configure).await);
    }
    if let Some(url) = optional::MYSQL.url() {
        dbs.push(TestDb::mysql(&url, &configure).await);
    }
    for db in &dbs {
        db.migrate(schema).await;
    }
    dbs
}

/// Endpoint settings under which the database "pauses" after `idle`, then
/// answers DatabaseResumingException while it resumes.
pub fn auto_pause(idle: Duration) -> impl Fn(&mut Config) {
    move |c| c.auto_pause = Some(idle)
}

/// A bench's `n`th number on its command line (flags are skipped), or `default`.
pub fn bench_arg(n: usize, default: usize) -> usize {
    std::env::args()
        .filter(|a| !a.starts_with('-'))
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// Times the page's views `(what, path)` through the API's Router, as
/// `inventory serve` and the Lambda render them, `runs` runs each, and
/// prints p50 and p99 in ms, the bytes and the Data API calls of each.
pub async fn time_pages(store: &Store, views: &[(&str, String)], runs: usize) {
    use axum::body::Body;
    use tower::ServiceExt;

    let api = inventory_core::http::router(store.clone());
    println!(
        "{:<50} {:>9} {:>9} {:>10} {:>6}",
        "view", "p50 ms", "p99 ms", "bytes", "calls"
    );
    for (what, path) in views {
        let mut times = Vec::with_capacity(runs);
        let (mut bytes, mut calls) = (0, 0);
        for _ in 0..runs {
            let before = store.data_api_calls();
            let started = std::time::Instant::now();
            let request = http::Request::get(path).body(Body::empty()).unwrap();
            let response = api.clone().oneshot(request).await.unwrap();
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            times.push(started.elapsed());
            bytes = body.len();
            calls = store.data_api_calls() - before;
        }
        times.sort();
        let at =
            |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
        println!(
            "{what:<50} {:>9.2} {:>9.2} {bytes:>10} {calls:>6}",
            at(0.5),
            at(0.99)
        );
    }
}

/// The overview's reads before its advisories (3 calls: counts, the 15
/// most widespread packages, the 15 latest changes) and now (those and the
/// first 200 of the fleet's advisories), each set at once as the view makes
/// them: prints p50 and p99 in ms of each, `runs` runs, interleaved.
pub async fn overview_reads(store: &Store, runs: usize) {
    use inventory_core::query::HistoryQuery;

    let recent = HistoryQuery {
        limit: 15,
        ..HistoryQuery::default()
    };
    let (mut before, mut now) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    let (mut calls_before, mut calls_now) = (0, 0);
    for _ in 0..runs {
        let calls = store.data_api_calls();
        let started = std::time::Instant::now();
        futures::try_join!(
            store.fleet_counts(),
            store.widespread_packages(15),
            store.fleet_history(&recent),
        )
        .unwrap();
        before.push(started.elapsed());
        calls_before = store.data_api_calls() - calls;
        let calls = store.data_api_calls();
        let started = std::time::Instant::now();
        store.fleet_overview(15, 15, 200).await.unwrap();
        now.push(started.elapsed());
        calls_now = store.data_api_calls() - calls;
    }
    let p = |mut times: Vec<Duration>, q: f64| {
        times.sort();
        times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0
    };
    println!(
        "the overview's reads, {runs} runs: before p50 {:.2} p99 {:.2} ms ({calls_before} calls) | now p50 {:.2} p99 {:.2} ms ({calls_now} calls, with the advisories)",
        p(before.clone(), 0.5),
        p(before, 0.99),
        p(now.clone(), 0.5),
        p(now, 0.99)
    );
}

/// Only PostgreSQL, when its URL is set (else after the SKIPPED line): for
/// benches of what the product runs on.
pub async fn postgres() -> Option<TestDb> {
    let url = optional::POSTGRES.url()?;
    let db = TestDb::postgres(&url, &|_| {}).await;
    db.migrate(Schema::Current).await;
    Some(db)
}

/// Only MySQL/MariaDB, when its URL is set (else after the SKIPPED line).
pub async fn mysql() -> Option<TestDb> {
    mysql_with(|_| {}).await
}

/// [`mysql`] with endpoint settings changed by `configure`.
pub async fn mysql_with(configure: impl Fn(&mut Config)) -> Option<TestDb> {
    let url = optional::MYSQL.url()?;
    let db = TestDb::mysql(&url, &configure).await;
    db.migrate(Schema::Current).await;
    Some(db)
}

/// Only the SQLite backend (always available), for tests that need one database.
pub async fn sqlite() -> TestDb {
    let db = TestDb::sqlite(&|_| {}).await;
    db.migrate(Schema::Current).await;
    db
}

/// Runs `test` on every available backend, each cleaned up after it (on
/// drop when the test panics).
pub async fn on_each_backend(test: impl AsyncFn(&TestDb)) {
    on_each_backend_with(|_| {}, test).await;
}

/// [`on_each_backend`] with endpoint settings changed by `configure`.
pub async fn on_each_backend_with(configure: impl Fn(&mut Config), test: impl AsyncFn(&TestDb)) {
    for db in backends_with(configure).await {
        test(&db).await;
        db.finish().await;
    }
}

/// A short unique name for a schema or database.
fn unique_name() -> String {
    format!("t_{}", &uuid::Uuid::new_v4().simple().to_string()[..16])
}

/// A Data API client for a local endpoint.
pub async fn client(endpoint_url: &str) -> Client {
    Client::new(&local_config(endpoint_url).load().await)
}

/// The shared settings of a local endpoint's clients: test credentials, one
/// Region.
fn local_config(endpoint_url: &str) -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint_url)
        .test_credentials()
        .region(Region::new("us-east-1"))
}

/// A Data API client of an endpoint where nothing listens: a port the system
/// just gave out and took back (a fixed one, such as 9, may be in use on
/// some machine). The SDK's own retries are off: they back off for seconds
/// on every refused connection, and what the tests check is the store's
/// answer to the failure.
pub async fn unreachable_client() -> Client {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = listener.local_addr().expect("its address");
    drop(listener);
    let config = local_config(&format!("http://{addr}"))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    Client::new(&config)
}

/// Fast retries, still long enough to ride out the endpoint's 2 s resume.
pub fn test_retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 12,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(500),
    }
}

async fn start(url: &str, configure: &impl Fn(&mut Config)) -> Server {
    let mut config = Config::single(LOCAL_CLUSTER_ARN, url);
    configure(&mut config);
    Server::start(config)
        .await
        .unwrap_or_else(|e| panic!("cannot start the local Data API on {url}: {e}"))
}

/// Runs one statement on a database URL through a short-lived endpoint.
async fn bootstrap(url: &str, sql: &str) -> Result<(), String> {
    let server = start(url, &|_| {}).await;
    let client = client(&server.endpoint_url()).await;
    let result = client
        .execute_statement()
        .resource_arn(LOCAL_CLUSTER_ARN)
        .secret_arn(LOCAL_SECRET_ARN)
        .sql(sql)
        .send()
        .await
        .map(drop)
        .map_err(|e| {
            format!(
                "{sql}: {}",
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            )
        });
    server.shutdown().await;
    result
}

/// The output of `git` run in the workspace; panics when it fails.
fn git(args: &[&str]) -> String {
    let workspace = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(workspace)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("git {args:?}: {e}"));
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("git answers UTF-8")
}

/// `url` with its path (the database) replaced.
fn with_database(url: &str, database: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("INVENTORY_TEST_MYSQL_URL is not a URL");
    parsed.set_path(&format!("/{database}"));
    parsed.to_string()
}

impl TestDb {
    async fn new(
        dialect: Dialect,
        url: &str,
        configure: &impl Fn(&mut Config),
        cleanup: Cleanup,
    ) -> TestDb {
        let server = start(url, configure).await;
        let endpoint_url = server.endpoint_url();
        let client = client(&endpoint_url).await;
        let target = DbTarget {
            resource_arn: LOCAL_CLUSTER_ARN.to_string(),
            secret_arn: LOCAL_SECRET_ARN.to_string(),
            database: None,
            dialect,
        };
        let store =
            Store::new(client.clone(), target.clone()).with_retry_policy(test_retry_policy());
        TestDb {
            name: dialect.as_str(),
            dialect,
            store,
            client,
            target,
            endpoint_url,
            server: Some(server),
            cleanup,
        }
    }

    async fn migrate(&self, schema: Schema<'_>) {
        let name = self.name;
        match schema {
            Schema::Current => {
                self.store
                    .migrate()
                    .await
                    .unwrap_or_else(|e| panic!("{name}: migrate failed: {e:?}"));
            }
            Schema::AtRevision(revision) => {
                let listed = git(&["ls-tree", "--name-only", revision, &format!("ddl/{name}/")]);
                let mut files: Vec<&str> = listed.lines().filter(|f| f.ends_with(".sql")).collect();
                // The numbered files in order, then the routines.
                files.sort_by_key(|f| (f.ends_with("/routines.sql"), *f));
                for file in files {
                    let text = git(&["show", &format!("{revision}:{file}")]);
                    for statement in schema_statements(&text) {
                        self.sql(&statement).await;
                    }
                }
            }
        }
    }

    async fn sqlite(configure: &impl Fn(&mut Config)) -> TestDb {
        // A temporary file, as the local stack uses (WAL, concurrent readers).
        let path = std::env::temp_dir().join(format!("inventory-{}.db", unique_name()));
        let url = format!("sqlite://{}", path.display());
        TestDb::new(Dialect::Sqlite, &url, configure, Cleanup::File(path)).await
    }

    async fn postgres(base_url: &str, configure: &impl Fn(&mut Config)) -> TestDb {
        let schema = unique_name();
        bootstrap(base_url, &format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap_or_else(|e| panic!("postgres: {e}"));
        let sep = if base_url.contains('?') { '&' } else { '?' };
        let url = format!("{base_url}{sep}options=-c%20search_path%3D{schema}");
        let cleanup = Cleanup::Sql {
            base_url: base_url.to_string(),
            sql: format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        };
        TestDb::new(Dialect::Postgres, &url, configure, cleanup).await
    }

    async fn mysql(base_url: &str, configure: &impl Fn(&mut Config)) -> TestDb {
        let database = unique_name();
        bootstrap(
            base_url,
            &format!("CREATE DATABASE {database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"),
        )
        .await
        .unwrap_or_else(|e| panic!("mysql: {e}"));
        let url = with_database(base_url, &database);
        let cleanup = Cleanup::Sql {
            base_url: base_url.to_string(),
            sql: format!("DROP DATABASE IF EXISTS {database}"),
        };
        TestDb::new(Dialect::Mysql, &url, configure, cleanup).await
    }

    /// A second store on the same endpoint with its own call counter.
    pub fn fresh_store(&self) -> Store {
        Store::new(self.client.clone(), self.target.clone()).with_retry_policy(test_retry_policy())
    }

    /// Runs SQL behind the store's back (no parameters); panics on error.
    pub async fn sql(&self, sql: &str) -> ExecuteStatementOutput {
        self.client
            .execute_statement()
            .resource_arn(&self.target.resource_arn)
            .secret_arn(&self.target.secret_arn)
            .sql(sql)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{}: {sql}: {}",
                    self.name,
                    aws_smithy_types::error::display::DisplayErrorContext(&e)
                )
            })
    }

    /// The stored record of an instance that must exist.
    pub async fn record(
        &self,
        id: &inventory_core::model::InstanceId,
    ) -> inventory_core::model::InstanceRecord {
        self.store
            .get_instance(id)
            .await
            .unwrap_or_else(|e| panic!("{}: get {id}: {e:?}", self.name))
            .unwrap_or_else(|| panic!("{}: {id} not found", self.name))
    }

    /// The first column of the first row as a number (e.g. `SELECT COUNT(*) ...`).
    pub async fn count(&self, sql: &str) -> i64 {
        let out = self.sql(sql).await;
        match out.records().first().and_then(|r| r.first()) {
            Some(aws_sdk_rdsdata::types::Field::LongValue(n)) => *n,
            other => panic!("{}: {sql}: not a count: {other:?}", self.name),
        }
    }

    /// Stops the endpoint, then drops the test's schema/database or file
    /// (best effort; a test that panics before this cleans up on drop).
    pub async fn finish(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
        match std::mem::replace(&mut self.cleanup, Cleanup::Done) {
            Cleanup::Done => {}
            Cleanup::File(path) => remove_sqlite_files(&path),
            // Through a fresh endpoint: the test's own may be "paused" or slow.
            Cleanup::Sql { base_url, sql } => {
                if let Err(e) = bootstrap(&base_url, &sql).await {
                    eprintln!("{}: cleanup failed: {e}", self.name);
                }
            }
        }
    }
}

/// An API-sourced instance in account 123456789012, us-east-1, with `packages`.
pub fn instance(
    id: &str,
    packages: Vec<inventory_core::model::Package>,
) -> inventory_core::model::Instance {
    use inventory_core::model::{Instance, InstanceDetails, InstanceId, Source};
    Instance {
        id: InstanceId::parse(id).expect("test instance id"),
        account: "123456789012".parse().expect("account"),
        region: "us-east-1".parse().expect("region"),
        state: None,
        details: InstanceDetails::default(),
        os: None,
        source: Source::Api,
        packages,
    }
}

/// `n` distinct packages `pkg-00000@1.0.<i % 7>`, ...
pub fn packages(n: usize) -> Vec<inventory_core::model::Package> {
    (0..n)
        .map(|i| {
            inventory_core::model::Package::new(format!("pkg-{i:05}"), format!("1.0.{}", i % 7))
        })
        .collect()
}
