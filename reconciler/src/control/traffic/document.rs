//! The document of the admin listener's `GET /traffic`: each side of the calls over a
//! window, as the proxies reported them.

use std::time::{Duration, Instant};

use super::window::{PolicyCounts, Window};
use super::{Side, Source, Traffic};

/// The document of the admin listener's `GET /traffic`, read by `meshcd top` and the
/// live context of `meshcd diff`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficDocument {
    pub window_seconds: u64,
    /// Client side: what callers' proxies sent.
    pub edges: Vec<Edge>,
    /// Server side: what the serving proxies served. Absent from reconcilers before it.
    #[serde(default)]
    pub served: Vec<Served>,
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
    /// What the caller's policies did to these calls (`rateLimited` is counted by the
    /// serving side, so 0 here).
    #[serde(flatten)]
    pub policy: PolicyCounts,
}

/// One serving identity's traffic for one service it serves, over a window: what its
/// proxies' inbound saw, from every caller.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Served {
    /// The serving proxies' proven identity.
    pub server: Source,
    pub namespace: String,
    pub service: String,
    pub requests: u64,
    pub failures: u64,
    pub requests_per_second: f64,
    pub success_rate: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// What the server's policies did (only `rateLimited` is counted on this side).
    #[serde(flatten)]
    pub policy: PolicyCounts,
}

/// One side's window for one key and reporter: what an edge or a served entry shows.
struct Sums {
    requests: u64,
    failures: u64,
    requests_per_second: f64,
    success_rate: Option<f64>,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    policy: PolicyCounts,
}

impl Traffic {
    /// Every (caller, backend) pair with client-side traffic in the last `window`: calls,
    /// or only policy actions (a retry whose call's answer is not reported yet).
    pub fn edges(&self, window: Duration) -> Vec<Edge> {
        self.sums(Side::Client, window)
            .into_iter()
            .map(|(key, source, sums)| Edge {
                source,
                namespace: key.namespace,
                service: key.service,
                backend: key.backend,
                requests: sums.requests,
                failures: sums.failures,
                requests_per_second: sums.requests_per_second,
                success_rate: sums.success_rate,
                p50_ms: sums.p50_ms,
                p99_ms: sums.p99_ms,
                policy: sums.policy,
            })
            .collect()
    }

    /// Every (server, service) pair with server-side traffic in the last `window`.
    pub fn served(&self, window: Duration) -> Vec<Served> {
        self.sums(Side::Server, window)
            .into_iter()
            .map(|(key, server, sums)| Served {
                server,
                namespace: key.namespace,
                service: key.service,
                requests: sums.requests,
                failures: sums.failures,
                requests_per_second: sums.requests_per_second,
                success_rate: sums.success_rate,
                p50_ms: sums.p50_ms,
                p99_ms: sums.p99_ms,
                policy: sums.policy,
            })
            .collect()
    }

    /// The window of every key of `side` that saw calls or policy actions in it.
    fn sums(&self, side: Side, window: Duration) -> Vec<(super::BackendKey, Source, Sums)> {
        let now = Instant::now();
        let since = now.checked_sub(window).unwrap_or(now);
        let state = self.lock();
        let mut sums = Vec::new();
        for ((sample_side, key, source), queue) in state.samples.iter() {
            if *sample_side != side {
                continue;
            }
            let mut sum = Window::default();
            sum.add(queue, since);
            let aggregate = sum.aggregate();
            let policy = sum.policy();
            if aggregate.requests == 0 && policy.is_zero() {
                continue;
            }
            let found = Sums {
                requests: aggregate.requests,
                failures: aggregate.failures,
                requests_per_second: aggregate.requests as f64 / window.as_secs_f64().max(1.0),
                success_rate: aggregate.success_rate(),
                p50_ms: aggregate.p50_ms,
                p99_ms: aggregate.p99_ms,
                policy,
            };
            sums.push((key.clone(), source.clone(), found));
        }
        sums
    }
}
