//! The HTTP API as a plain `http::Request<Bytes> -> http::Response<Bytes>`
//! function, served by the `http-api` Lambda (lambda_http) and by
//! `inventory serve` (axum) alike. See `docs/http-api.md` for the contract.
//!
//! ```text
//! POST   /ec2/{id}          create; an id already recorded is a 400 (the original's contract)
//! GET    /ec2/{id}          the record, or {"record": {}, "record_found": false}
//! PUT    /ec2/{id}          create or replace
//! DELETE /ec2/{id}          remove (404 when unknown)
//! GET    /ec2?...           search, paginated
//! GET    /packages/{name}   versions of a package with instance counts
//! ```

mod dto;
mod errors;
mod query;
mod routes;

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use bytes::Bytes;
use futures::FutureExt;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use serde::Serialize;
use tracing::Instrument;

pub use dto::{format_utc, InstanceBody};
pub use errors::ApiError;
pub use routes::Route;

use crate::model::{Instance, InstanceId};
use crate::store::Store;
use crate::usecases::{instances, queries};

/// Largest request body accepted: Lambda's 6 MB synchronous payload limit.
/// 10,000 packages with typical names take well under 1 MB.
pub const MAX_BODY_BYTES: usize = 6 * 1024 * 1024;

/// The header carrying the request id, both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// A request id the transport already has (the API Gateway request context's
/// `requestId`): put it in the request's extensions and the API uses it.
/// Otherwise a valid `x-request-id` header is used, else a UUID is generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// The API: routing, validation, JSON shapes, over a [`Store`].
#[derive(Debug, Clone)]
pub struct Api {
    store: Store,
}

type Reply = Result<(StatusCode, Vec<u8>), ApiError>;

impl Api {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Answers one request. Never panics: a panic inside is caught and
    /// answered as a 500. Logs one line per request.
    pub async fn handle(&self, req: Request<Bytes>) -> Response<Bytes> {
        let started = Instant::now();
        let request_id = request_id(&req);
        let method = req.method().clone();
        let route = Route::from_path(req.uri().path());
        let calls_before = self.store.data_api_calls();
        let span = tracing::info_span!("http", request_id = %request_id);

        let reply = AssertUnwindSafe(self.dispatch(&req, route).instrument(span.clone()))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| {
                span.in_scope(|| tracing::error!("request handler panicked"));
                Err(ApiError::Internal(None))
            });
        if let Err(err) = &reply {
            span.in_scope(|| err.log());
        }
        let response = respond(reply, &request_id);

