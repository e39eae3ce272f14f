//! `/ui/instances/{id}?filter=…&next_token=…`: one instance. Its details
//! and tags, its vulnerabilities (a page at a time with
//! `GET /ec2/{id}/vulnerabilities`'s `limit` and `next_token`), its packages
//! (narrowed by `filter`, a part of the name, on the server; as one types
//! with the script) and its latest changes as a timeline.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use maud::{html, Markup};

use super::layout::{self, advisory_href, history_href, instance_href, number, package_href, when};
use super::search::state;
use super::vulnerabilities::page_size;
use super::{html, PageError};
use crate::http::extract::{form_instance, InstancePath};
use crate::http::ApiError;
use crate::model::InstanceRecord;
use crate::query::{HistoryQuery, VulnerabilityPage, VulnerabilityQuery};
use crate::store::Store;

/// Changes shown on the instance's page; the rest on its history page.
const RECENT: u32 = 20;

pub async fn view(
    State(store): State<Store>,
    path: Result<InstancePath, ApiError>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let InstancePath(id) = path?;
    let (filter, vulnerable) = form_instance(raw.as_deref())?;
    let recent = HistoryQuery {
        limit: RECENT,
        ..HistoryQuery::default()
    };
    let (record, history, vulnerabilities) = futures::try_join!(
        store.get_instance(&id),
        store.instance_history(&id, &recent),
        store.instance_vulnerabilities(&id, &vulnerable),
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
        section #vulnerabilities {
            h2 { "Vulnerabilities" }
            (vulnerabilities_of(&record, &vulnerabilities, &vulnerable, filter.trim()))
        }
        section #packages {
            h2 { "Packages" }
            (packages(&record, filter.trim()))
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

/// A page of the advisories that affect the instance's packages, most
/// severe first; the next page keeps the package filter.
fn vulnerabilities_of(
    r: &InstanceRecord,
    page: &VulnerabilityPage,
    q: &VulnerabilityQuery,
    filter: &str,
) -> Markup {
    let size = page_size(q);
    let params = [
        ("filter", Some(filter).filter(|f| !f.is_empty())),
        ("limit", size.as_deref()),
    ];
    let path = instance_href(&r.instance.id);
    html! {
        @if page.vulnerabilities.is_empty() {
            p.empty #no-vulnerabilities {
                @if q.next_token.is_some() {
                    "No more vulnerabilities."
                } @else if r.os_release.is_none() {
                    "None known: the instance's OS release is not recorded, so no advisory \
                     applies to it."
                } @else {
                    "No imported advisory affects its packages."
                }
            }
        } @else {
            table #vulnerability-list {
                thead {
                    tr {
                        th scope="col" { "severity" }
                        th scope="col" { "advisory" }
                        th scope="col" { "aliases" }
                        th scope="col" { "package" }
                        th scope="col" { "installed" }
                        th scope="col" { "fixed in" }
                    }
                }
                tbody {
                    @for v in &page.vulnerabilities {
                        tr data-advisory=(v.advisory_id) {
                            td { (layout::severity(v.severity)) }
                            td.mono { a.advisory href=(advisory_href(&v.advisory_id)) { (v.advisory_id) } }
                            td.mono { (layout::aliases(&v.aliases)) }
                            td { a href=(package_href(&v.package_name)) { (v.package_name) } }
                            td.mono.installed { (v.package_version) }
                            td.mono.fixed { (layout::fixed_version(v.fixed_version.as_deref())) }
                        }
                    }
                }
            }
            p.muted { (page.vulnerabilities.len()) " on this page." }
            (layout::next_page_at(&path, &params, page.next_token.as_deref(), Some("vulnerabilities")))
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
