//! Shared test helpers: an endpoint per backend (SQLite always; PostgreSQL and MariaDB when
//! INVENTORY_TEST_POSTGRES_URL / INVENTORY_TEST_MYSQL_URL are set), each isolated in its own
//! file, schema or database, and a real `aws-sdk-rdsdata` client pointed at it.
#![allow(dead_code)] // each test binary uses a different part

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_rdsdata::operation::execute_statement::builders::ExecuteStatementFluentBuilder;
use aws_sdk_rdsdata::types::{Field, SqlParameter, TypeHint};
use aws_sdk_rdsdata::Client;
use data_api_local::{Config, Server, LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN};
use sqlx::Connection;

#[path = "../../../test-support/optional.rs"]
pub mod optional;

#[path = "../../../test-support/keepalive.rs"]
pub mod keepalive;

pub const POSTGRES_VAR: &str = optional::POSTGRES.url_var;
pub const MYSQL_VAR: &str = optional::MYSQL.url_var;

/// The path of each operation, as the SDKs call it.
pub const OPERATION_PATHS: [&str; 6] = [
    "/Execute",
    "/BatchExecute",
    "/BeginTransaction",
    "/CommitTransaction",
    "/RollbackTransaction",
    "/ExecuteSql",
];

/// The body of an `/Execute` call that succeeds: `SELECT 1`.
pub fn select_one_call() -> String {
    serde_json::json!({"resourceArn": LOCAL_CLUSTER_ARN, "secretArn": LOCAL_SECRET_ARN, "sql": "SELECT 1"})
        .to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
    MySql,
}

/// The backends to test here: SQLite, plus each server whose URL variable is
/// set (a missing one is reported as skipped).
pub fn kinds() -> Vec<Kind> {
    let mut kinds = vec![Kind::Sqlite];
    if optional::POSTGRES.url().is_some() {
        kinds.push(Kind::Postgres);
    }
    if optional::MYSQL.url().is_some() {
        kinds.push(Kind::MySql);
    }
    kinds
}

/// A real SDK client for a local endpoint (dummy credentials, no retries so errors surface as sent).
pub async fn sdk_client(endpoint_url: &str) -> Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint_url)
        .test_credentials()
        .region(Region::new("us-east-1"))
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    Client::new(&config)
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// Where a test's data lives, created before and dropped after the test.
enum Namespace {
    File(std::path::PathBuf),
    Schema { admin_url: String, name: String },
    Database { admin_url: String, name: String },
}

/// Creates an isolated namespace for `kind` and returns it with the backend URL that targets it.
async fn namespace(kind: Kind) -> (Namespace, String) {
    match kind {
        Kind::Sqlite => {
            let path = std::env::temp_dir().join(format!("{}.db", unique("dataapi")));
            let url = format!("sqlite://{}", path.display());
            (Namespace::File(path), url)
        }
        Kind::Postgres => {
            let admin_url = std::env::var(POSTGRES_VAR).expect("postgres url");
            let name = unique("dataapi");
            admin(&admin_url, &format!("CREATE SCHEMA {name}")).await;
            let sep = if admin_url.contains('?') { '&' } else { '?' };
            let url = format!("{admin_url}{sep}options=-c%20search_path%3D{name}");
            (Namespace::Schema { admin_url, name }, url)
        }
        Kind::MySql => {
            let admin_url = std::env::var(MYSQL_VAR).expect("mysql url");
            let name = unique("dataapi");
            admin(&admin_url, &format!("CREATE DATABASE {name}")).await;
            let mut url = url::Url::parse(&admin_url).expect("mysql url parses");
            url.set_path(&name);
            (Namespace::Database { admin_url, name }, url.to_string())
        }
    }
}

/// Runs one statement on a direct connection (setup and teardown outside the endpoint).
pub async fn admin(url: &str, sql: &str) {
    if url.starts_with("postgres") {
        admin_on::<sqlx::PgConnection>(url, sql).await
    } else {
        admin_on::<sqlx::MySqlConnection>(url, sql).await
    }
}

async fn admin_on<C: Connection>(url: &str, sql: &str)
where
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
{
    let mut conn = C::connect(url).await.expect("admin connection");
    // Test setup and teardown text, written by the tests themselves.
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .expect("admin statement");
}

