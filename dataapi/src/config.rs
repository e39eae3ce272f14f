//! Server configuration: built in code, from CLI flags, or from a TOML file.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::errors::Error;

/// The default of [`Config::max_connections`]: what a small Aurora writer allows (Aurora MySQL
/// Serverless v2 with at most 1 ACU: 90; Aurora PostgreSQL at 0.5-1 ACU: 189), under the 100 of a
/// default local PostgreSQL.
pub const DEFAULT_MAX_CONNECTIONS: usize = 90;

/// Everything [`crate::Server::start`] needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; `127.0.0.1:0` (a free port) by default.
    pub bind: SocketAddr,
    /// Added to every call, to mimic the network round trip to the hosted service.
    pub latency: Duration,
    /// Idle time after which the database "pauses": the next calls fail with
    /// `DatabaseResumingException` for [`crate::RESUME_DURATION`], then succeed.
    pub auto_pause: Option<Duration>,
    /// A transaction with no call for this long is rolled back (Aurora: 3 minutes).
    pub transaction_timeout: Duration,
    /// Connections each backend pool may open (per cluster, and per `database` named by calls).
    /// Transactions may hold all but a tenth of them; the rest serve calls outside a transaction.
    pub max_connections: usize,
    /// The clusters served, each by its own backend.
    pub clusters: Vec<ClusterConfig>,
}

/// One cluster ARN mapped to a backend database.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ClusterConfig {
    pub resource_arn: String,
    /// When set, calls must pass this `secretArn`.
    #[serde(default)]
    pub secret_arn: Option<String>,
    /// `sqlite://path.db`, `sqlite::memory:`, `postgres://...` or `mysql://...`.
    pub url: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            latency: Duration::ZERO,
            auto_pause: None,
            transaction_timeout: Duration::from_secs(180),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            clusters: Vec::new(),
        }
    }
}

impl Config {
    /// One cluster, no secret check, other settings default.
    pub fn single(resource_arn: impl Into<String>, url: impl Into<String>) -> Config {
        Config {
            clusters: vec![ClusterConfig {
                resource_arn: resource_arn.into(),
                secret_arn: None,
                url: url.into(),
            }],
            ..Config::default()
        }
    }
}

/// The TOML file format (`--config`). Every key is optional except the clusters' `resource_arn` and `url`:
///
/// ```toml
/// bind = "127.0.0.1:8080"
/// latency_ms = 20
/// auto_pause_secs = 300
/// transaction_timeout_secs = 180
/// max_connections = 90
///
/// [[cluster]]
/// resource_arn = "arn:aws:rds:us-east-1:123456789012:cluster:local"
/// secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:local"
/// url = "sqlite://data-api-local.db"
/// ```
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub bind: Option<SocketAddr>,
    pub latency_ms: Option<u64>,
    pub auto_pause_secs: Option<u64>,
    pub transaction_timeout_secs: Option<u64>,
    pub max_connections: Option<usize>,
    #[serde(default, rename = "cluster")]
    pub clusters: Vec<ClusterConfig>,
}

impl ConfigFile {
    pub fn parse(text: &str) -> Result<ConfigFile, Error> {
        toml::from_str(text).map_err(|e| Error::Config(e.to_string()))
    }

    pub fn load(path: &Path) -> Result<ConfigFile, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        Self::parse(&text)
    }

    /// Applies the file's settings over `base`; clusters from the file replace `base`'s when present.
    pub fn apply(self, mut base: Config) -> Config {
        if let Some(bind) = self.bind {
            base.bind = bind;
        }
        if let Some(ms) = self.latency_ms {
            base.latency = Duration::from_millis(ms);
        }
        if let Some(secs) = self.auto_pause_secs {
            base.auto_pause = Some(Duration::from_secs(secs));
        }
        if let Some(secs) = self.transaction_timeout_secs {
            base.transaction_timeout = Duration::from_secs(secs);
        }
        if let Some(n) = self.max_connections {
            base.max_connections = n;
        }
        if !self.clusters.is_empty() {
            base.clusters = self.clusters;
        }
        base
    }
}

impl Config {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.clusters.is_empty() {
            return Err(Error::Config("no cluster configured".into()));
        }
        if self.max_connections < 2 {
            return Err(Error::Config(
                "max_connections must be at least 2 (one for transactions, one for other calls)"
                    .into(),
            ));
        }
        for (i, c) in self.clusters.iter().enumerate() {
            if self.clusters[..i]
                .iter()
                .any(|o| o.resource_arn == c.resource_arn)
            {
                return Err(Error::Config(format!(
                    "duplicate cluster {}",
                    c.resource_arn
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_overrides_defaults() {
        let file = ConfigFile::parse(
            "latency_ms = 5\ntransaction_timeout_secs = 2\nmax_connections = 12\n[[cluster]]\nresource_arn = \"a\"\nurl = \"sqlite::memory:\"\n",
        )
        .unwrap();
        let config = file.apply(Config::default());
        assert_eq!(config.latency, Duration::from_millis(5));
        assert_eq!(config.transaction_timeout, Duration::from_secs(2));
        assert_eq!(config.max_connections, 12);
        assert_eq!(config.clusters.len(), 1);
        assert_eq!(config.clusters[0].secret_arn, None);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn unknown_keys_and_duplicates_are_rejected() {
        assert!(ConfigFile::parse("latency = 5").is_err());
        let mut config = Config::single("a", "sqlite::memory:");
        config.clusters.push(config.clusters[0].clone());
        assert!(config.validate().is_err());
        assert!(Config::default().validate().is_err());
        let mut one = Config::single("a", "sqlite::memory:");
        one.max_connections = 1;
        assert!(one.validate().is_err());
    }
}
