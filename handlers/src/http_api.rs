//! The `http-api` function: API Gateway HTTP API (payload v2) requests, as
//! lambda_http decodes them, handed to core's transport-agnostic [`Api`].

use bytes::Bytes;
use inventory_core::http::{Api, RequestId};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

/// Answers one request. Infallible: every failure is an HTTP answer from core.
pub async fn handle(api: &Api, req: Request) -> Response<Body> {
    to_lambda_response(api.handle(to_core_request(req)).await)
}

/// lambda_http's request as core takes it: the body as bytes (lambda_http has
/// already decoded base64 bodies) and API Gateway's request id, so that the
/// answer and the log line carry the id API Gateway logs too.
pub fn to_core_request(req: Request) -> http::Request<Bytes> {
    let request_id = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    };
    let (mut parts, body) = req.into_parts();
    if let Some(id) = request_id.filter(|id| !id.is_empty()) {
        parts.extensions.insert(RequestId(id));
    }
    let body = match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        // `Body` is non-exhaustive; a future variant is read as its bytes.
        other => Bytes::copy_from_slice(other.as_ref()),
    };
    http::Request::from_parts(parts, body)
}

/// Core's answer as lambda_http sends it: text when it is UTF-8 (JSON always
/// is), base64-encoded binary otherwise.
pub fn to_lambda_response(resp: http::Response<Bytes>) -> Response<Body> {
    resp.map(|bytes| match String::from_utf8(bytes.into()) {
        Ok(text) if text.is_empty() => Body::Empty,
        Ok(text) => Body::Text(text),
        Err(not_text) => Body::Binary(not_text.into_bytes()),
    })
}
