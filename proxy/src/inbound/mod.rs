//! The inbound side: peers' calls to this workload.
//!
//! The stack, outermost first, one concern per file:
//! - `listener`: accept; TLS 1.3 with a client certificate from the mesh CA (plaintext
//!   too in permissive mTLS); the caller's SPIFFE identity from its verified leaf.
//! - `authorize`: the SMI rules of the snapshot (403 / closed stream when they refuse);
//!   `ingress`: the IngressBackends, for plaintext callers from outside the mesh.
//! - `admit`: which service port and app a request is for (`target`), whether the caller may make it
//!   (`authorize`), the request as the app gets it (`app_request`); `caller` keeps the
//!   connection's identity and its last route's metric handles.
//! - `forward`: HTTP to the app's address for the service port (HTTP/1.1, or h2c when
//!   the calling app spoke HTTP/2), upgrades passed through; metrics and `access_log`.
//! - `app_direct`: body-less HTTP/1.1 requests to the app, on connections the request's
//!   own task reads and writes (the hot path); `app_pool`: hyper's client for requests
//!   with a body; `idle`: the keep-alive connections both keep per app address.
//! - `tcp`: TCP streams to the app after their preamble (see `hop`).

mod access_log;
mod admit;
pub mod app_direct;
pub mod app_pool;
mod app_request;
pub mod authorize;
pub mod body;
mod caller;
mod forward;
mod idle;
mod ingress;
pub mod listener;
pub mod rate_limit;
mod target;
mod tcp;

use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::http::access_log::AccessLog;
use crate::metrics::Metrics;
use crate::snapshot::SnapshotStore;
use crate::tls::TlsStore;
use app_direct::DirectPool;
use app_pool::AppPool;

/// What every inbound connection shares.
pub struct Inbound {
    pub snapshots: Arc<SnapshotStore>,
    pub tls: Arc<TlsStore>,
    pub metrics: Arc<Metrics>,
    pub apps: AppClients,
    pub connect_timeout: Duration,
    pub access_log: Option<AccessLog>,
    /// The token buckets of the services with a local rate limit.
    pub rate_limiters: rate_limit::RateLimiters,
}

/// Pooled keep-alive clients to the local app.
pub struct AppClients {
    /// HTTP/1.1 requests without a body: the hot path.
    pub direct: Arc<DirectPool>,
    /// HTTP/1.1 requests with a body (gRPC aside).
    pub http1: Arc<AppPool>,
    /// h2c for gRPC, multiplexed on one connection per app address.
    pub http2: Client<HttpConnector, Incoming>,
}

impl AppClients {
    pub fn new(connect_timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(connect_timeout));
        Self {
            direct: DirectPool::new(connect_timeout),
            http1: AppPool::new(connect_timeout),
            http2: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(60))
                .http2_only(true)
                .build(connector),
        }
    }
}

/// Who is calling: a mesh identity, `unauthenticated` (plaintext: permissive mTLS, or an
/// address an IngressBackend names), or an IngressBackend's AuthenticatedPrincipal.
#[derive(Debug, Clone)]
pub struct Peer {
    pub identity: Arc<str>,
    /// `None` for a mesh peer (its SPIFFE certificate says who it is).
    pub non_mesh: Option<NonMesh>,
}

/// A caller from outside the mesh, as IngressBackends match it.
#[derive(Debug, Clone, Copy)]
pub enum NonMesh {
    /// Plaintext, from this TCP peer address.
    Plaintext(std::net::IpAddr),
    /// TLS with a certificate that chains to the mesh's roots and names, instead of a
    /// SPIFFE identity, an AuthenticatedPrincipal (the peer's `identity`).
    Principal,
}
