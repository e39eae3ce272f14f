//! Checks on `template.yaml` that cfn-lint and `sam validate` cannot make: least
//! privilege (IAM and inside the database), IAM auth on every route, the event
//! rules with their dead-letter queue, the alarms, the schema on every cluster
//! before anything uses it, engine versions, the settings the handlers read,
//! and how the functions build; organization mode (the central bus and its
//! policy, the member role's name, the scope alarms) and `member.yaml` (its
//! read-only role, its forwarding rules); and that the single-account
//! deployment stays what it was (a checked-in rendering).
//! Each check runs on the template rendered for several deployments (single
//! account, organization, list of accounts, both; for `member.yaml`, several
//! stack instances) and returns the problems it finds; every check is also run
//! on a template broken on purpose, to show it can fail.

use crate::template_support;

use inventory_core::config;
use template_support::*;
use yaml_serde::Value;

const HTTP_API_BIN: &str = "http-api";
const STATE_CHANGE_BIN: &str = "state-change";
const SCHEMA_BIN: &str = "schema";
const ADVISORIES_FETCH_BIN: &str = "advisories-fetch";
const DLQ_METRIC: &str = "ApproximateNumberOfMessagesVisible";

/// Actions that support no resource-level permission: `Resource: "*"` is the
/// only form IAM accepts for them.
const NO_RESOURCE_LEVEL: &[&str] = &[
    "ec2:DescribeInstances",
    "ssm:ListInventoryEntries",
    "ssm:DescribeInstanceInformation",
    "organizations:ListAccounts",
];

/// What the member role allows: the reads of `state-change` in a member account.
const MEMBER_ACTIONS: &[&str] = &[
    "ec2:DescribeInstances",
    "ssm:ListInventoryEntries",
    "ssm:DescribeInstanceInformation",
];

const DATA_API_ACTIONS: &[&str] = &[
    "rds-data:ExecuteStatement",
    "rds-data:BatchExecuteStatement",
    "rds-data:BeginTransaction",
    "rds-data:CommitTransaction",
    "rds-data:RollbackTransaction",
];

/// The schema function runs migrations and role statements, never a batch.
const SCHEMA_DATA_API_ACTIONS: &[&str] = &[
    "rds-data:ExecuteStatement",
    "rds-data:BeginTransaction",
    "rds-data:CommitTransaction",
    "rds-data:RollbackTransaction",
];

const ROUTES: &[(&str, &str)] = &[
    ("POST", "/ec2/{id}"),
    ("GET", "/ec2/{id}"),
    ("PUT", "/ec2/{id}"),
    ("DELETE", "/ec2/{id}"),
    ("GET", "/ec2"),
    ("GET", "/packages/{name}"),
    ("GET", "/ec2/{id}/history"),
    ("GET", "/packages/{name}/history"),
];

type Problems = Vec<String>;

// ------------------------------------------------------------------ lookups

/// The SAM function built from the handlers binary `bin`.
fn function_for_binary<'a>(t: &'a Value, bin: &str) -> Option<(&'a str, &'a Value)> {
    resources_of_type(t, "AWS::Serverless::Function")
        .into_iter()
        .find(|(_, f)| str_at(f, &["Metadata", "BuildProperties", "Binary"]) == Some(bin))
}

fn events(props: &Value) -> Vec<(String, Value)> {
    at(props, &["Events"])
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.clone())))
                .collect()
        })
        .unwrap_or_default()
}

/// The state-change function's name and the event patterns of its rules.
fn state_change_patterns(t: &Value) -> Result<(&str, Vec<Value>), Problems> {
    let Some((fname, f)) = function_for_binary(t, STATE_CHANGE_BIN) else {
        return Err(vec![format!("no function builds {STATE_CHANGE_BIN}")]);
    };
    let patterns = events(&function_properties(t, f))
        .into_iter()
        .filter_map(|(_, e)| at(&e, &["Properties", "Pattern"]).cloned())
        .collect();
    Ok((fname, patterns))
}

/// The text of a one-argument `!Sub`.
fn sub_text(v: Option<&Value>) -> Option<String> {
    match v.and_then(intrinsic)? {
        Intrinsic::Other(f, arg) if f == "Fn::Sub" => arg.as_str().map(str::to_string),
        _ => None,
    }
}

/// The targets of an `AWS::Events::Rule`.
fn rule_targets(rule: &Value) -> Vec<&Value> {
    at(rule, &["Properties", "Targets"])
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .collect()
}

/// Every IAM statement of the template, wherever it sits.
fn statements(t: &Value) -> Vec<&Value> {
    let mut found = Vec::new();
    walk(t, None, &mut |key, v| {
        if key == Some("Statement") {
            match v {
                Value::Sequence(items) => found.extend(items.iter()),
                other => found.push(other),
            }
        }
    });
    found
}

/// The statements a function's role gets from its `Policies`: inline documents
/// and managed policies of this template.
fn function_statements<'a>(t: &'a Value, props: &'a Value) -> Vec<&'a Value> {
    let mut docs: Vec<&Value> = Vec::new();
    for policy in at(props, &["Policies"])
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        if let Some(name) = ref_of_type(t, policy, "AWS::IAM::ManagedPolicy") {
            docs.extend(at(t, &["Resources", &name, "Properties", "PolicyDocument"]));
        } else {
            docs.push(policy);
        }
    }
    docs.into_iter()
        .flat_map(|d| match at(d, &["Statement"]) {
            Some(Value::Sequence(items)) => items.iter().collect(),
            Some(one) => vec![one],
            None => Vec::new(),
        })
        .collect()
}

fn granted_actions(t: &Value, props: &Value) -> Vec<String> {
    function_statements(t, props)
        .into_iter()
        .filter(|s| str_at(s, &["Effect"]) == Some("Allow"))
        .flat_map(|s| strings(at(s, &["Action"])).into_iter().map(str::to_string))
        .collect()
}

/// The single Aurora cluster the functions talk to.
fn cluster_name(t: &Value) -> Option<&str> {
    match resources_of_type(t, "AWS::RDS::DBCluster").as_slice() {
        [(name, _)] => Some(name),
        _ => None,
    }
}

fn is_cluster_arn(t: &Value, v: &Value) -> bool {
    get_att_of_type(t, v, "AWS::RDS::DBCluster", "DBClusterArn").is_some()
}

/// The master user's secret, managed by RDS.
fn is_secret_arn(t: &Value, v: &Value) -> bool {
    get_att_of_type(t, v, "AWS::RDS::DBCluster", "MasterUserSecret.SecretArn").is_some()
}

/// The application role's secret, generated by the template.
fn is_app_secret(t: &Value, v: &Value) -> bool {
    ref_of_type(t, v, "AWS::SecretsManager::Secret").is_some()
}

