//! The sources of each account and region in AWS, for `state-change`.
//!
//! The function's own account is read with the function's own credentials;
//! any other account through its member role,
//! `arn:<partition>:iam::<account>:role/<INVENTORY_MEMBER_ROLE_NAME>` (the
//! partition of the function's region), assumed with STS (aws-config's
//! `AssumeRoleProvider`). Each scope's SSM and EC2 clients
//! are built once for the scope's region and kept.
//!
//! The assumed credentials are cached per account until
//! [`CREDENTIALS_REFRESH`] before they expire, here rather than in the SDK's
//! identity cache: they are fetched before the scope's first call, so that
//! an AccessDenied or a throttled STS names the account and keeps its own
//! class (through the SDK's cache it would surface as a transient dispatch
//! failure of the SSM or EC2 call).
//!
//! Admission: single-account mode admits the own account only; organization
//! mode the allowed list and/or the organization's ACTIVE accounts
//! (Organizations `ListAccounts`, cached [`MEMBERS_TTL`]); the own account is
//! always admitted.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use aws_config::sts::AssumeRoleProvider;
use aws_config::SdkConfig;
use aws_credential_types::provider::{
    error::CredentialsError, future, ProvideCredentials, SharedCredentialsProvider,
};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_types::region::Region as SdkRegion;
use inventory_core::config::OrgSettings;
use inventory_core::model::{Account, Region, Scope};
use inventory_core::sources::ec2::Ec2InstanceSource;
use inventory_core::sources::scopes::{ScopeSources, Sources};
use inventory_core::sources::ssm::SsmPackageSource;
use inventory_core::sources::{sdk_failure, SourceError};

use crate::Xray;

/// Assumed credentials are renewed this long before they expire: a sync
/// run started with them outlives its time budget by a little.
pub const CREDENTIALS_REFRESH: Duration = Duration::from_secs(5 * 60);
/// How long the organization's account list is kept.
pub const MEMBERS_TTL: Duration = Duration::from_secs(15 * 60);
/// The session name the member accounts' CloudTrail shows.
const SESSION_NAME: &str = "ec2-inventory";

type AwsSources = Sources<SsmPackageSource, Ec2InstanceSource>;

/// The AWS sources of every scope.
pub struct AwsScopes {
    base: SdkConfig,
    org: OrgSettings,
    xray: Option<Xray>,
    own_account: OnceLock<Account>,
    organizations: Option<aws_sdk_organizations::Client>,
    members: tokio::sync::Mutex<Option<(Instant, Arc<BTreeSet<Account>>)>>,
    roles: Mutex<HashMap<Account, Arc<MemberCredentials>>>,
    scopes: Mutex<HashMap<Scope, Arc<AwsSources>>>,
}

impl fmt::Debug for AwsScopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsScopes")
            .field("org", &self.org)
            .field("own_account", &self.own_account.get())
            .finish_non_exhaustive()
    }
}

impl AwsScopes {
    /// Sources over the function's configuration `base` (its region is the
    /// own scope's).
    pub fn new(base: SdkConfig, org: OrgSettings, xray: Option<Xray>) -> Self {
        let organizations = org
            .organization_id
            .is_some()
            .then(|| aws_sdk_organizations::Client::new(&base));
        let own_account = OnceLock::new();
        if let Some(account) = org.own_account.clone() {
            let _ = own_account.set(account);
        }
        Self {
            base,
            org,
            xray,
            own_account,
            organizations,
            members: tokio::sync::Mutex::new(None),
            roles: Mutex::new(HashMap::new()),
            scopes: Mutex::new(HashMap::new()),
        }
    }

    /// Sets the own account once, from the invoked function's ARN
    /// (`arn:aws:lambda:<region>:<account>:function:<name>`), unless
    /// `INVENTORY_ACCOUNT_ID` set it (local emulators send a placeholder).
    pub fn learn_own_account(&self, function_arn: &str) -> Result<(), SourceError> {
        if self.own_account.get().is_some() {
            return Ok(());
        }
        let account = function_arn
            .split(':')
            .nth(4)
            .and_then(|a| Account::parse(a).ok())
            .ok_or_else(|| SourceError::Permanent {
                service: "Lambda",
                operation: "Invoke",
                message: format!(
                    "no account in the function ARN {function_arn:?}: set INVENTORY_ACCOUNT_ID"
                ),
            })?;
        let _ = self.own_account.set(account);
        Ok(())
    }

    pub fn with_own_account(self, account: Account) -> Self {
        let _ = self.own_account.set(account);
        self
    }

    fn own_account(&self) -> Result<&Account, SourceError> {
        self.own_account
            .get()
            .ok_or_else(|| SourceError::Permanent {
                service: "Lambda",
                operation: "Invoke",
                message: "the function's own account is not known yet".into(),
            })
    }

    fn own_region(&self) -> Result<Region, SourceError> {
        self.base
            .region()
            .and_then(|r| Region::parse(r.as_ref()).ok())
            .ok_or_else(|| SourceError::Permanent {
                service: "Lambda",
                operation: "Invoke",
                message: "the function's configuration has no region".into(),
            })
    }

