//! The HTTP API as one `axum::Router` ([`router`]), served by the `http-api`
//! Lambda (lambda_http) and by `inventory serve` (axum) alike, and called in
//! process by `inventory get|search|packages`. See `docs/http-api.md` for the
//! contract. Each route calls the store directly: here are the routes, the
//! extractors that validate a
//! request (`extract`), the JSON shapes (`dto`) and the error answers
//! (`errors`). The same router serves the fleet page for people under
//! `/ui/` (`page`, see `docs/page.md`).

mod advisories;
mod dto;
mod errors;
mod extract;
mod page;

use std::time::Instant;

use axum::body::{Body, HttpBody};
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::header::{HeaderValue, CONNECTION, CONTENT_TYPE};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::{Extension, Json, Router};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Serialize;
use tower_http::catch_panic::CatchPanicLayer;
use tracing::Instrument;

pub use errors::ApiError;
pub use page::PAGE_ROOT;

use extract::{DescribedInstance, History, InstancePath, PackagePath, Scopes, Search};

use crate::query::HistoryQuery;
use crate::store::Store;

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

/// A route as error messages name it, and the methods it answers (the
/// `Allow` header of a 405).
#[derive(Debug, Clone, Copy)]
struct Route {
    template: &'static str,
    allow: &'static str,
}

impl Route {
    const fn new(template: &'static str, allow: &'static str) -> Self {
        Self { template, allow }
    }
}

const INSTANCE: Route = Route::new("/ec2/{id}", "GET, POST, PUT, DELETE");
const SEARCH: Route = Route::new("/ec2", "GET");
const INSTANCE_HISTORY: Route = Route::new("/ec2/{id}/history", "GET");
const PACKAGE: Route = Route::new("/packages/{name}[/history]", "GET");
const ADVISORY: Route = Route::new("/advisories/{id}", "GET");
const INSTANCE_VULNERABILITIES: Route = Route::new("/ec2/{id}/vulnerabilities", "GET");
const VULNERABILITIES: Route = Route::new("/vulnerabilities", "GET");
const ACCOUNTS: Route = Route::new("/accounts", "GET");

/// How long a watched account and region may stay unheard of before
/// `GET /accounts` flags it silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SilentAfter(pub chrono::Duration);

impl SilentAfter {
    pub fn hours(hours: u32) -> Self {
        Self(chrono::Duration::hours(hours.into()))
    }
}

impl Default for SilentAfter {
    fn default() -> Self {
        Self::hours(crate::config::DEFAULT_SILENT_AFTER_HOURS)
    }
}

/// The API over a migrated store. Every answer is JSON with an
/// `x-request-id` header, errors included (a 404, a 405, an extractor's
/// rejection); a panic inside is answered 500. One log line per request.
///
/// `/packages/{*rest}` takes the rest of the path, so a name with `/` works
/// both raw and as `%2F`; a raw `/history` at its end asks for the package's
/// history (see `extract::PackagePath`).
pub fn router(store: Store) -> Router {
    router_with(store, SilentAfter::default())
}

/// [`router`] with the silence threshold of `GET /accounts`.
pub fn router_with(store: Store, silent_after: SilentAfter) -> Router {
    Router::new()
        .route("/ec2", answers(SEARCH, get(search)))
        .route(
            "/ec2/{id}",
            answers(
                INSTANCE,
                get(get_instance)
                    .post(create_instance)
                    .put(put_instance)
                    .delete(delete_instance),
            ),
        )
        .route(
            "/ec2/{id}/history",
            answers(INSTANCE_HISTORY, get(instance_history)),
        )
        .route(
            "/ec2/{id}/vulnerabilities",
            answers(
                INSTANCE_VULNERABILITIES,
                get(advisories::instance_vulnerabilities),
            ),
        )
        .route("/packages/{*rest}", answers(PACKAGE, get(package)))
        .route(
            "/advisories/{id}",
            answers(ADVISORY, get(advisories::advisory)),
        )
        .route(
            "/vulnerabilities",
            answers(VULNERABILITIES, get(advisories::fleet_vulnerabilities)),
        )
        .route("/accounts", answers(ACCOUNTS, get(accounts)))
        .merge(page::routes())
        .fallback(no_route)
        .layer(Extension(silent_after))
        .layer(middleware::from_fn(whole_body))
        // `whole_body` holds the limit; axum's own (2 MB) must not apply.
        .layer(DefaultBodyLimit::disable())
        .layer(CatchPanicLayer::custom(panicked))
        .layer(middleware::from_fn_with_state(store.clone(), edge))
        .with_state(store)
}

/// `methods`, and a 405 naming the route's methods for any other: HEAD too,
/// which axum would otherwise answer with the GET handler.
fn answers(route: Route, methods: MethodRouter<Store>) -> MethodRouter<Store> {
    let refuse = move |method: Method| async move {
        ApiError::MethodNotAllowed {
            method: method.to_string(),
            route: route.template,
            allow: route.allow,
        }
    };
    methods.head(refuse).fallback(refuse)
}

async fn no_route(uri: axum::http::Uri) -> ApiError {
    ApiError::NoRoute(uri.path().chars().take(200).collect())
}

/// Answers with the input echoed back (packages in input order).
async fn create_instance(
    State(store): State<Store>,
    DescribedInstance(instance): DescribedInstance,
) -> Result<Response, ApiError> {
    store.create_instance(&instance).await?;
    let record = dto::NewRecordDto {
        aws_account: instance.account.as_str(),
        aws_region: instance.region.as_str(),
        packages: dto::packages_dto(&instance.packages),
    };
    Ok(json(&dto::PostAnswer { new_record: record }))
}

