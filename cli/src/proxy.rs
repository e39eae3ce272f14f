//! `inventory proxy --api-url https://…`: the page (and the API's reads) of
//! a deployed stack on 127.0.0.1. API Gateway takes only IAM-signed
//! requests, which a browser cannot make: the proxy signs each one with the
//! operator's AWS credentials (SigV4 through the SDK's `aws-sigv4`, the
//! credentials from the usual AWS configuration) and passes the answer back.
//! It forwards GET and HEAD only: the page never writes, and nothing on this
//! machine can write through it with the operator's credentials.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;
use aws_config::BehaviorVersion;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{self, HeaderValue};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Mutex;

/// API Gateway's signing name.
const SERVICE: &str = "execute-api";
/// Credentials are fetched again this long before they expire.
const REFRESH_BEFORE_EXPIRY: std::time::Duration = std::time::Duration::from_secs(300);

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The deployed HTTP API's URL, as the stack's `HttpApiUrl` output gives
    /// it: <https://ID.execute-api.REGION.amazonaws.com>.
    #[arg(long, value_name = "URL")]
    api_url: String,
    /// Where to serve the page (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// The region to sign for. [default: the one in --api-url's host, else
    /// the AWS configuration's]
    #[arg(long)]
    region: Option<String>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let upstream = Upstream::parse(&args.api_url)?;
    let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let region = args
        .region
        .or_else(|| upstream.region_from_host())
        .or_else(|| config.region().map(|r| r.to_string()))
        .context("no region to sign for: pass --region or set AWS_REGION")?;
    let credentials = config
        .credentials_provider()
        .context("no AWS credentials found (environment, profile, SSO or instance role)")?;
    let proxy = Proxy::new(upstream, region, credentials)?;
    // Fail now, not at the first click, when there are no credentials.
    proxy
        .credentials()
        .await
        .context("reading the AWS credentials")?;

    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("binding the proxy to {}", args.bind))?;
    let addr = listener.local_addr()?;
    println!("inventory proxy is ready");
    println!(
        "  page:     http://{addr}{}",
        inventory_core::http::PAGE_ROOT
    );
    println!(
        "  API:      {} (signed for {} in {})",
        proxy.upstream.base, SERVICE, proxy.region
    );
    println!("  forwards GET and HEAD only");
    axum::serve(listener, router(proxy))
        .with_graceful_shutdown(crate::serve::shutdown_signal())
        .await
        .context("serving the proxy")?;
    Ok(())
}

/// Every request goes through [`forward`].
pub fn router(proxy: Proxy) -> Router {
    Router::new().fallback(forward).with_state(Arc::new(proxy))
}

/// The API behind the proxy: its scheme and host, and a base path (a stage)
/// that every forwarded path is put under.
#[derive(Debug, Clone)]
pub struct Upstream {
    base: String,
    host: String,
}

impl Upstream {
    pub fn parse(api_url: &str) -> anyhow::Result<Self> {
        let url = url::Url::parse(api_url).with_context(|| format!("--api-url {api_url:?}"))?;
        anyhow::ensure!(
            matches!(url.scheme(), "https" | "http"),
            "--api-url must be an https:// URL"
        );
        anyhow::ensure!(
            url.query().is_none() && url.fragment().is_none(),
            "--api-url takes no query string"
        );
        let host = url.host_str().context("--api-url has no host")?.to_owned();
        let base = url.as_str().trim_end_matches('/').to_owned();
        Ok(Self { base, host })
    }

    /// `<id>.execute-api.<region>.amazonaws.com`'s region.
    fn region_from_host(&self) -> Option<String> {
        let mut labels = self.host.split('.');
        labels.next()?;
        (labels.next()? == SERVICE).then(|| labels.next().map(str::to_owned))?
    }
}

/// The proxy's state: where to, how to sign, and the connection pool.
pub struct Proxy {
    upstream: Upstream,
    region: String,
    provider: SharedCredentialsProvider,
    cached: Mutex<Option<Credentials>>,
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Body>,
}

impl Proxy {
    /// Fails when the system has no trusted root certificates.
    pub fn new(
        upstream: Upstream,
        region: String,
        provider: SharedCredentialsProvider,
    ) -> anyhow::Result<Self> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .context("loading the system's root certificates")?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            upstream,
            region,
            provider,
            cached: Mutex::new(None),
            client: Client::builder(TokioExecutor::new()).build(https),
        })
    }

    /// The operator's credentials, fetched again shortly before they expire.
    async fn credentials(&self) -> anyhow::Result<Credentials> {
        let mut cached = self.cached.lock().await;
        let fresh = cached.as_ref().filter(|c| {
            c.expiry()
                .is_none_or(|expiry| expiry > SystemTime::now() + REFRESH_BEFORE_EXPIRY)
        });
        if let Some(credentials) = fresh {
            return Ok(credentials.clone());
        }
        let credentials = self.provider.provide_credentials().await?;
        *cached = Some(credentials.clone());
        Ok(credentials)
    }

    /// The request to the API for `method` and `uri`, signed.
    async fn signed(
        &self,
        method: &Method,
        uri: &Uri,
    ) -> anyhow::Result<axum::http::Request<Body>> {
        let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
        let url = format!("{}{path_and_query}", self.upstream.base);
        let mut request = axum::http::Request::builder()
            .method(method.clone())
            .uri(&url)
            .header(header::HOST, &self.upstream.host)
            .header(header::ACCEPT, "text/html,application/json")
            .body(Body::empty())?;
        let identity = self.credentials().await?.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(SERVICE)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()?
            .into();
        let headers = request
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str(), value.to_str().unwrap_or("")));
        let signable =
            SignableRequest::new(method.as_str(), &url, headers, SignableBody::Bytes(&[]))?;
        let (instructions, _signature) = sign(signable, &params)?.into_parts();
        instructions.apply_to_request_http1x(&mut request);
        Ok(request)
    }
}

/// Signs and forwards one request; the API's answer goes back as it came.
async fn forward(State(proxy): State<Arc<Proxy>>, method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
            "inventory proxy forwards GET and HEAD only\n",
        )
            .into_response();
    }
    let started = std::time::Instant::now();
    let result = async {
        let request = proxy.signed(&method, &uri).await?;
        let response = proxy.client.request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        anyhow::Ok(Response::from_parts(parts, Body::from(body)))
    }
    .await;
    let path = uri.path();
    match result {
        Ok(response) => {
            tracing::info!(
                %method,
                path,
                status = response.status().as_u16(),
                duration_ms = started.elapsed().as_secs_f64() * 1000.0,
                "forwarded"
            );
            response
        }
        Err(e) => {
            tracing::warn!(%method, path, error = %format!("{e:#}"), "forwarding failed");
            let mut response = (
                StatusCode::BAD_GATEWAY,
                format!("inventory proxy could not reach the API: {e:#}\n"),
            )
                .into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_comes_from_the_api_host() {
        let api = Upstream::parse("https://a1b2c3.execute-api.eu-west-1.amazonaws.com/").unwrap();
        assert_eq!(api.region_from_host().as_deref(), Some("eu-west-1"));
        assert_eq!(
            api.base,
            "https://a1b2c3.execute-api.eu-west-1.amazonaws.com"
        );
        let staged = Upstream::parse("https://api.example.com/prod").unwrap();
        assert_eq!(staged.region_from_host(), None);
        assert_eq!(staged.base, "https://api.example.com/prod");
        assert!(Upstream::parse("ftp://x").is_err());
        assert!(Upstream::parse("https://x/?a=1").is_err());
    }
}
