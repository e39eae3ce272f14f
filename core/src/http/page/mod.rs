//! The fleet page for people: HTML rendered on the server with maud (every
//! value escaped), its stylesheet and its one small script inside the binary,
//! working with JavaScript off. It reads through the same store
//! operations as the JSON API and never writes.
//!
//! Every view lives under `/ui/`, a prefix the JSON API does not use, so the
//! API's routes and error answers stay as they are; `GET /` sends a browser
//! (a request that accepts `text/html`) to the overview and answers anything
//! else with the API's JSON 404. Each view is a shareable URL with its
//! filters in the query string:
//!
//! | route | view (module) |
//! |---|---|
//! | `/ui/` | the fleet overview (`overview`) |
//! | `/ui/search?…` | instances by package, version range, account, region, state (`search`) |
//! | `/ui/instances/{id}` | one instance: details, vulnerabilities, packages, latest changes (`instance`) |
//! | `/ui/packages/{name}` | a package's versions as a bar chart, its latest changes (`package`) |
//! | `/ui/history?…` | the changes of an instance, a package or the fleet (`history`) |
//! | `/ui/advisories/{id}?…` | an advisory (by id or alias) and the instances it affects (`advisory`) |
//! | `/ui/vulnerabilities?…` | the fleet's advisories with instance counts (`vulnerabilities`) |
//! | `/ui/assets/{file}` | the stylesheet and the script (`assets`) |

mod advisory;
mod assets;
mod chart;
mod history;
mod instance;
mod layout;
mod overview;
mod package;
mod search;
mod vulnerabilities;

use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, MethodRouter};
use axum::Router;
use maud::Markup;

use super::errors::ApiError;
use crate::store::Store;

/// Where the overview is; every view's URL starts with it.
pub const PAGE_ROOT: &str = "/ui/";

/// What the browser may load: only this server's stylesheet and script,
/// forms sent only here, no frames. Inline SVG is part of the document.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
     img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The page's routes, merged into the API's router.
pub(super) fn routes() -> Router<Store> {
    Router::new()
        .route("/", get_only(home))
        .route("/ui/", get_only(overview::view))
        .route("/ui/search", get_only(search::view))
        .route("/ui/instances/{id}", get_only(instance::view))
        .route("/ui/packages/{*name}", get_only(package::view))
        .route("/ui/history", get_only(history::view))
        .route("/ui/advisories/{id}", get_only(advisory::view))
        .route("/ui/vulnerabilities", get_only(vulnerabilities::view))
        .route("/ui/assets/{file}", get_only(assets::file))
        .route("/ui/{*rest}", get_only(not_found))
        .route("/ui", get_only(|| async { Redirect::permanent(PAGE_ROOT) }))
}

/// GET (and so HEAD) only: the page never writes; any other method is the
/// API's 405.
fn get_only<H, T>(handler: H) -> MethodRouter<Store>
where
    H: axum::handler::Handler<T, Store>,
    T: 'static,
{
    get(handler).fallback(|method: Method| async move {
        ApiError::MethodNotAllowed {
            method: method.to_string(),
            route: "/ui/…",
            allow: "GET, HEAD",
        }
    })
}

/// `/`: a browser gets the overview; an API client the JSON 404 it always got.
async fn home(headers: HeaderMap, uri: Uri) -> Response {
    let wants_html = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"));
    if wants_html {
        Redirect::to(PAGE_ROOT).into_response()
    } else {
        ApiError::NoRoute(uri.path().to_owned()).into_response()
    }
}

async fn not_found(uri: Uri) -> PageError {
    PageError::NotFound(format!(
        "There is no page at {}.",
        uri.path().chars().take(200).collect::<String>()
    ))
}

/// A rendered view with the headers every page has.
pub(super) fn html(markup: Markup) -> Response {
    let mut response = markup.into_string().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// What a view fails with: a page that says so, with the API's status.
#[derive(Debug)]
pub(super) enum PageError {
    /// A failure the API also has (bad input, a store failure).
    Api(ApiError),
    NotFound(String),
}

impl From<ApiError> for PageError {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

impl From<crate::store::StoreError> for PageError {
    fn from(err: crate::store::StoreError) -> Self {
        Self::Api(err.into())
    }
}

impl From<crate::model::ValidationError> for PageError {
    fn from(err: crate::model::ValidationError) -> Self {
        Self::Api(err.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Self::NotFound(message) => (StatusCode::NOT_FOUND, message),
            Self::Api(err) => {
                let status = err.status();
                err.log();
                (status, err.to_string())
            }
        };
        let mut response = html(layout::error_page(status, &message));
        *response.status_mut() = status;
        response
    }
}
