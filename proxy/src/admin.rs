//! The admin listener: `/metrics` (Prometheus text), `/ready` (200 once a snapshot is in
//! force), `/live`, `/config` (the snapshot in force as protobuf JSON, its version,
//! and the local TCP listeners), and the app's rewritten Kubernetes probes
//! (`/app-health/…`, see [`crate::app_probe`]).
//!
//! In a pod the listener is bound on every address (kubelet probes `/ready` and `/live`,
//! Prometheus scrapes `/metrics`), so anyone on the pod network reaches it. `/config`
//! names every endpoint, identity and authorization rule of the mesh: it answers loopback
//! peers only (`kubectl port-forward` connects over the pod's loopback), 403 to others.
//! Connections get the other listeners' header-read timeout, so idle or slow clients give
//! their slot back and cannot starve the probes.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

use crate::accept::Acceptor;
use crate::app_probe::{self, AppProbes};
use crate::http::header_timeout;
use crate::metrics::Metrics;
use crate::outbound::listener::HEADER_READ_TIMEOUT;
use crate::outbound::tcp::TcpListeners;
use crate::shutdown::Drain;
use crate::snapshot::SnapshotStore;

pub struct Admin {
    pub snapshots: Arc<SnapshotStore>,
    pub metrics: Arc<Metrics>,
    pub tcp: Arc<TcpListeners>,
    pub app_probes: AppProbes,
}

/// HTTP/1.1 only (what probes and scrapers speak), with the listeners' request-head
/// limits.
fn server_builder() -> auto::Builder<TokioExecutor> {
    crate::outbound::listener::server_builder().http1_only()
}

pub async fn serve(mut acceptor: Acceptor, admin: Arc<Admin>, mut drain: Drain) {
    let builder = Arc::new(server_builder());
    loop {
        let (stream, peer, slot) = tokio::select! {
            accepted = acceptor.accept() => accepted,
            () = drain.signaled() => return,
        };
        let admin = admin.clone();
        let builder = builder.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let admin = admin.clone();
                async move {
                    if let Some(probe) = admin.app_probes.get(request.uri().path()) {
                        let status = app_probe::check(probe).await;
                        return Ok::<_, Infallible>(text(status, format!("app probe: {status}\n")));
                    }
                    Ok::<_, Infallible>(handle(&admin, peer, &request))
                }
            });
            let builder = header_timeout::for_connection(&builder, HEADER_READ_TIMEOUT);
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
            drop(slot);
        });
    }
}

/// Whether `peer` is on this host's loopback (IPv4-mapped IPv6 included).
fn is_loopback(peer: SocketAddr) -> bool {
    peer.ip().to_canonical().is_loopback()
}

fn handle<B>(admin: &Admin, peer: SocketAddr, request: &Request<B>) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "GET only\n");
    }
    match request.uri().path() {
        "/metrics" => respond(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            admin.metrics.encode(),
        ),
        "/live" => text(StatusCode::OK, "live\n"),
        "/ready" => match admin.snapshots.current() {
            Some(snapshot) => text(
                StatusCode::OK,
                format!("ready: snapshot {}\n", snapshot.version),
            ),
            None => text(
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: no snapshot loaded\n",
            ),
        },
        "/config" if !is_loopback(peer) => text(
            StatusCode::FORBIDDEN,
            format!(
                "/config answers loopback clients only (it lists the mesh's endpoints, \
                 identities and authorization rules); {} is not one: use kubectl \
                 port-forward or a shell in the pod\n",
                peer.ip()
            ),
        ),
        "/config" => {
            let snapshot = admin.snapshots.current();
            let body = serde_json::json!({
                "version": snapshot.as_ref().map(|s| s.version.to_string()),
                "snapshot": snapshot.as_ref().map(|s| s.config_json.clone()),
                "tcp": admin.tcp.addresses(),
            });
            respond(StatusCode::OK, "application/json", body.to_string())
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found; try /metrics, /ready, /live or /config\n",
        ),
    }
}

fn text(status: StatusCode, body: impl Into<String>) -> Response<Full<Bytes>> {
    respond(status, "text/plain; charset=utf-8", body.into())
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_peers_may_read_the_config() {
        for (peer, loopback) in [
            ("127.0.0.1:40000", true),
            ("127.0.0.2:40000", true),
            ("[::1]:40000", true),
            ("[::ffff:127.0.0.1]:40000", true),
            ("10.244.1.7:40000", false),
            ("192.0.2.2:40000", false),
            ("[::ffff:10.244.1.7]:40000", false),
            ("[fd00::7]:40000", false),
        ] {
            let peer: SocketAddr = peer.parse().unwrap();
            assert_eq!(is_loopback(peer), loopback, "{peer}");
        }
    }
}
