//! The JSON shapes of the API: request bodies in, records and pages out.
//!
//! Field names and order follow the original sample's contract; fields it did
//! not have are added after its own and omitted when empty.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use super::errors::ApiError;
use crate::model::{
    self, Account, Instance, InstanceDetails, InstanceId, InstanceRecord, OsPlatform, Package,
    Region, Source, ValidationError,
};
use crate::query::{
    Change, ChangeKind, HistoryPage, InstanceSummary, PackageVersionCount, ScopeCoverage,
};
use crate::version::VersionScheme;

/// The body of `POST` and `PUT /ec2/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceBody {
    pub account: Account,
    pub region: Region,
    /// In input order, duplicates included (the POST answer echoes them).
    pub packages: Vec<Package>,
    /// PUT only: the OS (`platform_name` and `platform_version`, both or neither).
    pub os: Option<OsPlatform>,
}

impl InstanceBody {
    /// The instance as an API caller describes it: no state and no EC2
    /// details, the packages as given, duplicates included (the store keeps
    /// each once), and the OS a PUT may name.
    pub fn into_instance(self, id: InstanceId) -> Instance {
        Instance {
            id,
            account: self.account,
            region: self.region,
            state: None,
            details: InstanceDetails::default(),
            os: self.os,
            source: Source::Api,
            packages: self.packages,
        }
    }
}

/// POST keeps the original sample's exact three fields.
const POST_FIELDS: &[&str] = &["aws_region", "aws_account", "packages"];
/// PUT may say which OS the instance runs, so that its versions order as
/// that OS orders them and its release's advisories apply.
const PUT_FIELDS: &[&str] = &[
    "aws_region",
    "aws_account",
    "packages",
    "platform_name",
    "platform_version",
];
const PACKAGE_FIELDS: &[&str] = &["package_name", "package_version"];

/// Which request a body belongs to: the fields it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyOf {
    Post,
    Put,
}

impl InstanceBody {
    /// Parses and validates a body. Walking a `Value` rather than deriving
    /// `Deserialize` lets every error name its field, down to
    /// `packages[3].package_version`.
    pub fn parse(body: &[u8], of: BodyOf) -> Result<Self, ApiError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::BadRequest(format!("malformed JSON body: {e}")))?;
        let Value::Object(fields) = value else {
            return Err(ApiError::BadRequest(
                "request body must be a JSON object".into(),
            ));
        };
        let known = match of {
            BodyOf::Post => POST_FIELDS,
            BodyOf::Put => PUT_FIELDS,
        };
        reject_unknown(&fields, known, "")?;
        let account = Account::parse(required_str(&fields, "aws_account", "")?)?;
        let region = Region::parse(required_str(&fields, "aws_region", "")?)?;
        let list = match fields.get("packages") {
            Some(Value::Array(list)) => list,
            Some(_) => return Err(invalid("packages", "must be an array")),
            None => return Err(invalid("packages", "is required")),
        };
        let packages = list
            .iter()
            .enumerate()
            .map(|(i, item)| parse_package(i, item))
            .collect::<Result<Vec<_>, _>>()?;
        model::validate_packages(&packages)?;
        let os = match (
            optional_str(&fields, "platform_name")?,
            optional_str(&fields, "platform_version")?,
        ) {
            (None, None) => None,
            (Some(name), Some(version)) => Some(OsPlatform::parse(name, version)?),
            (Some(_), None) => {
                return Err(invalid(
                    "platform_version",
                    "is required with platform_name",
                ))
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "platform_name",
                    "is required with platform_version",
                ))
            }
        };
        Ok(Self {
            account,
            region,
            packages,
            os,
        })
    }
}

fn parse_package(index: usize, item: &Value) -> Result<Package, ApiError> {
    let prefix = format!("packages[{index}].");
    let Value::Object(fields) = item else {
        return Err(invalid(&format!("packages[{index}]"), "must be an object"));
    };
    reject_unknown(fields, PACKAGE_FIELDS, &prefix)?;
    Ok(Package::new(
        required_str(fields, "package_name", &prefix)?,
        required_str(fields, "package_version", &prefix)?,
    ))
}

fn invalid(field: &str, message: &str) -> ApiError {
    ValidationError::new(field, message).into()
}

