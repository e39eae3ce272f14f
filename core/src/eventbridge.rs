//! EventBridge events into typed commands.
//!
//! The state-change function receives three kinds of events (see
//! `docs/events.md`): EC2 instance state changes, SSM association state changes
//! (the software inventory was just collected) and a schedule. Anything else,
//! or a known kind with an unusable envelope or detail, is a [`MalformedEvent`]:
//! retrying it cannot help.

use aws_lambda_events::event::cloudwatch_events::ec2::InstanceStateChange;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use crate::model::{Account, InstanceId, InstanceState, Region, Scope};

const EC2_SOURCE: &str = "aws.ec2";
const EC2_STATE_CHANGE: &str = "EC2 Instance State-change Notification";
const SSM_SOURCE: &str = "aws.ssm";
const SSM_ASSOCIATION_CHANGE: &str = "EC2 State Manager Instance Association State Change";
const SCHEDULE_SOURCE: &str = "aws.events";
const SCHEDULED_EVENT: &str = "Scheduled Event";
/// The SSM document whose successful run means a fresh software inventory.
const INVENTORY_DOCUMENT: &str = "AWS-GatherSoftwareInventory";
const ASSOCIATION_SUCCESS: &str = "Success";

/// Longest event id echoed into logs and errors (EventBridge ids are UUIDs).
const MAX_LOGGED_ID: usize = 64;

/// A parsed event: its id (for logs), its time (for ordering) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: Option<String>,
    pub time: DateTime<Utc>,
    pub command: Command,
}

/// The instance an event is about; account and region come from the envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub id: InstanceId,
    pub account: Account,
    pub region: Region,
}

