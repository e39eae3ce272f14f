//! Every answer of the endpoint leaves a keep-alive connection usable, or
//! says `Connection: close`: every method on every path, with and without
//! bodies of several sizes, content types and framings.

use crate::common::keepalive::{self, Probe, Reply, METHODS};
use crate::common::*;

use data_api_local::MAX_REQUEST_BYTES;

/// The operations, the metrics, and paths no route takes.
fn paths() -> Vec<&'static str> {
    let mut paths = OPERATION_PATHS.to_vec();
    paths.extend(["/metrics", "/", "/Nope", "/Execute/more"]);
    paths
}

/// No 5xx; an error names its type and carries a message. A body over the
/// limit is refused with `Connection: close`; no other answer closes the
/// connection.
fn inspect(probe: &Probe, reply: &Reply) -> Option<String> {
    let body = String::from_utf8_lossy(&reply.body);
    if reply.status >= 500 {
        return Some(body.into_owned());
    }
    let over_limit = probe
        .payload
        .as_ref()
        .is_some_and(|p| p.bytes.len() > MAX_REQUEST_BYTES);
    let error_type = reply.header("x-amzn-errortype");
    let refused = reply.status == 400 && error_type == Some("BadRequestException");
    if over_limit && !(refused && reply.close) {
        return Some(format!(
            "a body over the limit is refused as {error_type:?}, close: {}",
            reply.close
        ));
    }
    if !over_limit && reply.close {
        return Some("closes the connection".into());
    }
    if reply.status >= 400 {
        if error_type.is_none() {
            return Some("no x-amzn-ErrorType".into());
        }
        if probe.method != "HEAD" && !body.contains("\"message\"") {
            return Some(format!("error body {body:.200}"));
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_keeps_the_connection_or_says_close() {
    each_backend(async |h| {
        let payloads = keepalive::payloads(select_one_call().as_bytes(), MAX_REQUEST_BYTES);
        let probes = keepalive::probes(&METHODS, &paths(), &payloads);
        let check = Probe::with_body("POST", "/Execute", "application/json", &select_one_call());
        let addr = h.server().local_addr();
        let outcome = keepalive::sweep(addr, &probes, &check, 200, inspect).await;
        eprintln!("{:?}: {}", h.kind, outcome.summary());
        outcome.assert_clean(&format!("{:?}", h.kind));
    })
    .await;
}
