//! Checks on `template.yaml` that cfn-lint and `sam validate` cannot make: least
//! privilege, IAM auth on every route, the event rules with their dead-letter
//! queue and alarm, the settings the handlers read, and how the functions build.
//! Each check returns the problems it finds; every check is also run on a
//! template broken on purpose, to show it can fail.

mod template_support;

use inventory_core::config;
use serde_yaml::Value;
use template_support::*;

const HTTP_API_BIN: &str = "http-api";
const STATE_CHANGE_BIN: &str = "state-change";
const SCHEMA_BIN: &str = "schema";
const DLQ_METRIC: &str = "ApproximateNumberOfMessagesVisible";

/// Actions that support no resource-level permission: `Resource: "*"` is the
/// only form IAM accepts for them.
const NO_RESOURCE_LEVEL: &[&str] = &["ec2:DescribeInstances", "ssm:ListInventoryEntries"];

const DATA_API_ACTIONS: &[&str] = &[
    "rds-data:ExecuteStatement",
    "rds-data:BatchExecuteStatement",
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

fn is_secret_arn(t: &Value, v: &Value) -> bool {
    get_att_of_type(t, v, "AWS::RDS::DBCluster", "MasterUserSecret.SecretArn").is_some()
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
        if actions.iter().any(|a| a.starts_with("secretsmanager:")) && !on(is_secret_arn) {
            problems.push("secretsmanager actions not scoped to the cluster's secret".into());
        }
    }
    let mut data_api: Vec<&str> = DATA_API_ACTIONS.to_vec();
    data_api.push("secretsmanager:GetSecretValue");
    let mut state_change = data_api.clone();
    state_change.extend(NO_RESOURCE_LEVEL);
    for (bin, needed) in [
        (HTTP_API_BIN, &data_api),
        (STATE_CHANGE_BIN, &state_change),
        (SCHEMA_BIN, &data_api),
    ] {
        let Some((name, f)) = function_for_binary(t, bin) else {
            problems.push(format!("no function builds {bin}"));
            continue;
        };
        let granted = granted_actions(t, &function_properties(t, f));
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
    for (bin, needed) in [
        (HTTP_API_BIN, config::DATABASE_VARS.to_vec()),
        (STATE_CHANGE_BIN, state_change_vars),
        (SCHEMA_BIN, config::DATABASE_VARS.to_vec()),
    ] {
        let Some((fname, f)) = function_for_binary(t, bin) else {
            problems.push(format!("no function builds {bin}"));
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
                Some(v) if var == config::ENV_SECRET_ARN && !is_secret_arn(t, v) => {
                    problems.push(format!("{fname}: {var} is not the cluster's secret"));
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
        if builds != 1 {
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

/// A custom resource runs the schema function on every deploy that changes
/// it, once the database has a writer, and the stack waits for its answer.
fn schema_on_deploy(t: &Value) -> Problems {
    let Some((fname, _)) = function_for_binary(t, SCHEMA_BIN) else {
        return vec![format!("no function builds {SCHEMA_BIN}")];
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
    let [(name, r)] = resources.as_slice() else {
        return vec![format!("{} custom resources run {fname}", resources.len())];
    };
    let mut problems = Vec::new();
    let writers = resources_of_type(t, "AWS::RDS::DBInstance");
    let depends = strings(at(r, &["DependsOn"]));
    if !writers.iter().any(|(w, _)| depends.contains(w)) {
        problems.push(format!("{name} may run before the database has a writer"));
    }
    let version = format!("{fname}.Version");
    let reruns = at(r, &["Properties"])
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .any(|(_, v)| matches!(intrinsic(v), Some(Intrinsic::Ref(x)) if x == version));
    if !reruns {
        problems.push(format!(
            "{name} does not change with {version}: no migration on upgrade"
        ));
    }
    if scalar_text(at(r, &["Properties", "ServiceTimeout"])).is_none() {
        problems.push(format!(
            "{name}: a lost answer would hold the stack for an hour"
        ));
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
    let Some((fname, f)) = function_for_binary(t, STATE_CHANGE_BIN) else {
        return vec![format!("no function builds {STATE_CHANGE_BIN}")];
    };
    let patterns: Vec<Value> = events(&function_properties(t, f))
        .into_iter()
        .filter_map(|(_, e)| at(&e, &["Properties", "Pattern"]).cloned())
        .collect();
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
    ["ApiUrl", "ClusterArn", "SecretArn", "DeadLetterQueueUrl"]
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
    serde_yaml::from_str(text).expect("test YAML")
}

fn apply(t: &mut Value, edit: &Edit) {
    let (Edit::Set(path, _) | Edit::Remove(path) | Edit::Push(path, _)) = edit;
    let keys: Vec<&str> = path.split('.').collect();
    let (last, parent) = keys.split_last().expect("non-empty path");
    let parent = at_mut(t, parent)
        .and_then(Value::as_mapping_mut)
        .unwrap_or_else(|| panic!("no mapping at {parent:?}"));
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

/// The real template passes `check`, and each broken copy is caught with a
/// problem that mentions what was broken.
fn assert_catches(check: fn(&Value) -> Problems, cases: Vec<(Edit, &str)>) {
    let clean = check(&load());
    assert!(clean.is_empty(), "template.yaml: {clean:#?}");
    for (edit, expected) in cases {
        let mut t = load();
        apply(&mut t, &edit);
        let problems = check(&t);
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
    "Resources.DataApiAccessPolicy.Properties.PolicyDocument.Statement";

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
                set(
                    &format!("{STATE_CHANGE}.Policies"),
                    "[!Ref DataApiAccessPolicy]",
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
    cases.push((set(&secret, literal), "is not the cluster's secret".into()));
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
        ],
    );
}
