//! Calls out of the mesh (OSM Egress): decided by the snapshot's egress table
//! (`snapshot::egress`), then sent straight to the destination, never to a peer proxy.
//!
//! - `resolver`: names outside the mesh → addresses (hickory, with cache and timeouts).
//! - `http`: an HTTP request to a host outside the mesh (Host header, absolute-form URI,
//!   or a redirected connection).
//! - `stream`: CONNECT tunnels and redirected connections; TLS is let through on its
//!   ClientHello's server name (`sni`).
//!
//! A name is always connected to as the proxy resolves it, never at an address the app
//! chose: a redirected connection whose Host or SNI names an allowed host goes to that
//! host, so that naming one cannot open a way to any address.

mod http;
mod resolver;
mod sni;
mod stream;

use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

pub use self::http::forward;
pub use resolver::{ResolveError, Resolver};
pub use stream::{Redirected, connect, transparent};

use crate::metrics::Metrics;
use crate::snapshot::egress::{Allowed, Denied, EgressProtocol};

/// How long an idle connection to a host outside the mesh is kept for the next request.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// What every call out of the mesh shares: the resolver and a pool of plain HTTP/1.1
/// connections to the hosts called.
pub struct EgressClient {
    resolver: Resolver,
    http: Client<HttpConnector<Resolver>, Incoming>,
    connect_timeout: Duration,
}

impl EgressClient {
    pub fn new(connect_timeout: Duration) -> Result<Self, ResolveError> {
        let resolver = Resolver::from_system()?;
        let mut connector = HttpConnector::new_with_resolver(resolver.clone());
        connector.set_connect_timeout(Some(connect_timeout));
        connector.set_nodelay(true);
        let http = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(IDLE_TIMEOUT)
            .build(connector);
        Ok(EgressClient {
            resolver,
            http,
            connect_timeout,
        })
    }
}

/// Counts a decision and logs a refusal (the app sees the 403 or the closed connection).
fn count(metrics: &Metrics, protocol: EgressProtocol, decision: &Result<Allowed, Denied>) {
    match decision {
        Ok(policy) => metrics.egress(protocol.word(), true, policy),
        Err(denied) => {
            tracing::info!(reason = %denied, "egress denied");
            metrics.egress(denied.protocol.word(), false, &Arc::from(""));
        }
    }
}
