//! `/ui/advisories/{id}?aws_account=&aws_region=&state=`: one advisory, by
//! its id or an alias (a CVE id, which several advisories may share): what
//! it says, and the instances it affects with the installed and fixed
//! versions and how each was matched, a page at a time with the API's
//! tokens (`GET /advisories/{id}`'s parameters).

use axum::extract::{RawQuery, State};
use axum::response::Response;
use maud::{html, Markup};

use super::layout::{self, advisory_href, instance_href, package_href, when};
use super::vulnerabilities::{filter_fields, filter_params, page_size};
use super::{html, PageError};
use crate::http::extract::{form_vulnerabilities, AdvisoryPath, OfAdvisory};
use crate::http::ApiError;
use crate::query::{AdvisoryPage, AdvisoryRecord};
use crate::store::Store;

pub async fn view(
    State(store): State<Store>,
    path: Result<AdvisoryPath, ApiError>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let AdvisoryPath(id) = path?;
    let q = form_vulnerabilities::<OfAdvisory>(raw.as_deref())?;
    let Some(page) = store.advisory(&id, &q).await? else {
        return Err(PageError::NotFound(format!(
            "No advisory has the id or alias {id}: it is not in the imported feeds."
        )));
    };
    let lead = page.lead().ok_or(ApiError::Internal(None))?;
    let size = page_size(&q);
    let mut params = filter_params(&q, size.as_deref());
    params.push(("next_token", q.next_token.as_deref()));
    let filtered = q.account.is_some() || q.region.is_some() || q.state.is_some();
    let several = page.advisories.len() > 1;
    let body = html! {
        @if several {
            p #shared {
                (id) " names " (page.advisories.len()) " advisories; the most severe, "
                a href=(advisory_href(&lead.id)) { (lead.id) } ", leads."
            }
        }
        // The lead first, then the others by id.
        (advisory(lead, several))
        @for other in page.advisories.iter().filter(|a| a.id != lead.id) {
            (advisory(other, true))
        }
        section #affected {
            h2 { "Affected instances" }
            form.filters action=(advisory_href(&id)) method="get" {
                (filter_fields(&q))
                button type="submit" { "Filter" }
                a href=(advisory_href(&id)) { "clear" }
            }
            (affected(&page, several, filtered, q.next_token.is_some()))
            (layout::next_page(&advisory_href(&id), &params, page.next_token.as_deref()))
        }
    };
    Ok(html(layout::page(&id, body)))
}

/// What an advisory says; `heading` names it above (for one of several).
fn advisory(a: &AdvisoryRecord, heading: bool) -> Markup {
    html! {
        section.advisory data-advisory=(a.id) {
            @if heading {
                h2 { a href=(advisory_href(&a.id)) { (a.id) } }
            }
            @if let Some(summary) = &a.summary {
                p.summary { (summary) }
            }
            dl.details {
                dt { "severity" } dd.severity { (layout::severity(a.severity)) }
                dt { "aliases" }
                dd.aliases {
                    @if a.aliases.is_empty() { span.muted { "none" } }
                    (layout::aliases(&a.aliases))
                }
                dt { "source" } dd { (a.feed) }
                @if let Some(t) = &a.published { dt { "published" } dd { (when(t)) } }
                dt { "modified" } dd { (when(&a.modified)) }
                @if let Some(t) = &a.withdrawn {
                    dt { "withdrawn" } dd.withdrawn { (when(t)) " — it affects nobody since" }
                }
            }
        }
    }
}

/// The page of affected packages; `several` adds the advisory of each row.
fn affected(page: &AdvisoryPage, several: bool, filtered: bool, later: bool) -> Markup {
    html! {
        @if page.affected.is_empty() {
            p.empty #nobody {
                @if later {
                    "No more affected instances."
                } @else if filtered {
                    "No instance that matches these filters is affected."
                } @else {
                    "No instance is affected: no recorded package is in an affected version."
                }
            }
        } @else {
            table #affected-list {
                thead {
                    tr {
                        th scope="col" { "instance" }
                        @if several { th scope="col" { "advisory" } }
                        th scope="col" { "package" }
                        th scope="col" { "installed" }
                        th scope="col" { "fixed in" }
                        th scope="col" { "matched by" }
                    }
                }
                tbody {
                    @for a in &page.affected {
                        tr {
                            td.mono { a href=(instance_href(&a.instance_id)) { (a.instance_id.as_str()) } }
                            @if several {
                                td.mono { a href=(advisory_href(&a.advisory_id)) { (a.advisory_id) } }
                            }
                            td { a href=(package_href(&a.package_name)) { (a.package_name) } }
                            td.mono.installed { (a.package_version) }
                            td.mono.fixed { (layout::fixed_version(a.fixed_version.as_deref())) }
                            td.matched { (a.matched_by) }
                        }
                    }
                }
            }
            p.muted #shown { (page.affected.len()) " affected packages on this page." }
        }
    }
}
