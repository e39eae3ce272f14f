//! `/ui/packages/{name}`: a package across the fleet. Its versions as a bar
//! chart, in the order the store answers them (`GET /packages/{name}`'s),
//! each bar leading to the instances with that version; its latest changes.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::chart::{bar_chart, Bar};
use super::layout::{self, history_href, number, search_href};
use super::{html, PageError};
use crate::http::extract::PackageNamePath;
use crate::http::ApiError;
use crate::query::HistoryQuery;
use crate::store::Store;

/// Changes shown on the package's page; the rest on its history page.
const RECENT: u32 = 20;

pub async fn view(
    State(store): State<Store>,
    path: Result<PackageNamePath, ApiError>,
) -> Result<Response, PageError> {
    let PackageNamePath(name) = path?;
    let recent = HistoryQuery {
        limit: RECENT,
        ..HistoryQuery::default()
    };
    let (versions, history) = futures::try_join!(
        store.package_versions(&name),
        store.package_history(&name, &recent),
    )?;
    let instances: u64 = versions.iter().map(|v| v.instances).sum();
    let bars: Vec<Bar> = versions
        .iter()
        .map(|v| Bar {
            label: v.version.clone(),
            count: v.instances,
            link: search_href(&[
                ("package_name", Some(name.as_str())),
                ("package_version", Some(v.version.as_str())),
            ]),
        })
        .collect();
    let body = html! {
        ul.tiles {
            li { span.n #version-count { (number(versions.len() as u64)) } "versions" }
            li { span.n #install-count { (number(instances)) } "installs" }
        }
        section #versions {
            h2 { "Versions across the fleet" }
            @if versions.is_empty() {
                p.empty { "No instance has " code { (name) } "." }
            } @else {
                (bar_chart(&format!("Instances per version of {name}"), &bars))
                p { a href=(search_href(&[("package_name", Some(name.as_str()))])) {
                    "Every instance with " (name) " →"
                } }
            }
        }
        section #history {
            h2 { "Latest changes" }
            (layout::timeline(&history.changes, true, false))
            p.more { a href=(history_href(&[("package", Some(name.as_str()))])) {
                "The whole history →"
            } }
        }
    };
    Ok(html(layout::page(&name, body)))
}