/// Which database secrets a function may read: `master`, `app`.
fn readable_secrets(t: &Value, props: &Value) -> Vec<&'static str> {
    let mut found = Vec::new();
    for s in function_statements(t, props) {
        let allowed = str_at(s, &["Effect"]) == Some("Allow")
            && strings(at(s, &["Action"])).contains(&"secretsmanager:GetSecretValue");
        let resources: Vec<&Value> = match at(s, &["Resource"]) {
            Some(Value::Sequence(items)) => items.iter().collect(),
            Some(one) => vec![one],
            None => Vec::new(),
        };
        for r in resources.into_iter().filter(|_| allowed) {
            if is_secret_arn(t, r) {
                found.push("master");
            } else if is_app_secret(t, r) {
                found.push("app");
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

// ------------------------------------------------------------------ checks

/// No action with a wildcard (`*`, `svc:*`, `svc:Get*`), no `NotAction`, and
/// no policy whose actions cannot be read here (AWS managed policies by name,
/// SAM policy templates).
fn wildcard_actions(t: &Value) -> Problems {
    let mut problems = Vec::new();
    walk(t, None, &mut |key, v| match key {
        Some("NotAction") => problems.push("NotAction grants everything it does not list".into()),
        Some("Action") => {
            for action in strings(Some(v)) {
                if action.contains('*') {
                    problems.push(format!("wildcard action {action}"));
                }
            }
        }
        _ => {}
    });
    for (name, f) in resources_of_type(t, "AWS::Serverless::Function") {
        let props = function_properties(t, f);
        for policy in at(&props, &["Policies"])
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            let readable = ref_of_type(t, policy, "AWS::IAM::ManagedPolicy").is_some()
                || at(policy, &["Statement"]).is_some();
            if !readable {
                problems.push(format!("{name}: policy {policy:?} cannot be reviewed here"));
            }
        }
        if at(&props, &["Policies"]).is_some_and(Value::is_string) {
            problems.push(format!(
                "{name}: Policies names a policy that cannot be reviewed here"
            ));
        }
    }
    problems
}

/// `Resource: "*"` only for actions without resource-level permissions; the
/// Data API on this cluster only, the secret on this secret only; and each
/// function allowed exactly what it needs.
fn resource_scoping(t: &Value) -> Problems {
    let mut problems = Vec::new();
    for s in statements(t) {
        let actions = strings(at(s, &["Action"]));
        let resource = at(s, &["Resource"]);
        if strings(resource).contains(&"*") {
            for a in actions.iter().filter(|a| !NO_RESOURCE_LEVEL.contains(a)) {
                problems.push(format!("{a} on Resource \"*\""));
            }
        }
        let on = |pred: fn(&Value, &Value) -> bool| resource.is_some_and(|r| pred(t, r));
        if actions.iter().any(|a| a.starts_with("rds-data:")) && !on(is_cluster_arn) {
            problems.push("rds-data actions not scoped to the cluster's ARN".into());
        }
        if actions.iter().any(|a| a.starts_with("secretsmanager:"))
            && !(on(is_secret_arn) || on(is_app_secret))
        {
            problems.push(
                "secretsmanager actions not scoped to a database secret of this stack".into(),
            );
        }
    }
    let mut data_api: Vec<&str> = DATA_API_ACTIONS.to_vec();
    data_api.push("secretsmanager:GetSecretValue");
    let mut state_change = data_api.clone();
    state_change.extend(MEMBER_ACTIONS);
    // Organization mode: the member role, and the organization's accounts.
    if organization_mode(t) {
        state_change.push("sts:AssumeRole");
    }
    if !parameter(t, "OrganizationId").is_empty() {
        state_change.push("organizations:ListAccounts");
    }
    let mut schema: Vec<&str> = SCHEMA_DATA_API_ACTIONS.to_vec();
    schema.push("secretsmanager:GetSecretValue");
    // The functions behind the API and the events log in as the application
    // role only; the schema function as the master user, reading the
    // application secret to give the role its password.
    for (bin, needed, secrets) in [
        (HTTP_API_BIN, &data_api, &["app"][..]),
        (STATE_CHANGE_BIN, &state_change, &["app"]),
        (SCHEMA_BIN, &schema, &["app", "master"]),
        // The feeds are fetched over the internet: no AWS permission for that.
        (ADVISORIES_FETCH_BIN, &data_api, &["app"]),
    ] {
        let Some((name, f)) = function_for_binary(t, bin) else {
            if !left_out(t, bin) {
                problems.push(format!("no function builds {bin}"));
            }
            continue;
        };
        let props = function_properties(t, f);
        let readable = readable_secrets(t, &props);
        if readable != secrets {
            problems.push(format!(
                "{name} may read the secrets {readable:?}, not {secrets:?}"
            ));
        }
        let granted = granted_actions(t, &props);
        for a in needed.iter().filter(|a| !granted.iter().any(|g| g == *a)) {
            problems.push(format!("{name} is not allowed {a}"));
        }
        for g in granted.iter().filter(|g| !needed.contains(&g.as_str())) {
            problems.push(format!("{name} is allowed {g}, which it does not use"));
        }
    }
    problems
}

/// IAM authorization on the API and on every route; all routes of the contract
/// served by the http-api function over payload v2.
fn routes_without_iam(t: &Value) -> Problems {
    let mut problems = Vec::new();
    for (name, api) in resources_of_type(t, "AWS::Serverless::HttpApi") {
        if str_at(api, &["Properties", "Auth", "DefaultAuthorizer"]) != Some("AWS_IAM")
            || scalar_text(at(api, &["Properties", "Auth", "EnableIamAuthorizer"])).as_deref()
                != Some("true")
        {
            problems.push(format!("{name}: the default authorizer is not AWS_IAM"));
        }
    }
    for (name, _) in resources_of_type(t, "AWS::Serverless::Api") {
        problems.push(format!("{name}: REST APIs are not part of this design"));
    }
    for (name, route) in resources_of_type(t, "AWS::ApiGatewayV2::Route") {
        if str_at(route, &["Properties", "AuthorizationType"]) != Some("AWS_IAM") {
            problems.push(format!("{name}: route without AWS_IAM"));
        }
    }
    let mut served = Vec::new();
    for (fname, f) in resources_of_type(t, "AWS::Serverless::Function") {
        let props = function_properties(t, f);
        let bin = str_at(f, &["Metadata", "BuildProperties", "Binary"]);
        for (ename, e) in events(&props) {
            let kind = str_at(&e, &["Type"]);
            if kind == Some("Api") {
                problems.push(format!("{fname}.{ename}: REST API event"));
            }
            if kind != Some("HttpApi") {
                continue;
            }
            let p = at(&e, &["Properties"]).cloned().unwrap_or(Value::Null);
            if at(&p, &["ApiId"])
                .and_then(|v| ref_of_type(t, v, "AWS::Serverless::HttpApi"))
                .is_none()
            {
                problems.push(format!(
                    "{fname}.{ename}: route on the implicit API, which has no IAM auth"
                ));
            }
            if let Some(a) = str_at(&p, &["Auth", "Authorizer"]).filter(|a| *a != "AWS_IAM") {
                problems.push(format!(
                    "{fname}.{ename}: authorizer {a} instead of AWS_IAM"
                ));
            }
            if let Some(v) = scalar_text(at(&p, &["PayloadFormatVersion"])).filter(|v| v != "2.0") {
                problems.push(format!(
                    "{fname}.{ename}: payload format {v}, the handler speaks 2.0"
                ));
            }
            if bin == Some(HTTP_API_BIN) {
                let method = str_at(&p, &["Method"]).unwrap_or("").to_ascii_uppercase();
                served.push((method, str_at(&p, &["Path"]).unwrap_or("").to_string()));
            }
        }
    }
    for (method, path) in ROUTES {
        if !served.iter().any(|(m, p)| m == method && p == path) {
            problems.push(format!(
                "the http-api function does not serve {method} {path}"
            ));
        }
    }
    problems
}

/// The queue a dead-letter setting points at, if it is a queue of this template.
fn queue_of(t: &Value, arn: Option<&Value>) -> Option<String> {
    get_att_of_type(t, arn?, "AWS::SQS::Queue", "Arn")
}

/// The three triggers of the state-change function, each with a retry policy
/// and a dead-letter queue EventBridge may write to; failed invocations go to a
/// queue too.
fn event_rules(t: &Value) -> Problems {
    let mut problems = Vec::new();
    let Some((fname, f)) = function_for_binary(t, STATE_CHANGE_BIN) else {
        return vec![format!("no function builds {STATE_CHANGE_BIN}")];
    };
    let props = function_properties(t, f);
    let (mut ec2, mut ssm, mut schedule) = (false, false, false);
    for (ename, e) in events(&props) {
        let p = at(&e, &["Properties"]).cloned().unwrap_or(Value::Null);
        let pattern = |path: &[&str]| strings(at(&p, &[&["Pattern"], path].concat()));
        match str_at(&e, &["Type"]) {
            Some("EventBridgeRule" | "CloudWatchEvent") => {
                let states = pattern(&["detail", "state"]);
                if pattern(&["source"]) == ["aws.ec2"]
                    && pattern(&["detail-type"]) == ["EC2 Instance State-change Notification"]
                    && ["running", "stopped", "terminated"]
                        .iter()
                        .all(|s| states.contains(s))
                {
                    ec2 = true;
                }
                if pattern(&["source"]) == ["aws.ssm"]
                    && pattern(&["detail-type"])
                        == ["EC2 State Manager Instance Association State Change"]
                    && pattern(&["detail", "document-name"]) == ["AWS-GatherSoftwareInventory"]
                    && pattern(&["detail", "status"]) == ["Success"]
                {
                    ssm = true;
                }
            }
            Some("Schedule" | "ScheduleV2") => {
                schedule = at(&p, &["Schedule"]).is_some() || schedule
            }
            _ => continue,
        }
        if scalar_text(at(&p, &["RetryPolicy", "MaximumRetryAttempts"])).is_none() {
            problems.push(format!("{fname}.{ename}: no retry policy"));
        }
        match queue_of(t, at(&p, &["DeadLetterConfig", "Arn"])) {
            Some(q) if events_may_send_to(t, &q) => {}
            Some(q) => problems.push(format!("{fname}.{ename}: EventBridge may not send to {q}")),
            None => problems.push(format!(
                "{fname}.{ename}: no dead-letter queue of this template"
            )),
        }
    }
    for (present, what) in [
        (ec2, "EC2 state change"),
        (ssm, "SSM inventory association success"),
        (schedule, "sync schedule"),
    ] {
        if !present {
            problems.push(format!("no {what} rule on {fname}"));
        }
    }
    let on_failure = &["EventInvokeConfig", "DestinationConfig", "OnFailure"];
    let failure_queue = queue_of(
        t,
        at(&props, &[on_failure.as_slice(), &["Destination"]].concat()),
    )
    .or_else(|| queue_of(t, at(&props, &["DeadLetterQueue", "TargetArn"])));
    if failure_queue.is_none() {
        problems.push(format!("{fname}: failed invocations go to no queue"));
    }
    problems
}

/// A queue policy lets events.amazonaws.com send to `queue`.
fn events_may_send_to(t: &Value, queue: &str) -> bool {
    resources_of_type(t, "AWS::SQS::QueuePolicy")
        .into_iter()
        .any(|(_, p)| {
            let queues = at(p, &["Properties", "Queues"]).and_then(Value::as_sequence);
            let covers = queues
                .into_iter()
                .flatten()
                .any(|q| ref_of_type(t, q, "AWS::SQS::Queue").as_deref() == Some(queue));
            let doc = at(p, &["Properties", "PolicyDocument"])
                .cloned()
                .unwrap_or(Value::Null);
            covers
                && statements(&doc).iter().any(|s| {
                    str_at(s, &["Effect"]) == Some("Allow")
                        && strings(at(s, &["Principal", "Service"]))
                            .contains(&"events.amazonaws.com")
                        && strings(at(s, &["Action"])).contains(&"sqs:SendMessage")
                })
        })
}

/// Every dead-letter queue has an alarm that fires on its first message.
fn dlq_alarms(t: &Value) -> Problems {
    let mut queues: Vec<String> = Vec::new();
    walk(t, None, &mut |key, v| {
        if matches!(
            key,
            Some("DeadLetterConfig" | "OnFailure" | "DeadLetterQueue")
        ) {
            for field in ["Arn", "Destination", "TargetArn"] {
                queues.extend(queue_of(t, at(v, &[field])));
            }
        }
    });
    queues.sort();
    queues.dedup();
    if queues.is_empty() {
        return vec!["no dead-letter queue at all".into()];
    }
    let alarmed = |queue: &str| {
        resources_of_type(t, "AWS::CloudWatch::Alarm")
            .into_iter()
            .any(|(_, a)| {
                let p = at(a, &["Properties"]).cloned().unwrap_or(Value::Null);
                let on_queue = at(&p, &["Dimensions"])
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .any(|d| {
                        str_at(d, &["Name"]) == Some("QueueName")
                            && at(d, &["Value"])
                                .and_then(|v| get_att_of_type(t, v, "AWS::SQS::Queue", "QueueName"))
                                .as_deref()
                                == Some(queue)
                    });
                let threshold =
                    scalar_text(at(&p, &["Threshold"])).and_then(|s| s.parse::<f64>().ok());
                let fires_on_one = match (str_at(&p, &["ComparisonOperator"]), threshold) {
                    (Some("GreaterThanThreshold"), Some(x)) => x < 1.0,
                    (Some("GreaterThanOrEqualToThreshold"), Some(x)) => x <= 1.0,
                    _ => false,
                };
                str_at(&p, &["Namespace"]) == Some("AWS/SQS")
                    && str_at(&p, &["MetricName"]) == Some(DLQ_METRIC)
                    && on_queue
                    && fires_on_one
            })
    };
    queues
        .iter()
        .filter(|q| !alarmed(q))
        .map(|q| format!("no alarm on the depth of {q}"))
        .collect()
}

/// Every setting a handler reads (core's constants) is set on the function
/// that runs it, and the database ones come from the cluster.
fn environment(t: &Value) -> Problems {
    let mut problems = Vec::new();
    let mut state_change_vars = config::DATABASE_VARS.to_vec();
    state_change_vars.extend(config::SYNC_VARS);
    // The schema function takes its target from its custom resource instead.
    let mut fetch_vars = config::DATABASE_VARS.to_vec();
    fetch_vars.push(config::ENV_ADVISORY_FEEDS);
    for (bin, needed) in [
        (HTTP_API_BIN, config::DATABASE_VARS.to_vec()),
        (STATE_CHANGE_BIN, state_change_vars),
        (ADVISORIES_FETCH_BIN, fetch_vars),
    ] {
        let Some((fname, f)) = function_for_binary(t, bin) else {
            if !left_out(t, bin) {
                problems.push(format!("no function builds {bin}"));
            }
            continue;
        };
        let props = function_properties(t, f);
        let vars = at(&props, &["Environment", "Variables"])
            .cloned()
            .unwrap_or(Value::Null);
        for var in needed {
            match at(&vars, &[var]) {
                None | Some(Value::Null) => problems.push(format!("{fname} lacks {var}")),
                Some(Value::String(s)) if s.is_empty() => {
                    problems.push(format!("{fname} sets {var} empty"))
                }
                Some(v) if var == config::ENV_CLUSTER_ARN && !is_cluster_arn(t, v) => {
                    problems.push(format!("{fname}: {var} is not the cluster's ARN"));
                }
                Some(v) if var == config::ENV_SECRET_ARN && !is_app_secret(t, v) => {
                    problems.push(format!(
                        "{fname}: {var} is not the application role's secret"
                    ));
                }
                Some(_) => {}
            }
        }
    }
    // Every dialect the template can set must be one the handlers accept.
    for engine in at(t, &["Mappings", "Engine"])
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
    {
        let dialect = str_at(engine.1, &["Dialect"]).unwrap_or("");
        if dialect.parse::<inventory_core::store::Dialect>().is_err() {
            problems.push(format!(
                "engine {:?} maps to unknown dialect {dialect:?}",
                engine.0
            ));
        }
    }
    problems
}

/// The sync's parameters stay inside what the function accepts (it refuses
/// to start on a setting out of range), and its time budget leaves the
/// function's `Timeout` room for a resuming database and the last save.
fn sync_parameters(t: &Value) -> Problems {
    let mut problems = Vec::new();
    let Some((fname, f)) = function_for_binary(t, STATE_CHANGE_BIN) else {
        return vec![format!("no function builds {STATE_CHANGE_BIN}")];
    };
    let props = function_properties(t, f);
    let timeout = at(&props, &["Timeout"])
        .and_then(Value::as_u64)
        .unwrap_or(3);
    let budget_max = timeout.saturating_sub(config::SYNC_TIMEOUT_HEADROOM_SECONDS.into());
    // (variable, smallest and largest value the function accepts)
    for (var, min, max) in [
        (config::ENV_SYNC_MAX_AGE_HOURS, 1, u64::from(u32::MAX)),
        (config::ENV_SYNC_BATCH, 1, config::MAX_SYNC_BATCH.into()),
        (
            config::ENV_SYNC_FLEET_BATCH,
            1,
            config::MAX_SYNC_FLEET_BATCH.into(),
        ),
        (config::ENV_SYNC_TIME_BUDGET_SECONDS, 1, budget_max),
        (
            config::ENV_HISTORY_RETENTION_DAYS,
            0,
            config::MAX_HISTORY_RETENTION_DAYS.into(),
        ),
    ] {
        let value = at(&props, &["Environment", "Variables", var]);
        let Some(Intrinsic::Ref(name)) = value.and_then(intrinsic) else {
            problems.push(format!("{fname}: {var} is not a parameter"));
            continue;
        };
        let Some(param) = at(t, &["Parameters", &name]) else {
            problems.push(format!("{fname}: {var} names no parameter {name}"));
            continue;
        };
        let bound = |key| at(param, &[key]).and_then(Value::as_u64);
        if bound("MinValue").is_none_or(|m| m < min) {
            problems.push(format!(
                "parameter {name} ({var}) allows values below {min}"
            ));
        }
        match bound("MaxValue") {
            Some(m) if m <= max => {}
            _ => problems.push(format!(
                "parameter {name} ({var}) allows values above {max}"
            )),
        }
        match bound("Default") {
            Some(d) if (min..=max).contains(&d) => {}
            _ => problems.push(format!(
                "parameter {name} ({var}) has no default in {min}..={max}"
            )),
        }
    }
    problems
}

/// Both functions build with cargo-lambda from the handlers crate, for arm64 on
/// provided.al2023, with X-Ray and JSON logs.
fn function_builds(t: &Value) -> Problems {
    let mut problems = Vec::new();
    let functions = resources_of_type(t, "AWS::Serverless::Function");
    // Each binary of the handlers crate is deployed, once.
    for bin in handler_binaries() {
        let builds = functions
            .iter()
            .filter(|(_, f)| str_at(f, &["Metadata", "BuildProperties", "Binary"]) == Some(&bin))
            .count();
        if builds != usize::from(!left_out(t, &bin)) {
            problems.push(format!("{builds} functions build {bin}"));
        }
    }
    for (name, f) in functions {
        let props = function_properties(t, f);
        let mut expect = |what: &str, got: Option<String>, want: &str| {
            if got.as_deref() != Some(want) {
                problems.push(format!("{name}: {what} is {got:?}, not {want}"));
            }
        };
        expect(
            "Runtime",
            scalar_text(at(&props, &["Runtime"])),
            "provided.al2023",
        );
        expect(
            "Architectures",
            Some(strings(at(&props, &["Architectures"])).join(",")),
            "arm64",
        );
        expect(
            "Handler",
            scalar_text(at(&props, &["Handler"])),
            "bootstrap",
        );
        expect(
            "BuildMethod",
            scalar_text(at(f, &["Metadata", "BuildMethod"])),
            "rust-cargolambda",
        );
        expect("Tracing", scalar_text(at(&props, &["Tracing"])), "Active");
        expect(
            "LogFormat",
            scalar_text(at(&props, &["LoggingConfig", "LogFormat"])),
            "JSON",
        );
        let bin = str_at(f, &["Metadata", "BuildProperties", "Binary"]).unwrap_or("");
        if !repo_root()
            .join("handlers/src/bin")
            .join(format!("{bin}.rs"))
            .is_file()
        {
            problems.push(format!("{name}: the handlers crate has no binary {bin:?}"));
        }
        let code = str_at(&props, &["CodeUri"]).unwrap_or("");
        let manifest =
            std::fs::read_to_string(repo_root().join(code).join("Cargo.toml")).unwrap_or_default();
        if code.is_empty() || !manifest.contains("name = \"inventory-handlers\"") {
            problems.push(format!(
                "{name}: CodeUri {code:?} is not the handlers crate"
            ));
        }
    }
    problems
}

/// The binaries in `handlers/src/bin`.
fn handler_binaries() -> Vec<String> {
    let dir = repo_root().join("handlers/src/bin");
    let mut bins: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".rs")
                .map(str::to_string)
        })
        .collect();
    bins.sort();
    bins
}

/// The single custom resource that runs the schema function.
fn schema_resource(t: &Value) -> Result<(&str, &Value, &str), Problems> {
    let Some((fname, _)) = function_for_binary(t, SCHEMA_BIN) else {
        return Err(vec![format!("no function builds {SCHEMA_BIN}")]);
    };
    let invokes_schema = |r: &Value| {
        let token = at(r, &["Properties", "ServiceToken"]).and_then(intrinsic);
        match token {
            Some(Intrinsic::Ref(x)) => x == format!("{fname}.Alias"),
            Some(Intrinsic::GetAtt(x, a)) => x == fname && a == "Arn",
            _ => false,
        }
    };
    let resources: Vec<_> = resources(t)
        .into_iter()
        .filter(|(_, r)| str_at(r, &["Type"]).is_some_and(|ty| ty.starts_with("Custom::")))
        .filter(|(_, r)| invokes_schema(r))
        .collect();
    match resources.as_slice() {
        [(name, r)] => Ok((name, r, fname)),
        _ => Err(vec![format!(
            "{} custom resources run {fname}",
            resources.len()
        )]),
    }
}

