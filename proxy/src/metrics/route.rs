//! The handles one route's requests update, and what the traffic reporter reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// Per [`PolicyEvent`]: read only by the traffic reports (Prometheus has its own
    /// families, labelled by policy), so plain atomics.
    pub(crate) policy: [AtomicU64; PolicyEvent::COUNT],
}

/// What a policy did to a call, counted per destination and backend for the traffic
/// reports (`meshcd top`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyEvent {
    /// A retry attempt sent.
    Retry,
    /// A retry the destination's retry budget refused.
    RetryRefused,
    /// A call a circuit breaker refused with 503.
    Overflow,
    /// A call a Fault aborted or delayed.
    FaultInjected,
    /// A request refused over the served service's local rate limit (inbound).
    RateLimited,
}

impl PolicyEvent {
    const COUNT: usize = 5;
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

    /// Only calls a policy acted on get here: a policy-free request pays nothing.
    pub fn count(&self, event: PolicyEvent) {
        self.policy[event as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn policy_counts(&self) -> PolicyCounts {
        let read = |event: PolicyEvent| self.policy[event as usize].load(Ordering::Relaxed);
        PolicyCounts {
            retries: read(PolicyEvent::Retry),
            retries_refused: read(PolicyEvent::RetryRefused),
            overflows: read(PolicyEvent::Overflow),
            faults_injected: read(PolicyEvent::FaultInjected),
            rate_limited: read(PolicyEvent::RateLimited),
        }
    }
}

/// Cumulative counts of each [`PolicyEvent`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PolicyCounts {
    pub retries: u64,
    pub retries_refused: u64,
    pub overflows: u64,
    pub faults_injected: u64,
    pub rate_limited: u64,
}

impl PolicyCounts {
    /// Field by field sum.
    pub fn add(&mut self, other: PolicyCounts) {
        self.retries += other.retries;
        self.retries_refused += other.retries_refused;
        self.overflows += other.overflows;
        self.faults_injected += other.faults_injected;
        self.rate_limited += other.rate_limited;
    }

    /// What happened since `before` (a count never goes down; a smaller one reads as 0).
    pub fn since(&self, before: &PolicyCounts) -> PolicyCounts {
        PolicyCounts {
            retries: self.retries.saturating_sub(before.retries),
            retries_refused: self.retries_refused.saturating_sub(before.retries_refused),
            overflows: self.overflows.saturating_sub(before.overflows),
            faults_injected: self.faults_injected.saturating_sub(before.faults_injected),
            rate_limited: self.rate_limited.saturating_sub(before.rate_limited),
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == PolicyCounts::default()
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
    pub policy: PolicyCounts,
}
