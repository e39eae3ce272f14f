//! `inventory get | search | packages | history`: the HTTP API's reads from
//! the command line, answered by the same code (so the JSON is the API's own),
//! printed as tables on a terminal and as that JSON otherwise (`output`).

use axum::body::Body;
use axum::Router;
use inventory_core::http::router;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;
use tower::ServiceExt;

use crate::output::{self, Format};
use crate::target::TargetArgs;

/// How a query command prints.
#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// Print the API's JSON answer even on a terminal (the default when
    /// stdout is a pipe or a file).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// Instance id.
    id: String,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, clap::Args)]
pub struct PackagesArgs {
    /// Package name.
    name: String,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Instances that have this package installed (exact name).
    #[arg(long)]
    package_name: Option<String>,
    /// With --package-name: only this exact version of it.
    #[arg(long)]
    package_version: Option<String>,
    /// With --package-name: versions older than this, in the package's own
    /// ordering (dpkg, rpm, dotted or natural).
    #[arg(long)]
    version_lt: Option<String>,
    /// With --package-name: versions older than or equal to this.
    #[arg(long)]
    version_le: Option<String>,
    /// With --package-name: versions newer than this.
    #[arg(long)]
    version_gt: Option<String>,
    /// With --package-name: versions newer than or equal to this.
    #[arg(long)]
    version_ge: Option<String>,
    /// Instances of this AWS account (12 digits).
    #[arg(long)]
    aws_account: Option<String>,
    /// Instances in this region, e.g. us-east-1.
    #[arg(long)]
    aws_region: Option<String>,
    /// Instances in this state: pending, running, stopping, stopped,
    /// shutting-down or terminated.
    #[arg(long)]
    state: Option<String>,
    #[command(flatten)]
    page: PageArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    target: TargetArgs,
}

/// The page of a paginated read.
#[derive(Debug, clap::Args)]
pub struct PageArgs {
    /// Results per page, 1-1000 (default 100).
    #[arg(long)]
    limit: Option<u32>,
    /// The next_token of the previous page, to read the next one.
    #[arg(long)]
    next_token: Option<String>,
    /// Follow the next tokens to the last page (JSON: each page's answer on
    /// its own line).
    #[arg(long, conflicts_with = "next_token")]
    all: bool,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("subject").required(true).args(["id", "package"])))]
pub struct HistoryArgs {
    /// Instance id: its changes (as `GET /ec2/{id}/history`).
    id: Option<String>,
    /// Package name: which instances installed, removed or changed it (as
    /// `GET /packages/{name}/history`).
    #[arg(long)]
    package: Option<String>,
    /// Changes from this time on: 2026-11-24T10:00:00Z, 2026-11-24 10:00:00
    /// or 2026-11-24 (UTC).
    #[arg(long)]
    since: Option<String>,
    /// Changes before this time.
    #[arg(long)]
    until: Option<String>,
    /// Only changes of instances recorded in this AWS account (12 digits).
    #[arg(long)]
    aws_account: Option<String>,
    /// Only changes of instances recorded in this region, e.g. us-east-1.
    #[arg(long)]
    aws_region: Option<String>,
    #[command(flatten)]
    page: PageArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, clap::Args)]
pub struct AdvisoryArgs {
    /// Advisory id (DSA-5764-1, ALAS2023-2024-640) or an alias such as a CVE id.
    id: String,
    #[command(flatten)]
    instances: InstanceFilters,
    #[command(flatten)]
    page: PageArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, clap::Args)]
pub struct VulnerabilitiesArgs {
    /// Instance id: the advisories that affect it (as
    /// `GET /ec2/{id}/vulnerabilities`). Without it, the fleet's advisories
    /// with instance counts (as `GET /vulnerabilities`).
    id: Option<String>,
    /// Fleet view only: advisories of this severity (critical, high,
    /// medium, low, unknown).
    #[arg(long, conflicts_with = "id")]
    severity: Option<String>,
    #[command(flatten)]
    instances: InstanceFilters,
    #[command(flatten)]
    page: PageArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, clap::Args)]
