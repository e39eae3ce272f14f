//! Packages from SSM Inventory: `ListInventoryEntries` with
//! `TypeName=AWS:Application`, paged by `NextToken` (the Rust SDK has no
//! paginator for it).

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::operation::describe_instance_information::DescribeInstanceInformationOutput;
use aws_sdk_ssm::types::{InstanceInformation, InstanceInformationStringFilter};
use aws_sdk_ssm::Client;
use aws_smithy_runtime_api::client::{orchestrator::HttpResponse, result::SdkError};
use chrono::DateTime;

use super::fleet::{
    FleetPage, ListedInstance, ManagedNodes, NodeFields, DESCRIBE_INSTANCE_INFORMATION,
    SSM_PAGE_SIZE,
};
use super::{
    collect_inventory, os_of, sdk_failure, Inventory, InventoryPage, PackageSource, SourceError,
    LIST_INVENTORY_ENTRIES, MAX_INVENTORY_PAGE,
};
use crate::model::{InstanceId, OsPlatform};

/// The inventory types read: the packages, and the OS the agent reports.
const APPLICATION_TYPE: &str = "AWS:Application";
const INSTANCE_INFORMATION_TYPE: &str = "AWS:InstanceInformation";

/// SSM's answer to `operation`, or `None` when its error says the instance
/// id is invalid: SSM does not know the instance (not managed, or gone).
fn unless_unknown<T, E>(
    answer: Result<T, SdkError<E, HttpResponse>>,
    operation: &'static str,
    is_invalid_instance_id: impl Fn(&E) -> bool,
) -> Result<Option<T>, SourceError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match answer {
        Ok(out) => Ok(Some(out)),
        Err(err) if err.as_service_error().is_some_and(&is_invalid_instance_id) => Ok(None),
        Err(err) => Err(sdk_failure("SSM", operation, &err)),
    }
}

/// [`PackageSource`] on the SSM API. Throttling and 5xx are retried by the
/// SDK's retry policy (standard mode by default) before they surface here.
#[derive(Debug, Clone)]
pub struct SsmPackageSource {
    client: Client,
    page_size: i32,
}

impl SsmPackageSource {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            page_size: MAX_INVENTORY_PAGE,
        }
    }

    async fn page(
        &self,
        id: &InstanceId,
        token: Option<String>,
    ) -> Result<Option<InventoryPage>, SourceError> {
        let answer = self
            .client
            .list_inventory_entries()
            .instance_id(id.as_str())
            .type_name(APPLICATION_TYPE)
            .max_results(self.page_size)
            .set_next_token(token)
            .send()
            .await;
        let out = unless_unknown(answer, LIST_INVENTORY_ENTRIES, |e| {
            e.is_invalid_instance_id()
        })?;
        Ok(out.map(|out| InventoryPage {
            capture_time: out.capture_time,
            entries: out.entries.unwrap_or_default(),
            next_token: out.next_token,
        }))
    }

    /// The OS the agent reports (`AWS:InstanceInformation`, one entry).
    async fn os(&self, id: &InstanceId) -> Result<Option<OsPlatform>, SourceError> {
        let answer = self
            .client
            .list_inventory_entries()
            .instance_id(id.as_str())
            .type_name(INSTANCE_INFORMATION_TYPE)
            .send()
            .await;
        let out = unless_unknown(answer, LIST_INVENTORY_ENTRIES, |e| {
            e.is_invalid_instance_id()
        })?;
        Ok(out.and_then(|out| os_of(out.entries())))
    }
}

impl PackageSource for SsmPackageSource {
    /// The packages, then (when there are some) the OS they were reported
    /// with: one call more.
    async fn inventory(&self, id: &InstanceId) -> Result<Option<Inventory>, SourceError> {
        let Some(mut inventory) = collect_inventory("SSM", |token| self.page(id, token)).await?
        else {
            return Ok(None);
        };
        if !inventory.is_empty() {
            inventory.os = self.os(id).await?;
        }
        Ok(Some(inventory))
    }
}

/// `DescribeInstanceInformation` filter: hybrid nodes only (EC2 instances
/// come from `DescribeInstances`), or one node by id.
fn node_filter(key: &str, value: &str) -> Result<InstanceInformationStringFilter, SourceError> {
    InstanceInformationStringFilter::builder()
        .key(key)
        .values(value)
        .build()
        .map_err(|e| SourceError::Permanent {
            service: "SSM",
            operation: DESCRIBE_INSTANCE_INFORMATION,
            message: e.to_string(),
        })
}

fn node_of(info: &InstanceInformation) -> Option<ListedInstance> {
    NodeFields {
        id: info.instance_id(),
        ping_status: info.ping_status().map(|p| p.as_str()),
        name: info.name(),
        platform_name: info.platform_name(),
        platform_version: info.platform_version(),
        platform_type: info.platform_type().map(|p| p.as_str()),
        registration_date: info
            .registration_date()
            .and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos())),
    }
    .into_listed()
}

