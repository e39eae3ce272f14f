//! Organization mode end to end, with the SDK on the wire: `AwsScopes` over
//! a stand-in that speaks STS (`AssumeRole`), SSM, EC2 and Organizations on
//! 127.0.0.1 (the endpoint of the test's AWS configuration), for two member
//! accounts in two regions each, and the handler over the local Data API
//! (SQLite). The stand-in tells each call's account by its access key (STS
//! hands out `ASIA<account>`) and its region by the signature's scope, so
//! every assertion on "which account, which region" is what the SDK sent.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use data_api_local::{Config, Server, LOCAL_CLUSTER_ARN};
use inventory_core::config::{OrgSettings, SyncSettings};
use inventory_core::events::{EventHandler, HandleError};
use inventory_core::model::{InstanceId, Scope};
use inventory_core::query::ScopesQuery;
use inventory_core::store::Store;
use inventory_handlers::scopes::AwsScopes;
use inventory_handlers::start_with;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::local_support::{local_sdk, settings};

const OWN: &str = "999999999999";
const MEMBERS: [&str; 2] = ["111111111111", "222222222222"];
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
const OUTSIDER: &str = "333333333333";

/// The one instance of each scope: `i-0<a><r>` then zeros.
fn instance_of(account: &str, region: &str) -> String {
    let a = &account[..1];
    let r = if region == "us-east-1" { "1" } else { "2" };
    format!("i-0{a}{r}00000000000000")
}

/// One call the stand-in answered: operation, account, region.
type Call = (String, String, String);

#[derive(Clone, Default)]
struct StandIn {
    calls: Arc<Mutex<Vec<Call>>>,
    role_arns: Arc<Mutex<Vec<String>>>,
    /// Accounts whose role refuses to be assumed.
    denied: Arc<Mutex<BTreeSet<String>>>,
    /// How many AssumeRole answers, from the first, hand out credentials
    /// that expire within the renewal margin (the others last for years).
    short_lived: Arc<Mutex<usize>>,
    /// The session token each SSM and EC2 call was signed with, in order
    /// (the n-th AssumeRole hands out `token-<n>`).
    session_tokens: Arc<Mutex<Vec<String>>>,
}

impl StandIn {
    fn calls(&self, operation: &str) -> Vec<Call> {
        let calls = self.calls.lock().unwrap();
        calls.iter().filter(|c| c.0 == operation).cloned().collect()
    }
}

/// The caller's account (by its access key) and region (by its signature).
fn caller(headers: &HeaderMap) -> (String, String) {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let credential = auth
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split(',').next())
        .unwrap_or_default();
    let mut parts = credential.split('/');
    let key = parts.next().unwrap_or_default();
    let region = parts.nth(1).unwrap_or_default().to_owned();
    let account = key.strip_prefix("ASIA").unwrap_or(OWN).to_owned();
    (account, region)
}

fn xml(body: String) -> Response {
    ([("content-type", "text/xml")], body).into_response()
}

fn amz_json(body: Value) -> Response {
    (
        [("content-type", "application/x-amz-json-1.1")],
        body.to_string(),
    )
        .into_response()
}

