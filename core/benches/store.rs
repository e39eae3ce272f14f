//! Store benchmark (not a test): Data API calls and wall time to write, to
//! replace and to read one instance with N packages, per backend, with the
//! local endpoint's simulated network latency at 0 and 30 ms.
//!
//! Every figure is measured twice in the same run: "now", with this build's
//! schema and write routines, and "before", with those of the git revision
//! `INVENTORY_BENCH_BEFORE` (default `HEAD`: what the working tree changes),
//! each in a database of its own on the same server. Their runs alternate
//! (before first in even runs, now first in odd ones), so that the machine's
//! other load weighs on both alike. SQLite's statements are compiled into the
//! store, so its two sides differ only in the schema. Each database first
//! takes an untimed warm-up (see [`warm_up`]).
//!
//! `cargo test -p inventory-core --bench store` (SQLite always; PostgreSQL /
//! MySQL when INVENTORY_TEST_POSTGRES_URL / INVENTORY_TEST_MYSQL_URL are set).
//! `INVENTORY_BENCH_SIZES` (e.g. `1000`) and `INVENTORY_BENCH_RUNS` (default
//! 7) narrow the sizes and take more runs per figure, for a machine whose
//! speed changes from second to second.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Schema, TestDb};
use inventory_core::model::Package;
use inventory_core::store::Store;

const SIZES: [usize; 4] = [1, 100, 1_000, 10_000];
const LATENCIES_MS: [u64; 2] = [0, 30];
/// Each figure is the median of this many runs, unless INVENTORY_BENCH_RUNS
/// says otherwise.
const RUNS: usize = 7;

/// A list of numbers from the environment variable `name`, comma-separated.
fn numbers_from_env(name: &str) -> Option<Vec<usize>> {
    let list = std::env::var(name).ok()?;
    let numbers = list.split(',').map(|n| n.trim().parse());
    Some(
        numbers
            .collect::<Result<_, _>>()
            .unwrap_or_else(|_| panic!("{name}={list}: not a list of numbers")),
    )
}

/// The runs of one side at one size: durations and Data API calls of each
/// operation.
#[derive(Default)]
struct Runs {
    write: Vec<Duration>,
    replace: Vec<Duration>,
    read: Vec<Duration>,
    calls: (u64, u64, u64),
}

impl Runs {
    /// Writes a new instance with `n` packages, writes it again (a replace
    /// of the same set), and reads it.
    async fn run(&mut self, store: &Store, n: usize, run: usize) {
        let i = common::instance(&format!("i-bench-{n}-{run}"), common::packages(n));
        let c0 = store.data_api_calls();
        let t = Instant::now();
        store.put_instance(&i).await.expect("write");
        self.write.push(t.elapsed());
        let c1 = store.data_api_calls();
        let t = Instant::now();
        store.put_instance(&i).await.expect("replace");
        self.replace.push(t.elapsed());
        let c2 = store.data_api_calls();
        let t = Instant::now();
        let rec = store
            .get_instance(&i.id)
            .await
            .expect("read")
            .expect("found");
        self.read.push(t.elapsed());
        assert_eq!(rec.instance.packages.len(), n);
        self.calls = (c1 - c0, c2 - c1, store.data_api_calls() - c2);
    }
}

/// Untimed, before the runs: two instances with the same 10,000 other
/// packages. MariaDB grows a table file smaller than one extent (1 MiB) a
/// page at a time, each with two fdatasync calls (strace): in a new
/// database that, not the write, took most of a 1,000-package write's time.
/// A database in use is past it.
async fn warm_up(store: &Store) {
    let packages: Vec<Package> = (0..10_000)
        .map(|i| Package::new(format!("warm-up-{i:05}"), "1"))
        .collect();
    for id in ["i-warm-up-1", "i-warm-up-2"] {
        let i = common::instance(id, packages.clone());
        store.put_instance(&i).await.expect("warm-up");
    }
}

/// The median in milliseconds, and the spread of the runs around it:
/// (max - min) / median.
fn median(runs: &[Duration]) -> (f64, f64) {
    let mut ms: Vec<f64> = runs.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let median = ms[ms.len() / 2];
    (median, (ms[ms.len() - 1] - ms[0]) / median)
}

#[tokio::main]
async fn main() {
    let before = std::env::var("INVENTORY_BENCH_BEFORE").unwrap_or_else(|_| "HEAD".into());
    let runs_per_figure = match numbers_from_env("INVENTORY_BENCH_RUNS").as_deref() {
        None => RUNS,
        Some(&[runs]) if runs > 0 => runs,
        Some(_) => panic!("INVENTORY_BENCH_RUNS: one number of runs, at least 1"),
    };
    let sizes = numbers_from_env("INVENTORY_BENCH_SIZES").unwrap_or(SIZES.to_vec());
    println!("before: {before}; median of {runs_per_figure} runs, milliseconds");
    println!(
        "| backend | latency | packages | calls write / replace / read (before; now) | write before | write now | replace before | replace now | read before | read now |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut spreads = Vec::new();
    for latency in LATENCIES_MS {
        let configure = |c: &mut data_api_local::Config| c.latency = Duration::from_millis(latency);
        let olds = common::backends_in(Schema::AtRevision(&before), configure).await;
        let news = common::backends_in(Schema::Current, configure).await;
        for (old, new) in olds.into_iter().zip(news) {
            let sides: [&TestDb; 2] = [&old, &new];
            for side in sides {
                warm_up(&side.store).await;
            }
            for &n in &sizes {
                let stores = sides.map(TestDb::fresh_store);
                let mut runs = [Runs::default(), Runs::default()];
                for run in 0..runs_per_figure {
                    let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
                    for side in order {
                        runs[side].run(&stores[side], n, run).await;
                    }
                }
                let [b, a] = &runs;
                let mut cells = Vec::new();
                for (x, y) in [
                    (&b.write, &a.write),
                    (&b.replace, &a.replace),
                    (&b.read, &a.read),
                ] {
                    for figures in [x, y] {
                        let (ms, spread) = median(figures);
                        spreads.push(spread);
                        cells.push(format!("{ms:.1}"));
                    }
                }
                let calls = |r: &Runs| format!("{} / {} / {}", r.calls.0, r.calls.1, r.calls.2);
                println!(
                    "| {} | {latency} ms | {n} | {}; {} | {} |",
                    new.name,
                    calls(b),
                    calls(a),
                    cells.join(" | ")
                );
            }
            old.finish().await;
            new.finish().await;
        }
    }
    spreads.sort_by(f64::total_cmp);
    println!(
        "spread of the runs of one figure, (max - min) / median: median {:.0}%, largest {:.0}%",
        spreads[spreads.len() / 2] * 100.0,
        spreads[spreads.len() - 1] * 100.0
    );
}
