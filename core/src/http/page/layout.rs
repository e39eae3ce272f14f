//! What every view shares: the document around it, links to the other
//! views, times, count bars and the timeline of changes.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::assets;
use crate::advisories::Severity;
use crate::model::{Account, InstanceId, InstanceState, Region};
use crate::query::{Change, ChangeKind};

/// Everything but RFC 3986's unreserved characters is escaped: valid in a
/// path segment and in a query value alike.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode(s: &str) -> String {
    utf8_percent_encode(s, ESCAPED).to_string()
}

/// `path?k=v&…` with the parameters that have a value, values escaped.
pub fn href(path: &str, params: &[(&str, Option<&str>)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter_map(|(key, value)| value.map(|v| format!("{key}={}", encode(v))))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

pub fn instance_href(id: &InstanceId) -> String {
    format!("/ui/instances/{}", encode(id.as_str()))
}

pub fn package_href(name: &str) -> String {
    format!("/ui/packages/{}", encode(name))
}

/// An advisory's view, by its id or an alias.
pub fn advisory_href(id: &str) -> String {
    format!("/ui/advisories/{}", encode(id))
}

pub fn vulnerabilities_href(params: &[(&str, Option<&str>)]) -> String {
    href("/ui/vulnerabilities", params)
}

pub fn search_href(params: &[(&str, Option<&str>)]) -> String {
    href("/ui/search", params)
}

pub fn history_href(params: &[(&str, Option<&str>)]) -> String {
    href("/ui/history", params)
}

/// The document: `title` in the tab and as the heading, `body` below it.
pub fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · ec2-inventory" }
                // No favicon request: an empty icon inline.
                link rel="icon" href="data:,";
                link rel="stylesheet" href=(assets::STYLE_HREF);
                script src=(assets::SCRIPT_HREF) defer {}
            }
            body {
                header.top {
                    a.brand href="/ui/" { "ec2-inventory" }
                    nav {
                        a href="/ui/" { "Overview" }
                        a href="/ui/search" { "Search" }
                        a href="/ui/history" { "Changes" }
                        a href="/ui/vulnerabilities" { "Vulnerabilities" }
                    }
                    form.quick action="/ui/search" method="get" role="search" {
                        label.hidden for="quick-package" { "Package name" }
                        input #quick-package type="search" name="package_name"
                            placeholder="package name" required;
                        button type="submit" { "Find" }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The page of a failed view: what went wrong, and the way back.
pub fn error_page(status: StatusCode, message: &str) -> Markup {
    let title = status.canonical_reason().unwrap_or("Error");
    page(
        title,
        html! {
            p.error { (message) }
            p { a href="/ui/" { "Back to the overview" } }
        },
    )
}

/// A time as people read it, the exact one in the `datetime` attribute.
pub fn when(t: &DateTime<Utc>) -> Markup {
    html! {
        time datetime=(t.to_rfc3339()) { (t.format("%Y-%m-%d %H:%M:%S UTC")) }
    }
}

/// When the fleet's counts above were taken: they are recounted when a read
/// finds them older than a set age, not on every write.
pub fn counted(at: Option<&DateTime<Utc>>) -> Markup {
    html! {
        @if let Some(at) = at {
            p.counted { "Counted " (when(at)) "." }
        }
    }
}

/// Thousands separated: 10,000.
pub fn number(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn change_text(c: &Change) -> Markup {
    let version = |v: &Option<String>| v.clone().unwrap_or_default();
    let state = |s: Option<crate::model::InstanceState>| s.map_or("none", |s| s.as_str());
    html! {
        @match c.kind {
            ChangeKind::Installed => { "installed " (version(&c.new_version)) }
            ChangeKind::Removed => { "removed " (version(&c.old_version)) }
            ChangeKind::Changed => {
                (version(&c.old_version)) " → " (version(&c.new_version))
            }
            ChangeKind::State => { "state " (state(c.old_state)) " → " (state(c.new_state)) }
        }
    }
}

/// Changes, newest first, as a timeline grouped by day; `instances` and
/// `packages` say whether to name each change's instance and package.
pub fn timeline(changes: &[Change], instances: bool, packages: bool) -> Markup {
    let mut days: Vec<(String, Vec<&Change>)> = Vec::new();
    for change in changes {
        let day = change.at.format("%Y-%m-%d").to_string();
        match days.last_mut() {
            Some((last, list)) if *last == day => list.push(change),
            _ => days.push((day, vec![change])),
        }
    }
    html! {
        @if changes.is_empty() {
            p.empty { "No changes recorded." }
        }
        ol.timeline {
            @for (day, list) in &days {
                li.day {
                    h3 { (day) }
                    ul {
                        @for c in list {
                            li class={ "change " (kind_class(c.kind)) } {
                                time datetime=(c.at.to_rfc3339()) { (c.at.format("%H:%M:%S")) }
                                " "
                                @if instances {
                                    a.instance href=(instance_href(&c.instance_id)) {
                                        (c.instance_id.as_str())
                                    }
                                    " "
                                }
                                @if packages {
                                    @if let Some(name) = &c.package_name {
                                        a.package href=(package_href(name)) { (name) }
                                        " "
                                    }
                                }
                                span.what { (change_text(c)) }
                                " "
                                span.source { "(" (c.source.as_str()) ")" }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn kind_class(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Installed => "installed",
        ChangeKind::Removed => "removed",
        ChangeKind::Changed => "changed",
        ChangeKind::State => "state",
    }
}

/// The account, region and state fields of a filter form, filled in;
/// `any_state` labels the state left open.
pub fn instance_fields(
    account: Option<&Account>,
    region: Option<&Region>,
    state: Option<InstanceState>,
    any_state: &str,
) -> Markup {
    html! {
        label { "account"
            input type="text" name="aws_account" inputmode="numeric" size="14"
                value=[account.map(|a| a.as_str())];
        }
        label { "region"
            input type="text" name="aws_region" size="14" value=[region.map(|r| r.as_str())];
        }
        label { "state"
            select name="state" {
                option value="" { (any_state) }
                @for s in InstanceState::ALL {
                    option value=(s.as_str()) selected[state == Some(s)] { (s.as_str()) }
                }
            }
        }
    }
}

/// An advisory's severity, coloured.
pub fn severity(s: Severity) -> Markup {
    html! { span class={ "sev sev-" (s.as_str()) } { (s.as_str()) } }
}

/// An advisory's aliases (CVE ids), each a link to the advisories it names.
pub fn aliases(list: &[String]) -> Markup {
    html! {
        @for (i, alias) in list.iter().enumerate() {
            @if i > 0 { ", " }
            a.alias href=(advisory_href(alias)) { (alias) }
        }
    }
}

/// A fixed version, or that there is none yet.
pub fn fixed_version(v: Option<&str>) -> Markup {
    match v {
        Some(v) => html! { (v) },
        None => html! { span.unfixed { "no fix yet" } },
    }
}

/// "Next page" when there is one: the current URL's parameters with the
/// token; else how far the listing went.
pub fn next_page(path: &str, params: &[(&str, Option<&str>)], token: Option<&str>) -> Markup {
    next_page_at(path, params, token, None)
}

/// [`next_page`] for a listing further down a view: the link lands on the
/// element with id `anchor`.
pub fn next_page_at(
    path: &str,
    params: &[(&str, Option<&str>)],
    token: Option<&str>,
    anchor: Option<&str>,
) -> Markup {
    let next = token.map(|token| {
        let mut with_token: Vec<(&str, Option<&str>)> = params
            .iter()
            .filter(|(k, _)| *k != "next_token")
            .copied()
            .collect();
        with_token.push(("next_token", Some(token)));
        let link = href(path, &with_token);
        match anchor {
            Some(anchor) => format!("{link}#{anchor}"),
            None => link,
        }
    });
    html! {
        @if let Some(next) = next {
            p.more { a rel="next" href=(next) { "Next page →" } }
        } @else {
            p.more.end { "End of the list." }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_escape_their_values() {
        assert_eq!(
            search_href(&[("package_name", Some("a b&c/<d>")), ("state", None)]),
            "/ui/search?package_name=a%20b%26c%2F%3Cd%3E"
        );
        assert_eq!(package_href("lib/x y"), "/ui/packages/lib%2Fx%20y");
        assert_eq!(href("/ui/history", &[]), "/ui/history");
    }

    #[test]
    fn numbers_have_separators() {
        for (n, s) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (1234567, "1,234,567"),
        ] {
            assert_eq!(number(n), s);
        }
    }
}