/// A custom resource runs the schema function on every deploy that changes
/// it or its target, once the database has a writer, and the stack waits for
/// its answer. Its target is the cluster the other functions use: a replaced
/// cluster changes its properties, so the new cluster gets the schema.
fn schema_on_deploy(t: &Value) -> Problems {
    let (name, r, fname) = match schema_resource(t) {
        Ok(found) => found,
        Err(problems) => return problems,
    };
    let mut problems = Vec::new();
    let writers = resources_of_type(t, "AWS::RDS::DBInstance");
    let depends = strings(at(r, &["DependsOn"]));
    if !writers.iter().any(|(w, _)| depends.contains(w)) {
        problems.push(format!("{name} may run before the database has a writer"));
    }
    let version = format!("{fname}.Version");
    let prop = |key: &str| at(r, &["Properties", key]);
    if !matches!(prop("FunctionVersion").and_then(intrinsic), Some(Intrinsic::Ref(x)) if x == version)
    {
        problems.push(format!(
            "{name} does not change with {version}: no migration on upgrade"
        ));
    }
    if scalar_text(prop("ServiceTimeout")).is_none() {
        problems.push(format!(
            "{name}: a lost answer would hold the stack for an hour"
        ));
    }
    // The target, as the functions' environment names it.
    let env = at(t, &["Globals", "Function", "Environment", "Variables"])
        .cloned()
        .unwrap_or(Value::Null);
    if !prop("ClusterArn").is_some_and(|v| is_cluster_arn(t, v)) {
        problems.push(format!(
            "{name}: ClusterArn is not the cluster's ARN; a replaced cluster gets no schema"
        ));
    }
    for (key, var) in [
        ("Database", config::ENV_DATABASE),
        ("Dialect", config::ENV_DIALECT),
    ] {
        if prop(key).is_none() || prop(key) != at(&env, &[var]) {
            problems.push(format!(
                "{name}: {key} is not what the functions' {var} names"
            ));
        }
    }
    if !prop("MasterSecretArn").is_some_and(|v| is_secret_arn(t, v)) {
        problems.push(format!("{name}: MasterSecretArn is not the master secret"));
    }
    if !prop("AppSecretArn").is_some_and(|v| is_app_secret(t, v))
        || prop("AppSecretArn") != at(&env, &[config::ENV_SECRET_ARN])
    {
        problems.push(format!(
            "{name}: AppSecretArn is not the functions' secret: no role for them"
        ));
    }
    // A configuration change publishes a new version too, so the alias never
    // keeps an old environment.
    let schema_fn = at(t, &["Resources", fname, "Properties"])
        .cloned()
        .unwrap_or(Value::Null);
    if scalar_text(at(&schema_fn, &["AutoPublishAliasAllProperties"])).as_deref() != Some("true") {
        problems.push(format!(
            "{fname}: a changed environment publishes no new version of the alias"
        ));
    }
    problems
}

/// Nothing that reaches the database exists before the schema: the API and
/// every function with event sources depend on the schema resource.
fn waits_for_schema(t: &Value) -> Problems {
    let (name, _, _) = match schema_resource(t) {
        Ok(found) => found,
        Err(problems) => return problems,
    };
    let mut waiting: Vec<&str> = resources_of_type(t, "AWS::Serverless::HttpApi")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    for (fname, f) in resources_of_type(t, "AWS::Serverless::Function") {
        if !events(&function_properties(t, f)).is_empty() {
            waiting.push(fname);
        }
    }
    waiting
        .into_iter()
        .filter(|w| {
            let r = at(t, &["Resources", w]).cloned().unwrap_or(Value::Null);
            !strings(at(&r, &["DependsOn"])).contains(&name)
        })
        .map(|w| format!("{w} does not wait for {name}"))
        .collect()
}

/// Versions that offer scaling to 0 ACUs: (engine, version prefix, first
/// minor that can). From the Aurora user guide's "Aurora Serverless v2 capacity".
const SCALE_TO_ZERO_MINIMUMS: &[(&str, &str, u32)] = &[
    ("aurora-postgresql", "13.", 15),
    ("aurora-postgresql", "14.", 12),
    ("aurora-postgresql", "15.", 7),
    ("aurora-postgresql", "16.", 3),
    ("aurora-postgresql", "17.", 4),
    ("aurora-mysql", "8.0.mysql_aurora.3.", 8),
];

fn engine_of(version: &str) -> Option<(&'static str, bool)> {
    SCALE_TO_ZERO_MINIMUMS
        .iter()
        .find_map(|(engine, prefix, min)| {
            let minor = version.strip_prefix(prefix)?;
            let minor: u32 = minor.split('.').next()?.parse().ok()?;
            Some((*engine, minor >= *min))
        })
}

/// The engine version is a parameter whose values all support the Data API
/// and scaling to 0, listed in docs/deploy.md, each tied to its engine by a
/// rule, with a default for the default engine.
fn engine_versions(t: &Value) -> Problems {
    let mut problems = Vec::new();
    let param = at(t, &["Parameters", "DatabaseEngineVersion"])
        .cloned()
        .unwrap_or(Value::Null);
    let allowed: Vec<String> = strings(at(&param, &["AllowedValues"]))
        .into_iter()
        .map(str::to_string)
        .collect();
    if allowed.is_empty() {
        problems.push("DatabaseEngineVersion allows any value".into());
    }
    let cluster = cluster_name(t).unwrap_or("DatabaseCluster");
    let version = at(t, &["Resources", cluster, "Properties", "EngineVersion"]);
    if !matches!(version.and_then(intrinsic), Some(Intrinsic::Ref(p)) if p == "DatabaseEngineVersion")
    {
        problems.push(format!(
            "{cluster}.EngineVersion is not the DatabaseEngineVersion parameter"
        ));
    }
    let docs = std::fs::read_to_string(repo_root().join("docs/deploy.md")).unwrap_or_default();
    for v in &allowed {
        match engine_of(v) {
            None => problems.push(format!("engine version {v} belongs to no known engine")),
            Some((_, false)) => problems.push(format!("engine version {v} cannot scale to 0")),
            Some(_) => {}
        }
        if !docs.contains(&format!("`{v}`")) {
            problems.push(format!(
                "engine version {v} is not listed in docs/deploy.md"
            ));
        }
    }
    let default_engine = str_at(t, &["Parameters", "DatabaseEngine", "Default"]).unwrap_or("");
    let default_version = scalar_text(at(&param, &["Default"])).unwrap_or_default();
    if !allowed.contains(&default_version)
        || engine_of(&default_version).map(|(e, _)| e) != Some(default_engine)
    {
        problems.push(format!(
            "the default version {default_version:?} does not fit the default engine {default_engine}"
        ));
    }
    // Each engine's rule admits exactly that engine's allowed versions.
    for engine in ["aurora-postgresql", "aurora-mysql"] {
        let mut want: Vec<&str> = allowed
            .iter()
            .map(String::as_str)
            .filter(|v| engine_of(v).map(|(e, _)| e) == Some(engine))
            .collect();
        want.sort();
        let ruled = at(t, &["Rules"])
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .any(|(_, rule)| {
                let condition = format!("{:?}", at(rule, &["RuleCondition"]));
                let asserts = at(rule, &["Assertions"])
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .any(|a| {
                        let Some(Intrinsic::Other(f, arg)) = at(a, &["Assert"]).and_then(intrinsic)
                        else {
                            return false;
                        };
                        let mut listed: Vec<&str> = arg
                            .as_sequence()
                            .and_then(|s| s.first())
                            .map(|l| strings(Some(l)))
                            .unwrap_or_default();
                        listed.sort();
                        f == "Fn::Contains" && listed == want
                    });
                condition.contains(engine) && condition.contains("DatabaseEngine") && asserts
            });
        if !ruled {
            problems.push(format!("no rule limits {engine} to its versions {want:?}"));
        }
    }
    problems
}

/// The functions' database role: its own secret, generated by the template
/// with a password that needs no escaping, handed to the schema function
/// (which creates the role) and to the functions.
fn app_role_secret(t: &Value) -> Problems {
    let secrets = resources_of_type(t, "AWS::SecretsManager::Secret");
    let [(name, secret)] = secrets.as_slice() else {
        return vec![format!(
            "{} generated secrets, not one for the application role",
            secrets.len()
        )];
    };
    let mut problems = Vec::new();
    let gen = at(secret, &["Properties", "GenerateSecretString"])
        .cloned()
        .unwrap_or(Value::Null);
    let template: serde_json::Value =
        serde_json::from_str(str_at(&gen, &["SecretStringTemplate"]).unwrap_or("null"))
            .unwrap_or_default();
    let username = template["username"].as_str().unwrap_or("");
    let plain = !username.is_empty()
        && username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !plain {
        problems.push(format!(
            "{name}: no plain lower-case username in the secret"
        ));
    }
    if str_at(&gen, &["GenerateStringKey"]) != Some("password") {
        problems.push(format!("{name}: the generated key is not `password`"));
    }
    let no_punctuation = scalar_text(at(&gen, &["ExcludePunctuation"])).as_deref() == Some("true");
    let excluded = str_at(&gen, &["ExcludeCharacters"]).unwrap_or("");
    if !no_punctuation && !"'\"\\` ".chars().all(|c| excluded.contains(c)) {
        problems.push(format!(
            "{name}: the password may hold quotes or backslashes, which the role statement refuses"
        ));
    }
    problems
}

/// The alarm of `metric` in `namespace` on `dimension` = `resource`, firing on
/// the first occurrence and notifying the alarm topic.
fn alarm_on(t: &Value, namespace: &str, metric: &str, dimension: Option<(&str, &str)>) -> bool {
    resources_of_type(t, "AWS::CloudWatch::Alarm")
        .into_iter()
        .any(|(_, a)| {
            let p = at(a, &["Properties"]).cloned().unwrap_or(Value::Null);
            let on_resource = match dimension {
                None => true,
                Some((dim, resource)) => at(&p, &["Dimensions"])
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .any(|d| {
                        str_at(d, &["Name"]) == Some(dim)
                            && matches!(at(d, &["Value"]).and_then(intrinsic),
                                Some(Intrinsic::Ref(r)) if r == resource)
                    }),
            };
            let threshold = scalar_text(at(&p, &["Threshold"])).and_then(|s| s.parse::<f64>().ok());
            let fires_on_one = str_at(&p, &["ComparisonOperator"]) == Some("GreaterThanThreshold")
                && threshold.is_some_and(|x| x < 1.0);
            str_at(&p, &["Namespace"]) == Some(namespace)
                && scalar_text(at(&p, &["MetricName"])).as_deref() == Some(metric)
                && on_resource
                && fires_on_one
                && notifies_topic(t, &p)
        })
}

fn notifies_topic(t: &Value, alarm_props: &Value) -> bool {
    at(alarm_props, &["AlarmActions"])
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .any(|a| ref_of_type(t, a, "AWS::SNS::Topic").is_some())
}

/// Alarms that page: the API's 5xx rate, errors and throttles of the
/// functions, the schema function failing, all to the alarm topic, which an
/// optional e-mail address subscribes to.
fn alarms(t: &Value) -> Problems {
    let mut problems = Vec::new();
    for bin in [HTTP_API_BIN, STATE_CHANGE_BIN] {
        let Some((fname, _)) = function_for_binary(t, bin) else {
            problems.push(format!("no function builds {bin}"));
            continue;
        };
        for metric in ["Errors", "Throttles"] {
            if !alarm_on(t, "AWS/Lambda", metric, Some(("FunctionName", fname))) {
                problems.push(format!("no alarm on the {metric} of {fname}"));
            }
        }
    }
    // The API's 5xx rate: metric math over its 5xx and Count metrics.
    let rate_alarm = resources_of_type(t, "AWS::CloudWatch::Alarm")
        .into_iter()
        .any(|(_, a)| {
            let p = at(a, &["Properties"]).cloned().unwrap_or(Value::Null);
            let metrics: Vec<&Value> = at(&p, &["Metrics"])
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
                .collect();
            let stat_of = |name: &str| {
                metrics.iter().find_map(|m| {
                    let metric = at(m, &["MetricStat", "Metric"])?;
                    let on_api = at(metric, &["Dimensions"])
                        .and_then(Value::as_sequence)
                        .into_iter()
                        .flatten()
                        .any(|d| {
                            str_at(d, &["Name"]) == Some("ApiId")
                                && at(d, &["Value"])
                                    .and_then(|v| ref_of_type(t, v, "AWS::Serverless::HttpApi"))
                                    .is_some()
                        });
                    (str_at(metric, &["Namespace"]) == Some("AWS/ApiGateway")
                        && scalar_text(at(metric, &["MetricName"])).as_deref() == Some(name)
                        && on_api)
                        .then(|| str_at(m, &["Id"]))
                        .flatten()
                })
            };
            let (Some(errors), Some(count)) = (stat_of("5xx"), stat_of("Count")) else {
                return false;
            };
            let divides = metrics.iter().any(|m| {
                let e = str_at(m, &["Expression"]).unwrap_or("");
                scalar_text(at(m, &["ReturnData"])).as_deref() == Some("true")
                    && e.contains(&format!("{errors} / {count}"))
            });
            divides && notifies_topic(t, &p)
        });
    if !rate_alarm {
        problems.push("no alarm on the API's 5xx rate".into());
    }
    // The schema function's FAILED answers, counted from its log.
    let failed_metric = resources_of_type(t, "AWS::Logs::MetricFilter")
        .into_iter()
        .find_map(|(_, f)| {
            let p = at(f, &["Properties"])?;
            let pattern = str_at(p, &["FilterPattern"])?;
            let on_schema_log = at(p, &["LogGroupName"])
                .and_then(|v| ref_of_type(t, v, "AWS::Logs::LogGroup"))
                .is_some_and(|g| {
                    function_for_binary(t, SCHEMA_BIN).is_some_and(|(_, sf)| {
                        let props = function_properties(t, sf);
                        matches!(at(&props, &["LoggingConfig", "LogGroup"]).and_then(intrinsic),
                            Some(Intrinsic::Ref(x)) if x == g)
                    })
                });
            let matches = pattern.contains(inventory_handlers::custom_resource::FAILED_LOG_MESSAGE);
            let transform = at(p, &["MetricTransformations"])?.as_sequence()?.first()?;
            (on_schema_log && matches).then(|| {
                (
                    str_at(transform, &["MetricNamespace"]).map(str::to_string),
                    at(transform, &["MetricName"]).cloned(),
                )
            })
        });
    let schema_alarmed = failed_metric.is_some_and(|(namespace, metric)| {
        resources_of_type(t, "AWS::CloudWatch::Alarm")
            .into_iter()
            .any(|(_, a)| {
                let p = at(a, &["Properties"]).cloned().unwrap_or(Value::Null);
                str_at(&p, &["Namespace"]).map(str::to_string) == namespace
                    && at(&p, &["MetricName"]).cloned() == metric
                    && notifies_topic(t, &p)
            })
    });
    if !schema_alarmed {
        problems.push("no alarm on the schema function answering FAILED".into());
    }
    let subscribed = resources_of_type(t, "AWS::SNS::Subscription")
        .into_iter()
        .any(|(_, s)| {
            str_at(s, &["Condition"]).is_some()
                && str_at(s, &["Properties", "Protocol"]) == Some("email")
                && matches!(at(s, &["Properties", "Endpoint"]).and_then(intrinsic),
                    Some(Intrinsic::Ref(p)) if p == "AlarmEmail")
                && at(s, &["Properties", "TopicArn"])
                    .and_then(|v| ref_of_type(t, v, "AWS::SNS::Topic"))
                    .is_some()
        });
    if !subscribed && !parameter(t, "AlarmEmail").is_empty() {
        problems.push("AlarmEmail subscribes no address to the alarm topic".into());
    }
    problems
}

const ADVISORY_CONDITION: &str = "AdvisoryFetchEnabled";

