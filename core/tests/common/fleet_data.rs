//! A generated fleet for the benches at fleet scale (`benches/fleet.rs`,
//! `benches/advisories.rs`): 70% Debian 12 and 30% Amazon Linux 2023
//! instances, each with its distribution's base packages in one of three
//! builds and more drawn from a pool with a long tail; openssl on every
//! instance in one of its distribution's real versions; `rare-agent` on 5
//! instances in 10,000. Written as launch events write it (state, OS and
//! packages in one call, history included).

use chrono::{TimeZone, Utc};
use futures::stream::{self, StreamExt};
use inventory_core::model::{
    InstanceDetails, InstanceId, InstanceState, OsPlatform, Package, PackageSet, StateChange,
};
use inventory_core::version::VersionScheme;

const LOAD_CONCURRENCY: usize = 8;

pub const DEBIAN_OPENSSL: [&str; 3] = ["3.0.11-1~deb12u2", "3.0.13-1~deb12u1", "3.0.15-1~deb12u1"];
pub const AMAZON_OPENSSL: [&str; 3] = [
    "1:3.0.8-1.amzn2023.0.12",
    "1:3.0.8-1.amzn2023.0.14",
    "1:3.0.8-1.amzn2023.0.16",
];
/// What the upgraded tenth of the fleet moves to.
pub const DEBIAN_FIX: &str = "3.0.16-1~deb12u1";
pub const AMAZON_FIX: &str = "1:3.0.8-1.amzn2023.0.18";

/// A deterministic hash: the same fleet on every run.
pub fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

pub fn instance_id(n: usize) -> InstanceId {
    InstanceId::parse(&format!("i-{:017x}", 0x0f00_0000_0000_0000u64 + n as u64)).unwrap()
}

pub fn is_debian(n: usize) -> bool {
    mix(n as u64) % 10 < 7
}

/// The packages of instance `n` in its distribution's version syntax, with
/// openssl at `openssl` (or its generated version).
pub fn packages_of(n: usize, count: usize, openssl: Option<&str>) -> Vec<Package> {
    let debian = is_debian(n);
    let h = mix(n as u64 + 17);
    let build = |k: usize| (mix(h ^ k as u64) % 3) as usize;
    let version = |k: usize, b: usize| {
        if debian {
            format!(
                "{}.{}.{}-{}+deb12u{}",
                1 + k % 9,
                k % 13,
                k % 7,
                1 + k % 4,
                1 + b
            )
        } else {
            format!(
                "{}.{}.{}-{}.amzn2023.0.{}",
                1 + k % 9,
                k % 13,
                k % 7,
                1 + k % 5,
                10 + b
            )
        }
    };
    let distro = if debian { "deb" } else { "al" };
    let base = count.saturating_sub(51);
    let mut list: Vec<Package> = (0..base)
        .map(|k| Package::new(format!("{distro}-base-{k:03}"), version(k, build(k))))
        .collect();
    // The long tail: mostly the pool's first packages, some of any.
    for j in 0..count.saturating_sub(base + 1) {
        let r = mix(h ^ (1000 + j as u64));
        let k = if r.is_multiple_of(4) {
            r % 1500
        } else {
            (r >> 8) % 120
        };
        list.push(Package::new(
            format!("tail-{k:04}"),
            version(k as usize, build(k as usize)),
        ));
    }
    let openssl = openssl.map_or_else(
        || {
            let versions = if debian {
                DEBIAN_OPENSSL
            } else {
                AMAZON_OPENSSL
            };
            versions[(h % 3) as usize].to_owned()
        },
        str::to_owned,
    );
    list.push(Package::new("openssl", openssl));
    if n % 2000 == 7 {
        list.push(Package::new("rare-agent", "2.4.1"));
    }
    list
}

pub fn launch(n: usize, time: chrono::DateTime<Utc>) -> StateChange {
    let platform = if is_debian(n) {
        "Debian GNU/Linux 12"
    } else {
        "Amazon Linux 2023"
    };
    StateChange {
        id: instance_id(n),
        account: "123456789012".parse().unwrap(),
        region: "us-east-1".parse().unwrap(),
        state: InstanceState::Running,
        time,
        details: Some(InstanceDetails {
            instance_type: Some("m6i.large".into()),
            platform: Some(platform.into()),
            ..InstanceDetails::default()
        }),
    }
}

/// The OS SSM reports for instance `n`.
pub fn os_of(n: usize) -> OsPlatform {
    let (name, version) = if is_debian(n) {
        ("Debian GNU/Linux", "12")
    } else {
        ("Amazon Linux", "2023")
    };
    OsPlatform::parse(name, version).unwrap()
}

pub fn scheme(n: usize) -> VersionScheme {
    if is_debian(n) {
        VersionScheme::Dpkg
    } else {
        VersionScheme::Rpm
    }
}

/// Writes instances `range` as launch events with their inventories;
/// answers the Data API calls made.
pub async fn load(
    db: &super::TestDb,
    range: std::ops::Range<usize>,
    packages: usize,
    upgrade: bool,
) -> u64 {
    let store = db.fresh_store();
    let launched = Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap();
    stream::iter(range)
        .map(|n| {
            let store = store.clone();
            async move {
                let (event, captured, fix) = if upgrade {
                    let fix = if is_debian(n) { DEBIAN_FIX } else { AMAZON_FIX };
                    let day = chrono::Duration::days(1);
                    (launch(n, launched + day), launched + day, Some(fix))
                } else {
                    (launch(n, launched), launched, None)
                };
                let installed = packages_of(n, packages, fix);
                let os = os_of(n);
                let set = PackageSet::new(&installed, scheme(n)).with_os(Some(&os));
                store
                    .apply_state_with_packages(&event, set, captured)
                    .await
                    .unwrap_or_else(|e| panic!("instance {n}: {e:?}"));
            }
        })
        .buffer_unordered(LOAD_CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
    store.data_api_calls()
}