pub struct AccountsArgs {
    #[command(flatten)]
    page: PageArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    target: TargetArgs,
}

/// Which instances a vulnerability view counts (not with an instance id).
#[derive(Debug, clap::Args)]
pub struct InstanceFilters {
    /// Instances of this AWS account (12 digits).
    #[arg(long)]
    aws_account: Option<String>,
    /// Instances in this region, e.g. us-east-1.
    #[arg(long)]
    aws_region: Option<String>,
    /// Instances in this state (terminated ones count only when asked).
    #[arg(long)]
    state: Option<String>,
}

pub async fn advisory(args: AdvisoryArgs) -> anyhow::Result<()> {
    let limit = args.page.limit.map(|n| n.to_string());
    let query = query_string(&[
        ("aws_account", args.instances.aws_account.as_deref()),
        ("aws_region", args.instances.aws_region.as_deref()),
        ("state", args.instances.state.as_deref()),
        ("limit", limit.as_deref()),
    ]);
    let listing = Listing {
        path: format!("/advisories/{}?{query}", encode(&args.id)),
        items: "affected",
        render: output::affected,
    };
    listing.print(args.target, args.page, args.output).await
}

pub async fn vulnerabilities(args: VulnerabilitiesArgs) -> anyhow::Result<()> {
    let limit = args.page.limit.map(|n| n.to_string());
    let query = query_string(&[
        ("severity", args.severity.as_deref()),
        ("aws_account", args.instances.aws_account.as_deref()),
        ("aws_region", args.instances.aws_region.as_deref()),
        ("state", args.instances.state.as_deref()),
        ("limit", limit.as_deref()),
    ]);
    let listing = match &args.id {
        Some(id) => Listing {
            path: format!("/ec2/{}/vulnerabilities?{query}", encode(id)),
            items: "vulnerabilities",
            render: output::vulnerabilities,
        },
        None => Listing {
            path: format!("/vulnerabilities?{query}"),
            items: "advisories",
            render: output::fleet_vulnerabilities,
        },
    };
    listing.print(args.target, args.page, args.output).await
}

pub async fn accounts(args: AccountsArgs) -> anyhow::Result<()> {
    let limit = args.page.limit.map(|n| n.to_string());
    let query = query_string(&[("limit", limit.as_deref())]);
    let listing = Listing {
        path: format!("/accounts?{query}"),
        items: "accounts",
        render: output::accounts,
    };
    listing.print(args.target, args.page, args.output).await
}

pub async fn get(args: GetArgs) -> anyhow::Result<()> {
    let api = router(args.target.store().await?);
    let body = answer(&api, &format!("/ec2/{}", encode(&args.id))).await?;
    match Format::choose(args.output.json) {
        Format::Json => out!("{body}")?,
        Format::Table => out!("{}", output::instance(&parse(&body)?, &args.id))?,
    }
    Ok(())
}

pub async fn packages(args: PackagesArgs) -> anyhow::Result<()> {
    let api = router(args.target.store().await?);
    let body = answer(&api, &format!("/packages/{}", encode(&args.name))).await?;
    match Format::choose(args.output.json) {
        Format::Json => out!("{body}")?,
        Format::Table => out!("{}", output::versions(&parse(&body)?))?,
    }
    Ok(())
}

pub async fn search(args: SearchArgs) -> anyhow::Result<()> {
    let limit = args.page.limit.map(|n| n.to_string());
    let query = query_string(&[
        ("package_name", args.package_name.as_deref()),
        ("package_version", args.package_version.as_deref()),
        ("version_lt", args.version_lt.as_deref()),
        ("version_le", args.version_le.as_deref()),
        ("version_gt", args.version_gt.as_deref()),
        ("version_ge", args.version_ge.as_deref()),
        ("aws_account", args.aws_account.as_deref()),
        ("aws_region", args.aws_region.as_deref()),
        ("state", args.state.as_deref()),
        ("limit", limit.as_deref()),
    ]);
    let listing = Listing {
        path: format!("/ec2?{query}"),
        items: "instances",
        render: output::instances,
    };
    listing.print(args.target, args.page, args.output).await
}

