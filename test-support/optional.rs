//! The optional tools of the test suites: PostgreSQL, MariaDB, python3 with
//! boto3, and Chromium with chromedriver. A test that finds one missing runs without it and reports so on the
//! terminal, once per test binary and tool; with `INVENTORY_TEST_REQUIRE_ALL=1`
//! (CI sets it) the skip fails the test instead.
//!
//! Shared by the crates' `tests/common` modules through `#[path]`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

/// Set to `1` to turn every skip into a failure.
pub const REQUIRE_ALL_VAR: &str = "INVENTORY_TEST_REQUIRE_ALL";

/// A database server the tests use when its URL variable is set.
pub struct DatabaseServer {
    pub name: &'static str,
    pub url_var: &'static str,
    /// The URL that works on a machine set up as `.ci/run` does.
    pub example_url: &'static str,
}

pub const POSTGRES: DatabaseServer = DatabaseServer {
    name: "PostgreSQL",
    url_var: "INVENTORY_TEST_POSTGRES_URL",
    example_url: "postgres://root@127.0.0.1:5432/test",
};

pub const MYSQL: DatabaseServer = DatabaseServer {
    name: "MySQL/MariaDB",
    url_var: "INVENTORY_TEST_MYSQL_URL",
    example_url: "mysql://root@127.0.0.1:3306/test",
};

impl DatabaseServer {
    /// The server's URL; `None` (after reporting the skip) when unset or empty.
    pub fn url(&self) -> Option<String> {
        let url = std::env::var(self.url_var).ok();
        let url = url.filter(|v| !v.trim().is_empty());
        if url.is_none() {
            skipped(
                &format!("the {} backend", self.name),
                &format!("set {}={}", self.url_var, self.example_url),
            );
        }
        url
    }
}

/// Debian's headless browser for the page's test (`apt-get install chromium
/// chromium-driver`); `INVENTORY_TEST_CHROMIUM` names another binary.
pub fn chromium() -> Option<PathBuf> {
    program(
        "INVENTORY_TEST_CHROMIUM",
        &["chromium", "chromium-browser"],
        "Chromium",
    )
}

/// The WebDriver server for that browser; `INVENTORY_TEST_CHROMEDRIVER`
/// names another binary.
pub fn chromedriver() -> Option<PathBuf> {
    program(
        "INVENTORY_TEST_CHROMEDRIVER",
        &["chromedriver"],
        "chromedriver",
    )
}

/// A program named by `var`, else the first of `names` on the PATH; `None`
/// (after reporting the skip) when there is none.
fn program(var: &str, names: &[&str], what: &str) -> Option<PathBuf> {
    let found = match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None => std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
                .find(|candidate| candidate.is_file())
        }),
    };
    if found.is_none() {
        skipped(
            &format!("the test that needs {what}"),
            &format!("apt-get install chromium chromium-driver, or set {var}"),
        );
    }
    found
}

/// Reports that `what` did not run; `enable` says what makes it run.
///
/// The line goes straight to the process's stderr: the test harness captures
/// `println!`/`eprintln!` of passing tests, not writes to the stream itself,
/// so it shows in a plain `cargo test`.
pub fn skipped(what: &str, enable: &str) {
    let line = format!("SKIPPED {what} in {} (to run it: {enable})", suite());
    if require_all() {
        panic!("{line}; {REQUIRE_ALL_VAR}=1 allows no skips");
    }
    static REPORTED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut reported = REPORTED.lock().unwrap_or_else(|e| e.into_inner());
    if !reported.contains(&line) {
        // One write call, so the line does not interleave with the harness's.
        let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
        reported.push(line);
    }
}

/// The crate and the test's module (`inventory-core tests/it/store_writes`):
/// the harness names each test's thread after its path in the test binary.
fn suite() -> String {
    let binary = concat!(env!("CARGO_PKG_NAME"), " tests/", env!("CARGO_CRATE_NAME"));
    let thread = std::thread::current();
    match thread.name().and_then(|name| name.split_once("::")) {
        Some((module, _)) => format!("{binary}/{module}"),
        None => binary.to_owned(),
    }
}

fn require_all() -> bool {
    std::env::var(REQUIRE_ALL_VAR).is_ok_and(|v| !matches!(v.trim(), "" | "0"))
}
