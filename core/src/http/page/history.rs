//! `/ui/history?instance=…|package=…`: the changes of one instance, one
//! package or (neither) the whole fleet, newest first, in a window
//! (`since`, `until`) a page at a time, with the API's history parameters.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use maud::html;

use super::layout::{self, instance_href, package_href};
use super::{html, PageError};
use crate::http::dto::format_utc;
use crate::http::extract::{form_history, HistorySubject};
use crate::store::Store;

pub async fn view(
    State(store): State<Store>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let (subject, q) = form_history(raw.as_deref())?;
    let page = match &subject {
        HistorySubject::Instance(id) => store.instance_history(id, &q).await?,
        HistorySubject::Package(name) => store.package_history(name, &q).await?,
        HistorySubject::Fleet => store.fleet_history(&q).await?,
    };
    let since = q.since.as_ref().map(format_utc);
    let until = q.until.as_ref().map(format_utc);
    let limit = q.limit.to_string();
    let (subject_key, subject_value, title) = match &subject {
        HistorySubject::Instance(id) => (
            "instance",
            Some(id.as_str()),
            format!("Changes of {}", id.as_str()),
        ),
        HistorySubject::Package(name) => {
            ("package", Some(name.as_str()), format!("Changes of {name}"))
        }
        HistorySubject::Fleet => ("instance", None, "Changes across the fleet".to_owned()),
    };
    let params = [
        (subject_key, subject_value),
        ("since", since.as_deref()),
        ("until", until.as_deref()),
        ("limit", Some(limit.as_str())),
    ];
    let body = html! {
        @match &subject {
            HistorySubject::Instance(id) => {
                p { "Instance " a href=(instance_href(id)) { (id.as_str()) } }
            }
            HistorySubject::Package(name) => {
                p { "Package " a href=(package_href(name)) { (name) } }
            }
            HistorySubject::Fleet => {}
        }
        form.filters action="/ui/history" method="get" {
            @if let Some(value) = subject_value {
                input type="hidden" name=(subject_key) value=(value);
            }
            label { "since (UTC)" input type="text" name="since" value=[since.as_deref()]
                placeholder="2026-11-24"; }
            label { "until (UTC)" input type="text" name="until" value=[until.as_deref()]
                placeholder="2026-11-25 10:00:00"; }
            button type="submit" { "Show" }
        }
        (layout::timeline(
            &page.changes,
            !matches!(subject, HistorySubject::Instance(_)),
            !matches!(subject, HistorySubject::Package(_)),
        ))
        (layout::next_page("/ui/history", &params, page.next_token.as_deref()))
    };
    Ok(html(layout::page(&title, body)))
}
