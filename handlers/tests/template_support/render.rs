//! A template as CloudFormation deploys it for given parameter values: its
//! conditions evaluated, the resources and outputs whose condition is false
//! left out, every `Fn::If` replaced by its chosen branch and every
//! `AWS::NoValue` removed. References (`!Ref`, `!GetAtt`, `!Sub`...) stay as
//! they are, so the checks read a rendering as they read the template.

use super::{at, at_mut, intrinsic, scalar_text, Intrinsic};
use std::collections::HashMap;
use yaml_serde::Value;

/// The pseudo parameters of a rendering, unless a test sets them.
pub const PSEUDO: &[(&str, &str)] = &[
    ("AWS::AccountId", "111111111111"),
    ("AWS::Region", "eu-west-1"),
    ("AWS::Partition", "aws"),
    ("AWS::StackName", "ec2-inventory"),
    ("AWS::URLSuffix", "amazonaws.com"),
];

/// Where a rendering keeps the pseudo parameters it was rendered with:
/// `Metadata.<this>.AWS::Region`...
pub const RENDERED_WITH: &str = "RenderedWith";

/// `t` deployed with `values`: parameter names, or pseudo parameters
/// (`AWS::Region`...). A parameter set here becomes its `Default` in the
/// rendering, and the pseudo parameters go under `Metadata.RenderedWith`, so
/// that a check can tell which values it was rendered with.
pub fn render(t: &Value, values: &[(&str, &str)]) -> Value {
    let mut t = t.clone();
    let mut pseudo: HashMap<String, String> = PSEUDO
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (name, value) in values {
        if name.starts_with("AWS::") {
            pseudo.insert(name.to_string(), value.to_string());
            continue;
        }
        let param = at_mut(&mut t, &["Parameters", name])
            .and_then(Value::as_mapping_mut)
            .unwrap_or_else(|| panic!("the template has no parameter {name}"));
        param.insert("Default".into(), Value::from(*value));
    }
    let conditions = Conditions::evaluate(&t, &pseudo);
    if let Some(root) = t.as_mapping_mut() {
        let metadata = root
            .entry("Metadata".into())
            .or_insert_with(|| Value::Mapping(Default::default()));
        if let Some(m) = metadata.as_mapping_mut() {
            let mut used: Vec<_> = pseudo.iter().collect();
            used.sort();
            m.insert(
                RENDERED_WITH.into(),
                Value::Mapping(
                    used.into_iter()
                        .map(|(k, v)| (Value::from(k.as_str()), Value::from(v.as_str())))
                        .collect(),
                ),
            );
        }
    }
    for section in ["Resources", "Outputs"] {
        if let Some(entries) = at_mut(&mut t, &[section]).and_then(Value::as_mapping_mut) {
            entries.retain(|_, v| {
                at(v, &["Condition"])
                    .and_then(Value::as_str)
                    .is_none_or(|c| conditions.get(c))
            });
        }
    }
    resolve(t, &conditions).unwrap_or(Value::Null)
}

/// The value of every condition of a template.
struct Conditions(HashMap<String, bool>);

impl Conditions {
    fn evaluate(t: &Value, pseudo: &HashMap<String, String>) -> Self {
        let names: Vec<String> = at(t, &["Conditions"])
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(k, _)| k.as_str().map(str::to_string))
            .collect();
        let eval = Eval { t, pseudo };
        Conditions(
            names
                .into_iter()
                .map(|n| {
                    let v = eval.condition_named(&n, 0);
                    (n, v)
                })
                .collect(),
        )
    }

    fn get(&self, name: &str) -> bool {
        *self
            .0
            .get(name)
            .unwrap_or_else(|| panic!("no condition {name}"))
    }
}

struct Eval<'a> {
    t: &'a Value,
    pseudo: &'a HashMap<String, String>,
}

