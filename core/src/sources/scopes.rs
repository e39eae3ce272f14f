//! Where each scope's sources come from. A scope is one account and region
//! ([`Scope`]): the state-change handler reads SSM and EC2 in the event's
//! scope, the scheduled sync walks every scope it is given. A
//! [`ScopeSources`] says which accounts are admitted, which scopes the sync
//! walks, and hands out the sources of one scope: one pair for every scope
//! ([`OnePair`]: tests, `inventory replay`), a fixture directory per scope
//! ([`FixtureScopes`]: `inventory sync`), or SDK clients with an assumed
//! role per account (`aws_scopes`, behind `aws-sources`).

use std::collections::BTreeSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use super::fixtures::FixtureSources;
use super::fleet::{Ec2Fleet, ManagedNodes};
use super::{InstanceSource, PackageSource, SourceError};
use crate::model::{Account, Region, Scope};

/// The SSM and EC2 sources of one scope.
#[derive(Debug)]
pub struct Sources<P, I> {
    pub packages: P,
    pub instances: I,
}

/// Admission, the sync's scopes and each scope's sources.
pub trait ScopeSources: Send + Sync {
    type Packages: PackageSource + ManagedNodes;
    type Instances: InstanceSource + Ec2Fleet;

    /// Whether events of `account` may be handled; `false` refuses them
    /// (written nowhere, not retried).
    fn admits(&self, account: &Account) -> impl Future<Output = Result<bool, SourceError>> + Send;

    /// The scopes the scheduled sync walks, without duplicates; `home` is
    /// the scope of the schedule's event (the function's own).
    fn scopes(&self, home: &Scope) -> impl Future<Output = Result<Vec<Scope>, SourceError>> + Send;

    /// The sources of `scope`.
    #[allow(clippy::type_complexity)]
    fn sources(
        &self,
        scope: &Scope,
    ) -> impl Future<Output = Result<Arc<Sources<Self::Packages, Self::Instances>>, SourceError>> + Send;
}

/// One pair of sources for every scope, every account admitted, and the
/// schedule's own scope as the only one the sync walks.
#[derive(Debug)]
pub struct OnePair<P, I> {
    sources: Arc<Sources<P, I>>,
}

impl<P, I> OnePair<P, I> {
    pub fn new(packages: P, instances: I) -> Self {
        Self {
            sources: Arc::new(Sources {
                packages,
                instances,
            }),
        }
    }
}

impl<P, I> ScopeSources for OnePair<P, I>
where
    P: PackageSource + ManagedNodes,
    I: InstanceSource + Ec2Fleet,
{
    type Packages = P;
    type Instances = I;

    async fn admits(&self, _account: &Account) -> Result<bool, SourceError> {
        Ok(true)
    }

    async fn scopes(&self, home: &Scope) -> Result<Vec<Scope>, SourceError> {
        Ok(vec![home.clone()])
    }

    async fn sources(&self, _scope: &Scope) -> Result<Arc<Sources<P, I>>, SourceError> {
        Ok(Arc::clone(&self.sources))
    }
}

/// The directory under a fixtures root that holds other scopes:
/// `accounts/<account>/<region>/`, each laid out as the root is.
pub const FIXTURE_SCOPES_DIR: &str = "accounts";

/// A fixtures directory per scope: the root answers for the schedule's own
/// scope (and any scope without a directory of its own, so sample events of
/// any account replay), `accounts/<account>/<region>/` for the others. The
/// sync walks the own scope and every such directory.
#[derive(Debug, Clone)]
pub struct FixtureScopes {
    root: PathBuf,
    allowed: Option<BTreeSet<Account>>,
}

impl FixtureScopes {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            allowed: None,
        }
    }

    /// Admits events of these accounts only.
    pub fn allowing(mut self, accounts: impl IntoIterator<Item = Account>) -> Self {
        self.allowed = Some(accounts.into_iter().collect());
        self
    }

    fn scope_dir(&self, scope: &Scope) -> PathBuf {
        self.root
            .join(FIXTURE_SCOPES_DIR)
            .join(scope.account.as_str())
            .join(scope.region.as_str())
    }

    /// The scopes with a directory of their own, by account then region.
    fn listed_scopes(&self) -> Result<Vec<Scope>, SourceError> {
        let failed = |message: String| SourceError::Permanent {
            service: "fixture scopes",
            operation: "ListScopes",
            message,
        };
        let read = |dir: PathBuf| -> Result<Vec<String>, SourceError> {
            match std::fs::read_dir(&dir) {
                Ok(entries) => entries
                    .map(|e| {
                        e.map(|e| e.file_name().to_string_lossy().into_owned())
                            .map_err(|e| failed(format!("{}: {e}", dir.display())))
                    })
                    .collect(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
                Err(e) => Err(failed(format!("{}: {e}", dir.display()))),
            }
        };
        let mut scopes = Vec::new();
        let accounts_dir = self.root.join(FIXTURE_SCOPES_DIR);
        for account in read(accounts_dir.clone())? {
            let parsed = Account::parse(&account)
                .map_err(|e| failed(format!("{}: {}", accounts_dir.display(), e.message)))?;
            for region in read(accounts_dir.join(&account))? {
                let region = Region::parse(&region)
                    .map_err(|e| failed(format!("{account}/{region}: {}", e.message)))?;
                scopes.push(Scope {
                    account: parsed.clone(),
                    region,
                });
            }
        }
        scopes.sort();
        Ok(scopes)
    }
}

impl ScopeSources for FixtureScopes {
    type Packages = FixtureSources;
    type Instances = FixtureSources;

    async fn admits(&self, account: &Account) -> Result<bool, SourceError> {
        Ok(self.allowed.as_ref().is_none_or(|a| a.contains(account)))
    }

    async fn scopes(&self, home: &Scope) -> Result<Vec<Scope>, SourceError> {
        let mut scopes = vec![home.clone()];
        scopes.extend(self.listed_scopes()?.into_iter().filter(|s| s != home));
        Ok(scopes)
    }

    async fn sources(
        &self,
        scope: &Scope,
    ) -> Result<Arc<Sources<FixtureSources, FixtureSources>>, SourceError> {
        let own = self.scope_dir(scope);
        let dir = if tokio::fs::try_exists(&own).await.unwrap_or(false) {
            own
        } else {
            self.root.clone()
        };
        let sources = FixtureSources::new(dir);
        Ok(Arc::new(Sources {
            packages: sources.clone(),
            instances: sources,
        }))
    }
}