fn reject_unknown(
    fields: &Map<String, Value>,
    known: &[&str],
    prefix: &str,
) -> Result<(), ApiError> {
    match fields.keys().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(key) => {
            // Echo at most a short prefix of an arbitrary (possibly huge) key.
            let shown: String = key.chars().take(64).collect();
            Err(invalid(
                &format!("{prefix}{shown}"),
                &format!("unknown field; expected {}", known.join(", ")),
            ))
        }
    }
}

/// A string field that may be missing (or null).
fn optional_str<'a>(
    fields: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, ApiError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(name, "must be a string")),
    }
}

fn required_str<'a>(
    fields: &'a Map<String, Value>,
    name: &str,
    prefix: &str,
) -> Result<&'a str, ApiError> {
    match fields.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(invalid(&format!("{prefix}{name}"), "must be a string")),
        None => Err(invalid(&format!("{prefix}{name}"), "is required")),
    }
}

/// `YYYY-MM-DD HH:MM:SS.f`, as the original printed MySQL DATETIMEs: the
/// fraction without trailing zeros but with at least one digit.
pub fn format_utc(t: &DateTime<Utc>) -> String {
    // A leap second shows as nanos >= 1e9; clamp rather than print 10 digits.
    let nanos = format!("{:09}", t.timestamp_subsec_nanos().min(999_999_999));
    let fraction = nanos.trim_end_matches('0');
    let fraction = if fraction.is_empty() { "0" } else { fraction };
    format!("{}.{fraction}", t.format("%Y-%m-%d %H:%M:%S"))
}

fn format_opt(t: &Option<DateTime<Utc>>) -> Option<String> {
    t.as_ref().map(format_utc)
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Serialize)]
pub struct PackageDto<'a> {
    pub package_name: &'a str,
    pub package_version: &'a str,
    pub publisher: Option<&'a str>,
    pub architecture: Option<&'a str>,
    pub source_package: Option<&'a str>,
}

impl<'a> From<&'a Package> for PackageDto<'a> {
    fn from(p: &'a Package) -> Self {
        Self {
            package_name: &p.name,
            package_version: &p.version,
            publisher: p.publisher.as_deref(),
            architecture: p.architecture.as_deref(),
            source_package: p.source_name.as_deref(),
        }
    }
}

pub fn packages_dto(packages: &[Package]) -> Vec<PackageDto<'_>> {
    packages.iter().map(PackageDto::from).collect()
}

/// The `POST` answer: the input echoed back.
#[derive(Debug, Serialize)]
pub struct NewRecordDto<'a> {
    pub aws_account: &'a str,
    pub aws_region: &'a str,
    pub packages: Vec<PackageDto<'a>>,
}

/// The keys an instance's answers (a record, a search hit) start with.
#[derive(Debug, Serialize)]
pub struct InstanceKeysDto<'a> {
    pub aws_instance_id: &'a str,
    pub aws_region: &'a str,
    pub aws_account: &'a str,
}

impl<'a> InstanceKeysDto<'a> {
    fn new(id: &'a InstanceId, region: &'a Region, account: &'a Account) -> Self {
        Self {
            aws_instance_id: id.as_str(),
            aws_region: region.as_str(),
            aws_account: account.as_str(),
        }
    }
}

/// A stored instance as `GET /ec2/{id}` shows it.
#[serde_with::skip_serializing_none]
#[derive(Debug, Serialize)]
pub struct RecordDto<'a> {
    #[serde(flatten)]
    pub keys: InstanceKeysDto<'a>,
    pub creation_date_utc: String,
    pub packages: Vec<PackageDto<'a>>,
    pub state: Option<&'static str>,
    pub instance_type: Option<&'a str>,
    pub image_id: Option<&'a str>,
    pub platform: Option<&'a str>,
    pub launch_time: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: &'a BTreeMap<String, String>,
    pub source: &'static str,
    pub updated_date_utc: String,
    pub terminated_date_utc: Option<String>,
    pub inventory_captured_utc: Option<String>,
    pub platform_name: Option<&'a str>,
    pub platform_version: Option<&'a str>,
    /// The OS release the platform names (`debian:12`): its advisories apply.
    pub os_release: Option<&'a str>,
    /// How the instance's versions order (`dpkg`, `rpm`, `dotted`); omitted
    /// for the natural fallback.
    pub version_scheme: Option<&'static str>,
}

