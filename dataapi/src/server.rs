//! The HTTP side: routes as the SDK calls them, latency, logging, metrics, and the server's lifecycle.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, HttpBody};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Method, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::errors::{ApiError, Error};
use crate::limits::{request_too_large, MAX_REQUEST_BYTES};
use crate::metrics::Metrics;
use crate::service::{Operation, Service};

struct App {
    service: Arc<Service>,
    metrics: Metrics,
    latency: Duration,
}

/// A running endpoint. Dropping it without [`Server::shutdown`] leaves it serving until the runtime stops.
pub struct Server {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    serving: JoinHandle<()>,
    reaper: JoinHandle<()>,
    service: Arc<Service>,
}

impl Server {
    /// Connects every cluster's backend, binds `config.bind` and serves in a background task.
    pub async fn start(config: Config) -> Result<Server, Error> {
        config.validate()?;
        let service = Arc::new(Service::connect(&config).await?);
        let bind_error = |source| Error::Bind {
            addr: config.bind,
            source,
        };
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let app = Arc::new(App {
            service: service.clone(),
            metrics: Metrics::default(),
            latency: config.latency,
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = axum::serve(listener, router(app))
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %e, "data api server stopped");
            }
        });
        let reaper = tokio::spawn(reap(service.clone()));
        tracing::info!(%addr, clusters = config.clusters.len(), "data api listening");
        Ok(Server {
            addr,
            stop,
            serving,
            reaper,
            service,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, for an SDK's `endpoint_url`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving, rolls back open transactions and closes the pools.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let mut serving = self.serving;
        // Clients holding keep-alive connections must not stall shutdown.
        if tokio::time::timeout(Duration::from_secs(5), &mut serving)
            .await
            .is_err()
        {
            serving.abort();
        }
        self.reaper.abort();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.service.close()).await;
    }
}

async fn reap(service: Arc<Service>) {
    let mut tick = tokio::time::interval(service.transactions.reap_interval());
    loop {
        tick.tick().await;
        let n = service.transactions.reap().await;
        if n > 0 {
            tracing::info!(count = n, "rolled back idle transactions");
        }
    }
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/Execute", operation(Operation::ExecuteStatement))
        .route("/BatchExecute", operation(Operation::BatchExecuteStatement))
        .route("/BeginTransaction", operation(Operation::BeginTransaction))
        .route(
            "/CommitTransaction",
            operation(Operation::CommitTransaction),
        )
        .route(
            "/RollbackTransaction",
            operation(Operation::RollbackTransaction),
        )
        .route("/ExecuteSql", operation(Operation::ExecuteSql))
        .route("/metrics", get(metrics).fallback(unknown))
        .fallback(unknown)
        .layer(middleware::from_fn(whole_body))
        // `whole_body` holds the limit; axum's own (2 MB) must not apply.
        .layer(DefaultBodyLimit::disable())
        .with_state(app)
}

fn operation(op: Operation) -> MethodRouter<Arc<App>> {
    post(move |State(app): State<Arc<App>>, body: Bytes| handle(app, op, body)).fallback(unknown)
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
        .into_response()
}

async fn unknown(method: Method, uri: Uri) -> Response {
    ApiError::UnknownOperation(format!("Unknown operation {method} {}", uri.path())).into_response()
}

/// Reads the request body to its end before any route sees it, whatever the method and path:
/// hyper closes a connection whose request body was left unread without a word in the answer, and
/// a client reusing it (the SDK's pool) fails its next call. A body over [`MAX_REQUEST_BYTES`] is
/// not drained: it is refused with `Connection: close`, unread when its declared length is over.
async fn whole_body(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let refusal = if body.size_hint().lower() > MAX_REQUEST_BYTES as u64 {
        request_too_large()
    } else {
        match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
            Ok(whole) => {
                let req = Request::from_parts(parts, Body::from(whole.to_bytes()));
                return next.run(req).await;
            }
            Err(e) if e.is::<LengthLimitError>() => request_too_large(),
            Err(e) => ApiError::BadRequest(format!("Cannot read request body: {e}")),
        }
    };
    let mut response = refusal.into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

async fn handle(app: Arc<App>, op: Operation, body: Bytes) -> Response {
    let started = Instant::now();
    if !app.latency.is_zero() {
        tokio::time::sleep(app.latency).await;
    }
    // Run apart from the connection task: a client hanging up must not cut a call short
    // (a connection would go back to its pool mid-way).
    let service = app.service.clone();
    let result = tokio::spawn(async move { service.call(op, body).await })
        .await
        .unwrap_or_else(|e| Err(ApiError::Internal(format!("call failed: {e}"))));
    let elapsed = started.elapsed();
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => e.error_type(),
    };
    app.metrics.record(op.name(), outcome, elapsed);
    let request_id = uuid::Uuid::new_v4().to_string();
    tracing::info!(
        operation = op.name(),
        outcome,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        request_id = %request_id,
        "data api call"
    );
    let mut response = match result {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => e.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-RequestId", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_can_be_shared_across_tasks() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<Server>();
        shareable::<Config>();
    }

    #[tokio::test]
    async fn starts_on_a_free_local_port_and_stops() {
        let server = Server::start(Config::single(crate::LOCAL_CLUSTER_ARN, "sqlite::memory:"))
            .await
            .unwrap();
        assert!(server.local_addr().ip().is_loopback());
        assert_ne!(server.local_addr().port(), 0);
        assert_eq!(
            server.endpoint_url(),
            format!("http://127.0.0.1:{}", server.local_addr().port())
        );
        server.shutdown().await;
    }

    #[tokio::test]
    async fn refuses_bad_configurations() {
        assert!(matches!(
            Server::start(Config::default()).await,
            Err(Error::Config(_))
        ));
        let unknown = Config::single(crate::LOCAL_CLUSTER_ARN, "oracle://x");
        assert!(matches!(
            Server::start(unknown).await,
            Err(Error::Config(_))
        ));
    }
}
