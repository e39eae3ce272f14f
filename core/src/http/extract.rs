//! The extractors that turn a request into validated input: the path's
//! instance id or package name, the search's query string, the JSON body
//! (with the id, the instance it describes). Each fails with an [`ApiError`]
//! naming what is wrong, never with one of axum's plain-text rejections.
//!
//! Paths and query strings are decoded strictly: axum's `Path` and `Query`
//! pass a malformed `%` escape on as is (and `Query` replaces invalid UTF-8),
//! where the API answers 400.

use std::borrow::Cow;

use axum::body::Bytes;
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use percent_encoding::percent_decode_str;

use super::dto::{BodyOf, InstanceBody};
use super::errors::ApiError;
use crate::advisories::Severity;
use crate::model::{
    check_package_name, check_package_version, Account, Instance, InstanceId, InstanceState,
    Region, ValidationError,
};
use crate::query::{
    parse_search_limit, HistoryQuery, ScopesQuery, SearchQuery, VulnerabilityQuery,
};
use crate::version::Bound;

/// The query parameters `GET /ec2` accepts.
pub const SEARCH_PARAMS: [&str; 11] = [
    "package_name",
    "package_version",
    "version_lt",
    "version_le",
    "version_gt",
    "version_ge",
    "aws_account",
    "aws_region",
    "state",
    "limit",
    "next_token",
];

/// The `{id}` of `/ec2/{id}`, decoded and validated.
#[derive(Debug)]
pub struct InstancePath(pub InstanceId);

impl<S: Send + Sync> FromRequestParts<S> for InstancePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let id = path_param(parts, state, "aws_instance_id").await?;
        Ok(Self(InstanceId::parse(&id)?))
    }
}

/// What `/packages/{*rest}` asks for, the name decoded and validated: the
/// versions of the package, or with a trailing `/history` its history. A
/// name that itself ends in `/history` writes its slash as `%2F`.
#[derive(Debug)]
pub enum PackagePath {
    Versions(String),
    History(String),
}

impl<S: Send + Sync> FromRequestParts<S> for PackagePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let name = path_param(parts, state, "package_name").await?;
        // The path as sent: an encoded `%2F` does not end it in `/history`.
        let history = parts.uri.path().ends_with("/history");
        match name
            .strip_suffix("/history")
            .filter(|n| history && !n.is_empty())
        {
            Some(name) => Ok(Self::History(package_name(name)?)),
            None => Ok(Self::Versions(package_name(&name)?)),
        }
    }
}

/// A whole package name from a catch-all path (`/ui/packages/{*name}`),
/// decoded and validated; `/` in it raw or as `%2F`.
#[derive(Debug)]
pub struct PackageNamePath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PackageNamePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let name = path_param(parts, state, "package_name").await?;
        Ok(Self(package_name(&name)?))
    }
}

/// The route's one parameter, decoded; `what` names it in error messages.
async fn path_param<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    what: &str,
) -> Result<String, ApiError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|rejection| match rejection {
            // axum checks every parameter's UTF-8 when it routes.
            RawPathParamsRejection::InvalidUtf8InPathParam(_) => not_utf8(what),
            _ => ApiError::Internal(None),
        })?;
    match params.iter().next() {
        Some((_, raw)) => decode(raw, false, what),
        // Only routes with a parameter use these extractors.
        None => Err(ApiError::Internal(None)),
    }
}

fn not_utf8(what: &str) -> ApiError {
    ApiError::BadRequest(format!("{what}: not valid UTF-8 once decoded"))
}

/// `GET /ec2`'s query string as the store's search.
#[derive(Debug)]
pub struct Search(pub SearchQuery);

impl<S: Send + Sync> FromRequestParts<S> for Search {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        search_query(parts.uri.query()).map(Self)
    }
}

/// The query string of a history route as its page.
#[derive(Debug)]
pub struct History(pub HistoryQuery);

impl<S: Send + Sync> FromRequestParts<S> for History {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        history_query(parts.uri.query()).map(Self)
    }
}

/// The `{id}` of `/advisories/{id}`: an advisory id or an alias (a CVE id),
/// 1 to 128 printable characters.
#[derive(Debug)]
pub struct AdvisoryPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for AdvisoryPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let id = path_param(parts, state, "advisory_id").await?;
        let chars = id.chars().count();
        if !(1..=MAX_ADVISORY_ID_LEN).contains(&chars) || id.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "advisory_id",
                format!("must be 1 to {MAX_ADVISORY_ID_LEN} printable characters"),
            )
            .into());
        }
        Ok(Self(id))
    }
}

