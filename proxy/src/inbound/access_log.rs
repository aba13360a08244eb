//! One access-log line per inbound request, when the access log is on.

use std::time::Instant;

use http::{Method, Response, Uri};

use super::body::InboundBody;
use super::{Inbound, Peer};
use crate::http::access_log::HttpEntry;

/// One access-log line for an inbound request, when there is an access log.
pub(super) fn log(
    inbound: &Inbound,
    peer: &Peer,
    service: &str,
    route: &str,
    (method, uri): (&Method, &Uri),
    response: &Response<InboundBody>,
    start: Instant,
) {
    if let Some(access_log) = inbound.access_log {
        access_log.write(&HttpEntry {
            direction: "inbound",
            source: &peer.identity,
            destination: service,
            backend: service,
            route,
            method: method.as_str(),
            path: uri.path(),
            status: response.status().as_u16(),
            duration_ms: start.elapsed(),
            injected: "",
        });
    }
}
