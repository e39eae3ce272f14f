//! `/ui/`: the fleet at a glance. Instance counts by state, account, region
//! and platform; the most widespread packages; the latest changes. Each
//! count leads to the instances it counts.

use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};

use super::layout::{self, count_table, history_href, number, package_href, search_href, CountRow};
use super::{html, PageError};
use crate::query::DimensionCount;
use crate::store::Store;
use crate::usecases::queries;

/// Package names listed as the most widespread.
const WIDESPREAD: u32 = 15;
/// Changes listed as the latest.
const RECENT: u32 = 15;
/// Rows of a count table before the rest is summed up.
const COUNT_ROWS: usize = 12;

pub async fn view(State(store): State<Store>) -> Result<Response, PageError> {
    let overview = queries::fleet_overview(&store, WIDESPREAD, RECENT).await?;
    let counts = &overview.counts;
    let total = counts.total();
    let running = counts
        .by_state
        .iter()
        .find(|c| c.value.as_deref() == Some("running"))
        .map_or(0, |c| c.instances);
    let body = html! {
        ul.tiles {
            li { span.n #total-instances { (number(total)) } "instances recorded" }
            li { span.n #running-instances { (number(running)) } "running" }
            li { span.n { (number(counts.by_account.len() as u64)) } "accounts" }
            li { span.n { (number(counts.by_region.len() as u64)) } "regions" }
        }
        div.grid {
            (count_table("By state", "state", &rows(&counts.by_state, "state")))
            (count_table("By platform", "platform", &rows(&counts.by_platform, "")))
            (count_table("By account", "account", &rows(&counts.by_account, "aws_account")))
            (count_table("By region", "region", &rows(&counts.by_region, "aws_region")))
        }
        div.grid {
            section #widespread {
                h2 { "Most widespread packages" }
                (widespread(&overview.widespread))
            }
            section #recent {
                h2 { "Latest changes" }
                (layout::timeline(&overview.recent.changes, true, true))
                p.more { a href=(history_href(&[])) { "All changes →" } }
            }
        }
    };
    Ok(html(layout::page("Fleet overview", body)))
}

/// The table rows of one dimension, each a link to the search by it when
/// the search can filter on it (`param`); the rows past [`COUNT_ROWS`]
/// summed up in one.
fn rows(counts: &[DimensionCount], param: &str) -> Vec<CountRow> {
    let mut rows: Vec<CountRow> = counts
        .iter()
        .take(COUNT_ROWS)
        .map(|c| CountRow {
            label: c.value.clone().unwrap_or_else(|| "(unknown)".into()),
            link: match (&c.value, param) {
                (Some(value), param) if !param.is_empty() => {
                    Some(search_href(&[(param, Some(value.as_str()))]))
                }
                _ => None,
            },
            count: c.instances,
        })
        .collect();
    let rest: u64 = counts.iter().skip(COUNT_ROWS).map(|c| c.instances).sum();
    if counts.len() > COUNT_ROWS {
        rows.push(CountRow {
            label: format!("{} more", counts.len() - COUNT_ROWS),
            link: None,
            count: rest,
        });
    }
    rows
}

fn widespread(list: &[crate::query::PackageSpread]) -> Markup {
    let max = list.iter().map(|p| p.instances).max().unwrap_or(0).max(1);
    html! {
        table.counts {
            thead {
                tr {
                    th scope="col" { "package" }
                    th.n scope="col" { "versions" }
                    th.n scope="col" { "instances" }
                    th {}
                }
            }
            tbody {
                @for p in list {
                    tr {
                        td { a href=(package_href(&p.name)) { (p.name) } }
                        td.n { (number(p.versions)) }
                        td.n { (number(p.instances)) }
                        td.bar { (super::chart::inline_bar(p.instances, max)) }
                    }
                }
                @if list.is_empty() {
                    tr { td colspan="4" { "No packages recorded." } }
                }
            }
        }
    }
}