impl Eval<'_> {
    fn condition_named(&self, name: &str, depth: usize) -> bool {
        assert!(
            depth < 32,
            "conditions refer to each other in a loop at {name}"
        );
        let expr =
            at(self.t, &["Conditions", name]).unwrap_or_else(|| panic!("no condition {name}"));
        self.condition(expr, depth + 1)
    }

    fn condition(&self, expr: &Value, depth: usize) -> bool {
        // `{Condition: X}`, the long form of `!Condition X`.
        if let Some(name) = expr
            .as_mapping()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.get("Condition"))
            .and_then(Value::as_str)
        {
            return self.condition_named(name, depth);
        }
        let Some(Intrinsic::Other(f, arg)) = intrinsic(expr) else {
            panic!("not a condition: {expr:?}");
        };
        let args: Vec<&Value> = match &arg {
            Value::Sequence(items) => items.iter().collect(),
            one => vec![one],
        };
        match f.as_str() {
            "Fn::Equals" => {
                let [a, b] = args[..] else {
                    panic!("Fn::Equals takes two values: {arg:?}")
                };
                scalar_text(Some(&self.value(a))) == scalar_text(Some(&self.value(b)))
            }
            "Fn::Not" => !self.condition(args[0], depth),
            "Fn::And" => args.iter().all(|c| self.condition(c, depth)),
            "Fn::Or" => args.iter().any(|c| self.condition(c, depth)),
            "Fn::Condition" => self.condition_named(arg.as_str().unwrap_or_default(), depth),
            other => panic!("{other} is not a condition function"),
        }
    }

    /// A value inside a condition: a literal, a parameter, a pseudo
    /// parameter, or `Fn::Join` / `Fn::Select` / `Fn::Split` of those.
    fn value(&self, v: &Value) -> Value {
        match intrinsic(v) {
            None => v.clone(),
            Some(Intrinsic::Ref(name)) => {
                if let Some(p) = self.pseudo.get(&name) {
                    return Value::from(p.as_str());
                }
                let param = at(self.t, &["Parameters", &name])
                    .unwrap_or_else(|| panic!("!Ref {name}: no such parameter"));
                let default = scalar_text(at(param, &["Default"])).unwrap_or_default();
                let list = at(param, &["Type"])
                    .and_then(Value::as_str)
                    .is_some_and(|ty| ty == "CommaDelimitedList" || ty.starts_with("List<"));
                if list {
                    split(",", &default)
                } else {
                    Value::from(default)
                }
            }
            Some(Intrinsic::Other(f, arg)) => {
                let args: Vec<Value> = arg
                    .as_sequence()
                    .unwrap_or_else(|| panic!("{f} takes a list: {arg:?}"))
                    .iter()
                    .map(|a| self.value(a))
                    .collect();
                let text = |i: usize| scalar_text(args.get(i)).unwrap_or_default();
                let list = |i: usize| -> Vec<String> {
                    args.get(i)
                        .and_then(Value::as_sequence)
                        .into_iter()
                        .flatten()
                        .map(|x| scalar_text(Some(x)).unwrap_or_default())
                        .collect()
                };
                match f.as_str() {
                    "Fn::Join" => Value::from(list(1).join(&text(0))),
                    "Fn::Split" => split(&text(0), &text(1)),
                    "Fn::Select" => {
                        let i: usize = text(0).parse().expect("Fn::Select index");
                        Value::from(list(1).get(i).cloned().unwrap_or_default())
                    }
                    other => panic!("{other} inside a condition is not rendered here"),
                }
            }
            Some(Intrinsic::GetAtt(r, a)) => panic!("!GetAtt {r}.{a} inside a condition"),
        }
    }
}

fn split(separator: &str, text: &str) -> Value {
    Value::Sequence(text.split(separator).map(Value::from).collect())
}

/// `v` with its `Fn::If`s chosen; `None` for `AWS::NoValue`.
fn resolve(v: Value, conditions: &Conditions) -> Option<Value> {
    match intrinsic(&v) {
        Some(Intrinsic::Ref(name)) if name == "AWS::NoValue" => return None,
        Some(Intrinsic::Other(f, arg)) if f == "Fn::If" => {
            let Some([condition, then, otherwise]) = arg.as_sequence().map(Vec::as_slice) else {
                panic!("Fn::If takes three values: {arg:?}");
            };
            let name = condition.as_str().expect("Fn::If names a condition");
            let chosen = if conditions.get(name) {
                then
            } else {
                otherwise
            };
            return resolve(chosen.clone(), conditions);
        }
        _ => {}
    }
    Some(match v {
        Value::Mapping(m) => Value::Mapping(
            m.into_iter()
                .filter_map(|(k, v)| Some((k, resolve(v, conditions)?)))
                .collect(),
        ),
        Value::Sequence(items) => Value::Sequence(
            items
                .into_iter()
                .filter_map(|v| resolve(v, conditions))
                .collect(),
        ),
        Value::Tagged(mut tagged) => {
            tagged.value = resolve(tagged.value, conditions).unwrap_or(Value::Null);
            Value::Tagged(tagged)
        }
        other => other,
    })
}
