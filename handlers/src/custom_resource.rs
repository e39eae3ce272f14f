//! The `schema` function: a CloudFormation custom resource that applies the
//! schema through the Data API whenever the stack is created or updated, then
//! creates or updates the functions' database role (core's
//! `Store::ensure_app_role`), so
//! that `sam deploy` alone yields a working system. Migrations are idempotent
//! and versioned (core's `Store::migrate`); deleting the resource keeps the data.
//!
//! The target (cluster, database, dialect, secrets) comes from the resource's
//! properties, not from the function's environment: a deploy that replaces the
//! cluster changes them, which runs the resource again against the new cluster.
//! Every request gets an answer, FAILED included when the work fails, panics
//! or runs out of time ([`answer`]), so CloudFormation never waits it out.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::StatusCode;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use inventory_core::store::{AppCredentials, DbTarget, Dialect, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// What the function logs with each FAILED answer; the stack's schema
/// failure alarm counts these lines (`template.yaml`, `SchemaFailureMetricFilter`).
pub const FAILED_LOG_MESSAGE: &str = "custom resource answered FAILED";

/// CloudFormation limits the whole response to 4 KB.
const MAX_REASON_CHARS: usize = 1000;

/// What CloudFormation sends (the fields this resource uses).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub request_type: RequestType,
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    #[serde(default)]
    pub physical_resource_id: Option<String>,
    #[serde(default)]
    pub resource_properties: Properties,
}

/// The resource's properties (`template.yaml`, `DatabaseSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Properties {
    pub cluster_arn: Option<String>,
    pub database: Option<String>,
    pub dialect: Option<String>,
    /// The master user's secret: the schema function's own login.
    pub master_secret_arn: Option<String>,
    /// The application role's secret; without it no role is managed.
    pub app_secret_arn: Option<String>,
}

impl Properties {
    fn target(&self) -> Result<DbTarget, SchemaError> {
        let required = |value: &Option<String>, name: &'static str| {
            value
                .clone()
                .filter(|v| !v.trim().is_empty())
                .ok_or(SchemaError::MissingProperty(name))
        };
        let dialect: Dialect = required(&self.dialect, "Dialect")?
            .parse()
            .map_err(|_| SchemaError::MissingProperty("Dialect"))?;
        Ok(DbTarget {
            resource_arn: required(&self.cluster_arn, "ClusterArn")?,
            secret_arn: required(&self.master_secret_arn, "MasterSecretArn")?,
            database: self.database.clone().filter(|d| !d.trim().is_empty()),
            dialect,
        })
    }
}

/// Where the application role's password comes from (Secrets Manager in Lambda).
pub trait SecretSource: Clone + Send + Sync + 'static {
    /// The secret's string, or why it cannot be read.
    fn secret_string(&self, arn: &str) -> impl Future<Output = Result<String, String>> + Send;
}

impl SecretSource for aws_sdk_secretsmanager::Client {
    async fn secret_string(&self, arn: &str) -> Result<String, String> {
        let out = self
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| aws_smithy_types::error::display::DisplayErrorContext(e).to_string())?;
        out.secret_string()
            .map(str::to_owned)
            .ok_or_else(|| "the secret has no string value".into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("the resource has no usable property {0}")]
    MissingProperty(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot read the application secret: {0}")]
    Secret(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RequestType {
    Create,
    Update,
    Delete,
}

/// What CloudFormation expects back at the request's `ResponseURL`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub physical_resource_id: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Success,
    Failed,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("cannot build the response request: {0}")]
    Request(#[from] http::Error),
    #[error("no TLS roots: {0}")]
    Tls(#[from] std::io::Error),
    #[error("cannot reach the response URL: {0}")]
    Transport(#[from] hyper_util::client::legacy::Error),
    #[error("the response URL answered {0}")]
    Status(StatusCode),
}

/// Applies the schema and the application role on Create and Update and
/// answers with the schema version (`Fn::GetAtt <resource>.SchemaVersion`);
/// Delete changes nothing. Never fails: a failure is a FAILED answer with the
/// reason, which makes CloudFormation roll the deploy back.
pub async fn handle(
    rds: &aws_sdk_rdsdata::Client,
    secrets: &impl SecretSource,
    req: &Request,
) -> Response {
    let outcome = match req.request_type {
        RequestType::Delete => Ok(None),
        RequestType::Create | RequestType::Update => apply(rds, secrets, &req.resource_properties)
            .await
            .map(Some),
    };
    match outcome {
        Ok(data) => {
            tracing::info!(request_type = ?req.request_type, "custom resource answered SUCCESS");
            response(req, Status::Success, None, data)
        }
        Err(e) => failure(req, &e.to_string()),
    }
}

async fn apply(
    rds: &aws_sdk_rdsdata::Client,
    secrets: &impl SecretSource,
    props: &Properties,
) -> Result<serde_json::Value, SchemaError> {
    let target = props.target()?;
    let store = Store::new(rds.clone(), target);
    let migration = store.migrate().await?;
    let mut data = json!({ "SchemaVersion": migration.to.to_string() });
    if let Some(arn) = props.app_secret_arn.as_deref().filter(|a| !a.is_empty()) {
        let secret = secrets
            .secret_string(arn)
            .await
            .map_err(SchemaError::Secret)?;
        let app = AppCredentials::from_secret_string(&secret)?;
        store.ensure_app_role(&app).await?;
        data["AppRole"] = json!(app.username);
    }
    Ok(data)
}

/// [`handle`] within `budget`, in a task of its own: a panic or an exhausted
/// budget is a FAILED answer too, never a missing one.
pub async fn answer<S: SecretSource>(
    rds: aws_sdk_rdsdata::Client,
    secrets: S,
    req: Request,
    budget: Duration,
) -> Response {
    let task = {
        let req = req.clone();
        tokio::spawn(async move { handle(&rds, &secrets, &req).await })
    };
    match tokio::time::timeout(budget, task).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) if e.is_panic() => failure(&req, "the schema function panicked (see its log)"),
        Ok(Err(_)) => failure(&req, "the schema function's work was cancelled"),
        Err(_) => failure(
            &req,
            &format!(
                "no result within {} s (is the database resuming or unreachable?)",
                budget.as_secs()
            ),
        ),
    }
}

/// A FAILED answer; the log line feeds the stack's schema failure alarm.
pub fn failure(req: &Request, reason: &str) -> Response {
    tracing::error!(request_type = ?req.request_type, reason, "{FAILED_LOG_MESSAGE}");
    let reason: String = reason.chars().take(MAX_REASON_CHARS).collect();
    response(req, Status::Failed, Some(reason), None)
}

fn response(
    req: &Request,
    status: Status,
    reason: Option<String>,
    data: Option<serde_json::Value>,
) -> Response {
    // A stable id: a different one on Update would read as a replacement.
    let physical_resource_id = req
        .physical_resource_id
        .clone()
        .unwrap_or_else(|| format!("{}-schema", req.logical_resource_id));
    Response {
        status,
        reason,
        physical_resource_id,
        stack_id: req.stack_id.clone(),
        request_id: req.request_id.clone(),
        logical_resource_id: req.logical_resource_id.clone(),
        data,
    }
}

/// PUTs the answer to the pre-signed `ResponseURL` (signed without a content
/// type, so none is sent).
pub async fn send(url: &str, resp: &Response) -> Result<(), SendError> {
    let body = serde_json::to_vec(resp).expect("a Response always serializes");
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let request = http::Request::put(url)
        .header(CONTENT_LENGTH, body.len())
        .body(Full::new(Bytes::from(body)))?;
    let status = client.request(request).await?.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(SendError::Status(status))
    }
}
