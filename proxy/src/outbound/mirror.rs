//! A route rule's RequestMirror filters: for a share of the requests, a copy of the request
//! (as the rule's filters left it) goes to one endpoint of the mirror's backend, fire and
//! forget: its answer is dropped and its failure only counted, and the caller's request
//! neither waits for it nor learns of it. The destination authorizes the copy like any
//! call. A request with a body is not copied (the body streams once, to the real backend)
//! and is counted as skipped.

use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use hyper::body::Body;

use super::Outbound;
use super::send::{Upstream, replica, send};
use crate::http::headers;
use crate::http::hop::DESTINATION_HEADER;
use crate::snapshot::Snapshot;
use crate::snapshot::routes::Mirror;

/// Sends the copies `mirrors` draw for `request`, addressed to service port `port`.
pub(super) fn copy<'m, B: Body>(
    outbound: &Arc<Outbound>,
    snapshot: &Snapshot,
    mirrors: impl Iterator<Item = &'m Mirror>,
    port: u16,
    request: &Request<B>,
) {
    for mirror in mirrors {
        if rand::random::<f64>() >= mirror.fraction {
            continue;
        }
        if !request.body().is_end_stream() {
            outbound.metrics.mirrored(false);
            continue;
        }
        let mut copy = replica(request, Bytes::new());
        headers::strip_hop_by_hop(copy.headers_mut());
        let grpc = headers::is_grpc(request);
        if let Some(value) = mirror.backend.destination_header(port, grpc) {
            copy.headers_mut()
                .insert(&DESTINATION_HEADER, value.clone());
        }
        let outbound = outbound.clone();
        let backend = mirror.backend.clone();
        let upstream = Upstream {
            connect_timeout: snapshot.connect_timeout(outbound.connect_timeout),
            limits: None,
            attempt_timeout: None,
        };
        let timeout = snapshot.request_timeout(outbound.request_timeout);
        outbound.metrics.mirrored(true);
        tokio::spawn(async move {
            let sent = send(&outbound, &backend, upstream, copy);
            if let Ok(Err(error)) = tokio::time::timeout(timeout, sent).await {
                tracing::debug!(backend = %backend.service, error = %meshcd_support::error_chain(&error), "mirrored request failed");
            }
        });
    }
}
