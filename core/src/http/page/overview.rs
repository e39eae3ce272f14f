//! `/ui/`: the fleet at a glance. Instance counts by state, account, region
//! and platform; the advisories hitting the most instances, by severity; the
//! most widespread packages; the latest changes. Each count leads to what it
//! counts.

use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};

use super::chart::{count_table, CountRow};
use super::layout::{self, history_href, number, package_href, search_href, vulnerabilities_href};
use super::{html, PageError};
use crate::advisories::Severity;
use crate::query::{AdvisoryCount, AdvisoryCountPage, DimensionCount, VulnerabilityQuery};
use crate::store::Store;

/// Package names listed as the most widespread.
const WIDESPREAD: u32 = 15;
/// Changes listed as the latest.
const RECENT: u32 = 15;
/// Rows of a count table before the rest is summed up.
const COUNT_ROWS: usize = 12;
/// The fleet's advisories read, most severe then most widespread first:
/// the severities are counted in them. Enough for a fleet's critical and
/// high ones, and 200 summaries stay far below the Data API's 1 MiB answer.
const ADVISORIES: u32 = 200;
/// Advisories shown for each severity, those on the most instances.
const TOP_PER_SEVERITY: usize = 3;

pub async fn view(State(store): State<Store>) -> Result<Response, PageError> {
    let overview = store.fleet_overview(WIDESPREAD, RECENT, ADVISORIES).await?;
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
        section #vulnerabilities {
            h2 { "Advisories hitting the fleet" }
            (vulnerabilities(&overview.advisories))
            (layout::counted(overview.advisories.counted_at.as_ref()))
        }
        div.grid {
            section #widespread {
                h2 { "Most widespread packages" }
                (widespread(&overview.widespread.packages))
                (layout::counted(overview.widespread.counted_at.as_ref()))
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

/// How many advisories of one severity affect the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tally {
    Exact(u64),
    /// The page ended among them: this many, and maybe more.
    AtLeast(u64),
    /// The page ended before them.
    NotCounted,
}

/// The advisories of each severity in `page`, most severe first. The page
/// lists severities in order, so when more follow, only its last severity
/// and those after it are unsure.
fn tallies(page: &AdvisoryCountPage) -> Vec<(Severity, Tally)> {
    let last = page.advisories.last().map(|a| a.severity);
    Severity::ALL
        .into_iter()
        .map(|s| {
            let n = page.advisories.iter().filter(|a| a.severity == s).count() as u64;
            let tally = match (&page.next_token, last) {
                (Some(_), Some(last)) if s == last => Tally::AtLeast(n),
                (Some(_), Some(last)) if s > last => Tally::NotCounted,
                _ => Tally::Exact(n),
            };
            (s, tally)
        })
        .collect()
}

/// The advisories on the most instances, [`TOP_PER_SEVERITY`] of each
/// severity, in the page's order.
fn top(page: &AdvisoryCountPage) -> Vec<AdvisoryCount> {
    let mut shown = Vec::new();
    for s in Severity::ALL {
        shown.extend(
            page.advisories
                .iter()
                .filter(|a| a.severity == s)
                .take(TOP_PER_SEVERITY)
                .cloned(),
        );
    }
    shown
}

fn vulnerabilities(page: &AdvisoryCountPage) -> Markup {
    let tallies = tallies(page);
    let max = tallies
        .iter()
        .map(|(_, t)| match t {
            Tally::Exact(n) | Tally::AtLeast(n) => *n,
            Tally::NotCounted => 0,
        })
        .max()
        .unwrap_or(0)
        .max(1);
    html! {
        @if page.advisories.is_empty() {
            p.empty #no-advisories {
                "No imported advisory affects a recorded instance (advisories come from "
                code { "inventory advisories import" } ")."
            }
        } @else {
            div.grid.vulns {
                table.counts #by-severity {
                    caption { "Advisories by severity" }
                    thead { tr { th scope="col" { "severity" } th.n scope="col" { "advisories" } th {} } }
                    tbody {
                        @for (s, tally) in &tallies {
                            tr data-severity=(s.as_str()) {
                                td {
                                    a href=(vulnerabilities_href(&[("severity", Some(s.as_str()))])) {
                                        (layout::severity(*s))
                                    }
                                }
                                @match tally {
                                    Tally::Exact(n) => {
                                        td.n data-count=(n) { (number(*n)) }
                                        td.bar { (super::chart::inline_bar(*n, max)) }
                                    }
                                    Tally::AtLeast(n) => {
                                        td.n title="counted in the first advisories only" {
                                            (number(*n)) "+"
                                        }
                                        td.bar { (super::chart::inline_bar(*n, max)) }
                                    }
                                    Tally::NotCounted => {
                                        td.n.muted title="not counted here: follow the link" { "…" }
                                        td {}
                                    }
                                }
                            }
                        }
                    }
                }
                div #top-advisories {
                    h3 { "On the most instances, by severity" }
                    (super::vulnerabilities::advisory_counts(
                        &top(page),
                        &VulnerabilityQuery::default(),
                        false,
                    ))
                }
            }
        }
        p.more { a href=(vulnerabilities_href(&[])) { "All advisories in the fleet →" } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(id: &str, severity: Severity, instances: u64) -> AdvisoryCount {
        AdvisoryCount {
            advisory_id: id.into(),
            aliases: Vec::new(),
            severity,
            summary: None,
            instances,
        }
    }

    #[test]
    fn severities_past_the_page_are_not_claimed() {
        let mut page = AdvisoryCountPage {
            advisories: vec![
                count("A", Severity::Critical, 9),
                count("B", Severity::High, 7),
                count("C", Severity::High, 5),
                count("D", Severity::High, 4),
                count("E", Severity::High, 2),
            ],
            next_token: None,
            counted_at: None,
        };
        let whole = tallies(&page);
        assert_eq!(whole[0], (Severity::Critical, Tally::Exact(1)));
        assert_eq!(whole[1], (Severity::High, Tally::Exact(4)));
        assert_eq!(whole[4], (Severity::Unknown, Tally::Exact(0)));
        page.next_token = Some("more".into());
        let cut = tallies(&page);
        assert_eq!(cut[0], (Severity::Critical, Tally::Exact(1)));
        assert_eq!(cut[1], (Severity::High, Tally::AtLeast(4)));
        assert_eq!(cut[2], (Severity::Medium, Tally::NotCounted));
        let shown: Vec<String> = top(&page).into_iter().map(|a| a.advisory_id).collect();
        assert_eq!(shown, ["A", "B", "C", "D"]);
    }
}
