//! Store benchmark (not a test): Data API calls and wall time to write and to
//! read one instance with N packages, per backend, with the local endpoint's
//! simulated network latency at 0 and 30 ms.
//!
//! `cargo bench -p inventory-core --bench store` (SQLite always; PostgreSQL /
//! MySQL when INVENTORY_TEST_POSTGRES_URL / INVENTORY_TEST_MYSQL_URL are set).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

const SIZES: [usize; 4] = [1, 100, 1_000, 10_000];
const LATENCIES_MS: [u64; 2] = [0, 30];
/// Each figure is the median of this many runs.
const RUNS: usize = 3;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    println!(
        "| backend | latency | packages | write calls | write ms | replace calls | replace ms | read calls | read ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for latency in LATENCIES_MS {
        let dbs = common::backends_with(|c| c.latency = Duration::from_millis(latency)).await;
        for db in dbs {
            for n in SIZES {
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
                println!(
                    "| {} | {latency} ms | {n} | {} | {} | {} | {} | {} | {} |",
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