/// The scheduled advisory import: off by default (its parameters empty), on
/// only with both its feeds and its schedule; then its function runs on its
/// own schedule with a retry policy and a dead-letter queue (failed
/// invocations too), reads the feeds the parameter names, and an alarm
/// fires on its errors (a failed feed fails the invocation). Every resource
/// of the block exists only under its condition.
fn advisory_fetch(t: &Value) -> Problems {
    let mut problems = Vec::new();
    // Off by default: a rendering that turns it on sets both on purpose.
    if !advisory_import_on(t) {
        for param in ["AdvisoryFeeds", "AdvisoryFetchSchedule"] {
            match at(t, &["Parameters", param, "Default"]) {
                Some(Value::String(d)) if d.is_empty() => {}
                other => problems.push(format!("parameter {param} defaults to {other:?}, not off")),
            }
        }
    }
    let Some((fname, f)) = function_for_binary(t, ADVISORIES_FETCH_BIN) else {
        if !left_out(t, ADVISORIES_FETCH_BIN) {
            problems.push(format!("no function builds {ADVISORIES_FETCH_BIN}"));
        }
        return problems;
    };
    // The condition: both parameters set.
    let condition = at(t, &["Conditions", ADVISORY_CONDITION])
        .cloned()
        .unwrap_or(Value::Null);
    let mut tested: Vec<String> = Vec::new();
    walk(&condition, None, &mut |_, v| {
        if let Some(Intrinsic::Ref(x)) = intrinsic(v) {
            tested.push(x);
        }
    });
    let and = matches!(intrinsic(&condition),
        Some(Intrinsic::Other(f, arg)) if f == "Fn::And" && arg.as_sequence().is_some_and(|c| c.len() == 2));
    tested.sort();
    if !and || tested != ["AdvisoryFeeds", "AdvisoryFetchSchedule"] {
        problems.push(format!(
            "condition {ADVISORY_CONDITION} is not \"AdvisoryFeeds and AdvisoryFetchSchedule set\""
        ));
    }
    // Every resource of the block (its name starts with the function's
    // prefix) is conditional, and so is everything that refers to one.
    let conditional: Vec<&str> = resources(t)
        .into_iter()
        .filter(|(_, r)| str_at(r, &["Condition"]) == Some(ADVISORY_CONDITION))
        .map(|(n, _)| n)
        .collect();
    for (name, r) in resources(t) {
        if conditional.contains(&name) {
            continue;
        }
        if name.starts_with("AdvisoryFetch") {
            problems.push(format!("{name} is not conditional on {ADVISORY_CONDITION}"));
        }
        let mut refers = Vec::new();
        walk(r, None, &mut |_, v| {
            if let Some(Intrinsic::Ref(x) | Intrinsic::GetAtt(x, _)) = intrinsic(v) {
                refers.push(x);
            }
        });
        for x in refers {
            let base = x.split('.').next().unwrap_or_default().to_string();
            if conditional.iter().any(|c| *c == base) {
                problems.push(format!(
                    "{name} refers to {x}, which exists only under {ADVISORY_CONDITION}"
                ));
            }
        }
    }
    let props = function_properties(t, f);
    match at(
        &props,
        &["Environment", "Variables", config::ENV_ADVISORY_FEEDS],
    )
    .and_then(intrinsic)
    {
        Some(Intrinsic::Ref(p)) if p == "AdvisoryFeeds" => {}
        _ => problems.push(format!(
            "{fname}: {} is not the AdvisoryFeeds parameter",
            config::ENV_ADVISORY_FEEDS
        )),
    }
    // The parameter's pattern names every ecosystem the function reads.
    let pattern = str_at(t, &["Parameters", "AdvisoryFeeds", "AllowedPattern"]).unwrap_or("");
    for ecosystem in inventory_core::feeds::fetch::OSV_ECOSYSTEMS {
        if !pattern.contains(ecosystem) {
            problems.push(format!("AdvisoryFeeds does not allow osv:{ecosystem}"));
        }
    }
    let mut schedules = 0;
    for (ename, e) in events(&props) {
        let p = at(&e, &["Properties"]).cloned().unwrap_or(Value::Null);
        if !matches!(str_at(&e, &["Type"]), Some("Schedule" | "ScheduleV2")) {
            problems.push(format!("{fname}.{ename}: not a schedule"));
            continue;
        }
        schedules += 1;
        match at(&p, &["Schedule"]).and_then(intrinsic) {
            Some(Intrinsic::Ref(x)) if x == "AdvisoryFetchSchedule" => {}
            _ => problems.push(format!(
                "{fname}.{ename}: not the AdvisoryFetchSchedule parameter"
            )),
        }
        if scalar_text(at(&p, &["RetryPolicy", "MaximumRetryAttempts"])).is_none() {
            problems.push(format!("{fname}.{ename}: no retry policy"));
        }
        match queue_of(t, at(&p, &["DeadLetterConfig", "Arn"])) {
            Some(q) if events_may_send_to(t, &q) => {}
            _ => problems.push(format!(
                "{fname}.{ename}: no dead-letter queue EventBridge may send to"
            )),
        }
    }
    if schedules != 1 {
        problems.push(format!("{fname} has {schedules} schedules, not 1"));
    }
    let on_failure = [
        "EventInvokeConfig",
        "DestinationConfig",
        "OnFailure",
        "Destination",
    ];
    if queue_of(t, at(&props, &on_failure)).is_none() {
        problems.push(format!("{fname}: failed invocations go to no queue"));
    }
    if !alarm_on(t, "AWS/Lambda", "Errors", Some(("FunctionName", fname))) {
        problems.push(format!("no alarm on the Errors of {fname}"));
    }
    problems
}

/// Aurora Serverless v2 with the Data API, scaling to 0 by default, encrypted,
/// its secret managed by RDS, and one serverless writer.
fn database(t: &Value) -> Problems {
    let mut problems = Vec::new();
    let Some(cluster) = cluster_name(t) else {
        return vec!["not exactly one Aurora cluster".into()];
    };
    let p = at(t, &["Resources", cluster, "Properties"])
        .cloned()
        .unwrap_or(Value::Null);
    let value = |path: &[&str]| {
        at(&p, path)
            .and_then(|v| literal_or_default(t, v))
            .and_then(|v| scalar_text(Some(v)))
    };
    for (path, want) in [
        (&["EnableHttpEndpoint"][..], "true"),
        (&["ManageMasterUserPassword"], "true"),
        (&["StorageEncrypted"], "true"),
        (&["ServerlessV2ScalingConfiguration", "MinCapacity"], "0"),
        (&["Engine"], "aurora-postgresql"),
    ] {
        if value(path).as_deref() != Some(want) {
            problems.push(format!(
                "{cluster}.{}: {:?} by default, not {want}",
                path.join("."),
                value(path)
            ));
        }
    }
    for path in [
        &["ServerlessV2ScalingConfiguration", "SecondsUntilAutoPause"][..],
        &["DeletionProtection"],
    ] {
        if !at(&p, path).is_some_and(|v| refers_to_parameter(t, v)) {
            problems.push(format!("{cluster}.{} is not a parameter", path.join(".")));
        }
    }
    let writer = resources_of_type(t, "AWS::RDS::DBInstance")
        .into_iter()
        .any(|(_, i)| {
            str_at(i, &["Properties", "DBInstanceClass"]) == Some("db.serverless")
                && at(i, &["Properties", "DBClusterIdentifier"])
                    .and_then(|v| ref_of_type(t, v, "AWS::RDS::DBCluster"))
                    .as_deref()
                    == Some(cluster)
        });
    if !writer {
        problems.push(format!("no db.serverless writer in {cluster}"));
    }
    problems
}

/// Does an EventBridge pattern match an event? Enough of the pattern language
/// for this template: nested objects and lists of exact values.
fn pattern_matches(pattern: &Value, event: &serde_json::Value) -> bool {
    let Some(fields) = pattern.as_mapping() else {
        return false;
    };
    fields.iter().all(|(key, want)| {
        let got = key.as_str().and_then(|k| event.get(k));
        match (want, got) {
            (Value::Mapping(_), Some(inner)) => pattern_matches(want, inner),
            (Value::Sequence(_), Some(serde_json::Value::String(s))) => {
                strings(Some(want)).contains(&s.as_str())
            }
            _ => false,
        }
    })
}

/// Every sample EC2 and SSM event in `events/` is matched by one of the
/// state-change function's rules (they mirror what AWS sends).
fn sample_events_routed(t: &Value) -> Problems {
    let (fname, patterns) = match state_change_patterns(t) {
        Ok(found) => found,
        Err(problems) => return problems,
    };
    let dir = repo_root().join("events");
    let mut samples: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            (name.starts_with("ec2-") || name.starts_with("ssm-")) && name.ends_with(".json")
        })
        .collect();
    samples.sort();
    if samples.is_empty() {
        return vec!["no sample EC2 or SSM events in events/".into()];
    }
    samples
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let event: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            !patterns.iter().any(|p| pattern_matches(p, &event))
        })
        .map(|path| format!("no rule of {fname} matches {}", path.display()))
        .collect()
}

/// `v` is, or chooses between (`!If`), references to template parameters.
fn refers_to_parameter(t: &Value, v: &Value) -> bool {
    let mut found = false;
    walk(v, None, &mut |_, node| {
        if let Some(Intrinsic::Ref(name)) = intrinsic(node) {
            found |= at(t, &["Parameters", &name]).is_some();
        }
    });
    found
}

fn outputs(t: &Value) -> Problems {
    [
        "ApiUrl",
        "ClusterArn",
        "SecretArn",
        "AppSecretArn",
        "DeadLetterQueueUrl",
    ]
    .iter()
    .filter(|o| at(t, &["Outputs", o, "Value"]).is_none())
    .map(|o| format!("no output {o}"))
    .collect()
}

// ------------------------------------------------------------------ tests

/// One change that breaks the template on purpose; paths are dotted keys.
#[derive(Clone)]
enum Edit {
    Set(String, Value),
    Remove(String),
    Push(String, Value),
}

fn set(path: &str, yaml_text: &str) -> Edit {
    Edit::Set(path.into(), yaml(yaml_text))
}

fn remove(path: &str) -> Edit {
    Edit::Remove(path.into())
}

fn push(path: &str, yaml_text: &str) -> Edit {
    Edit::Push(path.into(), yaml(yaml_text))
}

fn yaml(text: &str) -> Value {
    yaml_serde::from_str(text).expect("test YAML")
}

fn apply(t: &mut Value, edit: &Edit) {
    let (Edit::Set(path, _) | Edit::Remove(path) | Edit::Push(path, _)) = edit;
    let keys: Vec<&str> = path.split('.').collect();
    let (last, parent) = keys.split_last().expect("non-empty path");
    let parent = at_mut(t, parent).unwrap_or_else(|| panic!("nothing at {parent:?}"));
    let parent = match parent {
        Value::Tagged(tagged) => &mut tagged.value,
        other => other,
    };
    // An item of a list, by its index.
    if let (Value::Sequence(items), Ok(i)) = (&mut *parent, last.parse::<usize>()) {
        match edit {
            Edit::Set(_, v) => items[i] = v.clone(),
            Edit::Remove(_) => {
                items.remove(i);
            }
            Edit::Push(_, v) => items[i]
                .as_sequence_mut()
                .unwrap_or_else(|| panic!("no list at {path}"))
                .push(v.clone()),
        }
        return;
    }
    let parent = parent
        .as_mapping_mut()
        .unwrap_or_else(|| panic!("no mapping at {path}"));
    match edit {
        Edit::Set(_, v) => {
            parent.insert(Value::from(*last), v.clone());
        }
        Edit::Remove(_) => assert!(parent.remove(*last).is_some(), "nothing at {path}"),
        Edit::Push(_, v) => parent
            .get_mut(*last)
            .and_then(Value::as_sequence_mut)
            .unwrap_or_else(|| panic!("no list at {path}"))
            .push(v.clone()),
    }
}

/// The real `template.yaml` passes `check` in every deployment of
/// [`DEPLOYMENTS`], and each broken copy is caught, in one of them at least,
/// with a problem that mentions what was broken.
fn assert_catches(check: fn(&Value) -> Problems, cases: Vec<(Edit, &str)>) {
    assert_catches_in("template.yaml", DEPLOYMENTS, check, cases);
}

/// [`assert_catches`] for the template `file` rendered with each of `renders`.
fn assert_catches_in(
    file: &str,
    renders: &[(&str, &[(&str, &str)])],
    check: fn(&Value) -> Problems,
    cases: Vec<(Edit, &str)>,
) {
    let problems_of = |t: &Value| -> Vec<String> {
        renders
            .iter()
            .flat_map(|(name, values)| {
                check(&render(t, values))
                    .into_iter()
                    .map(move |p| format!("{name}: {p}"))
            })
            .collect()
    };
    let clean = problems_of(&load_file(file));
    assert!(clean.is_empty(), "{file}: {clean:#?}");
    for (edit, expected) in cases {
        let mut t = load_file(file);
        apply(&mut t, &edit);
        let problems = problems_of(&t);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "expected a problem mentioning {expected:?}, got {problems:#?}"
        );
    }
}

const STATE_CHANGE: &str = "Resources.StateChangeFunction.Properties";
const STATE_CHANGE_EVENTS: &str = "Resources.StateChangeFunction.Properties.Events";
const HTTP_API_FN: &str = "Resources.HttpApiFunction.Properties";
const GLOBAL_VARS: &str = "Globals.Function.Environment.Variables";
const DATA_API_STATEMENTS: &str =
    "Resources.AppDataAccessPolicy.Properties.PolicyDocument.Statement";

#[test]
fn template_parses_with_short_form_tags() {
    let t = load();
    let cluster = at(
        &t,
        &[
            "Globals",
            "Function",
            "Environment",
            "Variables",
            config::ENV_CLUSTER_ARN,
        ],
    );
    assert_eq!(
        cluster.and_then(intrinsic),
        Some(Intrinsic::GetAtt(
            "DatabaseCluster".into(),
            "DBClusterArn".into()
        ))
    );
    assert_eq!(
        intrinsic(&yaml("{Ref: X}")),
        Some(Intrinsic::Ref("X".into()))
    );
    assert_eq!(
        intrinsic(&yaml("{'Fn::GetAtt': [A, B.C]}")),
        Some(Intrinsic::GetAtt("A".into(), "B.C".into()))
    );
}

#[test]
fn no_wildcard_actions() {
    let any = "[{Effect: Allow, Action: ['*'], Resource: '*'}]";
    assert_catches(
        wildcard_actions,
        vec![
            (
                push(
                    &format!("{STATE_CHANGE}.Policies"),
                    "Statement: [{Effect: Allow, Action: 's3:*', Resource: '*'}]",
                ),
                "wildcard action s3:*",
            ),
            (set(DATA_API_STATEMENTS, any), "wildcard action *"),
            (
                set(
                    &format!("{HTTP_API_FN}.Policies"),
                    "[{SQSSendMessagePolicy: {QueueName: q}}]",
                ),
                "cannot be reviewed",
            ),
            (
                set(
                    &format!("{HTTP_API_FN}.Policies"),
                    "AmazonRDSDataFullAccess",
                ),
                "cannot be reviewed",
            ),
        ],
    );
}