impl<'a> From<&'a InstanceRecord> for RecordDto<'a> {
    fn from(r: &'a InstanceRecord) -> Self {
        let i = &r.instance;
        Self {
            keys: InstanceKeysDto::new(&i.id, &i.region, &i.account),
            creation_date_utc: format_utc(&r.created),
            packages: packages_dto(&i.packages),
            state: i.state.map(|s| s.as_str()),
            instance_type: i.details.instance_type.as_deref(),
            image_id: i.details.image_id.as_deref(),
            platform: i.details.platform.as_deref(),
            launch_time: format_opt(&i.details.launch_time),
            tags: &i.details.tags,
            source: i.source.as_str(),
            updated_date_utc: format_utc(&r.updated),
            terminated_date_utc: format_opt(&r.terminated),
            inventory_captured_utc: format_opt(&r.inventory_captured_at),
            platform_name: i.os.as_ref().map(|os| os.name.as_str()),
            platform_version: i.os.as_ref().map(|os| os.version.as_str()),
            os_release: r.os_release.as_deref(),
            // The natural fallback says nothing: no scheme is known.
            version_scheme: r
                .version_scheme
                .filter(|s| *s != VersionScheme::Natural)
                .map(VersionScheme::as_str),
        }
    }
}

/// The answers' envelopes: structs, not `json!`, so that keys keep the
/// original's order (serde_json's maps would sort them).
#[derive(Debug, Serialize)]
pub struct PostAnswer<'a> {
    pub new_record: NewRecordDto<'a>,
}

#[derive(Debug, Serialize)]
pub struct GetAnswer<'a> {
    pub record: MaybeRecord<'a>,
    pub record_found: bool,
}

#[derive(Debug, Serialize)]
pub struct PutAnswer<'a> {
    pub record: MaybeRecord<'a>,
    pub created: bool,
}

/// A record, or `{}` when there is none (the original's "not found" shape).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum MaybeRecord<'a> {
    Found(Box<RecordDto<'a>>),
    Empty {},
}

impl<'a> From<Option<&'a InstanceRecord>> for MaybeRecord<'a> {
    fn from(record: Option<&'a InstanceRecord>) -> Self {
        record.map_or(Self::Empty {}, |r| Self::Found(Box::new(r.into())))
    }
}

#[derive(Debug, Serialize)]
pub struct DeleteAnswer<'a> {
    pub aws_instance_id: &'a str,
    pub deleted: bool,
}

#[derive(Debug, Serialize)]
pub struct SearchAnswer<'a> {
    pub instances: Vec<SummaryDto<'a>>,
    pub next_token: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct PackageAnswer<'a> {
    pub package_name: &'a str,
    pub versions: Vec<VersionCountDto<'a>>,
}

/// `GET /accounts`: every known account and region.
#[derive(Debug, Serialize)]
pub struct ScopesAnswer<'a> {
    pub accounts: Vec<ScopeDto<'a>>,
    /// Scopes silent for longer than this are flagged.
    pub silent_after_hours: i64,
    pub next_token: Option<&'a str>,
}

/// One account and region with its instances and coverage.
#[derive(Debug, Serialize)]
pub struct ScopeDto<'a> {
    pub aws_account: &'a str,
    pub aws_region: &'a str,
    pub instances: InstanceCountsDto,
    /// Whether an event or a sync run ever reached the scope; false for a
    /// scope known only from instances recorded by hand.
    pub watched: bool,
    pub silent: bool,
    pub last_event_utc: Option<String>,
    pub last_sync_utc: Option<String>,
    pub last_pass_completed_utc: Option<String>,
    pub last_error: Option<&'a str>,
    pub last_error_utc: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct InstanceCountsDto {
    pub total: u64,
    pub pending: u64,
    pub running: u64,
    pub stopping: u64,
    pub stopped: u64,
    #[serde(rename = "shutting-down")]
    pub shutting_down: u64,
    pub terminated: u64,
    pub unknown: u64,
}