const MAX_ADVISORY_ID_LEN: usize = 128;

/// The query string of a vulnerability route: the page, and the filters
/// the route takes (`T` names them).
#[derive(Debug)]
pub struct Vulnerabilities<T>(pub VulnerabilityQuery, std::marker::PhantomData<T>);

impl<T> Vulnerabilities<T> {
    pub fn query(self) -> VulnerabilityQuery {
        self.0
    }
}

/// Which query parameters a vulnerability route takes.
pub trait VulnerabilityParams {
    const PARAMS: &'static [&'static str];
}

/// `GET /ec2/{id}/vulnerabilities`: the page only.
#[derive(Debug)]
pub enum OfInstance {}

impl VulnerabilityParams for OfInstance {
    const PARAMS: &'static [&'static str] = &["limit", "next_token"];
}

/// `GET /advisories/{id}`: the instances' account, region and state.
#[derive(Debug)]
pub enum OfAdvisory {}

impl VulnerabilityParams for OfAdvisory {
    const PARAMS: &'static [&'static str] =
        &["aws_account", "aws_region", "state", "limit", "next_token"];
}

/// `GET /vulnerabilities`: those and the advisories' severity.
#[derive(Debug)]
pub enum OfFleet {}

impl VulnerabilityParams for OfFleet {
    const PARAMS: &'static [&'static str] = &[
        "severity",
        "aws_account",
        "aws_region",
        "state",
        "limit",
        "next_token",
    ];
}

impl<S: Send + Sync, T: VulnerabilityParams> FromRequestParts<S> for Vulnerabilities<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        vulnerability_query(parts.uri.query(), T::PARAMS).map(|q| Self(q, std::marker::PhantomData))
    }
}

fn vulnerability_query(raw: Option<&str>, params: &[&str]) -> Result<VulnerabilityQuery, ApiError> {
    vulnerability_from(parse_query(raw)?, params)
}

/// A vulnerability view of the page (`/ui/vulnerabilities`,
/// `/ui/advisories/{id}`): the API's parameters for `T`, without those a
/// form left empty.
pub fn form_vulnerabilities<T: VulnerabilityParams>(
    raw: Option<&str>,
) -> Result<VulnerabilityQuery, ApiError> {
    vulnerability_from(form_pairs(raw)?, T::PARAMS)
}

/// The page's instance view (`/ui/instances/{id}`): `filter` (a part of a
/// package name, `""` when absent) and the page of its vulnerabilities.
pub fn form_instance(raw: Option<&str>) -> Result<(String, VulnerabilityQuery), ApiError> {
    const PARAMS: [&str; 3] = ["filter", "limit", "next_token"];
    let mut filter = String::new();
    let mut rest = Vec::new();
    for (key, value) in form_pairs(raw)? {
        match key.as_str() {
            "filter" => filter = value,
            "limit" | "next_token" => rest.push((key, value)),
            _ => return Err(unknown_param(&key, &PARAMS)),
        }
    }
    Ok((filter, vulnerability_from(rest, OfInstance::PARAMS)?))
}

fn vulnerability_from(
    pairs: Vec<(String, String)>,
    params: &[&str],
) -> Result<VulnerabilityQuery, ApiError> {
    let mut q = VulnerabilityQuery::default();
    for (key, value) in pairs {
        if !params.contains(&key.as_str()) {
            return Err(unknown_param(&key, params));
        }
        match key.as_str() {
            "severity" => {
                q.severity = Some(value.parse::<Severity>().map_err(|_| {
                    ValidationError::new(
                        "severity",
                        "must be one of critical, high, medium, low, unknown",
                    )
                })?)
            }
            "aws_account" => q.account = Some(Account::parse(&value)?),
            "aws_region" => q.region = Some(Region::parse(&value)?),
            "state" => q.state = Some(value.parse::<InstanceState>()?),
            "limit" => q.limit = parse_search_limit(&value)?,
            _ => q.next_token = Some(value),
        }
    }
    q.validate()?;
    Ok(q)
}

/// The query string of `GET /accounts` as its page.
#[derive(Debug)]
pub struct Scopes(pub ScopesQuery);

impl<S: Send + Sync> FromRequestParts<S> for Scopes {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let mut q = ScopesQuery::default();
        for (key, value) in parse_query(parts.uri.query())? {
            match key.as_str() {
                "limit" => q.limit = parse_search_limit(&value)?,
                "next_token" => q.next_token = Some(value),
                _ => return Err(unknown_param(&key, &SCOPES_PARAMS)),
            }
        }
        Ok(Self(q))
    }
}

