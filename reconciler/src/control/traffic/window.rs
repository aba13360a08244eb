//! Sums of report samples over a window: requests, failures, latency quantiles and what
//! policies did to the calls.

use std::collections::VecDeque;
use std::time::Instant;

use meshcd_schemas::proto;

#[derive(Debug, Clone)]
pub(super) struct Sample {
    pub at: Instant,
    pub requests: u64,
    pub failures: u64,
    pub bounds_ms: Vec<f64>,
    /// Cumulative per bound.
    pub buckets: Vec<u64>,
    pub policy: PolicyCounts,
}

/// What policies did to calls: retries (client side), refusals of a breaker or a retry
/// budget, injected faults, and rate-limited requests (server side). Shown, never judged:
/// a proxy's report is taken as its own account of its calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyCounts {
    /// Retry attempts sent.
    #[serde(default)]
    pub retries: u64,
    /// Retries the destination's retry budget refused.
    #[serde(default)]
    pub retries_refused: u64,
    /// Calls a circuit breaker (an UpstreamTrafficSetting's limits) refused with 503.
    #[serde(default)]
    pub overflows: u64,
    /// Calls a Fault aborted or delayed.
    #[serde(default)]
    pub faults_injected: u64,
    /// Requests the serving proxies refused over their service's local rate limit.
    #[serde(default)]
    pub rate_limited: u64,
}

impl PolicyCounts {
    pub fn of(counter: &proto::TrafficCounter) -> PolicyCounts {
        PolicyCounts {
            retries: counter.retries,
            retries_refused: counter.retries_refused,
            overflows: counter.overflows,
            faults_injected: counter.faults_injected,
            rate_limited: counter.rate_limited,
        }
    }

    /// Field by field, saturating: a report's numbers are the proxy's to choose.
    pub fn add(&mut self, other: &PolicyCounts) {
        self.retries = self.retries.saturating_add(other.retries);
        self.retries_refused = self.retries_refused.saturating_add(other.retries_refused);
        self.overflows = self.overflows.saturating_add(other.overflows);
        self.faults_injected = self.faults_injected.saturating_add(other.faults_injected);
        self.rate_limited = self.rate_limited.saturating_add(other.rate_limited);
    }

    pub fn is_zero(&self) -> bool {
        *self == PolicyCounts::default()
    }
}

/// What a window of reports adds up to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Aggregate {
    pub requests: u64,
    pub failures: u64,
    /// Upper bound of the bucket holding the median; `None` without requests.
    pub p50_ms: Option<f64>,
    /// Upper bound of the bucket holding the 99th percentile; `None` without requests.
    pub p99_ms: Option<f64>,
}

impl Aggregate {
    /// Percentage of requests that did not fail.
    pub fn success_rate(&self) -> Option<f64> {
        success_rate(self.requests, self.failures)
    }
}

/// Percentage of `requests` that did not fail; `None` without requests.
pub fn success_rate(requests: u64, failures: u64) -> Option<f64> {
    (requests > 0).then(|| 100.0 * (requests - failures.min(requests)) as f64 / requests as f64)
}

/// Sums samples; histograms with other bounds than the first one seen are left out.
#[derive(Default)]
pub(super) struct Window {
    requests: u64,
    failures: u64,
    bounds: Vec<f64>,
    buckets: Vec<u64>,
    policy: PolicyCounts,
}

impl Window {
    pub fn add(&mut self, queue: &VecDeque<Sample>, since: Instant) {
        for sample in queue.iter().filter(|s| s.at >= since) {
            self.requests = self.requests.saturating_add(sample.requests);
            self.failures = self.failures.saturating_add(sample.failures);
            self.policy.add(&sample.policy);
            if self.bounds.is_empty() {
                self.bounds = sample.bounds_ms.clone();
                self.buckets = vec![0; self.bounds.len()];
            }
            if sample.bounds_ms == self.bounds {
                for (total, count) in self.buckets.iter_mut().zip(&sample.buckets) {
                    *total = total.saturating_add(*count);
                }
            }
        }
    }

    fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.buckets.last().copied().unwrap_or(0);
        if total == 0 {
            return None;
        }
        let wanted = (total as f64 * q).ceil() as u64;
        self.bounds
            .iter()
            .zip(&self.buckets)
            .find(|(_, count)| **count >= wanted)
            .map(|(bound, _)| *bound)
    }

    pub fn policy(&self) -> PolicyCounts {
        self.policy
    }

    pub fn aggregate(&self) -> Aggregate {
        Aggregate {
            requests: self.requests,
            failures: self.failures,
            p50_ms: self.quantile(0.5),
            p99_ms: self.quantile(0.99),
        }
    }
}