impl<'a> ScopeDto<'a> {
    pub fn new(c: &'a ScopeCoverage, silent_before: DateTime<Utc>) -> Self {
        let utc = |t: &Option<DateTime<Utc>>| t.as_ref().map(format_utc);
        let n = &c.instances;
        Self {
            aws_account: c.scope.account.as_str(),
            aws_region: c.scope.region.as_str(),
            instances: InstanceCountsDto {
                total: n.total,
                pending: n.pending,
                running: n.running,
                stopping: n.stopping,
                stopped: n.stopped,
                shutting_down: n.shutting_down,
                terminated: n.terminated,
                unknown: n.unknown(),
            },
            watched: c.first_seen.is_some(),
            silent: c.is_silent(silent_before),
            last_event_utc: utc(&c.last_event_at),
            last_sync_utc: utc(&c.last_sync_at),
            last_pass_completed_utc: utc(&c.last_pass_at),
            last_error: c.last_error.as_deref(),
            last_error_utc: utc(&c.last_error_at),
        }
    }
}

/// `GET /ec2/{id}/history` (with `aws_instance_id`) and
/// `GET /packages/{name}/history` (with `package_name`).
#[derive(Debug, Serialize)]
pub struct HistoryAnswer<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_instance_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<&'a str>,
    pub changes: Vec<ChangeDto<'a>>,
    pub next_token: Option<&'a str>,
}

impl<'a> HistoryAnswer<'a> {
    pub fn of_instance(id: &'a str, page: &'a HistoryPage) -> Self {
        Self {
            aws_instance_id: Some(id),
            package_name: None,
            changes: page.changes.iter().map(ChangeDto::from).collect(),
            next_token: page.next_token.as_deref(),
        }
    }

    pub fn of_package(name: &'a str, page: &'a HistoryPage) -> Self {
        Self {
            aws_instance_id: None,
            package_name: Some(name),
            ..Self::of_instance("", page)
        }
    }
}

/// One change: a package's (`package_name` and the versions before and
/// after) or a state's (`old_state`, `new_state`); empty sides are left out.
#[serde_with::skip_serializing_none]
#[derive(Debug, Serialize)]
pub struct ChangeDto<'a> {
    pub aws_instance_id: &'a str,
    pub change_date_utc: String,
    pub source: &'static str,
    pub change: ChangeKind,
    pub package_name: Option<&'a str>,
    pub old_version: Option<&'a str>,
    pub new_version: Option<&'a str>,
    pub old_state: Option<&'static str>,
    pub new_state: Option<&'static str>,
}

impl<'a> From<&'a Change> for ChangeDto<'a> {
    fn from(c: &'a Change) -> Self {
        Self {
            aws_instance_id: c.instance_id.as_str(),
            change_date_utc: format_utc(&c.at),
            source: c.source.as_str(),
            change: c.kind,
            package_name: c.package_name.as_deref(),
            old_version: c.old_version.as_deref(),
            new_version: c.new_version.as_deref(),
            old_state: c.old_state.map(|s| s.as_str()),
            new_state: c.new_state.map(|s| s.as_str()),
        }
    }
}

/// One search hit.
#[serde_with::skip_serializing_none]
#[derive(Debug, Serialize)]
pub struct SummaryDto<'a> {
    #[serde(flatten)]
    pub keys: InstanceKeysDto<'a>,
    pub state: Option<&'static str>,
    pub instance_type: Option<&'a str>,
    pub updated_date_utc: String,
}

impl<'a> From<&'a InstanceSummary> for SummaryDto<'a> {
    fn from(s: &'a InstanceSummary) -> Self {
        Self {
            keys: InstanceKeysDto::new(&s.id, &s.region, &s.account),
            state: s.state.map(|s| s.as_str()),
            instance_type: s.instance_type.as_deref(),
            updated_date_utc: format_utc(&s.updated),
        }
    }
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Serialize)]
pub struct VersionCountDto<'a> {
    pub package_version: &'a str,
    pub instances: u64,
    /// How the version orders; omitted for the natural fallback.
    pub version_scheme: Option<&'static str>,
}