impl Target {
    /// The account and region the event came from.
    pub fn scope(&self) -> Scope {
        Scope {
            account: self.account.clone(),
            region: self.region.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// EC2 reported a lifecycle state.
    StateChange {
        target: Target,
        state: InstanceState,
    },
    /// SSM just collected the software inventory: re-read the packages.
    InventoryCollected { target: Target },
    /// The schedule fired: re-read stale or missing inventories, and walk on
    /// through the fleet of the event's account and region.
    Sync { account: Account, region: Region },
    /// A well-formed event of a known kind that asks for nothing (another SSM
    /// document, or an association that did not succeed).
    Skip { reason: String },
}

/// An event that can never be handled; `event_id` is `None` when the event
/// carried none.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("malformed event {}: {reason}", event_id.as_deref().unwrap_or("(without id)"))]
pub struct MalformedEvent {
    pub event_id: Option<String>,
    pub reason: String,
}

/// The SSM association detail; only the fields we need are required, as the
/// others vary by agent version.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct AssociationDetail {
    instance_id: String,
    document_name: String,
    status: String,
}

/// Parses an EventBridge event.
pub fn parse(value: Value) -> Result<Event, MalformedEvent> {
    let event_id = value
        .get("id")
        .and_then(Value::as_str)
        .map(|id| id.chars().take(MAX_LOGGED_ID).collect::<String>());
    let malformed = |reason: String| MalformedEvent {
        event_id: event_id.clone(),
        reason,
    };
    let envelope: EventBridgeEvent<Value> = serde_json::from_value(value)
        .map_err(|e| malformed(format!("not an EventBridge event: {e}")))?;
    let time = envelope
        .time
        .ok_or_else(|| malformed("no time".to_owned()))?;
    let scope = || -> Result<(Account, Region), MalformedEvent> {
        let account = envelope.account.as_deref().unwrap_or_default();
        let region = envelope.region.as_deref().unwrap_or_default();
        Ok((
            Account::parse(account).map_err(|e| malformed(format!("account: {}", e.message)))?,
            Region::parse(region).map_err(|e| malformed(format!("region: {}", e.message)))?,
        ))
    };
    let target = |instance_id: &str| -> Result<Target, MalformedEvent> {
        let id = parse_event_instance_id(instance_id).map_err(&malformed)?;
        let (account, region) = scope()?;
        Ok(Target {
            id,
            account,
            region,
        })
    };
    let command = match (envelope.source.as_str(), envelope.detail_type.as_str()) {
        (EC2_SOURCE, EC2_STATE_CHANGE) => {
            let detail: InstanceStateChange = serde_json::from_value(envelope.detail.clone())
                .map_err(|e| malformed(format!("detail: {e}")))?;
            let state = detail
                .state
                .parse::<InstanceState>()
                .map_err(|e| malformed(format!("detail.state: {}", e.message)))?;
            Command::StateChange {
                target: target(&detail.instance_id)?,
                state,
            }
        }
        (SSM_SOURCE, SSM_ASSOCIATION_CHANGE) => {
            let detail: AssociationDetail = serde_json::from_value(envelope.detail.clone())
                .map_err(|e| malformed(format!("detail: {e}")))?;
            let target = target(&detail.instance_id)?;
            if detail.document_name != INVENTORY_DOCUMENT {
                Command::Skip {
                    reason: format!("association of document {}", detail.document_name),
                }
            } else if detail.status != ASSOCIATION_SUCCESS {
                Command::Skip {
                    reason: format!("inventory association status {}", detail.status),
                }
            } else {
                Command::InventoryCollected { target }
            }
        }
        (SCHEDULE_SOURCE, SCHEDULED_EVENT) => {
            let (account, region) = scope()?;
            Command::Sync { account, region }
        }
        (source, detail_type) => {
            return Err(malformed(format!(
                "unknown event {source:?} / {detail_type:?}"
            )))
        }
    };
    Ok(Event {
        id: event_id,
        time,
        command,
    })
}

/// EC2 (`i-` + 8 or 17) and SSM managed (`mi-` + 17) instance ids, the shapes
/// events carry; manual ids go through the HTTP API instead.
fn parse_event_instance_id(s: &str) -> Result<InstanceId, String> {
    let ok = |rest: &str, lengths: &[usize]| {
        lengths.contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    };
    let shaped = match (s.strip_prefix("i-"), s.strip_prefix("mi-")) {
        (Some(rest), _) => ok(rest, &[8, 17]),
        (_, Some(rest)) => ok(rest, &[17]),
        _ => false,
    };
    if shaped {
        InstanceId::parse(s).map_err(|e| e.to_string())
    } else {
        Err(format!(
            "instance id {:?} is not an EC2 or SSM managed instance id",
            s.chars().take(MAX_LOGGED_ID).collect::<String>()
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ec2(state: &str, id: &str) -> Value {
        json!({
            "version": "0",
            "id": "7bf73129-1428-4cd3-a780-95db273d1602",
            "detail-type": EC2_STATE_CHANGE,
            "source": EC2_SOURCE,
            "account": "123456789012",
            "time": "2026-11-24T10:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {"instance-id": id, "state": state}
        })
    }

    #[test]
    fn every_ec2_state() {
        for state in InstanceState::ALL {
            let event = parse(ec2(state.as_str(), "i-0a1b2c3d4e5f60718")).unwrap();
            let Command::StateChange { target, state: got } = event.command else {
                panic!("not a state change")
            };
            assert_eq!(got, state);
            assert_eq!(target.account.as_str(), "123456789012");
            assert_eq!(target.region.as_str(), "us-east-1");
            assert_eq!(
                event.id.as_deref(),
                Some("7bf73129-1428-4cd3-a780-95db273d1602")
            );
        }
    }

    #[test]
    fn instance_id_shapes() {
        for ok in ["i-12345678", "i-0a1b2c3d4e5f60718", "mi-0123456789abcdef0"] {
            assert!(parse_event_instance_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "i-",
            "i-123",
            "x-12345678",
            "i-0a1b2c3d4e5f6071/",
            "mi-12345678",
            "i-../../etc",
        ] {
            assert!(parse_event_instance_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn malformed_events_keep_their_id() {
        let mut cases = vec![
            ec2("rebooting", "i-0a1b2c3d4e5f60718"),
            ec2("running", "not-an-instance"),
        ];
        let mut no_account = ec2("running", "i-0a1b2c3d4e5f60718");
        no_account["account"] = json!("12345");
        cases.push(no_account);
        let mut bad_region = ec2("running", "i-0a1b2c3d4e5f60718");
        bad_region["region"] = json!("moon-1");
        cases.push(bad_region);
        let mut unknown = ec2("running", "i-0a1b2c3d4e5f60718");
        unknown["source"] = json!("aws.s3");
        cases.push(unknown);
        let mut no_detail = ec2("running", "i-0a1b2c3d4e5f60718");
        no_detail["detail"] = json!("running");
        cases.push(no_detail);
        let mut no_time = ec2("running", "i-0a1b2c3d4e5f60718");
        no_time.as_object_mut().unwrap().remove("time");
        cases.push(no_time);
        for case in cases {
            let err = parse(case.clone()).unwrap_err();
            assert_eq!(
                err.event_id.as_deref(),
                Some("7bf73129-1428-4cd3-a780-95db273d1602"),
                "{case}"
            );
        }
        assert_eq!(parse(json!([1, 2])).unwrap_err().event_id, None);
    }

    #[test]
    fn association_events() {
        let event = |document: &str, status: &str| {
            json!({
                "id": "a", "detail-type": SSM_ASSOCIATION_CHANGE, "source": SSM_SOURCE,
                "account": "123456789012", "region": "eu-west-1", "time": "2026-11-24T10:05:00Z",
                "detail": {"instance-id": "mi-0123456789abcdef0", "document-name": document, "status": status}
            })
        };
        assert!(matches!(
            parse(event(INVENTORY_DOCUMENT, "Success")).unwrap().command,
            Command::InventoryCollected { .. }
        ));
        for (doc, status) in [
            (INVENTORY_DOCUMENT, "Failed"),
            ("AWS-UpdateSSMAgent", "Success"),
        ] {
            assert!(matches!(
                parse(event(doc, status)).unwrap().command,
                Command::Skip { .. }
            ));
        }
    }
}
