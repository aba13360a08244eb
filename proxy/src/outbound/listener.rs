//! The outbound listener: accepts the local app's connections, finds out whether they
//! were redirected (transparent mode) and serves them as HTTP/1.1 or h2c, or as a TCP
//! stream when they were addressed to a TCP service's ClusterIP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ::http::Request;
use hyper::body::{Body as _, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpStream;

use super::{Outbound, egress, http, tcp, transparent};
use crate::accept::{Acceptor, Slot};
use crate::http::header_timeout;
use crate::http::linger::Linger;
use crate::http::quickack::{AckingStream, Midway};
use crate::shutdown::Drain;
use crate::snapshot::{Protocol, Snapshot};

/// Request headers larger than this get 431 (HTTP/1.1) — Envoy's default is 60 KiB.
pub const MAX_HEADER_BYTES: usize = 64 << 10;
/// A client that has not sent a whole request head within this is disconnected.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The HTTP server settings shared by the outbound and the inbound listeners.
pub fn server_builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEADER_BYTES)
        // Head and body copied into one buffer (up to `max_buf_size` per write) instead
        // of a queue of buffers for `writev`: fewer instructions per response for the same
        // one system call; the copy is cheap next to it, and TLS streams gain most.
        .writev(false);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(MAX_HEADER_BYTES).unwrap_or(u32::MAX))
        .max_concurrent_streams(1024)
        .initial_stream_window_size(4 << 20)
        .initial_connection_window_size(16 << 20);
    builder
}

pub async fn serve(mut acceptor: Acceptor, outbound: Arc<Outbound>, mut drain: Drain) {
    let local = acceptor.local_addr().ok();
    let builder = Arc::new(server_builder());
    loop {
        let (stream, _, slot) = tokio::select! {
            accepted = acceptor.accept() => accepted,
            () = drain.signaled() => return,
        };
        let _ = stream.set_nodelay(true);
        let original = transparent::original_destination(&stream).filter(|o| Some(*o) != local);
        // Only a redirected connection looks at the snapshot here.
        match original.zip(outbound.snapshots.current()) {
            Some((original, snapshot)) => {
                tokio::spawn(serve_transparent(
                    stream,
                    slot,
                    outbound.clone(),
                    builder.clone(),
                    original,
                    snapshot,
                    drain.clone(),
                ));
            }
            None => {
                tokio::spawn(serve_http(
                    stream,
                    slot,
                    outbound.clone(),
                    builder.clone(),
                    original,
                    drain.clone(),
                ));
            }
        }
    }
}

/// A redirected connection: a TCP stream when its original destination is a TCP
/// service's ClusterIP (looked up when the snapshot lacks it: the service may be one
/// scoped away), else HTTP.
async fn serve_transparent(
    stream: TcpStream,
    slot: Slot,
    outbound: Arc<Outbound>,
    builder: Arc<auto::Builder<TokioExecutor>>,
    original: SocketAddr,
    mut snapshot: Arc<Snapshot>,
    drain: Drain,
) {
    if snapshot.service_by_cluster_ip(&original).is_none()
        && let Some(completed) = outbound.complete(&snapshot, "", Some(original)).await
    {
        snapshot = completed;
    }
    if let Some((service, port)) = tcp_service(&snapshot, original) {
        return tcp::forward(outbound, stream, service, port, slot).await;
    }
    // No meshed address at all: a stream out of the mesh.
    let stream = if snapshot.service_by_address(&original).is_none() {
        let shared = (&*snapshot, &*outbound.metrics);
        match egress::transparent(&outbound.egress, shared, stream, original).await {
            egress::Redirected::Http(stream) => stream,
            egress::Redirected::Done => return,
        }
    } else {
        stream
    };
    serve_http(stream, slot, outbound, builder, Some(original), drain).await
}

/// The TCP service and port a transparent connection's original destination is for.
fn tcp_service(snapshot: &Snapshot, original: SocketAddr) -> Option<(Arc<str>, u16)> {
    let (service, port) = snapshot.service_by_cluster_ip(&original)?;
    (service.port(port)?.protocol == Protocol::Tcp).then(|| (service.name.clone(), port))
}

/// Serves one connection; `_slot` keeps its place under the listener's cap until it ends.
async fn serve_http(
    stream: TcpStream,
    _slot: Slot,
    outbound: Arc<Outbound>,
    builder: Arc<auto::Builder<TokioExecutor>>,
    original: Option<SocketAddr>,
    drain: Drain,
) {
    let linger = Linger::new(&stream);
    let builder = header_timeout::for_connection(&builder, HEADER_READ_TIMEOUT);
    // Called as soon as a request head is parsed, before hyper reads on for its body.
    let midway = Arc::new(Midway::default());
    let stream = AckingStream::server(stream, midway.clone());
    let service = service_fn(move |request: Request<Incoming>| {
        midway.set(!request.body().is_end_stream());
        http::handle(outbound.clone(), original, request)
    });
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    if let Err(error) = drain.watch(connection).await {
        tracing::debug!(error = %meshcd_support::error_chain(&*error), "outbound connection ended with an error");
        if let Some(linger) = linger {
            linger.linger().await;
        }
    }
}
