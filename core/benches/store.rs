//! Store benchmark (not a test): Data API calls and wall time to write, to
//! replace and to read one instance with N packages, per backend, with the
//! local endpoint's simulated network latency at 0 and 30 ms, side by side
//! with the figures before schema version 2 (docs/performance.md).
//!
//! `cargo bench -p inventory-core --bench store` (SQLite always; PostgreSQL /
//! MySQL when INVENTORY_TEST_POSTGRES_URL / INVENTORY_TEST_MYSQL_URL are set).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

const SIZES: [usize; 4] = [1, 100, 1_000, 10_000];
const LATENCIES_MS: [u64; 2] = [0, 30];
/// Each figure is the median of this many runs.
const RUNS: usize = 5;

/// Before schema version 2 (same machine, same bench): write calls, then
/// write and read milliseconds for each of `SIZES`, per backend and latency.
fn baseline(backend: &str, latency: u64) -> Option<(u64, [f64; 4], [f64; 4])> {
    Some(match (backend, latency) {
        ("postgres", 0) => (1, [2.2, 3.7, 19.7, 180.0], [1.8, 2.2, 6.1, 42.7]),
        ("postgres", 30) => (1, [34.9, 37.2, 53.1, 228.0], [34.3, 34.6, 40.0, 74.6]),
        ("mysql", 0) => (5, [6.4, 9.0, 173.0, 195.0], [2.0, 2.4, 7.1, 63.5]),
        ("mysql", 30) => (5, [168.0, 171.0, 329.0, 353.0], [34.6, 35.7, 40.3, 95.2]),
        ("sqlite", 0) => (5, [6.2, 7.1, 16.0, 111.0], [1.3, 1.8, 5.6, 42.2]),
        ("sqlite", 30) => (5, [168.0, 167.0, 178.0, 271.0], [34.1, 34.1, 37.9, 75.4]),
        _ => return None,
    })
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    println!(
        "| backend | latency | packages | write calls | write ms | before: calls / ms | replace calls | replace ms | read calls | read ms | before: read ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for latency in LATENCIES_MS {
        let dbs = common::backends_with(|c| c.latency = Duration::from_millis(latency)).await;
        for db in dbs {
            let before = baseline(db.name, latency);
            for (size, n) in SIZES.into_iter().enumerate() {
                let store = db.fresh_store();
                let (mut write, mut replace, mut read) = (vec![], vec![], vec![]);
                let mut calls = (0, 0, 0);
                for run in 0..RUNS {
                    let i = common::instance(&format!("i-bench-{n}-{run}"), common::packages(n));
                    let c0 = store.data_api_calls();
                    let t = Instant::now();
                    store.put_instance(&i).await.expect("write");
                    write.push(t.elapsed());
                    let c1 = store.data_api_calls();
                    let t = Instant::now();
                    store.put_instance(&i).await.expect("replace");
                    replace.push(t.elapsed());
                    let c2 = store.data_api_calls();
                    let t = Instant::now();
                    let rec = store
                        .get_instance(&i.id)
                        .await
                        .expect("read")
                        .expect("found");
                    read.push(t.elapsed());
                    assert_eq!(rec.instance.packages.len(), n);
                    calls = (c1 - c0, c2 - c1, store.data_api_calls() - c2);
                }
                let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
                let (before_write, before_read) = match before {
                    Some((c, w, r)) => (format!("{c} / {}", w[size]), r[size].to_string()),
                    None => ("-".into(), "-".into()),
                };
                println!(
                    "| {} | {latency} ms | {n} | {} | {} | {before_write} | {} | {} | {} | {} | {before_read} |",
                    db.name,
                    calls.0,
                    ms(median(write)),
                    calls.1,
                    ms(median(replace)),
                    calls.2,
                    ms(median(read)),
                );
            }
            db.finish().await;
        }
    }
}
