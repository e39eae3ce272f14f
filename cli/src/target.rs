//! Where the operator commands send their Data API calls: by default the local
//! stack `inventory serve` runs, otherwise a deployed cluster named by its ARN.

use anyhow::Context;
use data_api_local::{LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN};
use inventory_core::config::{ENV_CLUSTER_ARN, ENV_DATABASE, ENV_DIALECT, ENV_SECRET_ARN};
use inventory_core::store::{DbTarget, Dialect, Store};

use crate::client;

/// Where `inventory serve` puts its Data API endpoint by default.
pub const LOCAL_DATA_API_ADDR: &str = "127.0.0.1:8081";

#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    /// Cluster ARN (the Data API's resourceArn). Any other than the local
    /// stack's selects a deployed cluster, reached with the AWS configuration
    /// (credentials, region, AWS_ENDPOINT_URL_RDS_DATA). [default: the local
    /// stack's, arn:aws:rds:us-east-1:123456789012:cluster:local]
    #[arg(long, env = ENV_CLUSTER_ARN, value_name = "ARN")]
    resource_arn: Option<String>,
    /// Secrets Manager ARN of the database credentials (secretArn); required
    /// with a deployed cluster. [default: the local stack's]
    #[arg(long, env = ENV_SECRET_ARN, value_name = "ARN")]
    secret_arn: Option<String>,
    /// Database name; the secret's default database when absent.
    #[arg(long, env = ENV_DATABASE)]
    database: Option<String>,
    /// postgres, mysql or sqlite: the engine behind the Data API. [default:
    /// sqlite for the local stack, postgres for a deployed cluster]
    #[arg(long, env = ENV_DIALECT)]
    dialect: Option<Dialect>,
    /// Data API endpoint; one on a loopback address needs no AWS credentials.
    /// [default: http://127.0.0.1:8081 for the local stack, AWS's for a
    /// deployed cluster]
    #[arg(long, env = "AWS_ENDPOINT_URL_RDS_DATA", value_name = "URL")]
    endpoint_url: Option<String>,
}

impl TargetArgs {
    pub async fn store(self) -> anyhow::Result<Store> {
        let (endpoint_url, target) = self.resolve()?;
        let client = match endpoint_url.as_deref() {
            Some(url) if is_loopback(url)? => client::local(url).await,
            other => client::from_env(other).await,
        };
        Ok(Store::new(client, target))
    }

    /// The endpoint (`None`: the SDK's resolution) and the target, with the
    /// local stack's values for what was not given.
    fn resolve(self) -> anyhow::Result<(Option<String>, DbTarget)> {
        let resource_arn = self
            .resource_arn
            .unwrap_or_else(|| LOCAL_CLUSTER_ARN.to_owned());
        let local = resource_arn == LOCAL_CLUSTER_ARN;
        let secret_arn = match self.secret_arn {
            Some(arn) => arn,
            None if local => LOCAL_SECRET_ARN.to_owned(),
            None => anyhow::bail!(
                "--secret-arn (or {ENV_SECRET_ARN}) is required with a deployed cluster"
            ),
        };
        let endpoint_url = self
            .endpoint_url
            .or_else(|| local.then(|| format!("http://{LOCAL_DATA_API_ADDR}")));
        let dialect = self.dialect.unwrap_or(if local {
            Dialect::Sqlite
        } else {
            Dialect::Postgres
        });
        let target = DbTarget {
            resource_arn,
            secret_arn,
            database: self.database,
            dialect,
        };
        Ok((endpoint_url, target))
    }
}

/// True for an endpoint on this machine (127.0.0.0/8, ::1, localhost).
fn is_loopback(endpoint_url: &str) -> anyhow::Result<bool> {
    let url = url::Url::parse(endpoint_url)
        .with_context(|| format!("--endpoint-url {endpoint_url:?} is not a URL"))?;
    Ok(match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOYED: &str = "arn:aws:rds:eu-west-1:210987654321:cluster:inventory";

    fn none() -> TargetArgs {
        TargetArgs {
            resource_arn: None,
            secret_arn: None,
            database: None,
            dialect: None,
            endpoint_url: None,
        }
    }

    #[test]
    fn no_flags_is_the_local_stack() {
        let (endpoint, target) = none().resolve().unwrap();
        assert_eq!(endpoint.as_deref(), Some("http://127.0.0.1:8081"));
        assert_eq!(target.resource_arn, LOCAL_CLUSTER_ARN);
        assert_eq!(target.secret_arn, LOCAL_SECRET_ARN);
        assert_eq!(target.dialect, Dialect::Sqlite);
        assert_eq!(target.database, None);
    }

    #[test]
    fn a_deployed_cluster_uses_aws_and_needs_its_secret() {
        let deployed = || TargetArgs {
            resource_arn: Some(DEPLOYED.into()),
            ..none()
        };
        let err = deployed().resolve().unwrap_err().to_string();
        assert!(err.contains("--secret-arn"), "{err}");
        let (endpoint, target) = TargetArgs {
            secret_arn: Some("arn:aws:secretsmanager:eu-west-1:210987654321:secret:db".into()),
            database: Some("inventory".into()),
            ..deployed()
        }
        .resolve()
        .unwrap();
        assert_eq!(endpoint, None, "the SDK resolves AWS's endpoint");
        assert_eq!(target.resource_arn, DEPLOYED);
        assert_eq!(target.dialect, Dialect::Postgres);
        assert_eq!(target.database.as_deref(), Some("inventory"));
    }

    #[test]
    fn given_values_win_over_the_local_defaults() {
        let (endpoint, target) = TargetArgs {
            endpoint_url: Some("http://127.0.0.1:9999".into()),
            dialect: Some(Dialect::Mysql),
            ..none()
        }
        .resolve()
        .unwrap();
        assert_eq!(endpoint.as_deref(), Some("http://127.0.0.1:9999"));
        assert_eq!(target.dialect, Dialect::Mysql);
        assert_eq!(target.secret_arn, LOCAL_SECRET_ARN);
    }

    #[test]
    fn loopback_endpoints() {
        for url in [
            "http://127.0.0.1:8081",
            "http://127.0.0.2:9",
            "http://[::1]:8081",
            "http://localhost:8081",
        ] {
            assert!(is_loopback(url).unwrap(), "{url}");
        }
        for url in [
            "https://rds-data.us-east-1.amazonaws.com",
            "http://10.0.0.1:8081",
        ] {
            assert!(!is_loopback(url).unwrap(), "{url}");
        }
        assert!(is_loopback("127.0.0.1:8081 x").is_err());
    }
}