#[test]
fn resources_are_scoped() {
    let any_cluster = "[{Effect: Allow, Action: [rds-data:ExecuteStatement], Resource: '*'}]";
    let ssm = "Statement: [{Effect: Allow, Action: ssm:ListInventoryEntries, Resource: '*'}]";
    let master = "Statement: [{Effect: Allow, Action: secretsmanager:GetSecretValue, \
                  Resource: !GetAtt DatabaseCluster.MasterUserSecret.SecretArn}]";
    assert_catches(
        resource_scoping,
        vec![
            (
                set(DATA_API_STATEMENTS, any_cluster),
                "rds-data:ExecuteStatement on Resource \"*\"",
            ),
            (
                set(DATA_API_STATEMENTS, any_cluster),
                "not scoped to the cluster",
            ),
            (
                set(DATA_API_STATEMENTS, any_cluster),
                "is not allowed secretsmanager:GetSecretValue",
            ),
            (
                push(&format!("{HTTP_API_FN}.Policies"), ssm),
                "HttpApiFunction is allowed ssm:ListInventoryEntries",
            ),
            (
                push(&format!("{HTTP_API_FN}.Policies"), master),
                "HttpApiFunction may read the secrets [\"app\", \"master\"]",
            ),
            (
                set(
                    "Resources.SchemaFunction.Properties.Policies",
                    "[!Ref AppDataAccessPolicy]",
                ),
                "SchemaFunction may read the secrets [\"app\"]",
            ),
            (
                set(
                    &format!("{STATE_CHANGE}.Policies"),
                    "[!Ref AppDataAccessPolicy]",
                ),
                "StateChangeFunction is not allowed ec2:DescribeInstances",
            ),
        ],
    );
}

#[test]
fn every_route_requires_iam() {
    let events = format!("{HTTP_API_FN}.Events");
    assert_catches(
        routes_without_iam,
        vec![
            (
                remove("Resources.HttpApi.Properties.Auth.DefaultAuthorizer"),
                "default authorizer is not AWS_IAM",
            ),
            (
                set(
                    &format!("{events}.GetInstance.Properties.Auth"),
                    "{Authorizer: NONE}",
                ),
                "authorizer NONE instead of AWS_IAM",
            ),
            (
                remove(&format!("{events}.GetPackage.Properties.ApiId")),
                "GetPackage: route on the implicit API",
            ),
            (
                remove(&format!("{events}.DeleteInstance")),
                "does not serve DELETE /ec2/{id}",
            ),
            (
                set(
                    &format!("{events}.SearchInstances.Properties.PayloadFormatVersion"),
                    "'1.0'",
                ),
                "payload format 1.0",
            ),
        ],
    );
}

#[test]
fn rules_have_retries_and_dead_letter_queues() {
    let e = STATE_CHANGE_EVENTS;
    assert_catches(
        event_rules,
        vec![
            (
                remove(&format!(
                    "{e}.InventoryCollected.Properties.DeadLetterConfig"
                )),
                "InventoryCollected: no dead-letter queue",
            ),
            (
                remove(&format!("{e}.InventorySync.Properties.RetryPolicy")),
                "InventorySync: no retry policy",
            ),
            (
                remove(&format!("{e}.InventorySync")),
                "no sync schedule rule",
            ),
            (
                set(
                    &format!("{e}.InventoryCollected.Properties.Pattern.detail.document-name"),
                    "[AWS-RunShellScript]",
                ),
                "no SSM inventory association success rule",
            ),
            (
                set(
                    &format!("{e}.Ec2StateChange.Properties.Pattern.detail.state"),
                    "[stopped, terminated]",
                ),
                "no EC2 state change rule",
            ),
            (
                remove("Resources.DeadLetterQueuePolicy"),
                "EventBridge may not send to DeadLetterQueue",
            ),
            (
                remove(&format!("{STATE_CHANGE}.EventInvokeConfig")),
                "failed invocations go to no queue",
            ),
        ],
    );
}

#[test]
fn sample_events_reach_the_state_change_function() {
    let e = STATE_CHANGE_EVENTS;
    assert_catches(
        sample_events_routed,
        vec![
            (
                set(
                    &format!("{e}.Ec2StateChange.Properties.Pattern.detail.state"),
                    "[running, stopped]",
                ),
                "ec2-pending.json",
            ),
            (
                set(
                    &format!("{e}.InventoryCollected.Properties.Pattern.detail.status"),
                    "[Failed]",
                ),
                "ssm-inventory-association-success.json",
            ),
        ],
    );
}

#[test]
fn dead_letter_queue_has_an_alarm() {
    let alarm = "Resources.DeadLetterQueueAlarm";
    let unalarmed = "no alarm on the depth of DeadLetterQueue";
    assert_catches(
        dlq_alarms,
        vec![
            (remove(alarm), unalarmed),
            (
                set(&format!("{alarm}.Properties.Threshold"), "5"),
                unalarmed,
            ),
            (
                set(
                    &format!("{alarm}.Properties.MetricName"),
                    "NumberOfMessagesSent",
                ),
                unalarmed,
            ),
        ],
    );
}

#[test]
fn functions_get_every_setting_they_read() {
    let mut cases = Vec::new();
    for var in config::DATABASE_VARS {
        for function in ["HttpApiFunction", "StateChangeFunction"] {
            cases.push((
                remove(&format!("{GLOBAL_VARS}.{var}")),
                format!("{function} lacks {var}"),
            ));
        }
    }
    for var in config::SYNC_VARS {
        let path = format!("{STATE_CHANGE}.Environment.Variables.{var}");
        cases.push((remove(&path), format!("StateChangeFunction lacks {var}")));
    }
    let secret = format!("{GLOBAL_VARS}.{}", config::ENV_SECRET_ARN);
    let literal = "arn:aws:secretsmanager:us-east-1:123456789012:secret:x";
    cases.push((
        set(&secret, literal),
        "is not the application role's secret".into(),
    ));
    cases.push((
        set(
            &secret,
            "!GetAtt DatabaseCluster.MasterUserSecret.SecretArn",
        ),
        "HttpApiFunction: INVENTORY_SECRET_ARN is not the application role's secret".into(),
    ));
    cases.push((
        set("Mappings.Engine.aurora-mysql.Dialect", "mariadb"),
        "unknown dialect \"mariadb\"".into(),
    ));
    let cases = cases
        .iter()
        .map(|(edit, expected)| (edit.clone(), expected.as_str()))
        .collect();
    assert_catches(environment, cases);
}

#[test]
fn sync_parameters_stay_inside_what_the_function_accepts() {
    assert_catches(
        sync_parameters,
        vec![
            (
                set("Parameters.SyncBatch.MaxValue", "5000"),
                "SyncBatch (INVENTORY_SYNC_BATCH) allows values above 1000",
            ),
            (
                remove("Parameters.SyncFleetBatch.MaxValue"),
                "SyncFleetBatch (INVENTORY_SYNC_FLEET_BATCH) allows values above",
            ),
            (
                set("Parameters.SyncTimeBudgetSeconds.MaxValue", "600"),
                "(INVENTORY_SYNC_TIME_BUDGET_SECONDS) allows values above 180",
            ),
            (
                set(&format!("{STATE_CHANGE}.Timeout"), "200"),
                "(INVENTORY_SYNC_TIME_BUDGET_SECONDS) allows values above 80",
            ),
            (
                set("Parameters.SyncMaxAgeHours.MinValue", "0"),
                "SyncMaxAgeHours (INVENTORY_SYNC_MAX_AGE_HOURS) allows values below 1",
            ),
            (
                set(
                    &format!("{STATE_CHANGE}.Environment.Variables.INVENTORY_SYNC_FLEET_BATCH"),
                    "500",
                ),
                "INVENTORY_SYNC_FLEET_BATCH is not a parameter",
            ),
        ],
    );
}

#[test]
fn functions_build_with_cargo_lambda_for_arm64() {
    let metadata = "Resources.StateChangeFunction.Metadata";
    assert_catches(
        function_builds,
        vec![
            (
                set("Globals.Function.Architectures", "[x86_64]"),
                "Architectures is Some(\"x86_64\")",
            ),
            (
                set(&format!("{HTTP_API_FN}.Runtime"), "provided.al2"),
                "HttpApiFunction: Runtime",
            ),
            (
                set(&format!("{metadata}.BuildMethod"), "makefile"),
                "StateChangeFunction: BuildMethod",
            ),
            (
                set(&format!("{metadata}.BuildProperties.Binary"), "statechange"),
                "0 functions build state-change",
            ),
            (
                set(
                    "Resources.SchemaFunction.Metadata.BuildProperties.Binary",
                    "http-api",
                ),
                "2 functions build http-api",
            ),
            (
                set(&format!("{metadata}.BuildProperties.Binary"), "statechange"),
                "no binary \"statechange\"",
            ),
            (
                set("Globals.Function.CodeUri", "core"),
                "is not the handlers crate",
            ),
            (
                set("Globals.Function.LoggingConfig.LogFormat", "Text"),
                "LogFormat",
            ),
        ],
    );
}

#[test]
fn database_scales_to_zero_behind_the_data_api() {
    let cluster = "Resources.DatabaseCluster.Properties";
    assert_catches(
        database,
        vec![
            (
                set(&format!("{cluster}.EnableHttpEndpoint"), "false"),
                "EnableHttpEndpoint",
            ),
            (set("Parameters.MinCapacity.Default", "0.5"), "MinCapacity"),
            (
                set(&format!("{cluster}.DeletionProtection"), "true"),
                "DeletionProtection is not a parameter",
            ),
            (
                set(
                    "Resources.DatabaseWriter.Properties.DBInstanceClass",
                    "db.r6g.large",
                ),
                "no db.serverless writer",
            ),
        ],
    );
}

#[test]
fn outputs_name_what_operators_need() {
    assert_catches(
        outputs,
        vec![(remove("Outputs.SecretArn"), "no output SecretArn")],
    );
}

#[test]
fn the_deploy_applies_the_schema() {
    let schema = "Resources.DatabaseSchema";
    assert_catches(
        schema_on_deploy,
        vec![
            (remove(schema), "0 custom resources run SchemaFunction"),
            (
                remove(&format!("{schema}.DependsOn")),
                "may run before the database has a writer",
            ),
            (
                remove(&format!("{schema}.Properties.FunctionVersion")),
                "no migration on upgrade",
            ),
            (
                remove(&format!("{schema}.Properties.ServiceTimeout")),
                "hold the stack",
            ),
            (
                remove(&format!("{schema}.Properties.ClusterArn")),
                "a replaced cluster gets no schema",
            ),
            (
                set(&format!("{schema}.Properties.Database"), "inventory"),
                "Database is not what the functions' INVENTORY_DATABASE names",
            ),
            (
                set(
                    &format!("{schema}.Properties.AppSecretArn"),
                    "!GetAtt DatabaseCluster.MasterUserSecret.SecretArn",
                ),
                "AppSecretArn is not the functions' secret",
            ),
            (
                set(
                    &format!("{schema}.Properties.MasterSecretArn"),
                    "!Ref AppDatabaseSecret",
                ),
                "MasterSecretArn is not the master secret",
            ),
            (
                remove("Resources.SchemaFunction.Properties.AutoPublishAliasAllProperties"),
                "publishes no new version",
            ),
        ],
    );
}

#[test]
fn events_and_the_api_wait_for_the_schema() {
    assert_catches(
        waits_for_schema,
        vec![
            (
                remove("Resources.StateChangeFunction.DependsOn"),
                "StateChangeFunction does not wait for DatabaseSchema",
            ),
            (
                remove("Resources.HttpApi.DependsOn"),
                "HttpApi does not wait for DatabaseSchema",
            ),
            (
                set("Resources.HttpApiFunction.DependsOn", "DatabaseWriter"),
                "HttpApiFunction does not wait",
            ),
        ],
    );
}

#[test]
fn engine_versions_scale_to_zero_and_are_documented() {
    let versions = "Parameters.DatabaseEngineVersion";
    assert_catches(
        engine_versions,
        vec![
            (
                remove(&format!("{versions}.AllowedValues")),
                "allows any value",
            ),
            (
                push(&format!("{versions}.AllowedValues"), "'16.2'"),
                "engine version 16.2 cannot scale to 0",
            ),
            (
                push(&format!("{versions}.AllowedValues"), "'16.9'"),
                "engine version 16.9 is not listed in docs/deploy.md",
            ),
            (
                set(&format!("{versions}.Default"), "8.0.mysql_aurora.3.10.0"),
                "does not fit the default engine",
            ),
            (
                set(
                    "Resources.DatabaseCluster.Properties.EngineVersion",
                    "'17.5'",
                ),
                "is not the DatabaseEngineVersion parameter",
            ),
            (
                remove("Rules.MysqlVersionForMysql"),
                "no rule limits aurora-mysql",
            ),
            (
                push(
                    &format!("{versions}.AllowedValues"),
                    "8.0.mysql_aurora.3.08.0",
                ),
                "no rule limits aurora-mysql",
            ),
        ],
    );
}

#[test]
fn the_functions_role_has_its_own_generated_secret() {
    let gen = "Resources.AppDatabaseSecret.Properties.GenerateSecretString";
    assert_catches(
        app_role_secret,
        vec![
            (remove("Resources.AppDatabaseSecret"), "0 generated secrets"),
            (
                remove(&format!("{gen}.ExcludePunctuation")),
                "may hold quotes",
            ),
            (
                set(
                    &format!("{gen}.SecretStringTemplate"),
                    "'{\"username\": \"App-User\"}'",
                ),
                "no plain lower-case username",
            ),
            (
                set(&format!("{gen}.GenerateStringKey"), "secret"),
                "not `password`",
            ),
        ],
    );
}

#[test]
fn alarms_page_on_every_failure() {
    let r = "Resources";
    assert_catches(
        alarms,
        vec![
            (
                remove(&format!("{r}.StateChangeFunctionThrottlesAlarm")),
                "no alarm on the Throttles of StateChangeFunction",
            ),
            (
                remove(&format!("{r}.HttpApiFunctionErrorsAlarm")),
                "no alarm on the Errors of HttpApiFunction",
            ),
            (
                set(&format!("{r}.HttpApiFunctionThrottlesAlarm.Properties.AlarmActions"), "[]"),
                "no alarm on the Throttles of HttpApiFunction",
            ),
            (
                set(
                    &format!("{r}.ApiServerErrorRateAlarm.Properties.Metrics.0.MetricStat.Metric.MetricName"),
                    "4xx",
                ),
                "5xx rate",
            ),
            (
                set(
                    &format!("{r}.SchemaFailureMetricFilter.Properties.FilterPattern"),
                    "'\"schema migration failed\"'",
                ),
                "answering FAILED",
            ),
            (
                remove(&format!("{r}.SchemaFailureAlarm")),
                "answering FAILED",
            ),
            (
                remove(&format!("{r}.AlarmEmailSubscription")),
                "AlarmEmail subscribes no address",
            ),
        ],
    );
}

// ------------------------------------------------------------------ single account