    /// The organization's ACTIVE accounts, listed at most every [`MEMBERS_TTL`].
    async fn members(
        &self,
        client: &aws_sdk_organizations::Client,
    ) -> Result<Arc<BTreeSet<Account>>, SourceError> {
        let mut cached = self.members.lock().await;
        if let Some((at, members)) = cached.as_ref() {
            if at.elapsed() < MEMBERS_TTL {
                return Ok(Arc::clone(members));
            }
        }
        let mut members = BTreeSet::new();
        let mut pages = client.list_accounts().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_failure("Organizations", "ListAccounts", &e))?;
            for account in page.accounts() {
                use aws_sdk_organizations::types::{AccountState, AccountStatus};
                // `State` replaces `Status` (retired in 2026): either says ACTIVE.
                let active = match account.state() {
                    Some(state) => *state == AccountState::Active,
                    None => account.status() == Some(&AccountStatus::Active),
                };
                if let Some(id) = account.id().filter(|_| active) {
                    members.insert(Account::parse(id).map_err(|e| SourceError::Permanent {
                        service: "Organizations",
                        operation: "ListAccounts",
                        message: format!("account {id:?}: {}", e.message),
                    })?);
                }
            }
        }
        let members = Arc::new(members);
        *cached = Some((Instant::now(), Arc::clone(&members)));
        Ok(members)
    }

    /// The accounts allowed besides the own one; `None`: only the own one.
    async fn allowed(&self) -> Result<Option<BTreeSet<Account>>, SourceError> {
        let members = match &self.organizations {
            Some(client) => Some(self.members(client).await?),
            None => None,
        };
        Ok(match (&self.org.allowed_accounts, members) {
            (Some(list), Some(members)) => Some(list.intersection(&members).cloned().collect()),
            (Some(list), None) => Some(list.clone()),
            (None, Some(members)) => Some(members.as_ref().clone()),
            (None, None) => None,
        })
    }

    /// The member role of `account`, in the partition of the function's region.
    fn member_role_arn(&self, account: &Account) -> String {
        let partition = self
            .base
            .region()
            .map_or("aws", |region| partition_of(region.as_ref()));
        let role = &self.org.member_role_name;
        format!("arn:{partition}:iam::{account}:role/{role}")
    }

    /// The credentials of a member account, assumed once and kept.
    async fn member_credentials(&self, account: &Account) -> Arc<MemberCredentials> {
        if let Some(role) = self
            .roles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(account)
        {
            return Arc::clone(role);
        }
        let provider = AssumeRoleProvider::builder(self.member_role_arn(account))
            .session_name(SESSION_NAME)
            .configure(&self.base)
            .build()
            .await;
        let mut roles = self.roles.lock().unwrap_or_else(|e| e.into_inner());
        let role = roles.entry(account.clone()).or_insert_with(|| {
            Arc::new(MemberCredentials {
                account: account.clone(),
                provider,
                cached: tokio::sync::Mutex::new(None),
            })
        });
        Arc::clone(role)
    }
}

impl ScopeSources for AwsScopes {
    type Packages = SsmPackageSource;
    type Instances = Ec2InstanceSource;

    async fn admits(&self, account: &Account) -> Result<bool, SourceError> {
        if account == self.own_account()? {
            return Ok(true);
        }
        Ok(self
            .allowed()
            .await?
            .is_some_and(|allowed| allowed.contains(account)))
    }

    async fn scopes(&self, _home: &Scope) -> Result<Vec<Scope>, SourceError> {
        let own = self.own_account()?.clone();
        let mut accounts = BTreeSet::from([own]);
        accounts.extend(self.allowed().await?.unwrap_or_default());
        let regions = if self.org.sync_regions.is_empty() {
            vec![self.own_region()?]
        } else {
            self.org.sync_regions.clone()
        };
        Ok(accounts
            .into_iter()
            .flat_map(|account| {
                regions.iter().map(move |region| Scope {
                    account: account.clone(),
                    region: region.clone(),
                })
            })
            .collect())
    }

    async fn sources(&self, scope: &Scope) -> Result<Arc<AwsSources>, SourceError> {
        let member = if &scope.account == self.own_account()? {
            None
        } else {
            Some(self.member_credentials(&scope.account).await)
        };
        if let Some(member) = &member {
            // Fetched (or found fresh) before any call: a refusal names the account.
            member.credentials().await?;
        }
        if let Some(sources) = self
            .scopes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(scope)
        {
            return Ok(Arc::clone(sources));
        }
        let mut config = self
            .base
            .to_builder()
            .region(SdkRegion::new(scope.region.as_str().to_owned()));
        if let Some(member) = member {
            config = config
                .credentials_provider(SharedCredentialsProvider::new(SharedMember(member)))
                .identity_cache(aws_config::identity::IdentityCache::no_cache());
        }
        let config = config.build();
        let sources = Arc::new(Sources {
            packages: SsmPackageSource::new(crate::ssm_client(&config, self.xray.as_ref())),
            instances: Ec2InstanceSource::new(crate::ec2_client(&config, self.xray.as_ref())),
        });
        let mut scopes = self.scopes.lock().unwrap_or_else(|e| e.into_inner());
        Ok(Arc::clone(scopes.entry(scope.clone()).or_insert(sources)))
    }
}