/// The query parameters `GET /accounts` accepts.
pub const SCOPES_PARAMS: [&str; 2] = ["limit", "next_token"];

/// The query parameters the history routes accept.
pub const HISTORY_PARAMS: [&str; 6] = [
    "since",
    "until",
    "aws_account",
    "aws_region",
    "limit",
    "next_token",
];

fn history_query(raw: Option<&str>) -> Result<HistoryQuery, ApiError> {
    history_from(parse_query(raw)?)
}

/// What a history page shows: one instance's, one package's or the fleet's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistorySubject {
    Instance(InstanceId),
    Package(String),
    Fleet,
}

/// The page's history (`/ui/history`): `instance` or `package` (neither: the
/// fleet's) and the API's history parameters; fields a form left empty are
/// absent.
pub fn form_history(raw: Option<&str>) -> Result<(HistorySubject, HistoryQuery), ApiError> {
    let mut subject = HistorySubject::Fleet;
    let mut rest = Vec::new();
    for (key, value) in form_pairs(raw)? {
        match key.as_str() {
            "instance" | "package" if subject != HistorySubject::Fleet => {
                return Err(ApiError::BadRequest(
                    "give one of instance and package".into(),
                ))
            }
            "instance" => subject = HistorySubject::Instance(InstanceId::parse(&value)?),
            "package" => subject = HistorySubject::Package(package_name(&value)?),
            _ => rest.push((key, value)),
        }
    }
    Ok((subject, history_from(rest)?))
}

/// The page's search (`/ui/search`): the API's parameters, without those a
/// form left empty.
pub fn form_search(raw: Option<&str>) -> Result<SearchQuery, ApiError> {
    search_from(form_pairs(raw)?)
}

/// A form's query string: a field left empty is not sent.
fn form_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let mut pairs = parse_query(raw)?;
    pairs.retain(|(_, value)| !value.trim().is_empty());
    Ok(pairs)
}

fn history_from(pairs: Vec<(String, String)>) -> Result<HistoryQuery, ApiError> {
    let mut q = HistoryQuery::default();
    for (key, value) in pairs {
        match key.as_str() {
            "since" => q.since = Some(parse_utc("since", &value)?),
            "until" => q.until = Some(parse_utc("until", &value)?),
            "aws_account" => q.account = Some(Account::parse(&value)?),
            "aws_region" => q.region = Some(Region::parse(&value)?),
            "limit" => q.limit = parse_search_limit(&value)?,
            "next_token" => q.next_token = Some(value),
            _ => return Err(unknown_param(&key, &HISTORY_PARAMS)),
        }
    }
    q.validate()?;
    Ok(q)
}

/// A time in a query: RFC 3339 (`2026-11-24T10:00:00Z`), or UTC as
/// `2026-11-24 10:00:00[.f]` (the answers' format) or `2026-11-24`.
fn parse_utc(field: &str, raw: &str) -> Result<DateTime<Utc>, ValidationError> {
    let raw = raw.trim();
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        })
        .filter(|t| (1000..=9999).contains(&t.year()))
        .ok_or_else(|| {
            ValidationError::new(
                field,
                "must be a time such as 2026-11-24T10:00:00Z, 2026-11-24 10:00:00 or 2026-11-24, \
                 in the years 1000 to 9999",
            )
        })
}

fn unknown_param(key: &str, expected: &[&str]) -> ApiError {
    let shown: String = key.chars().take(64).collect();
    ValidationError::new(
        shown,
        format!("unknown query parameter; expected {}", expected.join(", ")),
    )
    .into()
}

/// `POST` and `PUT /ec2/{id}`: the instance the caller describes. The id is
/// validated before the body is parsed.
#[derive(Debug)]
pub struct DescribedInstance(pub Instance);

impl<S: Send + Sync> FromRequest<S> for DescribedInstance {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let InstancePath(id) = InstancePath::from_request_parts(&mut parts, state).await?;
        let of = if parts.method == Method::PUT {
            BodyOf::Put
        } else {
            BodyOf::Post
        };
        let body = read_body(Request::from_parts(parts, body), state).await?;
        let body = InstanceBody::parse(&body, of)?;
        Ok(Self(body.into_instance(id)))
    }
}