impl<'a> From<&'a PackageVersionCount> for VersionCountDto<'a> {
    fn from(v: &'a PackageVersionCount) -> Self {
        Self {
            package_version: &v.version,
            instances: v.instances,
            version_scheme: (v.scheme != VersionScheme::Natural).then(|| v.scheme.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn field_of(body: Value) -> String {
        field_of_body(body, BodyOf::Post)
    }

    fn field_of_body(body: Value, of: BodyOf) -> String {
        match InstanceBody::parse(body.to_string().as_bytes(), of).unwrap_err() {
            ApiError::Validation(v) => v.field,
            other => panic!("not a validation error: {other}"),
        }
    }

    fn valid() -> Value {
        json!({"aws_region": "us-east-1", "aws_account": "123456789012",
               "packages": [{"package_name": "p", "package_version": "1"}]})
    }

    #[test]
    fn parses_a_valid_body_in_order() {
        let mut body = valid();
        body["packages"] = json!([
            {"package_name": "b", "package_version": "1"},
            {"package_name": "a", "package_version": ""},
            {"package_name": "b", "package_version": "1"}
        ]);
        let parsed = InstanceBody::parse(body.to_string().as_bytes(), BodyOf::Post).unwrap();
        let names: Vec<_> = parsed.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["b", "a", "b"]);
        assert_eq!(parsed.account.as_str(), "123456789012");
    }

    #[test]
    fn names_the_offending_field() {
        let cases = [
            ("aws_account", json!(123456789012u64), "aws_account"),
            ("aws_account", json!("1234"), "aws_account"),
            ("aws_region", json!("nowhere"), "aws_region"),
            ("packages", json!({}), "packages"),
            ("packages", json!([1]), "packages[0]"),
            (
                "packages",
                json!([{"package_name": "x"}]),
                "packages[0].package_version",
            ),
            (
                "packages",
                json!([{"package_name": "x", "package_version": 1.5}]),
                "packages[0].package_version",
            ),
            (
                "packages",
                json!([{"package_name": "x", "package_version": "1", "arch": "x"}]),
                "packages[0].arch",
            ),
            ("surprise", json!(true), "surprise"),
        ];
        for (key, value, field) in cases {
            let mut body = valid();
            body[key] = value;
            assert_eq!(field_of(body), field, "{key}");
        }
        for &missing in POST_FIELDS {
            let mut body = valid();
            body.as_object_mut().unwrap().remove(missing);
            assert_eq!(field_of(body), missing);
        }
    }

    /// POST keeps the original's three fields; PUT may name the OS, both
    /// fields or neither.
    #[test]
    fn only_put_names_the_os() {
        let mut body = valid();
        body["platform_name"] = json!("Debian GNU/Linux");
        assert_eq!(field_of(body.clone()), "platform_name");
        assert_eq!(field_of_body(body.clone(), BodyOf::Put), "platform_version");
        body["platform_version"] = json!("12");
        let parsed = InstanceBody::parse(body.to_string().as_bytes(), BodyOf::Put).unwrap();
        let os = parsed.os.expect("the OS");
        assert_eq!(
            (os.name.as_str(), os.version.as_str()),
            ("Debian GNU/Linux", "12")
        );
        assert_eq!(os.release().map(|r| r.key()).as_deref(), Some("debian:12"));
        body.as_object_mut().unwrap().remove("platform_name");
        assert_eq!(field_of_body(body.clone(), BodyOf::Put), "platform_name");
        body["platform_name"] = json!(12);
        assert_eq!(field_of_body(body.clone(), BodyOf::Put), "platform_name");
        body["platform_name"] = json!("x".repeat(256));
        assert_eq!(field_of_body(body.clone(), BodyOf::Put), "platform_name");
        let parsed = InstanceBody::parse(valid().to_string().as_bytes(), BodyOf::Put).unwrap();
        assert_eq!(parsed.os, None);
    }

    #[test]
    fn rejects_non_objects_and_bad_json() {
        for bad in ["", "[]", "null", "{", "{\"aws_region\": }"] {
            assert!(matches!(
                InstanceBody::parse(bad.as_bytes(), BodyOf::Put),
                Err(ApiError::BadRequest(_))
            ));
        }
    }

    #[test]
    fn formats_times_like_mysql() {
        let t = Utc.with_ymd_and_hms(2019, 3, 6, 2, 45, 32).unwrap();
        assert_eq!(format_utc(&t), "2019-03-06 02:45:32.0");
        let t = t + chrono::Duration::microseconds(120_500);
        assert_eq!(format_utc(&t), "2019-03-06 02:45:32.1205");
        let t = t + chrono::Duration::nanoseconds(1);
        assert_eq!(format_utc(&t), "2019-03-06 02:45:32.120500001");
    }
}
