//! How the query commands print: aligned tables for a person at a terminal,
//! the API's JSON for scripts (`--json`, or whenever stdout is not a
//! terminal). The tables are drawn from the API's own JSON answers, so both
//! say the same.

use std::io::IsTerminal;

use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table};
use serde_json::Value;

/// Tables or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
}

impl Format {
    /// JSON when asked, or when stdout is a pipe or a file.
    pub fn choose(json: bool) -> Self {
        if json || !std::io::stdout().is_terminal() {
            Self::Json
        } else {
            Self::Table
        }
    }
}

fn table(headers: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(headers.iter().map(Cell::new));
    // A terminal that reports no size (0 columns: `script`, a serial
    // console) would squeeze every cell to one character a line.
    if table.width() == Some(0) {
        table.set_content_arrangement(ContentArrangement::Disabled);
    }
    table
}

/// `1 instance`, `2 instances`.
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn right(text: impl ToString) -> Cell {
    Cell::new(text.to_string()).set_alignment(CellAlignment::Right)
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn list<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// `GET /ec2/{id}`: the instance's details, then its packages.
pub fn instance(answer: &Value, id: &str) -> String {
    if answer.get("record_found") != Some(&Value::Bool(true)) {
        return format!("No instance {id} is recorded.");
    }
    let record = &answer["record"];
    let mut details = table(&["field", "value"]);
    for key in [
        "aws_instance_id",
        "aws_account",
        "aws_region",
        "state",
        "platform",
        "instance_type",
        "image_id",
        "launch_time",
        "source",
        "creation_date_utc",
        "updated_date_utc",
        "inventory_captured_utc",
        "terminated_date_utc",
    ] {
        if let Some(value) = record.get(key).and_then(Value::as_str) {
            details.add_row(vec![key, value]);
        }
    }
    if let Some(tags) = record.get("tags").and_then(Value::as_object) {
        for (key, value) in tags {
            details.add_row(vec![
                format!("tag {key}"),
                value.as_str().unwrap_or("").to_owned(),
            ]);
        }
    }
    let packages = list(record, "packages");
    let mut table = table(&["package", "version", "architecture"]);
    for p in packages {
        table.add_row(vec![
            text(p, "package_name"),
            text(p, "package_version"),
            text(p, "architecture"),
        ]);
    }
    format!("{details}\n{table}\n{} packages", packages.len())
}

/// `GET /ec2?…`: one line per instance.
pub fn instances(answer: &Value) -> String {
    let found = list(answer, "instances");
    let mut table = table(&["instance", "account", "region", "state", "type", "updated"]);
    for i in found {
        table.add_row(vec![
            text(i, "aws_instance_id"),
            text(i, "aws_account"),
            text(i, "aws_region"),
            text(i, "state"),
            text(i, "instance_type"),
            text(i, "updated_date_utc"),
        ]);
    }
    format!("{table}\n{}", counted(found.len(), "instance", "instances"))
}

/// `GET /packages/{name}`: each version, its instances and a bar.
pub fn versions(answer: &Value) -> String {
    let versions = list(answer, "versions");
    let counts: Vec<u64> = versions
        .iter()
        .map(|v| v["instances"].as_u64().unwrap_or(0))
        .collect();
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let mut table = table(&["version", "instances", ""]);
    for (v, count) in versions.iter().zip(&counts) {
        let bar = "█".repeat(((count * 30).div_ceil(max)) as usize);
        table.add_row(vec![
            Cell::new(text(v, "package_version")),
            right(count),
            Cell::new(bar),
        ]);
    }
    let name = text(answer, "package_name");
    if versions.is_empty() {
        format!("No instance has {name}.")
    } else {
        format!(
            "{table}\n{name}: {} versions on {} installs",
            versions.len(),
            counts.iter().sum::<u64>()
        )
    }
}

/// A history page: one line per change, newest first.
pub fn changes(answer: &Value) -> String {
    let changes = list(answer, "changes");
    let mut table = table(&[
        "when (UTC)",
        "instance",
        "change",
        "package",
        "from",
        "to",
        "source",
    ]);
    for c in changes {
        let kind = text(c, "change");
        let (from, to) = if kind == "state" {
            (text(c, "old_state"), text(c, "new_state"))
        } else {
            (text(c, "old_version"), text(c, "new_version"))
        };
        table.add_row(vec![
            text(c, "change_date_utc"),
            text(c, "aws_instance_id"),
            kind,
            text(c, "package_name"),
            from,
            to,
            text(c, "source"),
        ]);
    }
    format!("{table}\n{}", counted(changes.len(), "change", "changes"))
}

/// The aliases of an answer's row, comma-separated.
fn aliases(row: &Value) -> String {
    list(row, "aliases")
        .iter()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A fixed version, or that there is none yet.
fn fixed(row: &Value) -> &str {
    row.get("fixed_version")
        .and_then(Value::as_str)
        .unwrap_or("(no fix)")
}

/// `GET /advisories/{id}`: the advisory, then the instances it affects.
pub fn affected(answer: &Value) -> String {
    let advisory = &answer["advisory"];
    let mut head = format!(
        "{} ({}){}: {}",
        text(advisory, "advisory_id"),
        text(advisory, "severity"),
        match aliases(advisory) {
            a if a.is_empty() => String::new(),
            a => format!(", also {a}"),
        },
        text(advisory, "summary")
    );
    if let Some(withdrawn) = advisory.get("withdrawn_date_utc").and_then(Value::as_str) {
        head.push_str(&format!("\nwithdrawn {withdrawn}: it affects no instance"));
    }
    let rows = list(answer, "affected");
    let mut table = table(&[
        "instance",
        "package",
        "installed",
        "fixed in",
        "matched by",
        "advisory",
    ]);
    for a in rows {
        table.add_row(vec![
            text(a, "aws_instance_id"),
            text(a, "package_name"),
            text(a, "package_version"),
            fixed(a),
            text(a, "matched_by"),
            text(a, "advisory_id"),
        ]);
    }
    let affected = counted(rows.len(), "affected package", "affected packages");
    format!("{head}\n{table}\n{affected}")
}

/// `GET /ec2/{id}/vulnerabilities`: most severe first.
pub fn vulnerabilities(answer: &Value) -> String {
    let rows = list(answer, "vulnerabilities");
    let mut table = table(&[
        "severity",
        "advisory",
        "aliases",
        "package",
        "installed",
        "fixed in",
    ]);
    for v in rows {
        table.add_row(vec![
            Cell::new(text(v, "severity")),
            Cell::new(text(v, "advisory_id")),
            Cell::new(aliases(v)),
            Cell::new(text(v, "package_name")),
            Cell::new(text(v, "package_version")),
            Cell::new(fixed(v)),
        ]);
    }
    let vulnerable = counted(rows.len(), "vulnerable package", "vulnerable packages");
    let id = text(answer, "aws_instance_id");
    if rows.is_empty() {
        // No empty frame: the line says it all.
        return format!("{id}: {vulnerable}");
    }
    format!("{table}\n{id}: {vulnerable}")
}

/// `GET /vulnerabilities`: the fleet's advisories, most severe and most
/// widespread first.
pub fn fleet_vulnerabilities(answer: &Value) -> String {
    let rows = list(answer, "advisories");
    let mut table = table(&["severity", "advisory", "aliases", "instances", "summary"]);
    for a in rows {
        table.add_row(vec![
            Cell::new(text(a, "severity")),
            Cell::new(text(a, "advisory_id")),
            Cell::new(aliases(a)),
            right(a["instances"].as_u64().unwrap_or(0)),
            Cell::new(text(a, "summary")),
        ]);
    }
    let counted = match answer["counted_at"].as_str() {
        // To the second, as a person reads it.
        Some(at) => format!(" (counted {} UTC)", at.split('.').next().unwrap_or(at)),
        None => String::new(),
    };
    match rows.len() {
        1 => format!("{table}\n1 advisory affects the fleet{counted}"),
        n => format!("{table}\n{n} advisories affect the fleet{counted}"),
    }
}

/// `GET /accounts`: each account and region, its instances by state and
/// what was last heard from it.
pub fn accounts(answer: &Value) -> String {
    let rows = list(answer, "accounts");
    let mut table = table(&[
        "account",
        "region",
        "instances",
        "running",
        "stopped",
        "last event",
        "last sync",
        "last pass",
        "status",
    ]);
    let count = |a: &Value, state: &str| a["instances"][state].as_u64().unwrap_or(0);
    let mut silent = 0;
    let mut failing = 0;
    for a in rows {
        let status = if let Some(error) = a["last_error"].as_str() {
            failing += 1;
            format!("failing: {error}")
        } else if a["silent"].as_bool() == Some(true) {
            silent += 1;
            "silent".to_owned()
        } else if a["watched"].as_bool() == Some(true) {
            "ok".to_owned()
        } else {
            "not watched".to_owned()
        };
        table.add_row(vec![
            Cell::new(text(a, "aws_account")),
            Cell::new(text(a, "aws_region")),
            right(count(a, "total")),
            right(count(a, "running")),
            right(count(a, "stopped")),
            Cell::new(text(a, "last_event_utc")),
            Cell::new(text(a, "last_sync_utc")),
            Cell::new(text(a, "last_pass_completed_utc")),
            Cell::new(status),
        ]);
    }
    format!(
        "{table}\n{} scopes, {silent} silent (nothing heard for {} hours), {failing} failing",
        rows.len(),
        answer["silent_after_hours"].as_i64().unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tables_hold_every_row_aligned() {
        let answer = json!({"instances": [
            {"aws_instance_id": "i-1", "aws_account": "123456789012", "aws_region": "us-east-1",
             "state": "running", "updated_date_utc": "2026-11-24 19:28:00.7"},
            {"aws_instance_id": "backfill:web-1", "aws_account": "210987654321",
             "aws_region": "eu-west-1", "updated_date_utc": "2026-11-24 19:28:01.0"}
        ], "next_token": null});
        let out = instances(&answer);
        let lines: Vec<&str> = out.lines().collect();
        let header = lines.iter().find(|l| l.contains("instance")).unwrap();
        let row = lines.iter().find(|l| l.contains("backfill:web-1")).unwrap();
        // The account column starts at the same place on every line.
        assert_eq!(header.find("account"), row.find("210987654321"), "{out}");
        assert!(out.ends_with("2 instances"), "{out}");
        let one = json!({"instances": [answer["instances"][0]], "next_token": null});
        assert!(instances(&one).ends_with("\n1 instance"), "{out}");
    }

    #[test]
    fn one_advisory_is_not_advisories() {
        let one = json!({"advisories": [{"advisory_id": "DSA-1", "severity": "high",
            "aliases": [], "instances": 1, "summary": "s"}]});
        assert!(fleet_vulnerabilities(&one).ends_with("1 advisory affects the fleet"));
        let mut counted = one.clone();
        counted["counted_at"] = json!("2026-12-06 07:00:00.0");
        assert!(fleet_vulnerabilities(&counted)
            .ends_with("1 advisory affects the fleet (counted 2026-12-06 07:00:00 UTC)"));
        let none = json!({"aws_instance_id": "i-1", "vulnerabilities": []});
        assert!(vulnerabilities(&none).ends_with("i-1: 0 vulnerable packages"));
    }

    #[test]
    fn versions_have_bars_in_the_given_order() {
        let answer = json!({"package_name": "openssl", "versions": [
            {"package_version": "3.0.9", "instances": 1},
            {"package_version": "3.0.13", "instances": 3}
        ]});
        let out = versions(&answer);
        let nine = out.find("3.0.9").unwrap();
        let thirteen = out.find("3.0.13").unwrap();
        assert!(nine < thirteen, "{out}");
        assert!(out.contains(&"█".repeat(30)) && out.contains(&format!("{} ", "█".repeat(10))));
        assert!(out.ends_with("openssl: 2 versions on 4 installs"), "{out}");
        let none = versions(&json!({"package_name": "x", "versions": []}));
        assert_eq!(none, "No instance has x.");
    }

    #[test]
    fn accounts_say_which_scopes_fail_or_fell_silent() {
        let answer = json!({"accounts": [
            {"aws_account": "123456789012", "aws_region": "us-east-1", "watched": true,
             "silent": false, "instances": {"total": 3, "running": 2, "stopped": 1},
             "last_sync_utc": "2026-11-25 10:00:00.0", "last_error": null},
            {"aws_account": "210987654321", "aws_region": "eu-west-1", "watched": true,
             "silent": true, "instances": {"total": 0}, "last_error": null},
            {"aws_account": "345678901234", "aws_region": "eu-west-1", "watched": true,
             "silent": false, "instances": {"total": 0},
             "last_error": "STS AssumeRole failed: AccessDenied"}
        ], "silent_after_hours": 24, "next_token": null});
        let out = accounts(&answer);
        assert!(
            out.contains("failing: STS AssumeRole failed: AccessDenied"),
            "{out}"
        );
        assert!(out.contains("silent") && out.contains(" ok "), "{out}");
        assert!(
            out.ends_with("3 scopes, 1 silent (nothing heard for 24 hours), 1 failing"),
            "{out}"
        );
    }

    #[test]
    fn an_unknown_instance_says_so() {
        let answer = json!({"record": {}, "record_found": false});
        assert_eq!(instance(&answer, "i-9"), "No instance i-9 is recorded.");
    }
}
