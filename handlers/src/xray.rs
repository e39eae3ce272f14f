//! X-Ray subsegments for AWS SDK calls: one per operation (Data API, SSM, EC2),
//! with service, operation, region, request id, HTTP status, error/throttle/
//! fault flags, duration (start and end time) and the SDK's retry count.
//!
//! An SDK interceptor attached once where the clients are built (see
//! `lib.rs`), so core's code is traced without knowing it. Documents go to the
//! X-Ray daemon over UDP (`AWS_XRAY_DAEMON_ADDRESS`) as independent subsegments
//! of the function's segment, whose trace header Lambda gives each invocation
//! (`_X_AMZN_TRACE_ID`, set by the runtime). Without a daemon address nothing
//! is traced (locally nothing is sent unless asked); without a sampled trace
//! header, a call is not recorded.
//!
//! Why not a crate: `xray-lite-aws-sdk` attaches per request (every call site
//! in core would change) and reports per attempt, without the error flags or a
//! retry count; `opentelemetry-aws` brings a whole OpenTelemetry pipeline for
//! what is one JSON document per call. Error messages are not recorded: a
//! database error may quote the statement, and the schema function's role
//! statements hold a password.

use std::fmt;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_types::region::Region;
use serde_json::{json, Value};

/// Where Lambda says the X-Ray daemon listens (`host:port`, or the SDKs'
/// `tcp:host:port udp:host:port` form).
pub const ENV_DAEMON_ADDRESS: &str = "AWS_XRAY_DAEMON_ADDRESS";
/// The invocation's trace header, set by the Lambda runtime per invocation.
pub const ENV_TRACE_HEADER: &str = "_X_AMZN_TRACE_ID";
/// The header that carries the trace to the service called.
const TRACE_HEADER_NAME: &str = "x-amzn-trace-id";
/// The daemon's framing: this line, a newline, then one JSON document.
const DAEMON_PROTOCOL_HEADER: &str = "{\"format\": \"json\", \"version\": 1}\n";

type TraceHeaderSource = dyn Fn() -> Option<String> + Send + Sync;

/// A connection to the X-Ray daemon, and where the current trace header comes from.
#[derive(Clone)]
pub struct Xray {
    socket: Arc<UdpSocket>,
    trace_header: Arc<TraceHeaderSource>,
}

impl fmt::Debug for Xray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Xray")
            .field("daemon", &self.socket.peer_addr().ok())
            .finish()
    }
}

impl Xray {
    /// Tracing as Lambda configures it (`Tracing: Active` sets both
    /// variables), or `None` when no daemon address is set.
    pub fn from_env() -> Option<Self> {
        let raw = std::env::var(ENV_DAEMON_ADDRESS).ok()?;
        let Some(daemon) = daemon_address(&raw) else {
            tracing::warn!(value = %raw, "{ENV_DAEMON_ADDRESS} is not host:port; X-Ray is off");
            return None;
        };
        let trace_header = || std::env::var(ENV_TRACE_HEADER).ok();
        match Self::new(daemon, trace_header) {
            Ok(xray) => Some(xray),
            Err(e) => {
                tracing::warn!(error = %e, "cannot reach the X-Ray daemon; X-Ray is off");
                None
            }
        }
    }

    /// Sends to `daemon`; `trace_header` yields the current `X-Amzn-Trace-Id`
    /// value (`Root=…;Parent=…;Sampled=1`) when a call starts.
    pub fn new(
        daemon: SocketAddr,
        trace_header: impl Fn() -> Option<String> + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let local: SocketAddr = if daemon.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let socket = UdpSocket::bind(local)?;
        // A full buffer drops a document rather than stalling a call.
        socket.set_nonblocking(true)?;
        socket.connect(daemon)?;
        Ok(Self {
            socket: Arc::new(socket),
            trace_header: Arc::new(trace_header),
        })
    }

    /// The interceptor for one client; `service` names the subsegments
    /// (`RDSData`, `SSM`, `EC2`).
    pub fn interceptor(&self, service: &'static str) -> XrayInterceptor {
        XrayInterceptor {
            xray: self.clone(),
            service,
        }
    }

    fn send(&self, document: &Value) {
        let packet = format!("{DAEMON_PROTOCOL_HEADER}{document}");
        if let Err(e) = self.socket.send(packet.as_bytes()) {
            tracing::debug!(error = %e, "X-Ray subsegment not sent");
        }
    }
}

fn daemon_address(raw: &str) -> Option<SocketAddr> {
    let udp = raw
        .split_whitespace()
        .find_map(|part| part.strip_prefix("udp:"))
        .unwrap_or(raw.trim());
    udp.parse().ok()
}

/// The sampled trace of the invocation: its root and the segment to hang
/// subsegments under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    pub root: String,
    pub parent: String,
}

impl TraceContext {
    /// Parses `Root=…;Parent=…;Sampled=1`; `None` when not sampled or incomplete.
    pub fn parse(header: &str) -> Option<Self> {
        let mut root = None;
        let mut parent = None;
        let mut sampled = false;
        for part in header.split(';') {
            match part.trim().split_once('=') {
                Some(("Root", v)) => root = Some(v.to_string()),
                Some(("Parent", v)) => parent = Some(v.to_string()),
                Some(("Sampled", v)) => sampled = v == "1",
                _ => {}
            }
        }
        Some(Self {
            root: root?,
            parent: parent?,
        })
        .filter(|_| sampled)
    }
}

