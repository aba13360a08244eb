//! Circuit breakers on this proxy's calls to one Service (an OSM UpstreamTrafficSetting's
//! connectionSettings), compiled from the snapshot's client policies.

use std::sync::Arc;
use std::time::Duration;

use meshcd_schemas::proto;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `namespace/name` of the UpstreamTrafficSetting, for answers and metrics.
    pub name: Arc<str>,
    /// Calls in flight; `None`: no limit.
    pub max_requests: Option<u32>,
    /// Calls that may wait for a free slot.
    pub max_pending_requests: u32,
    pub connect_timeout: Option<Duration>,
}

impl From<proto::Limits> for Limits {
    fn from(limits: proto::Limits) -> Self {
        Limits {
            name: limits.name.into(),
            max_requests: limits.max_requests,
            max_pending_requests: limits.max_pending_requests.unwrap_or(0),
            connect_timeout: (limits.connect_timeout_ms > 0)
                .then(|| Duration::from_millis(limits.connect_timeout_ms)),
        }
    }
}
