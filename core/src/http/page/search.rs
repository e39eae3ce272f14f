//! `/ui/search`: instances by package name (with a version or a version
//! range), account, region and state, a page at a time with the API's
//! tokens. The parameters are the API's (`GET /ec2`); a form's empty fields
//! count as absent.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use maud::{html, Markup};

use super::layout::{self, instance_href, package_href, search_href, when};
use super::{html, PageError};
use crate::http::extract::form_search;
use crate::model::InstanceState;
use crate::query::SearchQuery;
use crate::store::Store;

pub async fn view(
    State(store): State<Store>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let q = form_search(raw.as_deref())?;
    let page = store.search(&q).await?;
    let params = params(&q);
    let title = match &q.package_name {
        Some(name) => format!("Instances with {name}"),
        None => "Instances".to_owned(),
    };
    let body = html! {
        (form(&q))
        @if let Some(name) = &q.package_name {
            p { "Versions of " a href=(package_href(name)) { (name) } " across the fleet." }
        }
        table #results {
            thead {
                tr {
                    th scope="col" { "instance" }
                    th scope="col" { "account" }
                    th scope="col" { "region" }
                    th scope="col" { "state" }
                    th scope="col" { "type" }
                    th scope="col" { "updated" }
                }
            }
            tbody {
                @for i in &page.instances {
                    tr {
                        td { a href=(instance_href(&i.id)) { (i.id.as_str()) } }
                        td { (i.account.as_str()) }
                        td { (i.region.as_str()) }
                        td { (state(i.state)) }
                        td { (i.instance_type.as_deref().unwrap_or("")) }
                        td { (when(&i.updated)) }
                    }
                }
            }
        }
        p.muted #shown { (page.instances.len()) " instances on this page." }
        (layout::next_page("/ui/search", &params, page.next_token.as_deref()))
    };
    Ok(html(layout::page(&title, body)))
}

/// An instance's state, coloured; none before its first state event.
pub fn state(state: Option<InstanceState>) -> Markup {
    match state {
        Some(s) => html! { span class={ "state-" (s.as_str()) } { (s.as_str()) } },
        None => html! { span.muted { "—" } },
    }
}

/// The query's parameters as the URL carries them.
fn params(q: &SearchQuery) -> Vec<(&'static str, Option<&str>)> {
    fn bound(b: &Option<crate::version::Bound>, inclusive: bool) -> Option<&str> {
        b.as_ref()
            .filter(|b| b.inclusive == inclusive)
            .map(|b| b.version.as_str())
    }
    let limit = (q.limit != SearchQuery::default().limit).then_some(q.limit);
    vec![
        ("package_name", q.package_name.as_deref()),
        ("package_version", q.package_version.as_deref()),
        ("version_ge", bound(&q.version_range.lower, true)),
        ("version_gt", bound(&q.version_range.lower, false)),
        ("version_le", bound(&q.version_range.upper, true)),
        ("version_lt", bound(&q.version_range.upper, false)),
        ("aws_account", q.account.as_ref().map(|a| a.as_str())),
        ("aws_region", q.region.as_ref().map(|r| r.as_str())),
        ("state", q.state.map(|s| s.as_str())),
        ("limit", limit.map(|_| LIMITS[limit_index(q.limit)])),
        ("next_token", q.next_token.as_deref()),
    ]
}

/// The page sizes the form offers; another limit in a URL is kept as the
/// nearest offered.
const LIMITS: [&str; 4] = ["25", "100", "500", "1000"];

fn limit_index(limit: u32) -> usize {
    LIMITS
        .iter()
        .position(|l| l.parse::<u32>().is_ok_and(|n| n >= limit))
        .unwrap_or(LIMITS.len() - 1)
}

/// The search form, filled in with the query.
fn form(q: &SearchQuery) -> Markup {
    let lower = q.version_range.lower.as_ref();
    let upper = q.version_range.upper.as_ref();
    let from = lower.filter(|b| b.inclusive).map(|b| b.version.as_str());
    let below = upper.filter(|b| !b.inclusive).map(|b| b.version.as_str());
    // Bounds the form has no field for (gt, le) travel as hidden fields.
    let above = lower.filter(|b| !b.inclusive).map(|b| b.version.as_str());
    let through = upper.filter(|b| b.inclusive).map(|b| b.version.as_str());
    let selected_limit = LIMITS[limit_index(q.limit)];
    html! {
        form.filters action="/ui/search" method="get" {
            label { "package name"
                input type="search" name="package_name" value=[q.package_name.as_deref()];
            }
            label { "exact version"
                input type="text" name="package_version" value=[q.package_version.as_deref()];
            }
            label { "version from (≥)"
                input type="text" name="version_ge" value=[from];
            }
            label { "version below (<)"
                input type="text" name="version_lt" value=[below];
            }
            @if let Some(v) = above { input type="hidden" name="version_gt" value=(v); }
            @if let Some(v) = through { input type="hidden" name="version_le" value=(v); }
            (layout::instance_fields(q.account.as_ref(), q.region.as_ref(), q.state, "any"))
            label { "per page"
                select name="limit" {
                    @for l in LIMITS {
                        option value=(l) selected[l == selected_limit] { (l) }
                    }
                }
            }
            button type="submit" { "Search" }
            a href=(search_href(&[])) { "clear" }
        }
    }
}