/// One traced operation, kept in the operation's config bag between hooks.
#[derive(Debug, Clone)]
struct TracedCall {
    trace: TraceContext,
    id: String,
    start: f64,
    attempts: u32,
}

impl Storable for TracedCall {
    type Storer = StoreReplace<Self>;
}

/// Records each operation of a client as an X-Ray subsegment.
#[derive(Debug, Clone)]
pub struct XrayInterceptor {
    xray: Xray,
    service: &'static str,
}

fn epoch_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// 16 hex digits, as X-Ray wants segment ids.
fn new_segment_id() -> String {
    hex::encode(&uuid::Uuid::new_v4().as_bytes()[..8])
}

impl Intercept for XrayInterceptor {
    fn name(&self) -> &'static str {
        "XrayInterceptor"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let trace = (self.xray.trace_header)()
            .as_deref()
            .and_then(TraceContext::parse);
        if let Some(trace) = trace {
            cfg.interceptor_state().store_put(TracedCall {
                trace,
                id: new_segment_id(),
                start: epoch_seconds(),
                attempts: 0,
            });
        }
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(call) = cfg.load::<TracedCall>().cloned() {
            cfg.interceptor_state().store_put(TracedCall {
                attempts: call.attempts + 1,
                ..call
            });
        }
        Ok(())
    }

    /// The service's own segment joins the trace under this subsegment
    /// (X-Ray's header is not part of the SigV4 signature).
    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(call) = cfg.load::<TracedCall>() {
            let header = format!("Root={};Parent={};Sampled=1", call.trace.root, call.id);
            context
                .request_mut()
                .headers_mut()
                .insert(TRACE_HEADER_NAME, header);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(call) = cfg.load::<TracedCall>() else {
            return Ok(());
        };
        let operation = cfg.load::<Metadata>().map(|m| m.name().to_string());
        let region = cfg.load::<Region>().map(|r| r.to_string());
        let response = context.response();
        let status = response.map(|r| r.status().as_u16());
        let header = |name: &str| {
            response
                .and_then(|r| r.headers().get(name))
                .map(str::to_string)
        };
        let request_id = header("x-amzn-requestid").or_else(|| header("x-amz-request-id"));
        let error_type =
            header("x-amzn-errortype").map(|t| t.split(':').next().unwrap_or_default().to_string());
        let failed = matches!(context.output_or_error(), Some(Err(_)));
        let fault = failed && status.is_none_or(|s| s >= 500);
        let throttle = status == Some(429)
            || error_type
                .as_deref()
                .is_some_and(|t| t.contains("Throttl") || t.contains("TooManyRequests"));
        let mut document = json!({
            "type": "subsegment",
            "id": call.id,
            "trace_id": call.trace.root,
            "parent_id": call.trace.parent,
            "name": self.service,
            "namespace": "aws",
            "start_time": call.start,
            "end_time": epoch_seconds(),
            "aws": { "retries": call.attempts.saturating_sub(1) },
        });
        for (key, value) in [
            ("operation", operation),
            ("region", region),
            ("request_id", request_id),
        ] {
            if let Some(value) = value {
                document["aws"][key] = json!(value);
            }
        }
        if let Some(status) = status {
            document["http"] = json!({ "response": { "status": status } });
        }
        if failed {
            document[if fault { "fault" } else { "error" }] = json!(true);
            // The error's type only: its message may quote SQL (see the module doc).
            let kind = error_type.unwrap_or_else(|| {
                if status.is_none() {
                    "NoResponse".into()
                } else {
                    "Unknown".into()
                }
            });
            document["cause"] = json!({ "exceptions": [{ "id": new_segment_id(), "type": kind }] });
        }
        if throttle {
            document["throttle"] = json!(true);
        }
        self.xray.send(&document);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_headers_parse_when_sampled_only() {
        let h = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
        assert_eq!(
            TraceContext::parse(h),
            Some(TraceContext {
                root: "1-5759e988-bd862e3fe1be46a994272793".into(),
                parent: "53995c3f42cd8ad8".into(),
            })
        );
        assert_eq!(
            TraceContext::parse(&h.replace("Sampled=1", "Sampled=0")),
            None
        );
        assert_eq!(
            TraceContext::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
            None
        );
        assert_eq!(TraceContext::parse(""), None);
    }

    #[test]
    fn daemon_addresses_in_both_forms() {
        let udp: SocketAddr = "127.0.0.2:2001".parse().unwrap();
        assert_eq!(daemon_address("127.0.0.2:2001"), Some(udp));
        assert_eq!(
            daemon_address("tcp:127.0.0.1:2000 udp:127.0.0.2:2001"),
            Some(udp)
        );
        assert_eq!(daemon_address("localhost"), None);
    }

    #[test]
    fn segment_ids_are_16_hex_digits() {
        let id = new_segment_id();
        assert_eq!(id.len(), 16);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        assert_ne!(id, new_segment_id());
    }
}
