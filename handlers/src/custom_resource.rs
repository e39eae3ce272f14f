//! The `schema` function: a CloudFormation custom resource that applies the
//! schema through the Data API whenever the stack is created or updated, so
//! that `sam deploy` alone yields a working system. Migrations are idempotent
//! and versioned (core's `Store::migrate`); deleting the resource keeps the data.

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::StatusCode;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use inventory_core::store::Store;
use serde::{Deserialize, Serialize};
use serde_json::json;

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

/// Applies the schema on Create and Update and answers with the schema
/// version (`Fn::GetAtt <resource>.SchemaVersion`); Delete changes nothing.
/// Never fails: a failure is a FAILED answer with the reason, which makes
/// CloudFormation roll the deploy back.
pub async fn handle(store: &Store, req: &Request) -> Response {
    // A stable id: a different one on Update would read as a replacement.
    let physical_resource_id = req
        .physical_resource_id
        .clone()
        .unwrap_or_else(|| format!("{}-schema", req.logical_resource_id));
    let outcome = match req.request_type {
        RequestType::Delete => Ok(None),
        RequestType::Create | RequestType::Update => store
            .migrate()
            .await
            .map(|m| Some(json!({ "SchemaVersion": m.to.to_string() }))),
    };
    let (status, reason, data) = match outcome {
        Ok(data) => (Status::Success, None, data),
        Err(e) => {
            tracing::error!(error = %e, "schema migration failed");
            let reason: String = e.to_string().chars().take(MAX_REASON_CHARS).collect();
            (Status::Failed, Some(reason), None)
        }
    };
    tracing::info!(request_type = ?req.request_type, ?status, "custom resource handled");
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