/// The partition of `region`'s ARNs. A role's ARN names it, and STS
/// refuses a role of another partition than its own.
fn partition_of(region: &str) -> &'static str {
    const PARTITIONS: [(&str, &str); 4] = [
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-iso-", "aws-iso"),
    ];
    PARTITIONS
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("aws", |(_, partition)| partition)
}

/// One member account's role and its last credentials.
#[derive(Debug)]
struct MemberCredentials {
    account: Account,
    provider: AssumeRoleProvider,
    cached: tokio::sync::Mutex<Option<Credentials>>,
}

impl MemberCredentials {
    /// The cached credentials while they are good for more than
    /// [`CREDENTIALS_REFRESH`], else fresh ones from STS.
    async fn credentials(&self) -> Result<Credentials, SourceError> {
        let mut cached = self.cached.lock().await;
        let fresh_until = SystemTime::now() + CREDENTIALS_REFRESH;
        if let Some(credentials) = cached
            .as_ref()
            .filter(|c| c.expiry().is_none_or(|at| at > fresh_until))
        {
            return Ok(credentials.clone());
        }
        let credentials = self
            .provider
            .provide_credentials()
            .await
            .map_err(|e| self.failure(e))?;
        *cached = Some(credentials.clone());
        Ok(credentials)
    }

    /// STS's failure, classed as the SDK error it wraps, naming the account.
    fn failure(&self, error: CredentialsError) -> SourceError {
        let assume_role = std::error::Error::source(&error).and_then(|source| {
            source
                .downcast_ref::<SdkError<aws_sdk_sts::operation::assume_role::AssumeRoleError, HttpResponse>>()
        });
        let failure = match assume_role {
            Some(sdk) => sdk_failure("STS", "AssumeRole", sdk),
            None => SourceError::Retryable {
                service: "STS",
                operation: "AssumeRole",
                message: aws_smithy_types::error::display::DisplayErrorContext(&error).to_string(),
            },
        };
        let account = &self.account;
        match failure {
            SourceError::Retryable {
                service,
                operation,
                message,
            } => SourceError::Retryable {
                service,
                operation,
                message: format!("account {account}: {message}"),
            },
            SourceError::Permanent {
                service,
                operation,
                message,
            } => SourceError::Permanent {
                service,
                operation,
                message: format!("account {account}: {message}"),
            },
        }
    }
}

/// The member's cached credentials as the SDK clients' provider.
#[derive(Debug)]
struct SharedMember(Arc<MemberCredentials>);

impl ProvideCredentials for SharedMember {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.0
                .credentials()
                .await
                .map_err(CredentialsError::provider_error)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(own_account: Option<&str>) -> AwsScopes {
        let org = OrgSettings {
            own_account: own_account.map(|a| Account::parse(a).unwrap()),
            ..OrgSettings::default()
        };
        AwsScopes::new(SdkConfig::builder().build(), org, None)
    }

    #[test]
    fn member_roles_are_named_in_the_regions_partition() {
        for (region, partition) in [
            ("us-east-1", "aws"),
            ("eu-west-1", "aws"),
            ("cn-north-1", "aws-cn"),
            ("cn-northwest-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
        ] {
            assert_eq!(partition_of(region), partition, "{region}");
        }
    }

    #[test]
    fn the_member_role_arn_has_the_functions_partition() {
        let account = Account::parse("111122223333").unwrap();
        for (region, arn) in [
            ("cn-northwest-1", "arn:aws-cn:iam::111122223333:role/member"),
            ("eu-west-1", "arn:aws:iam::111122223333:role/member"),
        ] {
            let org = OrgSettings {
                member_role_name: "member".into(),
                ..OrgSettings::default()
            };
            let base = SdkConfig::builder().region(SdkRegion::new(region)).build();
            let scopes = AwsScopes::new(base, org, None);
            assert_eq!(scopes.member_role_arn(&account), arn);
        }
    }

    #[test]
    fn the_own_account_comes_from_the_arn_unless_configured() {
        let arn = "arn:aws:lambda:us-east-1:111122223333:function:state-change";
        let learned = scopes(None);
        learned.learn_own_account(arn).unwrap();
        assert_eq!(learned.own_account().unwrap().as_str(), "111122223333");

        // cargo lambda's emulator sends the placeholder "function-arn".
        let err = scopes(None).learn_own_account("function-arn").unwrap_err();
        assert!(err.to_string().contains("INVENTORY_ACCOUNT_ID"), "{err}");
        let configured = scopes(Some("123456789012"));
        configured.learn_own_account("function-arn").unwrap();
        configured.learn_own_account(arn).unwrap();
        assert_eq!(configured.own_account().unwrap().as_str(), "123456789012");
    }
}
