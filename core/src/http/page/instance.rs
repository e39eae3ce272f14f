//! `/ui/instances/{id}?filter=…`: one instance. Its details and tags, its
//! packages (narrowed by `filter`, a part of the name, on the server; as one
//! types with the script), and its latest changes as a timeline.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{self, history_href, number, package_href, when};
use super::search::state;
use super::{html, PageError};
use crate::http::extract::InstancePath;
use crate::http::ApiError;
use crate::model::InstanceRecord;
use crate::query::HistoryQuery;
use crate::store::Store;
use crate::usecases::{instances, queries};

/// Changes shown on the instance's page; the rest on its history page.
const RECENT: u32 = 20;

/// The instance page's one parameter.
#[derive(Debug, Deserialize)]
pub struct InstanceFilter {
    /// Packages whose name contains this (case-insensitive).
    #[serde(default)]
    filter: String,
}

pub async fn view(
    State(store): State<Store>,
    path: Result<InstancePath, ApiError>,
    filter: Result<Query<InstanceFilter>, QueryRejection>,
) -> Result<Response, PageError> {
    let InstancePath(id) = path?;
    let Query(filter) = filter.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let recent = HistoryQuery {
        limit: RECENT,
        ..HistoryQuery::default()
    };
    let (record, history) = futures::try_join!(
        instances::get(&store, &id),
        queries::instance_history(&store, &id, &recent),
    )?;
    let Some(record) = record else {
        let body = html! {
            p { "No instance " code { (id.as_str()) } " is recorded." }
            @if !history.changes.is_empty() {
                p { "Its changes stay until the retention prunes them:" }
                (layout::timeline(&history.changes, false, true))
            }
        };
        let mut response = html(layout::page(id.as_str(), body));
        *response.status_mut() = axum::http::StatusCode::NOT_FOUND;
        return Ok(response);
    };
    let more = history_href(&[("instance", Some(id.as_str()))]);
    let body = html! {
        div.grid {
            section #details {
                h2 { "Details" }
                (details(&record))
            }
            section #tags {
                h2 { "Tags" }
                (tags(&record))
            }
        }
        section #packages {
            h2 { "Packages" }
            (packages(&record, filter.filter.trim()))
        }
        section #history {
            h2 { "Latest changes" }
            (layout::timeline(&history.changes, false, true))
            p.more { a href=(more) { "The whole history →" } }
        }
    };
    Ok(html(layout::page(id.as_str(), body)))
}

fn details(r: &InstanceRecord) -> Markup {
    let i = &r.instance;
    let d = &i.details;
    html! {
        dl.details {
            dt { "state" } dd #state { (state(i.state)) }
            dt { "account" } dd { (i.account.as_str()) }
            dt { "region" } dd { (i.region.as_str()) }
            @if let Some(v) = &d.platform { dt { "platform" } dd { (v) } }
            @if let Some(v) = &d.instance_type { dt { "type" } dd { (v) } }
            @if let Some(v) = &d.image_id { dt { "image" } dd { (v) } }
            @if let Some(t) = &d.launch_time { dt { "launched" } dd { (when(t)) } }
            dt { "recorded" } dd { (when(&r.created)) }
            dt { "updated" } dd { (when(&r.updated)) " by " (i.source.as_str()) }
            @if let Some(t) = &r.inventory_captured_at {
                dt { "inventory captured" } dd { (when(t)) }
            }
            @if let Some(t) = &r.terminated { dt { "terminated" } dd { (when(t)) } }
        }
    }
}

fn tags(r: &InstanceRecord) -> Markup {
    let tags = &r.instance.details.tags;
    html! {
        @if tags.is_empty() {
            p.empty { "No tags." }
        } @else {
            dl.details {
                @for (key, value) in tags { dt { (key) } dd { (value) } }
            }
        }
    }
}

fn packages(r: &InstanceRecord, filter: &str) -> Markup {
    let all = &r.instance.packages;
    let needle = filter.to_lowercase();
    let shown: Vec<_> = all
        .iter()
        .filter(|p| needle.is_empty() || p.name.to_lowercase().contains(&needle))
        .collect();
    html! {
        form.filters method="get" {
            label { "name contains"
                input type="search" name="filter" value=(filter) data-filters="#package-list";
            }
            button type="submit" { "Filter" }
            span.muted {
                span data-shown { (number(shown.len() as u64)) } " of " (number(all.len() as u64))
                " packages"
            }
        }
        table #package-list {
            thead {
                tr {
                    th scope="col" { "package" }
                    th scope="col" { "version" }
                    th scope="col" { "architecture" }
                }
            }
            tbody {
                @for p in &shown {
                    tr data-name=(p.name) {
                        td { a href=(package_href(&p.name)) { (p.name) } }
                        td.mono { (p.version) }
                        td { (p.architecture.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
    }
}
