//! The caller of one inbound connection: its identity, and the metric handles of the
//! route its last request took.

use std::sync::{Arc, Mutex};

use super::{Inbound, Peer};
use crate::accept::Slot;
use crate::metrics::{Direction, RouteLabels, RouteMetrics};

/// One inbound connection's caller, and the metric handles of the route its last request
/// took: a connection's requests nearly always take the same route, and the handles are
/// then found without hashing the five labels in the shared map.
pub struct Caller {
    pub peer: Peer,
    last_route: Mutex<Option<LastRoute>>,
    /// The connection's place under the listener's cap; an upgraded stream outlives the
    /// HTTP connection, so it holds the caller until it ends.
    _slot: Slot,
}

struct LastRoute {
    service: Arc<str>,
    route: Arc<str>,
    metrics: Arc<RouteMetrics>,
}

impl Caller {
    pub fn new(peer: Peer, slot: Slot) -> Arc<Self> {
        Arc::new(Self {
            peer,
            last_route: Mutex::new(None),
            _slot: slot,
        })
    }

    pub(super) fn route_metrics(
        &self,
        inbound: &Inbound,
        service: &Arc<str>,
        route: &Arc<str>,
    ) -> Arc<RouteMetrics> {
        let mut last = self.last_route.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(last) = &*last
            && last.service == *service
            && last.route == *route
        {
            return last.metrics.clone();
        }
        let metrics = inbound.metrics.route(RouteLabels {
            direction: Direction::Inbound,
            source: self.peer.identity.clone(),
            destination: service.clone(),
            backend: service.clone(),
            route: route.clone(),
        });
        *last = Some(LastRoute {
            service: service.clone(),
            route: route.clone(),
            metrics: metrics.clone(),
        });
        metrics
    }
}
