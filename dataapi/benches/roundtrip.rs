//! Sequential one-row `SELECT 1` round trips, per backend (SQLite always; PostgreSQL and MariaDB
//! when INVENTORY_TEST_POSTGRES_URL / INVENTORY_TEST_MYSQL_URL are set), side by side in one run:
//! - `endpoint (http)`: ExecuteStatement as the SDK sends it, over one keep-alive HTTP connection;
//! - `endpoint (sdk)`: the same through the real `aws-sdk-rdsdata` client (adds signing, parsing);
//! - `driver`: the same query on a direct sqlx connection;
//! - `no-op route`: `GET /metrics` over one keep-alive connection (the HTTP floor).
//!
//! Prints p50 and p99 of each, and the ratio of the endpoint's p50 to the driver's.
//! Run: `cargo bench -p data-api-local --bench roundtrip` (ITERATIONS env var to change the count).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{kinds, Harness, KeepAlive, Kind};
use data_api_local::{LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN};
use sqlx::{Connection, Row};

const SQL: &str = "SELECT 1";
const WARM_UP: usize = 200;

struct Spread {
    p50: Duration,
    p99: Duration,
}

fn spread(mut samples: Vec<Duration>) -> Spread {
    samples.sort();
    let n = samples.len();
    Spread {
        p50: samples[n / 2],
        p99: samples[(n * 99 / 100).min(n - 1)],
    }
}

/// Times `n` sequential runs of `$call` (an expression that awaits one round trip), after a warm-up.
macro_rules! time_calls {
    ($n:expr, $call:expr) => {{
        let mut samples = Vec::with_capacity($n);
        for i in 0..WARM_UP + $n {
            let started = Instant::now();
            $call;
            if i >= WARM_UP {
                samples.push(started.elapsed());
            }
        }
        spread(samples)
    }};
}

async fn via_http(h: &Harness, n: usize) -> Spread {
    let mut conn = KeepAlive::connect(h.server().local_addr()).await;
    let body = serde_json::json!({"resourceArn": LOCAL_CLUSTER_ARN, "secretArn": LOCAL_SECRET_ARN, "sql": SQL})
        .to_string();
    time_calls!(n, {
        let answer = conn.send("POST", "/Execute", &body).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    })
}

async fn noop_route(h: &Harness, n: usize) -> Spread {
    let mut conn = KeepAlive::connect(h.server().local_addr()).await;
    time_calls!(n, {
        assert_eq!(conn.send("GET", "/metrics", "").await.status, 200);
    })
}

async fn via_sdk(h: &Harness, n: usize) -> Spread {
    time_calls!(n, {
        assert_eq!(h.rows(SQL).await.len(), 1);
    })
}

async fn via_driver<C: Connection>(mut conn: C, n: usize) -> Spread
where
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
    <C::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<C::Database>,
{
    time_calls!(n, {
        let row = sqlx::query(SQL)
            .fetch_one(&mut conn)
            .await
            .expect("direct query");
        assert_eq!(row.len(), 1);
    })
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    println!(
        "{n} sequential round trips of `{SQL}` per column (after {WARM_UP} warm-up), times in ms"
    );
    println!(
        "{:<9} {:>17} {:>17} {:>17} {:>17} {:>12} {:>12}",
        "backend",
        "endpoint http p50/p99",
        "endpoint sdk p50/p99",
        "driver p50/p99",
        "no-op p50/p99",
        "http/driver",
        "sdk/driver"
    );
    for kind in kinds() {
        let h = Harness::start(kind).await;
        let http = via_http(&h, n).await;
        let sdk = via_sdk(&h, n).await;
        let driver = match kind {
            Kind::Sqlite => {
                via_driver(sqlx::SqliteConnection::connect(&h.url).await.unwrap(), n).await
            }
            Kind::Postgres => {
                via_driver(sqlx::PgConnection::connect(&h.url).await.unwrap(), n).await
            }
            Kind::MySql => {
                via_driver(sqlx::MySqlConnection::connect(&h.url).await.unwrap(), n).await
            }
        };
        let noop = noop_route(&h, n).await;
        let pair = |s: &Spread| format!("{}/{}", ms(s.p50), ms(s.p99));
        let ratio = |s: &Spread| format!("{:.2}x", s.p50.as_secs_f64() / driver.p50.as_secs_f64());
        println!(
            "{:<9} {:>21} {:>20} {:>17} {:>17} {:>12} {:>12}",
            format!("{kind:?}"),
            pair(&http),
            pair(&sdk),
            pair(&driver),
            pair(&noop),
            ratio(&http),
            ratio(&sdk)
        );
        h.finish().await;
    }
}