async fn aws_call(State(aws): State<StandIn>, headers: HeaderMap, body: Bytes) -> Response {
    let (account, region) = caller(&headers);
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let operation = target
        .as_deref()
        .and_then(|t| t.split('.').nth(1))
        .or(form.get("Action").map(String::as_str))
        .unwrap_or("?")
        .to_owned();
    aws.calls
        .lock()
        .unwrap()
        .push((operation.clone(), account.clone(), region.clone()));
    let signed_with = headers
        .get("x-amz-security-token")
        .filter(|_| operation != "AssumeRole");
    if let Some(token) = signed_with {
        let token = token.to_str().unwrap_or_default().to_owned();
        aws.session_tokens.lock().unwrap().push(token);
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match operation.as_str() {
        "AssumeRole" => {
            let arn = form["RoleArn"].clone();
            let issued = {
                let mut arns = aws.role_arns.lock().unwrap();
                arns.push(arn.clone());
                arns.len()
            };
            let member = arn.split(':').nth(4).unwrap().to_owned();
            if aws.denied.lock().unwrap().contains(&member) {
                return (
                    StatusCode::FORBIDDEN,
                    [("content-type", "text/xml")],
                    format!(
                        r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole on resource: {arn}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"#
                    ),
                )
                    .into_response();
            }
            let expiration = if issued <= *aws.short_lived.lock().unwrap() {
                let margin = inventory_handlers::scopes::CREDENTIALS_REFRESH;
                let left = chrono::Duration::from_std(margin / 2).unwrap();
                (chrono::Utc::now() + left).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            } else {
                "2099-01-01T00:00:00Z".to_owned()
            };
            xml(format!(
                r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIA{member}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token-{issued}</SessionToken><Expiration>{expiration}</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::{member}:assumed-role/ec2-inventory-member/ec2-inventory</Arn><AssumedRoleId>AROAEXAMPLE:ec2-inventory</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata></AssumeRoleResponse>"#
            ))
        }
        "DescribeInstances" => {
            let own = instance_of(&account, &region);
            let id = form.get("InstanceId.1").cloned().unwrap_or(own.clone());
            let items = if id == own {
                format!(
                    r#"<item><reservationId>r-1</reservationId><ownerId>{account}</ownerId><instancesSet><item><instanceId>{id}</instanceId><imageId>ami-0abc</imageId><instanceState><code>16</code><name>running</name></instanceState><instanceType>t3.micro</instanceType><platformDetails>Linux/UNIX</platformDetails><tagSet/></item></instancesSet></item>"#
                )
            } else {
                String::new()
            };
            xml(format!(
                r#"<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-3</requestId><reservationSet>{items}</reservationSet></DescribeInstancesResponse>"#
            ))
        }
        "ListInventoryEntries" => {
            let id = request["InstanceId"].as_str().unwrap_or_default();
            let entries = if request["TypeName"] == "AWS:Application"
                && id == instance_of(&account, &region)
            {
                json!([{"Name": "openssl", "Version": "3.0.8", "Release": "1.amzn2023.0.12"},
                       {"Name": format!("agent-{account}-{region}"), "Version": "1"}])
            } else {
                json!([])
            };
            amz_json(json!({
                "TypeName": request["TypeName"], "InstanceId": id,
                "CaptureTime": "2026-11-24T10:00:00Z", "Entries": entries
            }))
        }
        "DescribeInstanceInformation" => amz_json(json!({"InstanceInformationList": []})),
        "ListAccounts" => {
            // Two pages; a suspended account is not a member to walk.
            if request["NextToken"].is_null() {
                amz_json(json!({"Accounts": [
                    {"Id": MEMBERS[0], "State": "ACTIVE", "Status": "ACTIVE"},
                    {"Id": "444444444444", "State": "SUSPENDED", "Status": "SUSPENDED"}
                ], "NextToken": "page-2"}))
            } else {
                amz_json(json!({"Accounts": [
                    {"Id": MEMBERS[1], "State": "ACTIVE"},
                    {"Id": OWN, "Status": "ACTIVE"}
                ]}))
            }
        }
        other => (StatusCode::BAD_REQUEST, format!("unexpected {other}")).into_response(),
    }
}

struct Stage {
    _data_api: Server,
    store: Store,
    aws: StandIn,
    aws_addr: SocketAddr,
}

impl Stage {
    async fn new() -> Self {
        let data_api = Server::start(Config::single(LOCAL_CLUSTER_ARN, "sqlite::memory:"))
            .await
            .expect("local Data API");
        let startup = start_with(settings, local_sdk(data_api.endpoint_url()), None)
            .await
            .expect("start-up");
        startup.store.migrate().await.expect("schema");
        let aws = StandIn::default();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let aws_addr = listener.local_addr().unwrap();
        let router = Router::new()
            .route("/", post(aws_call))
            .with_state(aws.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            _data_api: data_api,
            store: startup.store,
            aws,
            aws_addr,
        }
    }

    /// The function's AWS configuration: the stand-in, its own credentials.
    async fn sdk(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(format!("http://{}", self.aws_addr))
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::for_tests())
            .load()
            .await
    }

    async fn handler(&self, org: OrgSettings) -> EventHandler<AwsScopes> {
        let own = OWN.parse().unwrap();
        let sources = AwsScopes::new(self.sdk().await, org, None).with_own_account(own);
        EventHandler::with_sources(self.store.clone(), sources, SyncSettings::default())
    }
}

fn members_in_two_regions() -> OrgSettings {
    OrgSettings {
        allowed_accounts: Some(MEMBERS.iter().map(|a| a.parse().unwrap()).collect()),
        sync_regions: REGIONS.iter().map(|r| r.parse().unwrap()).collect(),
        ..OrgSettings::default()
    }
}

fn launch(account: &str, region: &str) -> Value {
    json!({
        "version": "0", "id": format!("e-{account}-{region}"),
        "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
        "account": account, "time": "2026-11-24T10:00:00Z", "region": region,
        "resources": [], "detail": {"instance-id": instance_of(account, region), "state": "running"}
    })
}

/// The sample schedule's event, in the own account and region.
fn schedule() -> Value {
    json!({
        "version": "0", "id": "schedule-1", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": OWN, "time": "2026-11-25T10:00:00Z",
        "region": "us-east-1", "resources": [], "detail": {}
    })
}

fn role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/ec2-inventory-member")
}

