//! Client-side traffic as the proxies report it each second, kept for a few minutes per
//! (namespace, service, backend): the default metric source of canary analysis.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use meshcd_schemas::proto;

/// How long reports are kept: longer than any sensible canary interval.
const RETENTION: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BackendKey {
    pub namespace: String,
    /// The service clients called (a split's root).
    pub service: String,
    pub backend: String,
}

#[derive(Debug, Clone)]
struct Sample {
    at: Instant,
    requests: u64,
    failures: u64,
    bounds_ms: Vec<f64>,
    /// Cumulative per bound.
    buckets: Vec<u64>,
}

/// What a window of reports adds up to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Aggregate {
    pub requests: u64,
    pub failures: u64,
    /// Upper bound of the bucket holding the 99th percentile; `None` without requests.
    pub p99_ms: Option<f64>,
}

impl Aggregate {
    /// Percentage of requests that did not fail.
    pub fn success_rate(&self) -> Option<f64> {
        (self.requests > 0).then(|| {
            100.0 * (self.requests - self.failures.min(self.requests)) as f64 / self.requests as f64
        })
    }
}

#[derive(Default)]
pub struct Traffic {
    samples: Mutex<BTreeMap<BackendKey, VecDeque<Sample>>>,
}

impl Traffic {
    pub fn record(&self, report: &proto::TrafficReport) {
        self.record_at(report, Instant::now());
    }

    fn record_at(&self, report: &proto::TrafficReport, at: Instant) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        for counter in &report.counters {
            let key = BackendKey {
                namespace: counter.namespace.clone(),
                service: counter.service.clone(),
                backend: counter.backend.clone(),
            };
            let queue = samples.entry(key).or_default();
            queue.push_back(Sample {
                at,
                requests: counter.requests,
                failures: counter.failures,
                bounds_ms: counter.bucket_bounds_ms.clone(),
                buckets: counter.bucket_counts.clone(),
            });
            while queue
                .front()
                .is_some_and(|s| at.duration_since(s.at) > RETENTION)
            {
                queue.pop_front();
            }
        }
    }

    /// Everything reported for `key` since `since`.
    pub fn since(&self, key: &BackendKey, since: Instant) -> Aggregate {
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let Some(queue) = samples.get(key) else {
            return Aggregate::default();
        };
        let mut aggregate = Aggregate::default();
        let mut bounds: Vec<f64> = Vec::new();
        let mut buckets: Vec<u64> = Vec::new();
        for sample in queue.iter().filter(|s| s.at >= since) {
            aggregate.requests += sample.requests;
            aggregate.failures += sample.failures;
            if bounds.is_empty() {
                bounds = sample.bounds_ms.clone();
                buckets = vec![0; bounds.len()];
            }
            if sample.bounds_ms == bounds {
                for (total, count) in buckets.iter_mut().zip(&sample.buckets) {
                    *total += count;
                }
            }
        }
        let total = buckets.last().copied().unwrap_or(0);
        if total > 0 {
            let wanted = (total as f64 * 0.99).ceil() as u64;
            aggregate.p99_ms = bounds
                .iter()
                .zip(&buckets)
                .find(|(_, count)| **count >= wanted)
                .map(|(bound, _)| *bound);
        }
        aggregate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(requests: u64, failures: u64, buckets: Vec<u64>) -> proto::TrafficReport {
        proto::TrafficReport {
            counters: vec![proto::TrafficCounter {
                service: "api".into(),
                namespace: "shop".into(),
                backend: "api-v2".into(),
                requests,
                failures,
                bucket_bounds_ms: vec![10.0, 100.0, f64::INFINITY],
                bucket_counts: buckets,
            }],
        }
    }

    fn key() -> BackendKey {
        BackendKey {
            namespace: "shop".into(),
            service: "api".into(),
            backend: "api-v2".into(),
        }
    }

    #[test]
    fn a_window_adds_up_requests_failures_and_latency() {
        let traffic = Traffic::default();
        let start = Instant::now();
        traffic.record_at(&report(100, 0, vec![100, 100, 100]), start);
        traffic.record_at(
            &report(100, 2, vec![90, 100, 100]),
            start + Duration::from_secs(1),
        );
        let all = traffic.since(&key(), start);
        assert_eq!((all.requests, all.failures), (200, 2));
        assert_eq!(all.success_rate(), Some(99.0));
        assert_eq!(all.p99_ms, Some(100.0));
        let last = traffic.since(&key(), start + Duration::from_millis(500));
        assert_eq!(last.requests, 100);
    }

    #[test]
    fn no_traffic_has_no_rate() {
        let traffic = Traffic::default();
        assert_eq!(traffic.since(&key(), Instant::now()).success_rate(), None);
    }
}