pub async fn history(args: HistoryArgs) -> anyhow::Result<()> {
    let limit = args.page.limit.map(|n| n.to_string());
    let query = query_string(&[
        ("since", args.since.as_deref()),
        ("until", args.until.as_deref()),
        ("aws_account", args.aws_account.as_deref()),
        ("aws_region", args.aws_region.as_deref()),
        ("limit", limit.as_deref()),
    ]);
    // clap requires one of the two.
    let path = match (&args.id, &args.package) {
        (Some(id), _) => format!("/ec2/{}/history", encode(id)),
        (None, Some(name)) => format!("/packages/{}/history", encode(name)),
        (None, None) => anyhow::bail!("give an instance id or --package"),
    };
    let listing = Listing {
        path: format!("{path}?{query}"),
        items: "changes",
        render: output::changes,
    };
    listing.print(args.target, args.page, args.output).await
}

/// A paginated read: its path with its filters, the answer's list, and how
/// a table shows a page.
struct Listing {
    path: String,
    items: &'static str,
    render: fn(&Value) -> String,
}

impl Listing {
    /// One page (the one `page` names), or with `--all` every page; on a
    /// terminal, how to get the next page when there is one.
    async fn print(
        self,
        target: TargetArgs,
        page: PageArgs,
        output: OutputArgs,
    ) -> anyhow::Result<()> {
        let format = Format::choose(output.json);
        let api = router(target.store().await?);
        let mut token = page.next_token;
        let mut merged: Option<Value> = None;
        loop {
            let path = match &token {
                Some(t) => format!("{}&next_token={}", self.path, encode(t)),
                None => self.path.clone(),
            };
            let body = answer(&api, &path).await?;
            let value = parse(&body)?;
            token = value["next_token"].as_str().map(str::to_owned);
            match format {
                Format::Json => out!("{body}")?,
                Format::Table => match merged.as_mut() {
                    None => merged = Some(value),
                    Some(all) => {
                        let more = value[self.items].as_array().cloned().unwrap_or_default();
                        if let Some(list) = all[self.items].as_array_mut() {
                            list.extend(more);
                        }
                    }
                },
            }
            if !page.all || token.is_none() {
                break;
            }
        }
        if let Some(all) = merged {
            out!("{}", (self.render)(&all))?;
            if let Some(token) = token {
                out!("more: add --next-token {token} for the next page, or --all for every page")?;
            }
        }
        Ok(())
    }
}

fn parse(body: &str) -> anyhow::Result<Value> {
    Ok(serde_json::from_str(body)?)
}

/// `key=value&...` of the parameters given, values encoded.
fn query_string(params: &[(&str, Option<&str>)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in params {
        if let Some(value) = value {
            query.append_pair(key, value);
        }
    }
    query.finish()
}

/// Runs a GET through the API and answers its JSON verbatim (keys in the
/// API's order); an error answer fails the command.
async fn answer(api: &Router, path: &str) -> anyhow::Result<String> {
    let request = axum::http::Request::get(path).body(Body::empty())?;
    let response = api.clone().oneshot(request).await?;
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    let body = String::from_utf8_lossy(&body).into_owned();
    if status.is_success() {
        Ok(body)
    } else {
        anyhow::bail!("{status}: {body}")
    }
}

/// All but RFC 3986's unreserved characters: what [`encode`] escapes.
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes all but unreserved characters: valid in a path segment and
/// a query value alike.
fn encode(s: &str) -> String {
    utf8_percent_encode(s, RESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_for_paths_and_queries() {
        assert_eq!(encode("i-0ab:c.d_e~"), "i-0ab%3Ac.d_e~");
        assert_eq!(encode("a b/+é"), "a%20b%2F%2B%C3%A9");
        let query = query_string(&[
            ("package_name", Some("open ssl+")),
            ("aws_region", None),
            ("since", Some("2026-12-01T00:00:00Z")),
        ]);
        assert_eq!(
            query,
            "package_name=open+ssl%2B&since=2026-12-01T00%3A00%3A00Z"
        );
    }
}
