//! The outbound side: the local app's calls into the mesh.
//!
//! The stack, outermost first, one concern per file:
//! - `listener`: accept, transparent-mode original destination, HTTP/1.1 or h2c;
//!   oversized heads (431), malformed ones (400) and slow clients end here.
//! - `route`: Host or ClusterIP → meshed service and port (404 when there is none);
//!   `on_demand` asks the control plane for a service the snapshot lacks.
//! - `split` (in `http`): TrafficSplit backend by weight, per request; A/B matches.
//! - `balance`: endpoint by power of two choices on in-flight load, skipping ejected ones.
//! - `pool`: one multiplexed mTLS HTTP/2 connection per endpoint, SPIFFE-verified.
//! - `send`: one request to a backend's endpoint, retried once elsewhere on connection
//!   failure; `retry`: a route rule's per-attempt timeout and retries around it;
//!   `mirror`: a route rule's fire-and-forget copies.
//! - `http`: the request's way through the above, request timeout (504), metrics and
//!   access log.
//! - `tcp`: the same for TCP service ports, per connection.
//! - `egress`: calls to destinations outside the mesh (OSM Egress), sent directly.

pub mod balance;
mod breaker;
pub mod budget;
mod call_policy;
pub mod egress;
mod error;
mod http;
pub mod listener;
mod mirror;
pub mod on_demand;
pub mod pool;
mod retry;
mod route;
mod select;
mod send;
pub mod tcp;
mod transparent;

use std::sync::Arc;
use std::time::Duration;

use crate::http::access_log::AccessLog;
use crate::metrics::{Metrics, PolicyEvent};
use crate::snapshot::{Backend, SnapshotStore};
use pool::Pool;

/// What every outbound connection shares.
pub struct Outbound {
    pub snapshots: Arc<SnapshotStore>,
    pub pool: Arc<Pool>,
    pub metrics: Arc<Metrics>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub access_log: Option<AccessLog>,
    /// Joined: services the snapshot lacks are asked of the control plane.
    pub on_demand: Option<Arc<on_demand::OnDemand>>,
    /// How many retries each destination may still take.
    pub budgets: budget::RetryBudgets,
    /// The calls in flight to each destination with limits.
    pub breakers: breaker::Breakers,
    /// Calls out of the mesh: the resolver and the connections to outside hosts.
    pub egress: Arc<egress::EgressClient>,
}

impl Outbound {
    /// `snapshot` completed with the service `host` or `original` names, when the
    /// control plane knows one the snapshot lacks.
    pub async fn complete(
        &self,
        snapshot: &Arc<crate::snapshot::Snapshot>,
        host: &str,
        original: Option<std::net::SocketAddr>,
    ) -> Option<Arc<crate::snapshot::Snapshot>> {
        let on_demand = self.on_demand.as_ref()?;
        on_demand
            .complete(&self.snapshots, snapshot, host, original)
            .await
    }

    /// A retry sent to `backend`: counted in `/metrics` and in the traffic reports.
    fn retried(&self, backend: &Backend) {
        self.metrics.retries.inc();
        backend.count(PolicyEvent::Retry);
    }

    /// A call to `backend` refused by `limit` of UpstreamTrafficSetting `setting`:
    /// counted in `/metrics` and in the traffic reports.
    fn overflowed(&self, backend: &Backend, setting: &Arc<str>, limit: &'static str) {
        self.metrics.overflowed(setting, limit);
        backend.count(PolicyEvent::Overflow);
    }
}
