//! The `http-api` function: core's Router, as lambda_http runs it. lambda_http
//! turns API Gateway HTTP API (payload v2) events into requests (a base64 body
//! decoded, the path as API Gateway sent it) and the JSON answers back into
//! text bodies.

use axum::extract::Request;
use axum::middleware::map_request;
use axum::Router;
use inventory_core::http::{router_with, RequestId, SilentAfter};
use inventory_core::store::Store;
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;

/// The API the function serves: core's router, taking API Gateway's request
/// id as the request's; `GET /accounts` flags scopes silent after
/// `silent_after`.
pub fn app(store: Store, silent_after: SilentAfter) -> Router {
    router_with(store, silent_after).layer(map_request(with_api_gateway_request_id))
}

/// Hands API Gateway's request id to the API, so that the answer and the log
/// line carry the id API Gateway logs too.
async fn with_api_gateway_request_id(mut req: Request) -> Request {
    let request_id = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    };
    if let Some(id) = request_id.filter(|id| !id.is_empty()) {
        req.extensions_mut().insert(RequestId(id));
    }
    req
}
