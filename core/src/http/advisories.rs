//! The vulnerability routes, with their answers' shapes: who an advisory
//! affects (`GET /advisories/{id}`), what affects one instance
//! (`GET /ec2/{id}/vulnerabilities`) and the fleet's advisories by reach
//! (`GET /vulnerabilities`). Each is one store query, 1 Data API call.

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use super::dto::format_utc;
use super::errors::ApiError;
use super::extract::{
    AdvisoryPath, InstancePath, OfAdvisory, OfFleet, OfInstance, Vulnerabilities,
};
use super::json;
use crate::query::{AdvisoryCount, AdvisoryRecord, AffectedPackage, Vulnerability};
use crate::store::Store;

/// An advisory as the answers show it.
#[serde_with::skip_serializing_none]
#[derive(Debug, Serialize)]
pub struct AdvisoryDto<'a> {
    pub advisory_id: &'a str,
    pub aliases: &'a [String],
    pub severity: &'static str,
    pub summary: Option<&'a str>,
    pub source: &'a str,
    pub published_date_utc: Option<String>,
    pub modified_date_utc: String,
    pub withdrawn_date_utc: Option<String>,
}

impl<'a> From<&'a AdvisoryRecord> for AdvisoryDto<'a> {
    fn from(a: &'a AdvisoryRecord) -> Self {
        Self {
            advisory_id: &a.id,
            aliases: &a.aliases,
            severity: a.severity.as_str(),
            summary: a.summary.as_deref(),
            source: &a.feed,
            published_date_utc: a.published.as_ref().map(format_utc),
            modified_date_utc: format_utc(&a.modified),
            withdrawn_date_utc: a.withdrawn.as_ref().map(format_utc),
        }
    }
}

/// One affected package of one instance; `fixed_version` is null when the
/// advisory has no fix.
#[derive(Debug, Serialize)]
pub struct AffectedDto<'a> {
    pub aws_instance_id: &'a str,
    pub package_name: &'a str,
    pub package_version: &'a str,
    pub fixed_version: Option<&'a str>,
    pub matched_by: &'a str,
    pub advisory_id: &'a str,
}

impl<'a> From<&'a AffectedPackage> for AffectedDto<'a> {
    fn from(a: &'a AffectedPackage) -> Self {
        Self {
            aws_instance_id: a.instance_id.as_str(),
            package_name: &a.package_name,
            package_version: &a.package_version,
            fixed_version: a.fixed_version.as_deref(),
            matched_by: &a.matched_by,
            advisory_id: &a.advisory_id,
        }
    }
}

/// `GET /advisories/{id}`. For an alias that several advisories share (a
/// CVE id), `advisory` is the most severe of them and `advisories` lists
/// them all; each affected row names its advisory.
#[derive(Debug, Serialize)]
pub struct AdvisoryAnswer<'a> {
    pub advisory: AdvisoryDto<'a>,
    pub advisories: Vec<AdvisoryDto<'a>>,
    pub affected: Vec<AffectedDto<'a>>,
    pub next_token: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct VulnerabilityDto<'a> {
    pub advisory_id: &'a str,
    pub aliases: &'a [String],
    pub severity: &'static str,
    pub package_name: &'a str,
    pub package_version: &'a str,
    pub fixed_version: Option<&'a str>,
    pub matched_by: &'a str,
}

impl<'a> From<&'a Vulnerability> for VulnerabilityDto<'a> {
    fn from(v: &'a Vulnerability) -> Self {
        Self {
            advisory_id: &v.advisory_id,
            aliases: &v.aliases,
            severity: v.severity.as_str(),
            package_name: &v.package_name,
            package_version: &v.package_version,
            fixed_version: v.fixed_version.as_deref(),
            matched_by: &v.matched_by,
        }
    }
}

/// `GET /ec2/{id}/vulnerabilities`, most severe first.
#[derive(Debug, Serialize)]
pub struct InstanceVulnerabilitiesAnswer<'a> {
    pub aws_instance_id: &'a str,
    pub vulnerabilities: Vec<VulnerabilityDto<'a>>,
    pub next_token: Option<&'a str>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Serialize)]
pub struct AdvisoryCountDto<'a> {
    pub advisory_id: &'a str,
    pub aliases: &'a [String],
    pub severity: &'static str,
    pub summary: Option<&'a str>,
    pub instances: u64,
}

impl<'a> From<&'a AdvisoryCount> for AdvisoryCountDto<'a> {
    fn from(a: &'a AdvisoryCount) -> Self {
        Self {
            advisory_id: &a.advisory_id,
            aliases: &a.aliases,
            severity: a.severity.as_str(),
            summary: a.summary.as_deref(),
            instances: a.instances,
        }
    }
}

/// `GET /vulnerabilities`: most severe, then most widespread first.
#[derive(Debug, Serialize)]
pub struct FleetVulnerabilitiesAnswer<'a> {
    pub advisories: Vec<AdvisoryCountDto<'a>>,
    pub next_token: Option<&'a str>,
    /// When the instance counts were taken (UTC, as the other times).
    pub counted_at: Option<String>,
}

pub(super) async fn advisory(
    State(store): State<Store>,
    AdvisoryPath(id): AdvisoryPath,
    q: Vulnerabilities<OfAdvisory>,
) -> Result<Response, ApiError> {
    let Some(page) = store.advisory(&id, &q.query()).await? else {
        return Err(ApiError::AdvisoryNotFound(id.chars().take(128).collect()));
    };
    let lead = page.lead().ok_or(ApiError::Internal(None))?;
    Ok(json(&AdvisoryAnswer {
        advisory: lead.into(),
        advisories: page.advisories.iter().map(AdvisoryDto::from).collect(),
        affected: page.affected.iter().map(AffectedDto::from).collect(),
        next_token: page.next_token.as_deref(),
    }))
}

pub(super) async fn instance_vulnerabilities(
    State(store): State<Store>,
    InstancePath(id): InstancePath,
    q: Vulnerabilities<OfInstance>,
) -> Result<Response, ApiError> {
    let page = store.instance_vulnerabilities(&id, &q.query()).await?;
    Ok(json(&InstanceVulnerabilitiesAnswer {
        aws_instance_id: id.as_str(),
        vulnerabilities: page
            .vulnerabilities
            .iter()
            .map(VulnerabilityDto::from)
            .collect(),
        next_token: page.next_token.as_deref(),
    }))
}

pub(super) async fn fleet_vulnerabilities(
    State(store): State<Store>,
    q: Vulnerabilities<OfFleet>,
) -> Result<Response, ApiError> {
    let page = store.fleet_vulnerabilities(&q.query()).await?;
    Ok(json(&FleetVulnerabilitiesAnswer {
        advisories: page.advisories.iter().map(AdvisoryCountDto::from).collect(),
        next_token: page.next_token.as_deref(),
        counted_at: page.counted_at.as_ref().map(format_utc),
    }))
}