fn nodes_of(out: &DescribeInstanceInformationOutput) -> impl Iterator<Item = ListedInstance> + '_ {
    out.instance_information_list().iter().filter_map(node_of)
}

impl ManagedNodes for SsmPackageSource {
    async fn nodes_page(&self, token: Option<String>) -> Result<FleetPage, SourceError> {
        let out = self
            .client
            .describe_instance_information()
            .filters(node_filter("ResourceType", "ManagedInstance")?)
            .max_results(SSM_PAGE_SIZE)
            .set_next_token(token)
            .send()
            .await
            .map_err(|err| sdk_failure("SSM", DESCRIBE_INSTANCE_INFORMATION, &err))?;
        Ok(FleetPage {
            instances: nodes_of(&out).collect(),
            next_token: out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        })
    }

    async fn describe_node(&self, id: &InstanceId) -> Result<Option<ListedInstance>, SourceError> {
        let answer = self
            .client
            .describe_instance_information()
            .filters(node_filter("InstanceIds", id.as_str())?)
            .send()
            .await;
        let out = unless_unknown(answer, DESCRIBE_INSTANCE_INFORMATION, |e| {
            e.is_invalid_instance_id()
        })?;
        Ok(out.and_then(|out| nodes_of(&out).find(|node| &node.id == id)))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use aws_sdk_ssm::config::retry::RetryConfig;
    use aws_sdk_ssm::operation::list_inventory_entries::{
        ListInventoryEntriesError, ListInventoryEntriesOutput,
    };
    use aws_sdk_ssm::types::error::InvalidInstanceId;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;
    use crate::model::Package;

    const ID: &str = "i-0a1b2c3d4e5f60718";
    const CAPTURED: &str = "2026-11-24T09:58:12Z";

    fn id() -> InstanceId {
        InstanceId::parse(ID).unwrap()
    }

    /// The inventory of instance `id()`, which SSM must know.
    async fn inventory_of(client: Client) -> Inventory {
        let answer = SsmPackageSource::new(client).inventory(&id()).await;
        answer.unwrap().expect("SSM knows the instance")
    }

    fn page(names: std::ops::Range<usize>, next: Option<&str>) -> ListInventoryEntriesOutput {
        let entries = names
            .map(|i| {
                HashMap::from([
                    ("Name".to_string(), format!("pkg-{i:03}")),
                    ("Version".to_string(), format!("1.{i}")),
                ])
            })
            .collect();
        ListInventoryEntriesOutput::builder()
            .type_name(APPLICATION_TYPE)
            .instance_id(ID)
            .capture_time(CAPTURED)
            .set_entries(Some(entries))
            .set_next_token(next.map(str::to_owned))
            .build()
    }

    /// SSM's `AWS:InstanceInformation` listing, with the OS when given.
    fn os_rule(os: Option<(&'static str, &'static str)>) -> aws_smithy_mocks::Rule {
        mock!(Client::list_inventory_entries)
            .match_requests(|req| req.type_name() == Some(INSTANCE_INFORMATION_TYPE))
            .then_output(move || {
                let entries = os.map(|(name, version)| {
                    HashMap::from([
                        ("PlatformName".to_string(), name.to_string()),
                        ("PlatformVersion".to_string(), version.to_string()),
                        ("AgentType".to_string(), "amazon-ssm-agent".to_string()),
                    ])
                });
                ListInventoryEntriesOutput::builder()
                    .type_name(INSTANCE_INFORMATION_TYPE)
                    .instance_id(ID)
                    .capture_time(CAPTURED)
                    .set_entries(entries.map(|e| vec![e]))
                    .build()
            })
    }

    fn throttled() -> HttpResponse {
        HttpResponse::new(
            StatusCode::try_from(400).unwrap(),
            SdkBody::from(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#),
        )
    }

    /// Standard retries, fast enough for a unit test.
    fn fast_retries(conf: aws_sdk_ssm::config::Builder) -> aws_sdk_ssm::config::Builder {
        conf.retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5)),
        )
    }

    #[tokio::test]
    async fn follows_next_token_across_pages() {
        // Page k answers the token "t<k>"; the request must carry the filter and page size.
        let rule = mock!(Client::list_inventory_entries)
            .match_requests(|req| {
                req.instance_id() == Some(ID)
                    && req.type_name() == Some(APPLICATION_TYPE)
                    && req.max_results() == Some(50)
            })
            .then_compute_output(|req| match req.next_token() {
                None => page(0..50, Some("t1")),
                Some("t1") => page(50..100, Some("t2")),
                Some("t2") => page(100..120, None),
                Some(other) => panic!("unexpected token {other}"),
            });
        let os = os_rule(Some(("Debian GNU/Linux", "12")));
        let client = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, [&rule, &os]);
        let inv = inventory_of(client).await;
        assert_eq!(rule.num_calls(), 3);
        assert_eq!(os.num_calls(), 1);
        assert_eq!(inv.pages, 3);
        let os = inv.os.expect("the OS");
        assert_eq!(
            (os.name.as_str(), os.version.as_str()),
            ("Debian GNU/Linux", "12")
        );
        assert_eq!(inv.packages.len(), 120);
        assert_eq!(inv.packages[119], Package::new("pkg-119", "1.119"));
        assert_eq!(
            inv.captured_at.unwrap().to_rfc3339(),
            "2026-11-24T09:58:12+00:00"
        );
    }

    #[tokio::test]
    async fn empty_inventory_has_no_capture_time() {
        let rule = mock!(Client::list_inventory_entries).then_output(|| {
            ListInventoryEntriesOutput::builder()
                .type_name(APPLICATION_TYPE)
                .instance_id(ID)
                .build()
        });
        let os = os_rule(Some(("Debian GNU/Linux", "12")));
        let client = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, [&rule, &os]);
        let inv = inventory_of(client).await;
        assert!(inv.is_empty());
        assert_eq!(inv.captured_at, None);
        assert_eq!(inv.pages, 1);
        // No packages to write: the OS is not read.
        assert_eq!((os.num_calls(), inv.os), (0, None));
    }

    #[tokio::test]
    async fn missing_attributes() {
        let rule = mock!(Client::list_inventory_entries).then_output(|| {
            let entry = |pairs: &[(&str, &str)]| {
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<HashMap<_, _>>()
            };
            ListInventoryEntriesOutput::builder()
                .capture_time(CAPTURED)
                .entries(entry(&[("Name", "bash"), ("Architecture", "x86_64")]))
                .entries(entry(&[("Version", "9.9")]))
                .entries(entry(&[
                    ("Name", "Microsoft Edge"),
                    ("Version", "131.0.2903.70"),
                    ("Publisher", "Microsoft Corporation"),
                ]))
                .build()
        });
        let os = os_rule(None);
        let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, [&rule, &os]);
        let inv = inventory_of(client).await;
        assert_eq!(inv.os, None, "no InstanceInformation entry: no OS");
        assert_eq!(inv.skipped, 1);
        assert_eq!(inv.packages.len(), 2);
        assert_eq!(inv.packages[0].version, "");
        assert_eq!(inv.packages[0].architecture.as_deref(), Some("x86_64"));
        assert_eq!(inv.packages[0].publisher, None);
        assert_eq!(
            inv.packages[1].publisher.as_deref(),
            Some("Microsoft Corporation")
        );
    }

    #[tokio::test]
    async fn invalid_instance_id_is_unknown_not_an_error() {
        let rule = mock!(Client::list_inventory_entries).then_error(|| {
            ListInventoryEntriesError::InvalidInstanceId(
                InvalidInstanceId::builder()
                    .message("Instances [[i-0a1b2c3d4e5f60718]] not in a valid state")
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_ssm, [&rule]);
        assert_eq!(
            SsmPackageSource::new(client).inventory(&id()).await,
            Ok(None)
        );
    }

    #[tokio::test]
    async fn throttling_is_retried_by_the_sdk() {
        let rule = mock!(Client::list_inventory_entries)
            .sequence()
            .http_response(throttled)
            .times(2)
            .output(|| page(0..3, None))
            .build();
        let os = os_rule(Some(("Amazon Linux", "2023")));
        let client = mock_client!(
            aws_sdk_ssm,
            RuleMode::Sequential,
            [&rule, &os],
            fast_retries
        );
        let inv = inventory_of(client).await;
        assert_eq!(rule.num_calls(), 3);
        assert_eq!(inv.packages.len(), 3);
        assert_eq!(
            inv.os
                .and_then(|os| os.release())
                .map(|r| r.key())
                .as_deref(),
            Some("amzn:2023")
        );
    }

    #[tokio::test]
    async fn throttling_that_outlasts_retries_is_retryable() {
        let rule = mock!(Client::list_inventory_entries)
            .sequence()
            .http_response(throttled)
            .repeatedly()
            .build();
        let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, [&rule], fast_retries);
        let err = SsmPackageSource::new(client)
            .inventory(&id())
            .await
            .unwrap_err();
        assert!(err.is_retryable(), "{err}");
        assert_eq!(rule.num_calls(), 3);
    }

    #[tokio::test]
    async fn access_denied_is_permanent() {
        let rule = mock!(Client::list_inventory_entries).then_http_response(|| {
            HttpResponse::new(
                StatusCode::try_from(400).unwrap(),
                SdkBody::from(r#"{"__type":"AccessDeniedException","message":"no"}"#),
            )
        });
        let client = mock_client!(aws_sdk_ssm, [&rule]);
        let err = SsmPackageSource::new(client)
            .inventory(&id())
            .await
            .unwrap_err();
        assert!(!err.is_retryable(), "{err}");
    }
}
