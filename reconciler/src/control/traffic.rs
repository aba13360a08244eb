//! Client-side traffic as the proxies report it each second, kept for a few minutes per
//! calling identity and (namespace, service, backend): the default metric source of
//! canary analysis, `meshcd top` and the live context of `meshcd diff`.

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

/// Who made the calls: the reporting proxy's identity.
pub type Source = crate::model::Identity;

/// The document of the admin listener's `GET /traffic`, read by `meshcd top` and the
/// live context of `meshcd diff`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficDocument {
    pub window_seconds: u64,
    pub edges: Vec<Edge>,
}

/// One calling identity's traffic to one backend over a window.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Edge {
    pub source: Source,
    pub namespace: String,
    pub service: String,
    pub backend: String,
    pub requests: u64,
    pub failures: u64,
    pub requests_per_second: f64,
    pub success_rate: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
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

type Samples = BTreeMap<(BackendKey, Source), VecDeque<Sample>>;

#[derive(Default)]
pub struct Traffic {
    samples: Mutex<Samples>,
}

impl Traffic {
    pub fn record(&self, source: &Source, report: &proto::TrafficReport) {
        self.record_at(source, report, Instant::now());
    }

    fn record_at(&self, source: &Source, report: &proto::TrafficReport, at: Instant) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        for counter in &report.counters {
            let key = BackendKey {
                namespace: counter.namespace.clone(),
                service: counter.service.clone(),
                backend: counter.backend.clone(),
            };
            let queue = samples.entry((key, source.clone())).or_default();
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

    /// Everything reported for `key` since `since`, from every caller.
    pub fn since(&self, key: &BackendKey, since: Instant) -> Aggregate {
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let mut window = Window::default();
        for (_, queue) in samples.range(range_of(key)) {
            window.add(queue, since);
        }
        window.aggregate()
    }

    /// Every (caller, backend) pair with traffic in the last `window`.
    pub fn edges(&self, window: Duration) -> Vec<Edge> {
        let now = Instant::now();
        let since = now.checked_sub(window).unwrap_or(now);
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let mut edges = Vec::new();
        for ((key, source), queue) in samples.iter() {
            let mut sum = Window::default();
            sum.add(queue, since);
            let aggregate = sum.aggregate();
            if aggregate.requests == 0 {
                continue;
            }
            edges.push(Edge {
                source: source.clone(),
                namespace: key.namespace.clone(),
                service: key.service.clone(),
                backend: key.backend.clone(),
                requests: aggregate.requests,
                failures: aggregate.failures,
                requests_per_second: aggregate.requests as f64 / window.as_secs_f64().max(1.0),
                success_rate: aggregate.success_rate(),
                p50_ms: aggregate.p50_ms,
                p99_ms: aggregate.p99_ms,
            });
        }
        edges
    }
}

/// Every caller's entry for one backend: sources sort after this empty one.
fn range_of(key: &BackendKey) -> std::ops::RangeInclusive<(BackendKey, Source)> {
    let low = Source {
        namespace: String::new(),
        service_account: String::new(),
    };
    let high = Source {
        namespace: char::MAX.to_string(),
        service_account: char::MAX.to_string(),
    };
    (key.clone(), low)..=(key.clone(), high)
}

/// Sums samples; histograms with other bounds than the first one seen are left out.
#[derive(Default)]
struct Window {
    requests: u64,
    failures: u64,
    bounds: Vec<f64>,
    buckets: Vec<u64>,
}

impl Window {
    fn add(&mut self, queue: &VecDeque<Sample>, since: Instant) {
        for sample in queue.iter().filter(|s| s.at >= since) {
            self.requests += sample.requests;
            self.failures += sample.failures;
            if self.bounds.is_empty() {
                self.bounds = sample.bounds_ms.clone();
                self.buckets = vec![0; self.bounds.len()];
            }
            if sample.bounds_ms == self.bounds {
                for (total, count) in self.buckets.iter_mut().zip(&sample.buckets) {
                    *total += count;
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

    fn aggregate(&self) -> Aggregate {
        Aggregate {
            requests: self.requests,
            failures: self.failures,
            p50_ms: self.quantile(0.5),
            p99_ms: self.quantile(0.99),
        }
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

    fn source(service_account: &str) -> Source {
        Source {
            namespace: "shop".into(),
            service_account: service_account.into(),
        }
    }

    #[test]
    fn a_window_adds_up_requests_failures_and_latency_from_every_caller() {
        let traffic = Traffic::default();
        let start = Instant::now();
        traffic.record_at(&source("web"), &report(100, 0, vec![100, 100, 100]), start);
        traffic.record_at(
            &source("batch"),
            &report(100, 2, vec![90, 100, 100]),
            start + Duration::from_secs(1),
        );
        let all = traffic.since(&key(), start);
        assert_eq!((all.requests, all.failures), (200, 2));
        assert_eq!(all.success_rate(), Some(99.0));
        assert_eq!(all.p99_ms, Some(100.0));
        assert_eq!(all.p50_ms, Some(10.0));
        let last = traffic.since(&key(), start + Duration::from_millis(500));
        assert_eq!(last.requests, 100);
    }

    #[test]
    fn edges_keep_callers_apart() {
        let traffic = Traffic::default();
        let now = Instant::now();
        traffic.record_at(&source("web"), &report(30, 3, vec![30, 30, 30]), now);
        traffic.record_at(&source("batch"), &report(10, 0, vec![0, 10, 10]), now);
        let edges = traffic.edges(Duration::from_secs(10));
        let callers: Vec<(&str, u64, Option<f64>)> = edges
            .iter()
            .map(|e| {
                (
                    e.source.service_account.as_str(),
                    e.requests,
                    e.success_rate,
                )
            })
            .collect();
        assert_eq!(
            callers,
            vec![("batch", 10, Some(100.0)), ("web", 30, Some(90.0))]
        );
        assert!((edges[1].requests_per_second - 3.0).abs() < 1e-9);
    }

    #[test]
    fn no_traffic_has_no_rate() {
        let traffic = Traffic::default();
        assert_eq!(traffic.since(&key(), Instant::now()).success_rate(), None);
    }
}