impl Namespace {
    /// Lock timeouts bound the wait when a failed test left a transaction open on the endpoint.
    async fn drop_it(&self) {
        match self {
            Namespace::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Namespace::Schema { admin_url, name } => {
                admin(
                    admin_url,
                    &format!("SET lock_timeout = '5s'; DROP SCHEMA {name} CASCADE"),
                )
                .await
            }
            Namespace::Database { admin_url, name } => {
                admin(
                    admin_url,
                    &format!("SET SESSION lock_wait_timeout = 5; DROP DATABASE {name}"),
                )
                .await
            }
        }
    }
}

/// A running endpoint over one backend, with a client.
pub struct Harness {
    pub kind: Kind,
    server: Option<Server>,
    pub client: Client,
    /// The backend URL the endpoint was configured with.
    pub url: String,
    /// Taken by [`Harness::finish`]; a harness dropped with it (a failed test) cleans up in `Drop`.
    namespace: Option<Namespace>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(namespace) = self.namespace.take() {
            // Drop runs inside the test's runtime: clean up on a thread with its own.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(namespace.drop_it());
                }
            })
            .join();
        }
    }
}

impl Harness {
    pub async fn start(kind: Kind) -> Harness {
        Self::start_with(kind, |_| {}).await
    }

    /// Starts with the default cluster (secret checked) and `adjust` applied to the config.
    pub async fn start_with(kind: Kind, adjust: impl FnOnce(&mut Config)) -> Harness {
        let (namespace, url) = namespace(kind).await;
        let mut config = Config::single(LOCAL_CLUSTER_ARN, url.clone());
        config.clusters[0].secret_arn = Some(LOCAL_SECRET_ARN.to_string());
        adjust(&mut config);
        let server = Server::start(config).await.expect("server starts");
        let client = sdk_client(&server.endpoint_url()).await;
        Harness {
            kind,
            server: Some(server),
            client,
            url,
            namespace: Some(namespace),
        }
    }

    pub async fn finish(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
        if let Some(namespace) = self.namespace.take() {
            namespace.drop_it().await;
        }
    }

    pub fn server(&self) -> &Server {
        self.server.as_ref().expect("server runs until finish")
    }

    /// Picks the SQL text written for this backend.
    pub fn sql<'a>(&self, sqlite: &'a str, postgres: &'a str, mysql: &'a str) -> &'a str {
        match self.kind {
            Kind::Sqlite => sqlite,
            Kind::Postgres => postgres,
            Kind::MySql => mysql,
        }
    }

    /// An ExecuteStatement call with the cluster and secret filled in.
    pub fn execute(&self, sql: &str) -> ExecuteStatementFluentBuilder {
        self.client
            .execute_statement()
            .resource_arn(LOCAL_CLUSTER_ARN)
            .secret_arn(LOCAL_SECRET_ARN)
            .sql(sql)
    }

    /// Runs `sql` and returns its records; panics with the error on failure.
    pub async fn rows(&self, sql: &str) -> Vec<Vec<Field>> {
        let out = self
            .execute(sql)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{:?}: {sql}: {e:?}", self.kind));
        out.records.unwrap_or_default()
    }

    pub async fn count(&self, table: &str) -> i64 {
        let rows = self.rows(&format!("SELECT COUNT(*) FROM {table}")).await;
        match &rows[0][0] {
            Field::LongValue(n) => *n,
            other => panic!("count is not a long: {other:?}"),
        }
    }

    pub async fn begin(&self) -> String {
        self.client
            .begin_transaction()
            .resource_arn(LOCAL_CLUSTER_ARN)
            .secret_arn(LOCAL_SECRET_ARN)
            .send()
            .await
            .expect("begin")
            .transaction_id
            .expect("transaction id")
    }
}