/// The single-account rendering of `template.yaml` (its default parameters),
/// checked in: an organization mode that leaked into it shows up as a diff.
const SINGLE_ACCOUNT_SNAPSHOT: &str = "handlers/tests/snapshots/single-account-template.yaml";
const UPDATE_SNAPSHOT_VAR: &str = "UPDATE_TEMPLATE_SNAPSHOT";

/// What the single-account rendering holds beyond the snapshot on purpose
/// (docs/deploy.md, "Single account or organization").
const SINGLE_ACCOUNT_ADDITIONS: &[&str] = &[
    // The coverage alarms: a silent or failing scope is news in one account too.
    "Resources.SilentScopesAlarm",
    "Resources.FailedScopesAlarm",
    // Settings whose values are the runtime's defaults (24 hours) or new to it.
    "Resources.HttpApiFunction.Properties.Environment.Variables.INVENTORY_SILENT_AFTER_HOURS",
    "Resources.StateChangeFunction.Properties.Environment.Variables.INVENTORY_SILENT_AFTER_HOURS",
    "Resources.StateChangeFunction.Properties.Environment.Variables.INVENTORY_METRICS_NAMESPACE",
];

/// Removes the value at a dotted path, and the mappings it leaves empty.
fn remove_pruning(t: &mut Value, path: &str) -> bool {
    let keys: Vec<&str> = path.split('.').collect();
    let (last, parents) = keys.split_last().expect("non-empty path");
    let Some(parent) = at_mut(t, parents).and_then(Value::as_mapping_mut) else {
        return false;
    };
    // In place: the rest keeps its order for the comparison.
    if parent.shift_remove(*last).is_none() {
        return false;
    }
    if parent.is_empty() && !parents.is_empty() {
        remove_pruning(t, &parents.join("."));
    }
    true
}

fn single_account_rendering() -> String {
    let mut t = render(&load(), &[]);
    for path in SINGLE_ACCOUNT_ADDITIONS {
        assert!(
            remove_pruning(&mut t, path),
            "{path} is listed as an addition but the single-account rendering has no such thing"
        );
    }
    let mut kept = yaml_serde::Mapping::new();
    for section in ["Globals", "Resources", "Outputs"] {
        kept.insert(
            section.into(),
            at(&t, &[section]).cloned().unwrap_or_default(),
        );
    }
    format!(
        "# template.yaml rendered with its default parameters (single account), without\n\
         # the additions handlers/tests/it/template.rs lists. Written by its test\n\
         # single_account_deployment_is_unchanged with {UPDATE_SNAPSHOT_VAR}=1.\n{}",
        yaml_serde::to_string(&Value::Mapping(kept)).expect("YAML")
    )
}

#[test]
fn single_account_deployment_is_unchanged() {
    let rendered = single_account_rendering();
    let path = repo_root().join(SINGLE_ACCOUNT_SNAPSHOT);
    if std::env::var(UPDATE_SNAPSHOT_VAR).as_deref() == Ok("1") {
        std::fs::write(&path, &rendered).expect("write the snapshot");
        return;
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    let first_difference = stored
        .lines()
        .zip(rendered.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(stored.lines().count().min(rendered.lines().count()));
    assert!(
        stored == rendered,
        "the single-account rendering differs from {SINGLE_ACCOUNT_SNAPSHOT} at line {}:\n\
         stored:   {:?}\nrendered: {:?}\n\
         A deliberate change: rerun with {UPDATE_SNAPSHOT_VAR}=1 and review the diff.",
        first_difference + 1,
        stored.lines().nth(first_difference),
        rendered.lines().nth(first_difference),
    );
}

// ------------------------------------------------------------------ organization mode

const ORG_ID: &str = "o-abcdefghij";

/// The deployments every `template.yaml` check runs on: one account (the
/// defaults), an organization, a list of accounts, and both; the scheduled
/// advisory import is on in two of them.
const DEPLOYMENTS: &[(&str, &[(&str, &str)])] = &[
    ("single account", &[]),
    (
        "organization",
        &[
            ("OrganizationId", ORG_ID),
            ("SyncRegions", "eu-west-1,us-east-1"),
            ("AlarmEmail", "ops@example.com"),
            ("AdvisoryFeeds", "osv:Debian,alas:2023"),
            ("AdvisoryFetchSchedule", "rate(6 hours)"),
        ],
    ),
    (
        "allowed accounts",
        &[
            ("AllowedAccounts", "222222222222,333333333333"),
            ("AdvisoryFeeds", "osv:Ubuntu"),
            ("AdvisoryFetchSchedule", "rate(1 day)"),
        ],
    ),
    (
        "organization and list",
        &[
            ("OrganizationId", ORG_ID),
            ("AllowedAccounts", "222222222222"),
        ],
    ),
];

use config::{
    ENV_ALLOWED_ACCOUNTS, ENV_MEMBER_ROLE_NAME, ENV_METRICS_NAMESPACE, ENV_ORGANIZATION_ID,
    ENV_SILENT_AFTER_HOURS, ENV_SYNC_REGIONS,
};

/// The sync's EMF metrics the scope alarms watch.
const SCOPE_METRICS: &[&str] = &["SilentScopes", "FailedScopes"];

/// A parameter's value in a rendering (its default), as text.
fn parameter(t: &Value, name: &str) -> String {
    scalar_text(at(t, &["Parameters", name, "Default"])).unwrap_or_default()
}

/// Whether a rendering deploys the scheduled advisory import (its function
/// exists only then).
fn advisory_import_on(t: &Value) -> bool {
    !parameter(t, "AdvisoryFeeds").is_empty() && !parameter(t, "AdvisoryFetchSchedule").is_empty()
}

/// A binary a rendering leaves out on purpose.
fn left_out(t: &Value, bin: &str) -> bool {
    bin == ADVISORIES_FETCH_BIN && !advisory_import_on(t)
}

fn organization_mode(t: &Value) -> bool {
    !parameter(t, "OrganizationId").is_empty() || !parameter(t, "AllowedAccounts").is_empty()
}

fn is_ref_to(v: Option<&Value>, name: &str) -> bool {
    matches!(v.and_then(intrinsic), Some(Intrinsic::Ref(r)) if r == name)
}

fn function_env<'a>(props: &'a Value, var: &str) -> Option<&'a Value> {
    at(props, &["Environment", "Variables", var])
}

/// The settings of the contract on each function: a setting left empty
/// would switch organization mode on with nothing in it, so each is set
/// exactly when its parameter is.
fn organization_environment(t: &Value) -> Problems {
    let mut problems = Vec::new();
    let org = organization_mode(t);
    let Some((sc, f)) = function_for_binary(t, STATE_CHANGE_BIN) else {
        return vec![format!("no function builds {STATE_CHANGE_BIN}")];
    };
    let props = function_properties(t, f);
    for (var, param, wanted) in [
        (
            ENV_ORGANIZATION_ID,
            "OrganizationId",
            !parameter(t, "OrganizationId").is_empty(),
        ),
        (
            ENV_ALLOWED_ACCOUNTS,
            "AllowedAccounts",
            !parameter(t, "AllowedAccounts").is_empty(),
        ),
        (ENV_MEMBER_ROLE_NAME, "MemberRoleName", org),
        (
            ENV_SYNC_REGIONS,
            "SyncRegions",
            !parameter(t, "SyncRegions").is_empty(),
        ),
        (ENV_SILENT_AFTER_HOURS, "SilentAfterHours", true),
    ] {
        match function_env(&props, var) {
            Some(v) if wanted && !is_ref_to(Some(v), param) => {
                problems.push(format!("{sc}: {var} is not the parameter {param}"))
            }
            Some(_) if !wanted => {
                problems.push(format!("{sc} sets {var} although {param} is empty"))
            }
            None if wanted => problems.push(format!("{sc} lacks {var}")),
            _ => {}
        }
    }
    // The parameters' defaults are the runtime's, and their bounds values it accepts.
    if parameter(t, "MemberRoleName") != config::DEFAULT_MEMBER_ROLE_NAME {
        problems.push(format!(
            "MemberRoleName defaults to {:?}, the runtime to {:?}",
            parameter(t, "MemberRoleName"),
            config::DEFAULT_MEMBER_ROLE_NAME
        ));
    }
    if parameter(t, "SilentAfterHours") != config::DEFAULT_SILENT_AFTER_HOURS.to_string() {
        problems.push(format!(
            "SilentAfterHours defaults to {:?}, the runtime to {}",
            parameter(t, "SilentAfterHours"),
            config::DEFAULT_SILENT_AFTER_HOURS
        ));
    }
    for bound in ["MinValue", "MaxValue"] {
        let value = scalar_text(at(t, &["Parameters", "SilentAfterHours", bound]));
        let accepted = value.as_ref().is_some_and(|v| {
            config::silent_after_hours(|k| (k == ENV_SILENT_AFTER_HOURS).then(|| v.clone())).is_ok()
        });
        if !accepted {
            problems.push(format!(
                "SilentAfterHours' {bound} {value:?} is a value the runtime refuses"
            ));
        }
    }
    if !is_ref_to(
        function_env(&props, ENV_METRICS_NAMESPACE),
        "AWS::StackName",
    ) {
        problems.push(format!(
            "{sc}: {ENV_METRICS_NAMESPACE} is not the stack's name"
        ));
    }
    match function_for_binary(t, HTTP_API_BIN) {
        Some((name, f)) => {
            let props = function_properties(t, f);
            if !is_ref_to(
                function_env(&props, ENV_SILENT_AFTER_HOURS),
                "SilentAfterHours",
            ) {
                problems.push(format!(
                    "{name}: {ENV_SILENT_AFTER_HOURS} is not the parameter SilentAfterHours"
                ));
            }
        }
        None => problems.push(format!("no function builds {HTTP_API_BIN}")),
    }
    problems
}

/// `sts:AssumeRole` on the member role's name in any account and nothing
/// else, in organization mode only; `organizations:ListAccounts` only with
/// an organization id.
fn assume_role_scope(t: &Value) -> Problems {
    let mut problems = Vec::new();
    let want = "arn:${AWS::Partition}:iam::*:role/${MemberRoleName}";
    let mut assumes = 0;
    for s in statements(t) {
        let actions = strings(at(s, &["Action"]));
        if !actions.iter().any(|a| a.starts_with("sts:")) || at(s, &["Principal"]).is_some() {
            continue;
        }
        assumes += 1;
        if actions != ["sts:AssumeRole"] {
            problems.push(format!("sts actions {actions:?} beside sts:AssumeRole"));
        }
        if sub_text(at(s, &["Resource"])).as_deref() != Some(want) {
            problems.push(format!(
                "sts:AssumeRole on {:?}, not on the member role's name only",
                at(s, &["Resource"])
            ));
        }
    }
    match (organization_mode(t), assumes) {
        (true, 1) | (false, 0) => {}
        (mode, n) => problems.push(format!(
            "{n} statements allow sts:AssumeRole with organization mode {}",
            if mode { "on" } else { "off" }
        )),
    }
    problems
}

/// The bus the member accounts forward to: PutEvents only, on itself only,
/// from the organization (`aws:PrincipalOrgID`) or the listed accounts, both
/// when both are given; its rules carry the patterns of the function's own
/// rules, with retries and the dead-letter queue, and may invoke it.
fn central_bus(t: &Value) -> Problems {
    let buses = resources_of_type(t, "AWS::Events::EventBus");
    let rules = resources_of_type(t, "AWS::Events::Rule");
    let permissions = resources_of_type(t, "AWS::Lambda::Permission");
    if !organization_mode(t) {
        return buses
            .iter()
            .chain(&rules)
            .chain(&permissions)
            .map(|(name, _)| format!("{name} exists outside organization mode"))
            .collect();
    }
    let [(bus, b)] = buses.as_slice() else {
        return vec![format!("{} event buses in organization mode", buses.len())];
    };
    let mut problems = Vec::new();
    let org_id = !parameter(t, "OrganizationId").is_empty();
    let listed = !parameter(t, "AllowedAccounts").is_empty();
    let policy = at(b, &["Properties", "Policy"])
        .cloned()
        .unwrap_or(Value::Null);
    let policy_statements = statements(&policy);
    if policy_statements.is_empty() {
        problems.push(format!(
            "{bus} has no policy: only its own account may use it"
        ));
    }
    let name = str_at(b, &["Properties", "Name"])
        .map(str::to_string)
        .or_else(|| sub_text(at(b, &["Properties", "Name"])));
    for s in policy_statements {
        if str_at(s, &["Effect"]) != Some("Allow") {
            continue;
        }
        let actions = strings(at(s, &["Action"]));
        if actions != ["events:PutEvents"] {
            problems.push(format!(
                "{bus}'s policy allows {actions:?}, not PutEvents alone"
            ));
        }
        let resource = sub_text(at(s, &["Resource"]));
        let on_itself = resource.as_deref().zip(name.as_deref()).is_some_and(|(r, n)| {
            r == format!("arn:${{AWS::Partition}}:events:${{AWS::Region}}:${{AWS::AccountId}}:event-bus/{n}")
        });
        if !on_itself {
            problems.push(format!(
                "{bus}'s policy reaches beyond the bus: {resource:?}"
            ));
        }
        let org_condition = at(s, &["Condition", "StringEquals", "aws:PrincipalOrgID"]);
        if org_id && !is_ref_to(org_condition, "OrganizationId") {
            problems.push(format!(
                "{bus}'s policy has no aws:PrincipalOrgID condition on OrganizationId"
            ));
        }
        let principal = at(s, &["Principal"]);
        let accounts = matches!(
            at(s, &["Principal", "AWS"]).and_then(intrinsic),
            Some(Intrinsic::Other(f, arg)) if f == "Fn::Split"
                && is_ref_to(arg.as_sequence().and_then(|a| a.get(1)), "AllowedAccounts")
        );
        let anyone = principal.and_then(Value::as_str) == Some("*")
            || strings(at(s, &["Principal", "AWS"])).contains(&"*");
        if listed && !accounts {
            problems.push(format!(
                "{bus}'s policy admits {principal:?}, not the AllowedAccounts"
            ));
        }
        if anyone && !is_ref_to(org_condition, "OrganizationId") {
            problems.push(format!(
                "{bus}'s policy admits any account without an aws:PrincipalOrgID condition"
            ));
        }
    }
    // Its rules: the function's own patterns, on this bus.
    let (sc, patterns) = match state_change_patterns(t) {
        Ok(found) => found,
        Err(problems) => return problems,
    };
    let on_bus: Vec<(&str, &Value)> = rules
        .iter()
        .filter(|(_, r)| is_ref_to(at(r, &["Properties", "EventBusName"]), bus))
        .copied()
        .collect();
    for pattern in &patterns {
        if !on_bus
            .iter()
            .any(|(_, r)| at(r, &["Properties", "EventPattern"]) == Some(pattern))
        {
            problems.push(format!(
                "no rule on {bus} matches what {sc}'s rule {pattern:?} does"
            ));
        }
    }
    for (rule, r) in on_bus {
        let targets = rule_targets(r);
        let [target] = targets.as_slice() else {
            problems.push(format!(
                "{rule} has {} targets, not the function",
                targets.len()
            ));
            continue;
        };
        if get_att_of_type(
            t,
            at(target, &["Arn"]).unwrap_or(&Value::Null),
            "AWS::Serverless::Function",
            "Arn",
        )
        .as_deref()
            != Some(sc)
        {
            problems.push(format!("{rule} does not target {sc}"));
        }
        if scalar_text(at(target, &["RetryPolicy", "MaximumRetryAttempts"])).is_none() {
            problems.push(format!("{rule}: no retry policy"));
        }
        match queue_of(t, at(target, &["DeadLetterConfig", "Arn"])) {
            Some(q) if events_may_send_from(t, &q, rule) => {}
            Some(q) => problems.push(format!(
                "{rule}: its dead-letter queue {q} does not admit it"
            )),
            None => problems.push(format!("{rule}: no dead-letter queue of this template")),
        }
        let invokes = permissions.iter().any(|(_, p)| {
            let p = at(p, &["Properties"]).cloned().unwrap_or(Value::Null);
            str_at(&p, &["Action"]) == Some("lambda:InvokeFunction")
                && str_at(&p, &["Principal"]) == Some("events.amazonaws.com")
                && is_ref_to(at(&p, &["FunctionName"]), sc)
                && at(&p, &["SourceArn"])
                    .and_then(|v| get_att_of_type(t, v, "AWS::Events::Rule", "Arn"))
                    .as_deref()
                    == Some(rule)
        });
        if !invokes {
            problems.push(format!("{rule} may not invoke {sc}"));
        }
    }
    problems
}