        // Exact per request in Lambda (one request at a time); under
        // concurrency (inventory serve) overlapping requests share the count.
        let data_api_calls = self.store.data_api_calls().saturating_sub(calls_before);
        let status = response.status().as_u16();
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let route = route.map_or("(none)", Route::template);
        span.in_scope(|| {
            if status >= 500 {
                tracing::error!(%method, route, status, duration_ms, data_api_calls, "request");
            } else {
                tracing::info!(%method, route, status, duration_ms, data_api_calls, "request");
            }
        });
        response
    }

    async fn dispatch(&self, req: &Request<Bytes>, route: Option<Route<'_>>) -> Reply {
        let route = route.ok_or_else(|| {
            let shown: String = req.uri().path().chars().take(200).collect();
            ApiError::NoRoute(shown)
        })?;
        let method = req.method();
        if !route.allows(method) {
            return Err(ApiError::MethodNotAllowed {
                method: method.to_string(),
                route: route.template(),
                allow: route.allow(),
            });
        }
        let body = req.body();
        if body.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge {
                max: MAX_BODY_BYTES,
            });
        }
        match route {
            Route::Instance(raw) => {
                let id = InstanceId::parse(&query::percent_decode(raw, false, "aws_instance_id")?)?;
                match *method {
                    Method::GET => self.get(&id).await,
                    Method::DELETE => self.delete(&id).await,
                    Method::POST => self.post(instance(id, instance_body(req)?)).await,
                    // `route.allows` let only PUT through otherwise.
                    _ => self.put(instance(id, instance_body(req)?)).await,
                }
            }
            Route::Search => self.search(req.uri().query()).await,
            Route::Package(raw) => {
                let name = query::percent_decode(raw, false, "package_name")?;
                self.package(&query::package_name(&name)?).await
            }
        }
    }

    /// Answers with the input echoed back (packages in input order).
    async fn post(&self, instance: Instance) -> Reply {
        instances::create(&self.store, &instance).await?;
        let record = dto::NewRecordDto {
            aws_account: instance.account.as_str(),
            aws_region: instance.region.as_str(),
            packages: dto::packages_dto(&instance.packages),
        };
        ok(&dto::PostAnswer { new_record: record })
    }

    async fn put(&self, instance: Instance) -> Reply {
        let replaced = instances::put(&self.store, &instance).await?;
        ok(&dto::PutAnswer {
            record: replaced.record.as_ref().into(),
            created: replaced.created,
        })
    }

    async fn get(&self, id: &InstanceId) -> Reply {
        let stored = instances::get(&self.store, id).await?;
        ok(&dto::GetAnswer {
            record: stored.as_ref().into(),
            record_found: stored.is_some(),
        })
    }

    async fn delete(&self, id: &InstanceId) -> Reply {
        if !instances::delete(&self.store, id).await? {
            return Err(ApiError::InstanceNotFound(id.to_string()));
        }
        ok(&dto::DeleteAnswer {
            aws_instance_id: id.as_str(),
            deleted: true,
        })
    }

    async fn search(&self, raw_query: Option<&str>) -> Reply {
        let q = query::search_query(raw_query)?;
        let page = queries::search(&self.store, &q).await?;
        ok(&dto::SearchAnswer {
            instances: page.instances.iter().map(dto::SummaryDto::from).collect(),
            next_token: page.next_token.as_deref(),
        })
    }

    async fn package(&self, name: &str) -> Reply {
        let versions = queries::package_versions(&self.store, name).await?;
        ok(&dto::PackageAnswer {
            package_name: name,
            versions: versions.iter().map(dto::VersionCountDto::from).collect(),
        })
    }
}

/// The instance a body describes.
fn instance(id: InstanceId, body: InstanceBody) -> Instance {
    instances::described(id, body.account, body.region, body.packages)
}

/// Checks the content type, then parses the body. A missing content type is
/// accepted (the original sample did not look at it).
fn instance_body(req: &Request<Bytes>) -> Result<InstanceBody, ApiError> {
    if let Some(value) = req.headers().get(CONTENT_TYPE) {
        let text = String::from_utf8_lossy(value.as_bytes());
        let essence = text
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            let shown: String = text.chars().take(100).collect();
            return Err(ApiError::UnsupportedMediaType(shown));
        }
    }
    InstanceBody::parse(req.body())
}

fn ok<T: Serialize>(value: &T) -> Reply {
    serde_json::to_vec(value)
        .map(|body| (StatusCode::OK, body))
        .map_err(|_| ApiError::Internal(None))
}

fn request_id<B>(req: &Request<B>) -> String {
    if let Some(RequestId(id)) = req.extensions().get::<RequestId>() {
        return id.clone();
    }
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

fn respond(reply: Reply, request_id: &str) -> Response<Bytes> {
    let (status, body, extra) = match reply {
        Ok((status, body)) => (status, body, None),
        Err(err) => {
            let body = dto::ErrorAnswer {
                error_message: &err.to_string(),
                request_id,
            };
            // Serializing two strings cannot fail.
            let body = serde_json::to_vec(&body).unwrap_or_default();
            (err.status(), body, err.header())
        }
    };
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, id);
    }
    if let Some((name, value)) = extra {
        headers.insert(name, value);
    }
    response
}