async fn put_instance(
    State(store): State<Store>,
    DescribedInstance(instance): DescribedInstance,
) -> Result<Response, ApiError> {
    let created = store.put_instance(&instance).await?;
    // Read back (one more call), so that the answer is exactly what a later
    // read shows.
    let record = store.get_instance(&instance.id).await?;
    Ok(json(&dto::PutAnswer {
        record: record.as_ref().into(),
        created,
    }))
}

async fn get_instance(
    State(store): State<Store>,
    InstancePath(id): InstancePath,
) -> Result<Response, ApiError> {
    let stored = store.get_instance(&id).await?;
    Ok(json(&dto::GetAnswer {
        record: stored.as_ref().into(),
        record_found: stored.is_some(),
    }))
}

async fn delete_instance(
    State(store): State<Store>,
    InstancePath(id): InstancePath,
) -> Result<Response, ApiError> {
    if !store.delete_instance(&id).await? {
        return Err(ApiError::InstanceNotFound(id.to_string()));
    }
    Ok(json(&dto::DeleteAnswer {
        aws_instance_id: id.as_str(),
        deleted: true,
    }))
}

async fn search(State(store): State<Store>, Search(q): Search) -> Result<Response, ApiError> {
    let page = store.search(&q).await?;
    Ok(json(&dto::SearchAnswer {
        instances: page.instances.iter().map(dto::SummaryDto::from).collect(),
        next_token: page.next_token.as_deref(),
    }))
}

async fn instance_history(
    State(store): State<Store>,
    InstancePath(id): InstancePath,
    History(q): History,
) -> Result<Response, ApiError> {
    let page = store.instance_history(&id, &q).await?;
    Ok(json(&dto::HistoryAnswer::of_instance(id.as_str(), &page)))
}

async fn package(
    State(store): State<Store>,
    path: PackagePath,
    history: Result<History, ApiError>,
) -> Result<Response, ApiError> {
    match path {
        PackagePath::Versions(name) => {
            if !matches!(&history, Ok(History(q)) if q == &HistoryQuery::default()) {
                return Err(ApiError::BadRequest(
                    "/packages/{name} takes no query parameters; /packages/{name}/history does"
                        .into(),
                ));
            }
            let versions = store.package_versions(&name).await?;
            Ok(json(&dto::PackageAnswer {
                package_name: &name,
                versions: versions.iter().map(dto::VersionCountDto::from).collect(),
            }))
        }
        PackagePath::History(name) => {
            let History(q) = history?;
            let page = store.package_history(&name, &q).await?;
            Ok(json(&dto::HistoryAnswer::of_package(&name, &page)))
        }
    }
}

async fn accounts(
    State(store): State<Store>,
    Extension(SilentAfter(silent_after)): Extension<SilentAfter>,
    Scopes(q): Scopes,
) -> Result<Response, ApiError> {
    let page = store.scopes(&q).await?;
    let silent_before = chrono::Utc::now() - silent_after;
    Ok(json(&dto::ScopesAnswer {
        accounts: page
            .scopes
            .iter()
            .map(|c| dto::ScopeDto::new(c, silent_before))
            .collect(),
        silent_after_hours: silent_after.num_hours(),
        next_token: page.next_token.as_deref(),
    }))
}

fn json<T: Serialize>(answer: &T) -> Response {
    Json(answer).into_response()
}

/// Around every route and the fallback: the request id, the request's span
/// (a panic inside is answered as a 500 by `CatchPanicLayer`), the error body (which carries the request id,
/// known only here), the headers every answer has, and the log line.
async fn edge(State(store): State<Store>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request_id(&req);
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(none)".to_owned(), |path| path.as_str().to_owned());
    let calls_before = store.data_api_calls();
    let span = tracing::info_span!("http", request_id = %request_id);

    let mut response = next.run(req).instrument(span.clone()).await;
    errors::write_body(&mut response, &request_id);
    let headers = response.headers_mut();
    // The API's answers are JSON; the page's carry their own type.
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID_HEADER, id);
    }

    // Exact per request in Lambda (one request at a time); under
    // concurrency (inventory serve) overlapping requests share the count.
    let data_api_calls = store.data_api_calls().saturating_sub(calls_before);
    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(%method, route, status, duration_ms, data_api_calls, "request");
        } else {
            tracing::info!(%method, route, status, duration_ms, data_api_calls, "request");
        }
    });
    response
}

/// A panic below `edge` (inside its span): logged, and answered as a 500
/// whose body `edge` writes as for any error.
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("request handler panicked");
    ApiError::Internal(None).into_response()
}

/// Reads the request body to its end before any route or fallback sees
/// it, whatever the method and path. hyper closes a connection whose request
/// body was left unread, without a word in the answer; a client reusing the
/// connection (a pool) then fails its next request. A body over
/// [`MAX_BODY_BYTES`] is not drained: it is answered 413 with `Connection:
/// close`, unread when its declared length is already over (so a client that
/// sent `Expect: 100-continue` is never asked for it).
async fn whole_body(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let refusal = if body.size_hint().lower() > MAX_BODY_BYTES as u64 {
        ApiError::PayloadTooLarge {
            max: MAX_BODY_BYTES,
        }
    } else {
        match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(whole) => {
                let req = Request::from_parts(parts, Body::from(whole.to_bytes()));
                return next.run(req).await;
            }
            Err(e) if e.is::<LengthLimitError>() => ApiError::PayloadTooLarge {
                max: MAX_BODY_BYTES,
            },
            // The client went away or sent a broken body.
            Err(_) => ApiError::BadRequest("the request body could not be read".into()),
        }
    };
    let mut response = refusal.into_response();
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

fn request_id(req: &Request) -> String {
    if let Some(RequestId(id)) = req.extensions().get::<RequestId>() {
        return id.clone();
    }
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}
