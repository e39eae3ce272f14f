//! A small read-only model of `template.yaml` and `member.yaml` for the
//! template tests: resources, SAM `Globals` merged into functions,
//! CloudFormation intrinsics written in short (`!Ref x`) or long (`Ref: x`)
//! form, and a template rendered for given parameter values (`render`).

use std::path::{Path, PathBuf};
use yaml_serde::{Mapping, Value};

mod render;
pub use render::*;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The central stack, `template.yaml`.
pub fn load() -> Value {
    load_file("template.yaml")
}

/// A template of the repository's root.
pub fn load_file(name: &str) -> Value {
    let path = repo_root().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{name} is not YAML: {e}"))
}

/// The value at a path of mapping keys (or list indexes, in a list). A tag
/// is looked through: `[.., "Condition", "1"]` is the then-branch of
/// `Condition: !If [c, then, else]`.
pub fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, key| {
        let cur = match cur {
            Value::Tagged(t) => &t.value,
            other => other,
        };
        match cur {
            Value::Sequence(items) => items.get(key.parse::<usize>().ok()?),
            _ => cur.as_mapping()?.get(*key),
        }
    })
}

pub fn at_mut<'a>(v: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |cur, key| {
        let cur = match cur {
            Value::Tagged(t) => &mut t.value,
            other => other,
        };
        match cur {
            Value::Sequence(items) => items.get_mut(key.parse::<usize>().ok()?),
            _ => cur.as_mapping_mut()?.get_mut(*key),
        }
    })
}

pub fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path)?.as_str()
}

/// A plain string, or every string of a list (CloudFormation accepts both for
/// `Action`, `Resource`, `Architectures`...).
pub fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Sequence(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Every value of the tree, depth first, with the key it sits under in its mapping.
pub fn walk<'a>(
    v: &'a Value,
    key: Option<&'a str>,
    visit: &mut impl FnMut(Option<&'a str>, &'a Value),
) {
    visit(key, v);
    match v {
        Value::Mapping(m) => m
            .iter()
            .for_each(|(k, child)| walk(child, k.as_str(), visit)),
        Value::Sequence(items) => items.iter().for_each(|child| walk(child, None, visit)),
        Value::Tagged(t) => walk(&t.value, None, visit),
        _ => {}
    }
}

pub fn resources(t: &Value) -> Vec<(&str, &Value)> {
    at(t, &["Resources"])
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.as_str()?, v)))
                .collect()
        })
        .unwrap_or_default()
}

pub fn resources_of_type<'a>(t: &'a Value, ty: &str) -> Vec<(&'a str, &'a Value)> {
    resources(t)
        .into_iter()
        .filter(|(_, r)| str_at(r, &["Type"]) == Some(ty))
        .collect()
}

pub fn resource_type<'a>(t: &'a Value, name: &str) -> Option<&'a str> {
    str_at(at(t, &["Resources", name])?, &["Type"])
}

/// A function's properties as SAM sees them: `Globals.Function` merged under the
/// function's own (mappings merge key by key; anything else is overridden).
pub fn function_properties(t: &Value, function: &Value) -> Value {
    let globals = at(t, &["Globals", "Function"])
        .cloned()
        .unwrap_or(Value::Mapping(Mapping::new()));
    let own = at(function, &["Properties"])
        .cloned()
        .unwrap_or(Value::Mapping(Mapping::new()));
    merge(globals, own)
}

fn merge(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Mapping(mut b), Value::Mapping(o)) => {
            for (k, v) in o {
                let merged = match b.remove(&k) {
                    Some(existing) => merge(existing, v),
                    None => v,
                };
                b.insert(k, merged);
            }
            Value::Mapping(b)
        }
        (_, over) => over,
    }
}

/// A CloudFormation intrinsic function, in either notation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intrinsic {
    Ref(String),
    /// `(resource, attribute)`; the attribute may itself hold dots (`MasterUserSecret.SecretArn`).
    GetAtt(String, String),
    /// Any other function, by its long name (`Fn::Sub`, `Fn::FindInMap`...), with its argument.
    Other(String, Value),
}

pub fn intrinsic(v: &Value) -> Option<Intrinsic> {
    let (name, arg) = match v {
        Value::Tagged(t) => {
            let short = t.tag.to_string();
            let short = short.trim_start_matches('!');
            let long = if short == "Ref" {
                "Ref".to_string()
            } else {
                format!("Fn::{short}")
            };
            (long, &t.value)
        }
        Value::Mapping(m) if m.len() == 1 => {
            let (k, arg) = m.iter().next()?;
            let k = k.as_str()?;
            if k != "Ref" && !k.starts_with("Fn::") {
                return None;
            }
            (k.to_string(), arg)
        }
        _ => return None,
    };
    Some(match name.as_str() {
        "Ref" => Intrinsic::Ref(arg.as_str()?.to_string()),
        "Fn::GetAtt" => match arg {
            Value::String(s) => {
                let (res, attr) = s.split_once('.')?;
                Intrinsic::GetAtt(res.to_string(), attr.to_string())
            }
            Value::Sequence(parts) if parts.len() == 2 => Intrinsic::GetAtt(
                parts[0].as_str()?.to_string(),
                parts[1].as_str()?.to_string(),
            ),
            _ => return None,
        },
        _ => Intrinsic::Other(name, arg.clone()),
    })
}

/// `!GetAtt X.attr` where `X` is a resource of type `ty`: the resource's name.
pub fn get_att_of_type(t: &Value, v: &Value, ty: &str, attr: &str) -> Option<String> {
    match intrinsic(v)? {
        Intrinsic::GetAtt(res, a) if a == attr && resource_type(t, &res) == Some(ty) => Some(res),
        _ => None,
    }
}

/// `!Ref X` where `X` is a resource of type `ty`: the resource's name.
pub fn ref_of_type(t: &Value, v: &Value, ty: &str) -> Option<String> {
    match intrinsic(v)? {
        Intrinsic::Ref(res) if resource_type(t, &res) == Some(ty) => Some(res),
        _ => None,
    }
}

/// The default of the parameter `v` refers to, or `v` itself when it is a literal.
pub fn literal_or_default<'a>(t: &'a Value, v: &'a Value) -> Option<&'a Value> {
    match intrinsic(v) {
        Some(Intrinsic::Ref(p)) => at(t, &["Parameters", &p, "Default"]),
        Some(_) => None,
        None => Some(v),
    }
}

/// A scalar as text (`true`, `0`, `arm64`), for comparisons that should not care
/// whether YAML read a number, a boolean or a string.
pub fn scalar_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
