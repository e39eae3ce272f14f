//! Instance details from EC2 `DescribeInstances`.

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::Instance;
use aws_sdk_ec2::Client;
use chrono::DateTime;

use super::fleet::{Ec2Fleet, FleetPage, ListedInstance, EC2_PAGE_SIZE};
use super::{sdk_failure, InstanceFields, InstanceSource, SourceError, DESCRIBE_INSTANCES};
use crate::model::{InstanceDetails, InstanceId};

/// EC2's answers for an id it does not know (long terminated, another
/// account or region, or not an EC2 id at all).
const UNKNOWN_INSTANCE_CODES: [&str; 2] =
    ["InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"];

/// [`InstanceSource`] on the EC2 API.
#[derive(Debug, Clone)]
pub struct Ec2InstanceSource {
    client: Client,
}

impl Ec2InstanceSource {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl InstanceSource for Ec2InstanceSource {
    async fn describe(&self, id: &InstanceId) -> Result<Option<InstanceDetails>, SourceError> {
        let answer = self
            .client
            .describe_instances()
            .instance_ids(id.as_str())
            .send()
            .await;
        match answer {
            Ok(out) => Ok(out
                .reservations()
                .iter()
                .flat_map(|r| r.instances())
                .find(|i| i.instance_id() == Some(id.as_str()))
                .map(details_of)),
            Err(err) if UNKNOWN_INSTANCE_CODES.contains(&err.code().unwrap_or_default()) => {
                Ok(None)
            }
            Err(err) => Err(sdk_failure("EC2", DESCRIBE_INSTANCES, &err)),
        }
    }
}

impl Ec2Fleet for Ec2InstanceSource {
    /// One page of every instance in the account and region, in EC2's order.
    /// The token is only ever used seconds after EC2 issued it (see the sync).
    async fn instances_page(&self, token: Option<String>) -> Result<FleetPage, SourceError> {
        let out = self
            .client
            .describe_instances()
            .max_results(EC2_PAGE_SIZE)
            .set_next_token(token)
            .send()
            .await
            .map_err(|err| sdk_failure("EC2", DESCRIBE_INSTANCES, &err))?;
        Ok(FleetPage {
            instances: out
                .reservations()
                .iter()
                .flat_map(|r| r.instances())
                .filter_map(listed_of)
                .collect(),
            next_token: out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        })
    }
}

/// A listed instance; one without an id or a known state is skipped.
fn listed_of(instance: &Instance) -> Option<ListedInstance> {
    let raw_id = instance.instance_id()?;
    let state = instance.state().and_then(|s| s.name()).map(|n| n.as_str());
    match (
        InstanceId::parse(raw_id),
        state.and_then(|s| s.parse().ok()),
    ) {
        (Ok(id), Some(state)) => Some(ListedInstance {
            id,
            state,
            details: details_of(instance),
        }),
        _ => {
            tracing::warn!(instance_id = raw_id, state, "skipping a listed instance");
            None
        }
    }
}

fn details_of(instance: &Instance) -> InstanceDetails {
    let launch_time = instance
        .launch_time()
        .and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()));
    InstanceFields {
        instance_type: instance.instance_type().map(|t| t.as_str()),
        image_id: instance.image_id(),
        platform_details: instance.platform_details(),
        platform: instance.platform().map(|p| p.as_str()),
        launch_time,
    }
    .into_details(instance.tags().iter().map(|t| (t.key(), t.value())))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use aws_sdk_ec2::config::retry::RetryConfig;
    use aws_sdk_ec2::operation::describe_instances::{
        DescribeInstancesError, DescribeInstancesOutput,
    };
    use aws_sdk_ec2::types::{InstanceType, Reservation, Tag};
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    const ID: &str = "i-0a1b2c3d4e5f60718";

    fn id() -> InstanceId {
        InstanceId::parse(ID).unwrap()
    }

    fn described() -> DescribeInstancesOutput {
        let instance = Instance::builder()
            .instance_id(ID)
            .instance_type(InstanceType::T3Micro)
            .image_id("ami-0abcdef1234567890")
            .platform_details("Linux/UNIX")
            .launch_time(aws_smithy_types::DateTime::from_secs(1_795_000_000))
            .tags(Tag::builder().key("Name").value("web-1").build())
            .tags(Tag::builder().key("team").build())
            .build();
        DescribeInstancesOutput::builder()
            .reservations(Reservation::builder().instances(instance).build())
            .build()
    }

    fn ec2_error(code: &'static str) -> impl Fn() -> DescribeInstancesError {
        move || DescribeInstancesError::generic(ErrorMetadata::builder().code(code).build())
    }

    #[tokio::test]
    async fn maps_the_described_instance() {
        let rule = mock!(Client::describe_instances)
            .match_requests(|req| req.instance_ids() == [ID.to_string()])
            .then_output(described);
        let client = mock_client!(aws_sdk_ec2, [&rule]);
        let details = Ec2InstanceSource::new(client)
            .describe(&id())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(details.instance_type.as_deref(), Some("t3.micro"));
        assert_eq!(details.image_id.as_deref(), Some("ami-0abcdef1234567890"));
        assert_eq!(details.platform.as_deref(), Some("Linux/UNIX"));
        assert_eq!(details.launch_time.unwrap().timestamp(), 1_795_000_000);
        assert_eq!(details.tags.get("Name").map(String::as_str), Some("web-1"));
        assert_eq!(details.tags.get("team").map(String::as_str), Some(""));
    }

    #[tokio::test]
    async fn unknown_ids_answer_none() {
        for code in UNKNOWN_INSTANCE_CODES {
            let rule = mock!(Client::describe_instances).then_error(ec2_error(code));
            let client = mock_client!(aws_sdk_ec2, [&rule]);
            let answer = Ec2InstanceSource::new(client).describe(&id()).await;
            assert_eq!(answer, Ok(None), "{code}");
        }
        let empty = mock!(Client::describe_instances)
            .then_output(|| DescribeInstancesOutput::builder().build());
        let client = mock_client!(aws_sdk_ec2, [&empty]);
        assert_eq!(
            Ec2InstanceSource::new(client).describe(&id()).await,
            Ok(None)
        );
    }

    #[tokio::test]
    async fn request_limit_is_retried_then_transient() {
        let fast = |conf: aws_sdk_ec2::config::Builder| {
            conf.retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(1))
                    .with_max_backoff(Duration::from_millis(5)),
            )
        };
        let recovers = mock!(Client::describe_instances)
            .sequence()
            .error(ec2_error("RequestLimitExceeded"))
            .output(described)
            .build();
        let client = mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&recovers], fast);
        let details = Ec2InstanceSource::new(client).describe(&id()).await;
        assert!(matches!(details, Ok(Some(_))), "{details:?}");
        assert_eq!(recovers.num_calls(), 2);

        let stuck = mock!(Client::describe_instances)
            .sequence()
            .error(ec2_error("RequestLimitExceeded"))
            .repeatedly()
            .build();
        let client = mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&stuck], fast);
        let err = Ec2InstanceSource::new(client)
            .describe(&id())
            .await
            .unwrap_err();
        assert!(err.is_retryable(), "{err}");
        assert_eq!(stuck.num_calls(), 3);
    }

    #[tokio::test]
    async fn unauthorized_is_permanent() {
        let rule = mock!(Client::describe_instances).then_error(ec2_error("UnauthorizedOperation"));
        let client = mock_client!(aws_sdk_ec2, [&rule]);
        let err = Ec2InstanceSource::new(client)
            .describe(&id())
            .await
            .unwrap_err();
        assert!(!err.is_retryable(), "{err}");
    }
}