#[tokio::test]
async fn launch_events_of_two_members_in_two_regions_record_through_their_roles() {
    let stage = Stage::new().await;
    let h = stage.handler(members_in_two_regions()).await;
    for account in MEMBERS {
        for region in REGIONS {
            let outcome = h.handle_json(launch(account, region)).await.unwrap();
            assert_eq!(outcome.instances[0].described, Some(true), "{outcome:?}");
            let id = InstanceId::parse(&instance_of(account, region)).unwrap();
            let record = stage.store.get_instance(&id).await.unwrap().unwrap();
            let i = &record.instance;
            assert_eq!((i.account.as_str(), i.region.as_str()), (account, region));
            // Packages read in the scope, with the member's credentials.
            let agent = format!("agent-{account}-{region}");
            assert!(
                i.packages.iter().any(|p| p.name == agent),
                "{:?}",
                i.packages
            );
        }
    }
    // One AssumeRole per account: the second region's event used the cache.
    let arns = stage.aws.role_arns.lock().unwrap().clone();
    assert_eq!(arns, [role_arn(MEMBERS[0]), role_arn(MEMBERS[1])]);
    // Every SSM and EC2 call went to the event's region as the member.
    for op in ["DescribeInstances", "ListInventoryEntries"] {
        let calls = stage.aws.calls(op);
        assert!(!calls.is_empty());
        for (_, account, region) in &calls {
            assert!(MEMBERS.contains(&account.as_str()), "{op} as {account}");
            assert!(REGIONS.contains(&region.as_str()), "{op} in {region}");
        }
        for account in MEMBERS {
            for region in REGIONS {
                assert!(
                    calls.iter().any(|c| c.1 == account && c.2 == region),
                    "{op} never in {account} {region}"
                );
            }
        }
    }
    let coverage = stage.store.scopes(&ScopesQuery::default()).await.unwrap();
    assert_eq!(coverage.scopes.len(), 4);
    assert!(coverage.scopes.iter().all(|c| c.last_event_at.is_some()));
}

#[tokio::test]
async fn a_sync_pass_visits_every_scope_and_an_access_denied_one_is_reported() {
    let stage = Stage::new().await;
    stage
        .aws
        .denied
        .lock()
        .unwrap()
        .insert(MEMBERS[1].to_owned());
    let h = stage.handler(members_in_two_regions()).await;
    let home = Scope {
        account: OWN.parse().unwrap(),
        region: "us-east-1".parse().unwrap(),
    };
    let run = h.sync(&home, chrono::Utc::now(), &|_| {}).await.unwrap();
    // The own account and both members, each in both regions.
    assert_eq!(run.scopes.len(), 6, "{:?}", run.scopes);
    assert_eq!(run.failed_scopes, 2);
    for p in &run.scopes {
        if p.scope.starts_with(MEMBERS[1]) {
            let error = p.error.as_deref().unwrap();
            assert!(
                error.contains("AccessDenied") && error.contains(MEMBERS[1]),
                "{error}"
            );
        } else {
            assert_eq!(p.error, None, "{p:?}");
            assert_eq!(p.recorded, 1, "{p:?}");
        }
    }
    // The listing of the reachable member went to both regions as the member.
    let listings = stage.aws.calls("DescribeInstances");
    for region in REGIONS {
        assert!(listings.iter().any(|c| c.1 == MEMBERS[0] && c.2 == region));
    }
    // GET /accounts' source: the denied scopes carry their error, the others completed.
    let coverage = stage.store.scopes(&ScopesQuery::default()).await.unwrap();
    assert_eq!(coverage.scopes.len(), 6);
    for c in &coverage.scopes {
        if c.scope.account.as_str() == MEMBERS[1] {
            assert!(c.last_error.as_deref().unwrap().contains("AccessDenied"));
            assert!(c.last_pass_at.is_none());
        } else {
            assert!(c.last_error.is_none() && c.last_pass_at.is_some(), "{c:?}");
        }
    }
    // An event of the denied account fails visibly, naming it, and is not retried.
    let err = h
        .handle_json(launch(MEMBERS[1], "eu-west-1"))
        .await
        .unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert!(err.to_string().contains(MEMBERS[1]), "{err}");
    assert_eq!(err.error_type(), "NonRetryable.SourceError");
}