/// The dead-letter queue's policy admits EventBridge sending for `rule`.
fn events_may_send_from(t: &Value, queue: &str, rule: &str) -> bool {
    events_may_send_to(t, queue)
        && resources_of_type(t, "AWS::SQS::QueuePolicy")
            .into_iter()
            .flat_map(|(_, p)| {
                let doc = at(p, &["Properties", "PolicyDocument"])
                    .cloned()
                    .unwrap_or(Value::Null);
                statements(&doc).into_iter().cloned().collect::<Vec<_>>()
            })
            .any(|s| {
                at(&s, &["Condition", "ArnEquals", "aws:SourceArn"])
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .any(|v| {
                        get_att_of_type(t, v, "AWS::Events::Rule", "Arn").as_deref() == Some(rule)
                    })
            })
}

/// An alarm on each scope metric of the sync, in the namespace its function
/// writes to, firing on the first silent or failed scope.
fn scope_alarms(t: &Value) -> Problems {
    let Some((sc, f)) = function_for_binary(t, STATE_CHANGE_BIN) else {
        return vec![format!("no function builds {STATE_CHANGE_BIN}")];
    };
    let namespace = function_env(&function_properties(t, f), ENV_METRICS_NAMESPACE).cloned();
    SCOPE_METRICS
        .iter()
        .filter(|metric| {
            !resources_of_type(t, "AWS::CloudWatch::Alarm")
                .into_iter()
                .any(|(_, a)| {
                    let p = at(a, &["Properties"]).cloned().unwrap_or(Value::Null);
                    let threshold =
                        scalar_text(at(&p, &["Threshold"])).and_then(|s| s.parse::<f64>().ok());
                    at(&p, &["Namespace"]).is_some()
                        && at(&p, &["Namespace"]).cloned() == namespace
                        && str_at(&p, &["MetricName"]) == Some(metric)
                        && at(&p, &["Dimensions"]).is_none()
                        && str_at(&p, &["Statistic"]) == Some("Maximum")
                        && str_at(&p, &["ComparisonOperator"])
                            == Some("GreaterThanOrEqualToThreshold")
                        && threshold == Some(1.0)
                        && notifies_topic(t, &p)
                })
        })
        .map(|metric| format!("no alarm on {metric} in the namespace {sc} writes to"))
        .collect()
}

/// What member.yaml takes from the central stack: Outputs named as its parameters.
fn organization_outputs(t: &Value) -> Problems {
    let mut problems = Vec::new();
    let org = organization_mode(t);
    let role = function_for_binary(t, STATE_CHANGE_BIN).map(|(name, _)| format!("{name}Role"));
    for (output, want) in [
        ("StateChangeRoleArn", role.map(|r| (r, "Arn"))),
        (
            "CentralEventBusArn",
            Some(("CentralEventBus".to_string(), "Arn")),
        ),
    ] {
        let value = at(t, &["Outputs", output, "Value"]);
        match (org, value) {
            (false, Some(_)) => problems.push(format!("output {output} outside organization mode")),
            (true, None) => problems.push(format!("no output {output} in organization mode")),
            (true, Some(v)) => {
                let got = intrinsic(v);
                let ok = matches!((&got, &want), (Some(Intrinsic::GetAtt(r, a)), Some((wr, wa))) if r == wr && a == wa);
                if !ok {
                    problems.push(format!("output {output} is {got:?}, not {want:?}"));
                }
                let member_param = at(&load_file("member.yaml"), &["Parameters", output]).is_some()
                    || (output == "StateChangeRoleArn"
                        && at(&load_file("member.yaml"), &["Parameters", "CentralRoleArn"])
                            .is_some());
                if !member_param {
                    problems.push(format!("member.yaml takes no parameter for {output}"));
                }
            }
            (false, None) => {}
        }
    }
    problems
}

#[test]
fn organization_settings_follow_their_parameters() {
    let sc_env = format!("{STATE_CHANGE}.Environment.Variables");
    assert_catches(
        organization_environment,
        vec![
            (
                set(
                    &format!("{sc_env}.{ENV_ORGANIZATION_ID}"),
                    "!Ref OrganizationId",
                ),
                "sets INVENTORY_ORGANIZATION_ID although OrganizationId is empty",
            ),
            (
                remove(&format!("{sc_env}.{ENV_ALLOWED_ACCOUNTS}")),
                "lacks INVENTORY_ALLOWED_ACCOUNTS",
            ),
            (
                set(
                    &format!("{sc_env}.{ENV_MEMBER_ROLE_NAME}"),
                    "ec2-inventory-member",
                ),
                "INVENTORY_MEMBER_ROLE_NAME",
            ),
            (
                set(&format!("{sc_env}.{ENV_SYNC_REGIONS}"), "!Ref SyncRegions"),
                "sets INVENTORY_SYNC_REGIONS although SyncRegions is empty",
            ),
            (
                set(&format!("{sc_env}.{ENV_METRICS_NAMESPACE}"), "EC2Inventory"),
                "is not the stack's name",
            ),
            (
                remove(&format!("{HTTP_API_FN}.Environment")),
                "HttpApiFunction: INVENTORY_SILENT_AFTER_HOURS",
            ),
            (
                set("Parameters.SilentAfterHours.MaxValue", "100000"),
                "MaxValue Some(\"100000\") is a value the runtime refuses",
            ),
            (
                remove("Parameters.SilentAfterHours.MinValue"),
                "MinValue None",
            ),
            (
                set("Parameters.SilentAfterHours.Default", "12"),
                "defaults to",
            ),
            (
                set("Parameters.MemberRoleName.Default", "reader"),
                "defaults to",
            ),
        ],
    );
}

#[test]
fn state_change_assumes_only_the_member_role_in_organization_mode() {
    let statements = format!("{STATE_CHANGE}.Policies.1.Statement");
    assert_catches(
        assume_role_scope,
        vec![
            (
                set(
                    &format!("{statements}.3.1.Resource"),
                    "'*'",
                ),
                "not on the member role's name only",
            ),
            (
                // A condition true by default.
                set(&format!("{statements}.3.0"), "ScalesToZero"),
                "1 statements allow sts:AssumeRole with organization mode off",
            ),
            (
                push(
                    &statements,
                    "{Effect: Allow, Action: [sts:AssumeRole, sts:TagSession], Resource: !Sub 'arn:${AWS::Partition}:iam::*:role/${MemberRoleName}'}",
                ),
                "sts actions",
            ),
        ],
    );
    // ...and ListAccounts only with an organization id.
    assert_catches(
        resource_scoping,
        vec![(
            set(&format!("{statements}.4.0"), "OrganizationMode"),
            "StateChangeFunction is allowed organizations:ListAccounts, which it does not use",
        )],
    );
}

#[test]
fn the_central_bus_admits_only_the_organization() {
    let policy = "Resources.CentralEventBus.Properties.Policy.Statement.0";
    assert_catches(
        central_bus,
        vec![
            (
                remove(&format!("{policy}.Condition")),
                "no aws:PrincipalOrgID condition",
            ),
            (
                remove(&format!("{policy}.Condition")),
                "admits any account without an aws:PrincipalOrgID condition",
            ),
            (
                set(&format!("{policy}.Principal"), "'*'"),
                "not the AllowedAccounts",
            ),
            (
                set(&format!("{policy}.Action"), "[events:PutEvents, events:PutRule]"),
                "not PutEvents alone",
            ),
            (
                set(&format!("{policy}.Resource"), "'*'"),
                "reaches beyond the bus",
            ),
            (
                remove("Resources.CentralEventBus.Properties.Policy"),
                "has no policy",
            ),
            (
                set("Resources.CentralEventBus.Condition", "HasSubnets"),
                "0 event buses in organization mode",
            ),
            (
                set(
                    "Resources.CentralInventoryCollectedRule.Properties.EventPattern.detail.status",
                    "[Success, Failed]",
                ),
                "no rule on CentralEventBus matches",
            ),
            (
                remove("Resources.CentralEc2StateChangeRule.Properties.Targets.0.RetryPolicy"),
                "CentralEc2StateChangeRule: no retry policy",
            ),
            (
                remove("Resources.DeadLetterQueuePolicy.Properties.PolicyDocument.Statement.0.Condition.ArnEquals.aws:SourceArn.4"),
                "does not admit it",
            ),
            (
                remove("Resources.CentralInventoryCollectedPermission"),
                "CentralInventoryCollectedRule may not invoke",
            ),
            (
                set("Resources.CentralEc2StateChangePermission.Condition", "HasSubnets"),
                "CentralEc2StateChangeRule may not invoke",
            ),
            (
                set("Resources.CentralEc2StateChangePermission.Condition", "ScalesToZero"),
                "CentralEc2StateChangePermission exists outside organization mode",
            ),
        ],
    );
}

#[test]
fn silent_and_failed_scopes_raise_alarms() {
    assert_catches(
        scope_alarms,
        vec![
            (
                remove("Resources.SilentScopesAlarm"),
                "no alarm on SilentScopes",
            ),
            (
                set(
                    "Resources.FailedScopesAlarm.Properties.Namespace",
                    "EC2Inventory",
                ),
                "no alarm on FailedScopes",
            ),
            (
                set(
                    "Resources.FailedScopesAlarm.Properties.Statistic",
                    "Average",
                ),
                "no alarm on FailedScopes",
            ),
        ],
    );
}

#[test]
fn the_central_stack_outputs_what_members_take() {
    assert_catches(
        organization_outputs,
        vec![
            (
                set(
                    "Outputs.StateChangeRoleArn.Value",
                    "!GetAtt HttpApiFunctionRole.Arn",
                ),
                "output StateChangeRoleArn is",
            ),
            (
                remove("Outputs.CentralEventBusArn"),
                "no output CentralEventBusArn",
            ),
            (
                remove("Outputs.CentralEventBusArn.Condition"),
                "output CentralEventBusArn outside organization mode",
            ),
        ],
    );
}

// ------------------------------------------------------------------ member.yaml

const MEMBER: &str = "member.yaml";
const CENTRAL_ACCOUNT: &str = "999999999999";
const CENTRAL_REGION: &str = "us-east-1";

/// A member stack instance in account 111111111111, eu-west-1, the role's Region.
const MEMBER_VALUES: &[(&str, &str)] = &[
    (
        "CentralEventBusArn",
        "arn:aws:events:us-east-1:999999999999:event-bus/ec2-inventory-members",
    ),
    (
        "CentralRoleArn",
        "arn:aws:iam::999999999999:role/ec2-inventory-StateChangeFunctionRole-ABC",
    ),
    ("OrganizationId", ORG_ID),
    ("MemberRoleRegion", "eu-west-1"),
];

fn member_values(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    MEMBER_VALUES.iter().chain(extra).copied().collect()
}

/// The stack instances the member checks run on: where the role lives, and
/// another Region of the same account.
const MEMBER_INSTANCES: &[(&str, &[(&str, &str)])] = &[
    ("role Region", MEMBER_VALUES),
    (
        "another Region",
        &[
            (
                "CentralEventBusArn",
                "arn:aws:events:us-east-1:999999999999:event-bus/ec2-inventory-members",
            ),
            (
                "CentralRoleArn",
                "arn:aws:iam::999999999999:role/ec2-inventory-StateChangeFunctionRole-ABC",
            ),
            ("OrganizationId", ORG_ID),
            ("MemberRoleRegion", "eu-west-1"),
            ("AWS::Region", "ap-southeast-2"),
        ],
    ),
];

fn assert_member_catches(check: fn(&Value) -> Problems, cases: Vec<(Edit, &str)>) {
    assert_catches_in(MEMBER, MEMBER_INSTANCES, check, cases);
}

/// member.yaml as the StackSet receives it: no parameter set.
const MEMBER_UNSET: &[(&str, &[(&str, &str)])] = &[("no parameter set", &[])];

