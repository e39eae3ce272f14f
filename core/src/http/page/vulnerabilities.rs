//! `/ui/vulnerabilities?severity=&aws_account=&aws_region=&state=`: the
//! fleet's advisories with the number of instances each affects, most
//! severe then most widespread first, a page at a time with the API's
//! tokens (`GET /vulnerabilities`'s parameters). Also the filters the
//! advisory view shares with it.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use maud::{html, Markup};

use super::layout::{self, advisory_href, number, vulnerabilities_href};
use super::{html, PageError};
use crate::advisories::Severity;
use crate::http::extract::{form_vulnerabilities, OfFleet};
use crate::query::{AdvisoryCount, VulnerabilityQuery};
use crate::store::Store;

pub async fn view(
    State(store): State<Store>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let q = form_vulnerabilities::<OfFleet>(raw.as_deref())?;
    let page = store.fleet_vulnerabilities(&q).await?;
    let size = page_size(&q);
    let mut params = vec![("severity", q.severity.map(Severity::as_str))];
    params.extend(filter_params(&q, size.as_deref()));
    let title = match q.severity {
        Some(s) => format!("Advisories of {s} severity in the fleet"),
        None => "Advisories in the fleet".to_owned(),
    };
    let body = html! {
        form.filters action="/ui/vulnerabilities" method="get" {
            label { "severity"
                select name="severity" {
                    option value="" { "any" }
                    @for s in Severity::ALL {
                        option value=(s.as_str()) selected[q.severity == Some(s)] { (s.as_str()) }
                    }
                }
            }
            (filter_fields(&q))
            button type="submit" { "Show" }
            a href=(vulnerabilities_href(&[])) { "clear" }
        }
        p.muted {
            "Each advisory with the number of instances it affects (their packages in their OS \
             release), most severe first. Terminated instances count only when the state asks \
             for them."
        }
        (advisory_counts(&page.advisories, &q, true))
        (layout::counted(page.counted_at.as_ref()))
        (layout::next_page("/ui/vulnerabilities", &params, page.next_token.as_deref()))
    };
    Ok(html(layout::page(&title, body)))
}

/// Advisories with their instance counts, each a link to its view with the
/// same instance filters; `summaries` adds each one's summary.
pub fn advisory_counts(list: &[AdvisoryCount], q: &VulnerabilityQuery, summaries: bool) -> Markup {
    let max = list.iter().map(|a| a.instances).max().unwrap_or(0).max(1);
    // The advisory view pages its instances, not these advisories: no size.
    let filters = filter_params(q, None);
    html! {
        table.counts.advisories {
            thead {
                tr {
                    th scope="col" { "severity" }
                    th scope="col" { "advisory" }
                    th scope="col" { "aliases" }
                    @if summaries { th scope="col" { "summary" } }
                    th.n scope="col" { "instances" }
                    th {}
                }
            }
            tbody {
                @for a in list {
                    tr data-advisory=(a.advisory_id) {
                        td { (layout::severity(a.severity)) }
                        td.mono {
                            a.advisory href=(layout::href(&advisory_href(&a.advisory_id), &filters)) {
                                (a.advisory_id)
                            }
                        }
                        td.mono { (layout::aliases(&a.aliases)) }
                        @if summaries { td { (a.summary.as_deref().unwrap_or("")) } }
                        td.n { (number(a.instances)) }
                        td.bar { (super::chart::inline_bar(a.instances, max)) }
                    }
                }
                @if list.is_empty() {
                    tr {
                        td colspan=(if summaries { "6" } else { "5" }) {
                            "No advisory affects these instances."
                        }
                    }
                }
            }
        }
    }
}

/// The page size of a vulnerability view when not the default: its links
/// and its form keep it.
pub fn page_size(q: &VulnerabilityQuery) -> Option<String> {
    (q.limit != VulnerabilityQuery::default().limit).then(|| q.limit.to_string())
}

/// The instance filters of a vulnerability view as the URL carries them:
/// account, region, state, and the page size ([`page_size`]).
pub fn filter_params<'a>(
    q: &'a VulnerabilityQuery,
    size: Option<&'a str>,
) -> Vec<(&'static str, Option<&'a str>)> {
    vec![
        ("aws_account", q.account.as_ref().map(|a| a.as_str())),
        ("aws_region", q.region.as_ref().map(|r| r.as_str())),
        ("state", q.state.map(|s| s.as_str())),
        ("limit", size),
    ]
}

/// The form fields of the instance filters, filled in with the query; a
/// page size other than the default travels as a hidden field.
pub fn filter_fields(q: &VulnerabilityQuery) -> Markup {
    html! {
        (layout::instance_fields(q.account.as_ref(), q.region.as_ref(), q.state, "any but terminated"))
        @if let Some(size) = page_size(q) { input type="hidden" name="limit" value=(size); }
    }
}