#[tokio::test]
async fn an_event_from_outside_the_allowed_set_writes_and_calls_nothing() {
    let stage = Stage::new().await;
    let h = stage.handler(members_in_two_regions()).await;
    let calls = stage.store.data_api_calls();
    let err = h
        .handle_json(launch(OUTSIDER, "us-east-1"))
        .await
        .unwrap_err();
    assert!(matches!(err, HandleError::Refused { .. }), "{err:?}");
    assert_eq!(err.error_type(), "NonRetryable.RefusedAccount");
    assert_eq!(stage.store.data_api_calls(), calls);
    assert!(stage.aws.calls.lock().unwrap().is_empty());
    // Single-account mode refuses a member too.
    let single = stage.handler(OrgSettings::default()).await;
    let err = single
        .handle_json(launch(MEMBERS[0], "us-east-1"))
        .await
        .unwrap_err();
    assert!(matches!(err, HandleError::Refused { .. }), "{err:?}");
    assert!(stage.aws.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_organizations_active_accounts_are_listed_once_and_walked() {
    let stage = Stage::new().await;
    let org = OrgSettings {
        organization_id: Some("o-abcdef1234".into()),
        ..OrgSettings::default()
    };
    let h = stage.handler(org).await;
    let home = Scope {
        account: OWN.parse().unwrap(),
        region: "us-east-1".parse().unwrap(),
    };
    let run = h.sync(&home, chrono::Utc::now(), &|_| {}).await.unwrap();
    let walked: BTreeSet<&str> = run.scopes.iter().map(|p| p.scope.as_str()).collect();
    let expected: BTreeSet<String> = [OWN, MEMBERS[0], MEMBERS[1]]
        .iter()
        .map(|a| format!("{a}:us-east-1"))
        .collect();
    assert_eq!(walked, expected.iter().map(String::as_str).collect());
    assert!(h
        .handle_json(launch("444444444444", "us-east-1"))
        .await
        .is_err());
    h.handle_json(launch(MEMBERS[1], "us-east-1"))
        .await
        .unwrap();
    // Both pages once, then the cached list.
    assert_eq!(stage.aws.calls("ListAccounts").len(), 2);
}

#[tokio::test]
async fn a_scheduled_sync_with_a_denied_member_succeeds_and_retries_it_next_run() {
    let stage = Stage::new().await;
    let denied = MEMBERS[1];
    stage.aws.denied.lock().unwrap().insert(denied.to_owned());
    let h = stage.handler(members_in_two_regions()).await;
    // The invocation succeeds: the denied scopes are recorded, not the run's
    // failure (which would have Lambda walk all six again, then dead-letter).
    let outcome = h
        .handle_json(schedule())
        .await
        .unwrap_or_else(|e| panic!("the scheduled sync failed: {e}"));
    let mut failed: Vec<&str> = outcome
        .scopes
        .iter()
        .filter(|p| p.error.is_some())
        .map(|p| p.scope.as_str())
        .collect();
    failed.sort();
    assert_eq!(
        failed,
        [format!("{denied}:eu-west-1"), format!("{denied}:us-east-1")]
    );
    assert_eq!(outcome.scopes.len(), 6, "{:?}", outcome.scopes);
    let coverage = stage.store.scopes(&ScopesQuery::default()).await.unwrap();
    let with_error: Vec<String> = coverage
        .scopes
        .iter()
        .filter(|c| c.last_error.is_some())
        .map(|c| c.scope.account.to_string())
        .collect();
    assert_eq!(with_error, [denied, denied]);
    let asked = |arns: &[String]| arns.iter().filter(|a| **a == role_arn(denied)).count();
    let asked_in_run_1 = asked(&stage.aws.role_arns.lock().unwrap());

    // The role fixed, the next run retries the member and clears its error.
    stage.aws.denied.lock().unwrap().clear();
    let next = h.handle_json(schedule()).await.unwrap();
    assert!(
        next.scopes.iter().all(|p| p.error.is_none()),
        "{:?}",
        next.scopes
    );
    let coverage = stage.store.scopes(&ScopesQuery::default()).await.unwrap();
    assert!(coverage.scopes.iter().all(|c| c.last_error.is_none()));
    assert!(asked(&stage.aws.role_arns.lock().unwrap()) > asked_in_run_1);
}

#[tokio::test]
async fn member_credentials_expiring_within_the_margin_are_renewed() {
    let stage = Stage::new().await;
    // The first credentials STS hands out expire within the renewal margin.
    *stage.aws.short_lived.lock().unwrap() = 1;
    let h = stage.handler(members_in_two_regions()).await;
    for region in REGIONS {
        h.handle_json(launch(MEMBERS[0], region)).await.unwrap();
    }
    // Assumed, found too close to their expiry at the first SSM or EC2
    // call, assumed again; the renewed ones then served both events.
    let arns = stage.aws.role_arns.lock().unwrap().clone();
    assert_eq!(arns, [role_arn(MEMBERS[0]), role_arn(MEMBERS[0])]);
    let tokens = stage.aws.session_tokens.lock().unwrap().clone();
    assert!(!tokens.is_empty());
    assert!(tokens.iter().all(|t| t == "token-2"), "{tokens:?}");
}