/// The body of `POST` and `PUT /ec2/{id}`: a JSON content type or none
/// (415). The router has read it whole, and refused one over
/// [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES) (413); then
/// [`InstanceBody::parse`].
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    let content_type = json_content_type(req.headers());
    // Read whole by the router's `whole_body`, within the limit.
    let body = Bytes::from_request(req, state)
        .await
        .map_err(|_| ApiError::Internal(None))?;
    content_type?;
    Ok(body)
}

/// A missing content type is accepted (the original sample did not look at it).
fn json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(
            text.chars().take(100).collect(),
        ))
    }
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`, as in query
/// strings) into UTF-8. `what` names the input in the error message.
fn decode(raw: &str, plus_is_space: bool, what: &str) -> Result<String, ApiError> {
    let well_formed = raw.split('%').skip(1).all(|after| {
        after
            .as_bytes()
            .get(..2)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return Err(ApiError::BadRequest(format!(
            "{what}: malformed percent-encoding"
        )));
    }
    let raw: Cow<str> = if plus_is_space {
        raw.replace('+', " ").into()
    } else {
        raw.into()
    };
    percent_decode_str(&raw)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| not_utf8(what))
}

/// Splits `a=1&b=2` into decoded pairs; a key without `=` has an empty value.
/// A key given twice is an error: which of the values would win is ambiguous.
fn parse_query(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for piece in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
        let key = decode(key, true, "query parameter name")?;
        let value = decode(value, true, &key)?;
        if pairs.iter().any(|(k, _)| *k == key) {
            return Err(ApiError::BadRequest(format!("{key}: given more than once")));
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// Builds the store's search from `GET /ec2`'s query string.
fn search_query(raw: Option<&str>) -> Result<SearchQuery, ApiError> {
    search_from(parse_query(raw)?)
}

fn search_from(pairs: Vec<(String, String)>) -> Result<SearchQuery, ApiError> {
    let mut q = SearchQuery::default();
    for (key, value) in pairs {
        match key.as_str() {
            "package_name" => q.package_name = Some(package_name(&value)?),
            // May be empty: SSM reports some packages without a version.
            "package_version" => q.package_version = Some(package_version(&value)?),
            "version_lt" | "version_le" => {
                let bound = version_bound(&key, &value, key == "version_le")?;
                if q.version_range.upper.replace(bound).is_some() {
                    return Err(one_bound_error(&key, "version_lt", "version_le"));
                }
            }
            "version_gt" | "version_ge" => {
                let bound = version_bound(&key, &value, key == "version_ge")?;
                if q.version_range.lower.replace(bound).is_some() {
                    return Err(one_bound_error(&key, "version_gt", "version_ge"));
                }
            }
            "aws_account" => q.account = Some(Account::parse(&value)?),
            "aws_region" => q.region = Some(Region::parse(&value)?),
            "state" => q.state = Some(value.parse::<InstanceState>()?),
            "limit" => q.limit = parse_search_limit(&value)?,
            "next_token" => q.next_token = Some(value),
            _ => return Err(unknown_param(&key, &SEARCH_PARAMS)),
        }
    }
    q.validate()?;
    Ok(q)
}

/// A bound of a version range: a version as `package_version` takes it,
/// but not empty.
fn version_bound(field: &str, raw: &str, inclusive: bool) -> Result<Bound, ValidationError> {
    let version = package_version(raw).map_err(|e| ValidationError::new(field, e.message))?;
    if version.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    Ok(Bound { version, inclusive })
}

fn one_bound_error(field: &str, exclusive: &str, inclusive: &str) -> ApiError {
    ValidationError::new(field, format!("give one of {exclusive} and {inclusive}")).into()
}

/// A package name from a path or query.
fn package_name(name: &str) -> Result<String, ValidationError> {
    check_package_name("package_name", name)?;
    Ok(name.to_owned())
}

/// A package version from a query, maybe empty.
fn package_version(version: &str) -> Result<String, ValidationError> {
    check_package_version("package_version", version)?;
    Ok(version.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(raw: &str) -> String {
        match search_query(Some(raw)).unwrap_err() {
            ApiError::Validation(v) => v.field,
            other => panic!("{raw}: not a validation error: {other}"),
        }
    }

    #[test]
    fn builds_search_queries() {
        let q = search_query(Some(
            "package_name=open+ssl&package_version=&aws_account=123456789012\
             &aws_region=eu-west-1&state=shutting-down&limit=7&next_token=abc",
        ))
        .unwrap();
        assert_eq!(q.package_name.as_deref(), Some("open ssl"));
        assert_eq!(q.package_version.as_deref(), Some(""));
        assert_eq!(q.account.unwrap().as_str(), "123456789012");
        assert_eq!(q.region.unwrap().as_str(), "eu-west-1");
        assert_eq!(q.state, Some(InstanceState::ShuttingDown));
        assert_eq!((q.limit, q.next_token.as_deref()), (7, Some("abc")));
        assert_eq!(search_query(None).unwrap(), SearchQuery::default());
    }

    #[test]
    fn search_errors_name_the_parameter() {
        for (raw, field) in [
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("limit=-1", "limit"),
            ("limit=ten", "limit"),
            ("package_version=1", "package_version"),
            ("package_name=", "package_name"),
            ("aws_account=1", "aws_account"),
            ("aws_region=moon", "aws_region"),
            ("state=rebooting", "state"),
            ("colour=red", "colour"),
            ("package_name=a%00b", "package_name"),
            ("package_name=a&package_version=%00", "package_version"),
        ] {
            assert_eq!(field_of(raw), field, "{raw}");
        }
        assert!(search_query(Some("limit=1000")).is_ok());
    }

    #[test]
    fn vulnerability_queries_take_only_their_routes_parameters() {
        let q = vulnerability_query(
            Some("severity=high&aws_account=123456789012&state=running&limit=5"),
            OfFleet::PARAMS,
        )
        .unwrap();
        assert_eq!(q.severity, Some(Severity::High));
        assert_eq!((q.state, q.limit), (Some(InstanceState::Running), 5));
        for (raw, params, field) in [
            ("severity=urgent", OfFleet::PARAMS, "severity"),
            ("severity=high", OfAdvisory::PARAMS, "severity"),
            ("aws_region=eu-west-1", OfInstance::PARAMS, "aws_region"),
            ("limit=0", OfInstance::PARAMS, "limit"),
            ("state=asleep", OfAdvisory::PARAMS, "state"),
        ] {
            match vulnerability_query(Some(raw), params).unwrap_err() {
                ApiError::Validation(v) => assert_eq!(v.field, field, "{raw}"),
                other => panic!("{raw}: {other}"),
            }
        }
    }

    #[test]
    fn page_forms_drop_empty_fields_and_name_bad_ones() {
        let q =
            form_vulnerabilities::<OfFleet>(Some("severity=&aws_region=eu-west-1&state=")).unwrap();
        assert_eq!((q.severity, q.state), (None, None));
        assert_eq!(q.region.unwrap().as_str(), "eu-west-1");
        let (filter, q) = form_instance(Some("filter=ssl&limit=5&next_token=")).unwrap();
        assert_eq!((filter.as_str(), q.limit, q.next_token), ("ssl", 5, None));
        assert_eq!(form_instance(None).unwrap().0, "");
        for (result, field) in [
            (form_instance(Some("limit=0")).map(|_| ()), "limit"),
            (form_instance(Some("severity=high")).map(|_| ()), "severity"),
            (
                form_vulnerabilities::<OfAdvisory>(Some("severity=high")).map(|_| ()),
                "severity",
            ),
        ] {
            match result.unwrap_err() {
                ApiError::Validation(v) => assert_eq!(v.field, field),
                other => panic!("{field}: {other}"),
            }
        }
    }

    #[test]
    fn decodes_escapes_and_unicode() {
        assert_eq!(decode("a%2Fb%3Ac", false, "x").unwrap(), "a/b:c");
        assert_eq!(decode("caf%C3%A9+1", false, "x").unwrap(), "café+1");
        assert_eq!(decode("caf%C3%A9+1", true, "x").unwrap(), "café 1");
        assert_eq!(decode("%e2%9c%93", false, "x").unwrap(), "✓");
    }

    #[test]
    fn rejects_bad_escapes() {
        for bad in ["%", "%2", "%zz", "a%C3", "%FF", "%2é"] {
            let err = decode(bad, false, "segment").unwrap_err();
            assert!(err.to_string().starts_with("segment: "), "{bad}: {err}");
        }
    }

    #[test]
    fn parses_queries() {
        let pairs = parse_query(Some("a=1&&b=x+y%26z&c")).unwrap();
        let expect = [("a", "1"), ("b", "x y&z"), ("c", "")];
        assert_eq!(pairs.len(), expect.len());
        for ((k, v), (ek, ev)) in pairs.iter().zip(expect) {
            assert_eq!((k.as_str(), v.as_str()), (ek, ev));
        }
        assert!(parse_query(None).unwrap().is_empty());
        let err = parse_query(Some("a=1&a=2")).unwrap_err();
        assert_eq!(err.to_string(), "a: given more than once");
    }
}
