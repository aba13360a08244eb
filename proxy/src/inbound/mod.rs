//! The inbound side: peers' calls to this workload.
//!
//! The stack, outermost first, one concern per file:
//! - `listener`: accept; TLS 1.3 with a client certificate from the mesh CA (plaintext
//!   too in permissive mTLS); the caller's SPIFFE identity from its verified leaf.
//! - `authorize`: the SMI rules of the snapshot (403 / closed stream when they refuse).
//! - `forward`: HTTP to the app's address for the service port (HTTP/1.1, or h2c when
//!   the calling app spoke HTTP/2), upgrades passed through; metrics and access log.
//! - `tcp`: TCP streams to the app after their preamble (see `hop`).

pub mod authorize;
mod forward;
pub mod listener;
mod tcp;

use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::access_log::AccessLog;
use crate::metrics::Metrics;
use crate::snapshot::SnapshotStore;
use crate::tls::TlsStore;

/// What every inbound connection shares.
pub struct Inbound {
    pub snapshots: Arc<SnapshotStore>,
    pub tls: Arc<TlsStore>,
    pub metrics: Arc<Metrics>,
    pub apps: AppClients,
    pub connect_timeout: Duration,
    pub access_log: Option<AccessLog>,
}

/// Pooled keep-alive clients to the local app.
pub struct AppClients {
    pub http1: Client<HttpConnector, Incoming>,
    pub http2: Client<HttpConnector, Incoming>,
}

impl AppClients {
    pub fn new(connect_timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(connect_timeout));
        let idle = Duration::from_secs(60);
        Self {
            http1: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(idle)
                .build(connector.clone()),
            http2: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(idle)
                .http2_only(true)
                .build(connector),
        }
    }
}

/// Who is calling: a mesh identity, or `unauthenticated` (plaintext, permissive mTLS).
#[derive(Debug, Clone)]
pub struct Peer {
    pub identity: Arc<str>,
}
