//! ExecuteStatement round trips per second for a one-row SELECT: through the endpoint with the real
//! SDK client, and the same query on a direct sqlx connection, per backend (SQLite always; PostgreSQL
//! and MariaDB when INVENTORY_TEST_POSTGRES_URL / INVENTORY_TEST_MYSQL_URL are set).
//! Run: `cargo bench -p data-api-local --bench roundtrip` (ITERATIONS env var to change the count).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{kinds, Harness, Kind};
use sqlx::{Connection, Row};

const SQL: &str = "SELECT 1";

fn per_second(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

async fn endpoint(h: &Harness, n: usize) -> Duration {
    for _ in 0..20 {
        h.rows(SQL).await;
    }
    let started = Instant::now();
    for _ in 0..n {
        let rows = h.rows(SQL).await;
        assert_eq!(rows.len(), 1);
    }
    started.elapsed()
}

async fn direct<C: Connection>(mut conn: C, n: usize) -> Duration
where
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
    <C::Database as sqlx::Database>::Row: Row,
    for<'q> <C::Database as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, C::Database>,
{
    let started = Instant::now();
    for _ in 0..n {
        let row = sqlx::query(SQL)
            .fetch_one(&mut conn)
            .await
            .expect("direct query");
        assert_eq!(row.len(), 1);
    }
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    println!("{n} round trips of `{SQL}` per measurement");
    println!(
        "{:<10} {:>18} {:>18} {:>10}",
        "backend", "endpoint (calls/s)", "direct sqlx (q/s)", "overhead"
    );
    for kind in kinds() {
        let h = Harness::start(kind).await;
        let via_endpoint = endpoint(&h, n).await;
        let via_sqlx = match kind {
            Kind::Sqlite => direct(sqlx::SqliteConnection::connect(&h.url).await.unwrap(), n).await,
            Kind::Postgres => direct(sqlx::PgConnection::connect(&h.url).await.unwrap(), n).await,
            Kind::MySql => direct(sqlx::MySqlConnection::connect(&h.url).await.unwrap(), n).await,
        };
        let overhead_us = (via_endpoint.as_secs_f64() - via_sqlx.as_secs_f64()) / n as f64 * 1e6;
        println!(
            "{:<10} {:>18.0} {:>18.0} {:>7.0} µs",
            format!("{kind:?}"),
            per_second(n, via_endpoint),
            per_second(n, via_sqlx),
            overhead_us
        );
        h.finish().await;
    }
}
