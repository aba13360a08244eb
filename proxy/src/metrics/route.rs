//! The handles one route's requests update, and what the traffic reporter reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;

use super::histogram::LatencyHistogram;

/// Whether any HTTP response completed since the traffic reporter last looked, so that
/// it sleeps while nothing happens instead of waking every second to find nothing new.
#[derive(Debug, Default)]
pub struct Activity {
    pub(crate) seen: AtomicBool,
    pub(crate) notify: tokio::sync::Notify,
}

impl Activity {
    /// A relaxed load on the hot path; the wake-up only for the first response after a
    /// quiet spell.
    fn mark(&self) {
        if !self.seen.load(Ordering::Relaxed) && !self.seen.swap(true, Ordering::AcqRel) {
            self.notify.notify_one();
        }
    }

    /// Starts a quiet spell: responses from now on wake `next`. Read the counters after
    /// this call, so none completed in between is missed.
    pub fn quiet(&self) {
        self.seen.store(false, Ordering::SeqCst);
    }

    /// Resolves at the first response after `quiet` (at once if one already came).
    pub async fn next(&self) {
        self.notify.notified().await;
    }
}

/// The handles one route's requests update: no lookups on the hot path.
#[derive(Debug)]
pub struct RouteMetrics {
    pub(crate) requests: Counter,
    pub(crate) responses: [Counter; 5],
    pub(crate) duration: LatencyHistogram,
    pub(crate) activity: Arc<Activity>,
}

impl RouteMetrics {
    pub fn request(&self) {
        self.requests.inc();
    }

    pub fn response(&self, status: http::StatusCode, elapsed: Duration) {
        let class = usize::from(status.as_u16() / 100).clamp(1, 5) - 1;
        self.responses[class].inc();
        self.duration.observe(elapsed);
        self.activity.mark();
    }
}

/// Cumulative traffic of one direction to one backend of one destination.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendTotals {
    /// `name.namespace` of the service called.
    pub destination: String,
    pub backend: String,
    /// Completed requests (responses of any class, the proxy's own errors included).
    pub requests: u64,
    /// 5xx responses, the proxy's own 502/503/504 for connection failures and timeouts included.
    pub failures: u64,
    /// Per bucket of `latency_bounds`, not cumulative.
    pub latency_buckets: Vec<u64>,
}