/// Every action a role's own policies allow.
fn role_actions(r: &Value) -> Vec<String> {
    let mut actions: Vec<String> = at(r, &["Properties", "Policies"])
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .flat_map(|p| {
            let doc = at(p, &["PolicyDocument"]).cloned().unwrap_or(Value::Null);
            statements(&doc)
                .into_iter()
                .filter(|s| str_at(s, &["Effect"]) == Some("Allow"))
                .flat_map(|s| strings(at(s, &["Action"])).into_iter().map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect();
    actions.sort();
    actions
}

/// The named read-only role, in the role's Region only: exactly the three
/// reads, trusted by the central role alone, inside the organization.
fn member_role(t: &Value) -> Problems {
    let mut problems = Vec::new();
    let named: Vec<(&str, &Value)> = resources_of_type(t, "AWS::IAM::Role")
        .into_iter()
        .filter(|(_, r)| is_ref_to(at(r, &["Properties", "RoleName"]), "MemberRoleName"))
        .collect();
    let home = parameter(t, "MemberRoleRegion") == render_value(t, "AWS::Region");
    if named.len() != usize::from(home) {
        problems.push(format!(
            "{} roles named MemberRoleName in {} (the role's Region: {home})",
            named.len(),
            render_value(t, "AWS::Region")
        ));
    }
    let mut want: Vec<String> = MEMBER_ACTIONS.iter().map(|a| a.to_string()).collect();
    want.sort();
    for (name, r) in named {
        let got = role_actions(r);
        if got != want {
            problems.push(format!("{name} allows {got:?}, not exactly {want:?}"));
        }
        for s in statements(
            &at(r, &["Properties", "Policies"])
                .cloned()
                .unwrap_or(Value::Null),
        ) {
            if at(s, &["Condition"]).is_none() && strings(at(s, &["Resource"])) != ["*"] {
                problems.push(format!(
                    "{name}: the reads on {:?}, which they do not support",
                    at(s, &["Resource"])
                ));
            }
        }
        let trust = at(r, &["Properties", "AssumeRolePolicyDocument"])
            .cloned()
            .unwrap_or(Value::Null);
        let trusts = statements(&trust);
        if trusts.len() != 1 {
            problems.push(format!(
                "{name} has {} trust statements, not one",
                trusts.len()
            ));
        }
        for s in trusts {
            let principal = at(s, &["Principal"]).and_then(Value::as_mapping);
            let only_central = principal.is_some_and(|p| p.len() == 1)
                && is_ref_to(at(s, &["Principal", "AWS"]), "CentralRoleArn");
            if str_at(s, &["Effect"]) != Some("Allow") || !only_central {
                problems.push(format!(
                    "{name} trusts {:?}, not the central role alone",
                    at(s, &["Principal"])
                ));
            }
            if strings(at(s, &["Action"])) != ["sts:AssumeRole"] {
                problems.push(format!("{name}'s trust allows {:?}", at(s, &["Action"])));
            }
            let condition = at(s, &["Condition"]).and_then(Value::as_mapping);
            let org_only = condition.is_some_and(|c| c.len() == 1)
                && at(s, &["Condition", "StringEquals"])
                    .and_then(Value::as_mapping)
                    .is_some_and(|m| m.len() == 1)
                && is_ref_to(
                    at(s, &["Condition", "StringEquals", "aws:PrincipalOrgID"]),
                    "OrganizationId",
                );
            if !org_only {
                problems.push(format!(
                    "{name}'s trust has no aws:PrincipalOrgID condition on OrganizationId alone"
                ));
            }
        }
    }
    problems
}

/// A pseudo parameter's value in a rendering.
fn render_value(t: &Value, name: &str) -> String {
    str_at(t, &["Metadata", RENDERED_WITH, name])
        .unwrap_or_default()
        .to_string()
}

/// In every Region outside the central account's own: one rule per pattern
/// of the central function's rules, to the central bus, through a role that
/// events.amazonaws.com alone may assume and that may put events on that bus
/// only.
fn member_forwarding(t: &Value) -> Problems {
    let mut problems = Vec::new();
    let central = load();
    let patterns = match state_change_patterns(&central) {
        Ok((_, patterns)) => patterns,
        Err(problems) => return problems,
    };
    let rules = resources_of_type(t, "AWS::Events::Rule");
    let bus = parameter(t, "CentralEventBusArn");
    let bus_fields: Vec<&str> = bus.split(':').collect();
    let central_scope = bus_fields.get(4).copied()
        == Some(render_value(t, "AWS::AccountId").as_str())
        && bus_fields.get(3).copied() == Some(render_value(t, "AWS::Region").as_str());
    if central_scope {
        // The central stack's own rules catch these events already.
        return rules
            .iter()
            .map(|(name, _)| format!("{name} forwards the central account's own Region back to it"))
            .collect();
    }
    for pattern in &patterns {
        if !rules
            .iter()
            .any(|(_, r)| at(r, &["Properties", "EventPattern"]) == Some(pattern))
        {
            problems.push(format!(
                "no rule forwards what template.yaml's rule {pattern:?} catches"
            ));
        }
    }
    for (name, r) in &rules {
        if !patterns
            .iter()
            .any(|p| at(r, &["Properties", "EventPattern"]) == Some(p))
        {
            problems.push(format!(
                "{name} forwards events the central stack has no rule for"
            ));
        }
        let targets = rule_targets(r);
        let [target] = targets.as_slice() else {
            problems.push(format!(
                "{name} has {} targets, not the central bus",
                targets.len()
            ));
            continue;
        };
        if !is_ref_to(at(target, &["Arn"]), "CentralEventBusArn") {
            problems.push(format!("{name} does not target CentralEventBusArn"));
        }
        let Some(role) =
            at(target, &["RoleArn"]).and_then(|v| get_att_of_type(t, v, "AWS::IAM::Role", "Arn"))
        else {
            problems.push(format!(
                "{name}: no role of this template to put events with"
            ));
            continue;
        };
        let r = at(t, &["Resources", &role]).cloned().unwrap_or(Value::Null);
        if role_actions(&r) != ["events:PutEvents"] {
            problems.push(format!(
                "{role} allows {:?}, not PutEvents alone",
                role_actions(&r)
            ));
        }
        for s in statements(
            &at(&r, &["Properties", "Policies"])
                .cloned()
                .unwrap_or(Value::Null),
        ) {
            if !is_ref_to(at(s, &["Resource"]), "CentralEventBusArn") {
                problems.push(format!(
                    "{role} puts events on {:?}, not the central bus alone",
                    at(s, &["Resource"])
                ));
            }
        }
        let trust = at(&r, &["Properties", "AssumeRolePolicyDocument"])
            .cloned()
            .unwrap_or(Value::Null);
        for s in statements(&trust) {
            if strings(at(s, &["Principal", "Service"])) != ["events.amazonaws.com"]
                || at(s, &["Principal"])
                    .and_then(Value::as_mapping)
                    .map(|m| m.len())
                    != Some(1)
            {
                problems.push(format!(
                    "{role} trusts {:?}, not EventBridge alone",
                    at(s, &["Principal"])
                ));
            }
        }
    }
    problems
}

/// What member.yaml takes from the central stack: the role's name (the same
/// default), and the rest with no default, since every StackSet sets them.
fn shared_parameters(t: &Value) -> Problems {
    let central = load();
    let mut problems = Vec::new();
    // The role's name: the central function assumes what member.yaml creates.
    let (member, central) = (
        scalar_text(at(t, &["Parameters", "MemberRoleName", "Default"])),
        scalar_text(at(&central, &["Parameters", "MemberRoleName", "Default"])),
    );
    if member.is_none() || member != central {
        problems.push(format!(
            "MemberRoleName: member.yaml's default {member:?}, template.yaml's {central:?}"
        ));
    }
    for name in ["CentralRoleArn", "CentralEventBusArn", "OrganizationId"] {
        if at(t, &["Parameters", name]).is_none() {
            problems.push(format!("member.yaml has no parameter {name}"));
        }
        if at(t, &["Parameters", name, "Default"]).is_some() {
            problems.push(format!(
                "member.yaml's {name} has a default; every StackSet must set it"
            ));
        }
    }
    problems
}

#[test]
fn member_role_reads_three_things_and_trusts_only_the_central_role() {
    let role = "Resources.MemberRole.Properties";
    let trust = format!("{role}.AssumeRolePolicyDocument.Statement.0");
    let actions = format!("{role}.Policies.0.PolicyDocument.Statement.0.Action");
    assert_member_catches(
        member_role,
        vec![
            (push(&actions, "ssm:GetInventory"), "not exactly"),
            (
                set(&actions, "[ec2:DescribeInstances, ssm:ListInventoryEntries]"),
                "not exactly",
            ),
            (
                push(
                    &format!("{role}.Policies"),
                    "{PolicyName: more, PolicyDocument: {Statement: [{Effect: Allow, Action: s3:GetObject, Resource: '*'}]}}",
                ),
                "not exactly",
            ),
            (
                set(&format!("{trust}.Principal"), "{AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:root'}"),
                "not the central role alone",
            ),
            (
                set(&format!("{trust}.Principal"), "{AWS: !Ref CentralRoleArn, Service: lambda.amazonaws.com}"),
                "not the central role alone",
            ),
            (remove(&format!("{trust}.Condition")), "no aws:PrincipalOrgID condition"),
            (
                set(&format!("{trust}.Condition.StringEquals.aws:PrincipalOrgID"), "o-otherorgxyz"),
                "no aws:PrincipalOrgID condition",
            ),
            (
                push(
                    &format!("{role}.AssumeRolePolicyDocument.Statement"),
                    "{Effect: Allow, Principal: {AWS: '*'}, Action: sts:AssumeRole}",
                ),
                "2 trust statements",
            ),
            (
                set(&format!("{trust}.Action"), "[sts:AssumeRole, sts:TagSession]"),
                "trust allows",
            ),
            // IAM is global: a role in every Region's stack instance would be created twice.
            (
                set("Conditions.CreatesMemberRole", "!Not [!Condition CentralAccount]"),
                "1 roles named MemberRoleName in ap-southeast-2",
            ),
        ],
    );
}

#[test]
fn member_role_is_created_once_and_never_in_the_central_account() {
    let named_roles = |extra: &[(&'static str, &'static str)]| {
        let t = render(&load_file(MEMBER), &member_values(extra));
        resources_of_type(&t, "AWS::IAM::Role")
            .into_iter()
            .filter(|(_, r)| at(r, &["Properties", "RoleName"]).is_some())
            .count()
    };
    assert_eq!(named_roles(&[]), 1, "the role's Region");
    for region in ["us-east-1", "ap-southeast-2"] {
        assert_eq!(named_roles(&[("AWS::Region", region)]), 0, "{region}");
    }
    // The central account reads itself with the function's own role.
    assert_eq!(named_roles(&[("AWS::AccountId", CENTRAL_ACCOUNT)]), 0);
}

#[test]
fn member_forwards_the_central_rules_patterns_to_the_central_bus() {
    let forward = "Resources.Ec2StateChangeForward.Properties";
    let forwarder = "Resources.ForwarderRole.Properties";
    assert_member_catches(
        member_forwarding,
        vec![
            (
                set(&format!("{forward}.EventPattern.detail.state"), "[running]"),
                "no rule forwards what template.yaml's rule",
            ),
            (
                remove("Resources.InventoryCollectedForward"),
                "no rule forwards",
            ),
            (
                set(
                    &format!("{forward}.Targets.0.Arn"),
                    "!Sub 'arn:aws:events:${AWS::Region}:${AWS::AccountId}:event-bus/default'",
                ),
                "does not target CentralEventBusArn",
            ),
            (
                remove(&format!("{forward}.Targets.0.RoleArn")),
                "no role of this template",
            ),
            (
                set(
                    &format!("{forwarder}.Policies.0.PolicyDocument.Statement.0.Resource"),
                    "'*'",
                ),
                "not the central bus alone",
            ),
            (
                set(
                    &format!("{forwarder}.Policies.0.PolicyDocument.Statement.0.Action"),
                    "[events:PutEvents, events:PutRule]",
                ),
                "not PutEvents alone",
            ),
            (
                set(
                    &format!("{forwarder}.AssumeRolePolicyDocument.Statement.0.Principal"),
                    "{Service: [events.amazonaws.com, lambda.amazonaws.com]}",
                ),
                "not EventBridge alone",
            ),
        ],
    );
}

#[test]
fn member_forwards_nothing_in_the_central_accounts_own_region() {
    let central_scope = member_values(&[
        ("AWS::AccountId", CENTRAL_ACCOUNT),
        ("AWS::Region", CENTRAL_REGION),
    ]);
    let t = render(&load_file(MEMBER), &central_scope);
    assert_eq!(member_forwarding(&t), Problems::new());
    assert!(resources_of_type(&t, "AWS::Events::Rule").is_empty());
    // ...but its other Regions forward like any member's.
    let other = render(
        &load_file(MEMBER),
        &member_values(&[("AWS::AccountId", CENTRAL_ACCOUNT)]),
    );
    assert_eq!(resources_of_type(&other, "AWS::Events::Rule").len(), 2);
    // A stack instance must hold a resource, or CloudFormation refuses it.
    assert!(!resources(&t).is_empty());
}

#[test]
fn member_template_grants_no_wildcard_actions() {
    assert_member_catches(
        wildcard_actions,
        vec![(
            set(
                "Resources.MemberRole.Properties.Policies.0.PolicyDocument.Statement.0.Action",
                "[ec2:Describe*]",
            ),
            "wildcard action ec2:Describe*",
        )],
    );
}

#[test]
fn member_parameters_match_the_central_stack() {
    assert_catches_in(
        MEMBER,
        MEMBER_UNSET,
        shared_parameters,
        vec![
            (
                set("Parameters.MemberRoleName.Default", "inventory-reader"),
                "MemberRoleName",
            ),
            (
                set("Parameters.OrganizationId.Default", ORG_ID),
                "has a default",
            ),
        ],
    );
}

#[test]
fn the_advisory_import_is_off_by_default_and_alarmed() {
    const FETCH: &str = "Resources.AdvisoryFetchFunction";
    assert_catches(
        advisory_fetch,
        vec![
            (
                set("Parameters.AdvisoryFeeds.Default", "osv:Debian"),
                "parameter AdvisoryFeeds defaults to",
            ),
            (
                set(
                    "Conditions.AdvisoryFetchEnabled",
                    "!Not [!Equals [!Ref AdvisoryFeeds, '']]",
                ),
                "is not \"AdvisoryFeeds and AdvisoryFetchSchedule set\"",
            ),
            (
                remove("Resources.AdvisoryFetchFunctionErrorsAlarm.Condition"),
                "AdvisoryFetchFunctionErrorsAlarm is not conditional",
            ),
            (
                push(
                    "Resources.DeadLetterQueuePolicy.Properties.Queues",
                    "!Ref AdvisoryFetchDeadLetterQueue",
                ),
                "DeadLetterQueuePolicy refers to AdvisoryFetchDeadLetterQueue",
            ),
            (
                set(
                    &format!("{FETCH}.Properties.Events.AdvisoryFetch.Properties.Schedule"),
                    "rate(1 hour)",
                ),
                "not the AdvisoryFetchSchedule parameter",
            ),
            (
                remove(&format!(
                    "{FETCH}.Properties.Events.AdvisoryFetch.Properties.DeadLetterConfig"
                )),
                "no dead-letter queue EventBridge may send to",
            ),
            (
                remove(&format!("{FETCH}.Properties.EventInvokeConfig")),
                "failed invocations go to no queue",
            ),
            (
                remove("Resources.AdvisoryFetchFunctionErrorsAlarm"),
                "no alarm on the Errors of AdvisoryFetchFunction",
            ),
            (
                set(
                    &format!("{FETCH}.Properties.Environment.Variables.INVENTORY_ADVISORY_FEEDS"),
                    "osv:Debian",
                ),
                "is not the AdvisoryFeeds parameter",
            ),
            (
                set("Parameters.AdvisoryFeeds.AllowedPattern", "^$|^osv:Debian$"),
                "AdvisoryFeeds does not allow osv:Rocky Linux",
            ),
        ],
    );
    // Its IAM: the application role's Data API access, nothing else.
    assert_catches(
        resource_scoping,
        vec![(
            push(
                &format!("{FETCH}.Properties.Policies"),
                "Statement: [{Effect: Allow, Action: ec2:DescribeInstances, Resource: '*'}]",
            ),
            "AdvisoryFetchFunction is allowed ec2:DescribeInstances",
        )],
    );
    assert_catches(
        environment,
        vec![(
            remove(&format!(
                "{FETCH}.Properties.Environment.Variables.INVENTORY_ADVISORY_FEEDS"
            )),
            "AdvisoryFetchFunction lacks INVENTORY_ADVISORY_FEEDS",
        )],
    );
}