impl Harness {
    /// Commits (`commit`) or rolls back; returns the transaction status or the error code.
    pub async fn end(&self, tx: &str, commit: bool) -> Result<String, String> {
        macro_rules! end_with {
            ($operation:ident) => {
                self.client
                    .$operation()
                    .resource_arn(LOCAL_CLUSTER_ARN)
                    .secret_arn(LOCAL_SECRET_ARN)
                    .transaction_id(tx)
                    .send()
                    .await
                    .map(|o| o.transaction_status.unwrap_or_default())
                    .map_err(|e| error_code(&e))
            };
        }
        if commit {
            end_with!(commit_transaction)
        } else {
            end_with!(rollback_transaction)
        }
    }

    /// A BatchExecuteStatement call with the cluster and secret filled in.
    pub fn batch(&self, sql: &str) -> aws_sdk_rdsdata::operation::batch_execute_statement::builders::BatchExecuteStatementFluentBuilder{
        self.client
            .batch_execute_statement()
            .resource_arn(LOCAL_CLUSTER_ARN)
            .secret_arn(LOCAL_SECRET_ARN)
            .sql(sql)
    }
}

/// Runs `test` once per available backend, each on a fresh endpoint.
pub async fn each_backend(test: impl AsyncFn(&Harness)) {
    for kind in kinds() {
        let harness = Harness::start(kind).await;
        test(&harness).await;
        harness.finish().await;
    }
}

pub fn param(name: &str, value: Field) -> SqlParameter {
    SqlParameter::builder().name(name).value(value).build()
}

pub fn hinted(name: &str, text: &str, hint: TypeHint) -> SqlParameter {
    SqlParameter::builder()
        .name(name)
        .value(Field::StringValue(text.to_string()))
        .type_hint(hint)
        .build()
}

pub fn text(name: &str, text: &str) -> SqlParameter {
    param(name, Field::StringValue(text.to_string()))
}

pub fn long(name: &str, v: i64) -> SqlParameter {
    param(name, Field::LongValue(v))
}

/// The service error code of an SDK error, e.g. "DatabaseErrorException".
pub fn error_code<E, R>(err: &aws_sdk_rdsdata::error::SdkError<E, R>) -> String
where
    E: aws_sdk_rdsdata::error::ProvideErrorMetadata,
{
    aws_sdk_rdsdata::error::ProvideErrorMetadata::code(err)
        .unwrap_or("<none>")
        .to_string()
}

pub fn error_message<E, R>(err: &aws_sdk_rdsdata::error::SdkError<E, R>) -> String
where
    E: aws_sdk_rdsdata::error::ProvideErrorMetadata,
{
    aws_sdk_rdsdata::error::ProvideErrorMetadata::message(err)
        .unwrap_or("")
        .to_string()
}

/// A short pause for timeout tests.
pub async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// A plain HTTP/1.1 exchange (for what the SDK cannot send: GET /metrics, malformed bodies).
/// Returns the status, the `x-amzn-ErrorType` header if any, and the body.
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, Option<String>, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("reads");
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").expect("http response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let error_type = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("x-amzn-errortype: ")
                .or_else(|| l.strip_prefix("x-amzn-ErrorType: "))
        })
        .map(str::to_string);
    (status, error_type, body.to_string())
}

/// One keep-alive HTTP/1.1 connection to the endpoint, for exchanges the SDK cannot make
/// (malformed bodies, unknown operations) and for checking the connection survives them.
pub struct KeepAlive(keepalive::Connection);

/// An answer read from a [`KeepAlive`] connection.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub error_type: Option<String>,
    pub body: String,
}

impl KeepAlive {
    pub async fn connect(addr: std::net::SocketAddr) -> KeepAlive {
        KeepAlive(keepalive::Connection::open(addr).await.expect("connects"))
    }

    /// Sends one request (the SDK's content type) and reads its answer; panics if the server
    /// closed the connection or said it would.
    pub async fn send(&mut self, method: &'static str, path: &str, body: &str) -> Answer {
        let probe = keepalive::Probe::with_body(method, path, "application/x-amz-json-1.1", body);
        let reply = self
            .0
            .send(&probe)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        assert!(
            !reply.close,
            "{method} {path}: the server asked to close the connection"
        );
        Answer {
            status: reply.status,
            error_type: reply.header("x-amzn-errortype").map(str::to_owned),
            body: String::from_utf8_lossy(&reply.body).into_owned(),
        }
    }
}
