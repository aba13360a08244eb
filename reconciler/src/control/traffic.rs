//! Traffic as the proxies report it each second, bound to the reporting proxy's proven
//! identity: the client side per calling identity and (namespace, service, backend), and
//! the server side per serving identity and service. The default metric source of canary
//! analysis, `meshcd top` and the live context of `meshcd diff`.
//!
//! Nothing a report says about its source is believed: the source is the identity the
//! proxy proved when it joined. A served counter is kept only for the services its
//! registered workload belongs to; every counter only for services of the mesh in force;
//! each identity holds a bounded number of keys, and samples age out after [`RETENTION`].

mod document;
mod window;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use meshcd_schemas::proto;

pub use document::{Edge, Served, TrafficDocument};
pub use window::{Aggregate, PolicyCounts, success_rate};
use window::{Sample, Window};

/// How long reports are kept: longer than any sensible canary interval.
const RETENTION: Duration = Duration::from_secs(600);
/// Keys (client and server side together) one identity may hold: far more than the
/// backends a workload calls, far fewer than an invented flood.
const MAX_KEYS_PER_SOURCE: usize = 256;
/// Counters of one key closer together than this fold into one sample, whatever their
/// histogram bounds, so a proxy that reports faster than each second (or sends one key
/// many times in a report) cannot grow a queue past about two samples a second.
const FOLD: Duration = Duration::from_millis(500);
/// The most samples one key keeps: two a second over [`RETENTION`]. Samples are spaced
/// at least [`FOLD`] apart, so this only bites between sweeps; the oldest goes first.
const MAX_SAMPLES_PER_KEY: usize = (RETENTION.as_millis() / FOLD.as_millis()) as usize;
/// The most counters (client and served together) taken from one report: far more than
/// the [`MAX_KEYS_PER_SOURCE`] keys a proxy can hold, and it bounds the work done under
/// the lock for any report. The rest are dropped.
const MAX_COUNTERS_PER_REPORT: usize = 4_096;
/// The most histogram buckets a counter may carry (the proxy sends 16).
const MAX_BUCKETS: usize = 64;
/// How often every queue is swept of expired samples.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BackendKey {
    pub namespace: String,
    /// The service clients called (a split's root).
    pub service: String,
    pub backend: String,
}

/// Who made (or served) the calls: the reporting proxy's proven identity.
pub type Source = crate::model::Identity;

/// Which side of a call a sample counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    /// What a caller's proxy saw.
    Client,
    /// What the serving proxy saw (service = backend = the served service).
    Server,
}

type Samples = BTreeMap<(Side, BackendKey, Source), VecDeque<Sample>>;

#[derive(Default)]
struct State {
    samples: Samples,
    keys_per_source: HashMap<Source, usize>,
    /// Every service of the mesh in force, by namespace.
    known: BTreeMap<String, BTreeSet<String>>,
    last_sweep: Option<Instant>,
}

#[derive(Default)]
pub struct Traffic {
    state: Mutex<State>,
}

impl Traffic {
    /// The services reports may name from now on: those of the mesh in force.
    pub fn set_known(&self, known: BTreeSet<(String, String)>) {
        let mut by_namespace: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (namespace, service) in known {
            by_namespace.entry(namespace).or_default().insert(service);
        }
        self.lock().known = by_namespace;
    }

    /// Records a report of the proxy that proved `source` and serves `served` (services
    /// of its own namespace).
    pub fn record(&self, source: &Source, served: &[String], report: &proto::TrafficReport) {
        self.record_at(source, served, report, Instant::now());
    }

    fn record_at(
        &self,
        source: &Source,
        served: &[String],
        report: &proto::TrafficReport,
        at: Instant,
    ) {
        let offered = report.counters.len().saturating_add(report.served.len());
        if offered > MAX_COUNTERS_PER_REPORT {
            tracing::warn!(
                source = %format!("{}/{}", source.namespace, source.service_account),
                counters = offered,
                kept = MAX_COUNTERS_PER_REPORT,
                "a traffic report carried more counters than meshcd takes; the rest were dropped"
            );
        }
        let counters = report.counters.iter().take(MAX_COUNTERS_PER_REPORT);
        let served_counters = report
            .served
            .iter()
            .take(MAX_COUNTERS_PER_REPORT.saturating_sub(report.counters.len()));
        let mut state = self.lock();
        if state
            .last_sweep
            .is_none_or(|last| at.duration_since(last) >= SWEEP_EVERY)
        {
            state.sweep(at);
        }
        for counter in counters {
            if state.knows(&counter.namespace, &counter.service)
                && state.knows(&counter.namespace, &counter.backend)
            {
                let key = BackendKey {
                    namespace: counter.namespace.clone(),
                    service: counter.service.clone(),
                    backend: counter.backend.clone(),
                };
                state.add(Side::Client, key, source, counter, at);
            }
        }
        for counter in served_counters {
            // Only what this proxy's own workload serves, in its own namespace.
            let own = counter.namespace == source.namespace
                && served.contains(&counter.service)
                && state.knows(&counter.namespace, &counter.service);
            if own {
                let key = BackendKey {
                    namespace: counter.namespace.clone(),
                    service: counter.service.clone(),
                    backend: counter.service.clone(),
                };
                state.add(Side::Server, key, source, counter, at);
            }
        }
    }

    /// Every caller's client-side traffic to `key` since `since`.
    #[cfg(test)]
    pub fn since(&self, key: &BackendKey, since: Instant) -> Aggregate {
        self.lock().sum(Side::Client, key, since, None).aggregate()
    }

    /// A canary backend's traffic since `since`, as analysis judges it: what the
    /// backend's own proxies served (reporter = destination), plus the failures its
    /// allowed callers saw on requests that never reached it (connect errors, the calling
    /// proxy's own 502/503/504). `callers` are the identities allowed to call it; `None`
    /// when anyone may (permissive policy). Latency is the backend's own.
    pub fn judged(
        &self,
        key: &BackendKey,
        since: Instant,
        callers: Option<&BTreeSet<Source>>,
    ) -> Aggregate {
        let state = self.lock();
        let served_key = BackendKey {
            namespace: key.namespace.clone(),
            service: key.backend.clone(),
            backend: key.backend.clone(),
        };
        let server = state
            .sum(Side::Server, &served_key, since, None)
            .aggregate();
        let client = state.sum(Side::Client, key, since, callers).aggregate();
        // Requests callers made that the backend did not count, and only as many as the
        // callers saw fail: a second of report skew between the two sides is no failure.
        let unreached = client
            .requests
            .saturating_sub(server.requests)
            .min(client.failures);
        Aggregate {
            requests: server.requests + unreached,
            failures: server.failures + unreached,
            p50_ms: server.p50_ms.or(client.p50_ms),
            p99_ms: server.p99_ms.or(client.p99_ms),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn knows(&self, namespace: &str, service: &str) -> bool {
        self.known
            .get(namespace)
            .is_some_and(|services| services.contains(service))
    }

    fn add(
        &mut self,
        side: Side,
        key: BackendKey,
        source: &Source,
        counter: &proto::TrafficCounter,
        at: Instant,
    ) {
        let well_formed = counter.failures <= counter.requests
            && counter.bucket_bounds_ms.len() <= MAX_BUCKETS
            && counter.bucket_counts.len() == counter.bucket_bounds_ms.len();
        if !well_formed {
            return;
        }
        let queue = match self.samples.entry((side, key, source.clone())) {
            std::collections::btree_map::Entry::Occupied(queue) => queue.into_mut(),
            std::collections::btree_map::Entry::Vacant(vacant) => {
                let held = self.keys_per_source.entry(source.clone()).or_default();
                if *held >= MAX_KEYS_PER_SOURCE {
                    return;
                }
                *held += 1;
                vacant.insert(VecDeque::new())
            }
        };
        match queue.back_mut() {
            // Folded whatever the bounds: were a change of bounds to start a sample, a
            // report alternating two sets of bounds on one key would grow the queue by a
            // sample per counter. Requests and failures always count; the histogram is
            // merged only when its bounds are the sample's (or the sample has none), as
            // a window sums only histograms of the bounds it saw first. A proxy that
            // really changes its bounds gets them in its next sample, half a second on.
            Some(last) if at.saturating_duration_since(last.at) < FOLD => {
                last.requests = last.requests.saturating_add(counter.requests);
                last.failures = last.failures.saturating_add(counter.failures);
                last.policy.add(&PolicyCounts::of(counter));
                if last.bounds_ms.is_empty() {
                    last.bounds_ms = counter.bucket_bounds_ms.clone();
                    last.buckets = counter.bucket_counts.clone();
                } else if last.bounds_ms == counter.bucket_bounds_ms {
                    for (total, count) in last.buckets.iter_mut().zip(&counter.bucket_counts) {
                        *total = total.saturating_add(*count);
                    }
                }
            }
            _ => {
                if queue.len() >= MAX_SAMPLES_PER_KEY {
                    queue.pop_front();
                }
                queue.push_back(Sample {
                    at,
                    requests: counter.requests,
                    failures: counter.failures,
                    bounds_ms: counter.bucket_bounds_ms.clone(),
                    buckets: counter.bucket_counts.clone(),
                    policy: PolicyCounts::of(counter),
                });
            }
        }
    }

    /// Drops expired samples, and keys left without any.
    fn sweep(&mut self, now: Instant) {
        self.last_sweep = Some(now);
        let keys_per_source = &mut self.keys_per_source;
        self.samples.retain(|(_, _, source), queue| {
            while queue
                .front()
                .is_some_and(|s| now.duration_since(s.at) > RETENTION)
            {
                queue.pop_front();
            }
            let keep = !queue.is_empty();
            if !keep && let Some(held) = keys_per_source.get_mut(source) {
                *held = held.saturating_sub(1);
            }
            keep
        });
        keys_per_source.retain(|_, held| *held > 0);
    }

    /// One side's samples of `key` since `since`, from `sources` (every one when `None`).
    fn sum(
        &self,
        side: Side,
        key: &BackendKey,
        since: Instant,
        sources: Option<&BTreeSet<Source>>,
    ) -> Window {
        let mut window = Window::default();
        let low = Source {
            namespace: String::new(),
            service_account: String::new(),
        };
        let high = Source {
            namespace: char::MAX.to_string(),
            service_account: char::MAX.to_string(),
        };
        let range = (side, key.clone(), low)..=(side, key.clone(), high);
        for ((_, _, source), queue) in self.samples.range(range) {
            if sources.is_none_or(|sources| sources.contains(source)) {
                window.add(queue, since);
            }
        }
        window
    }
}

#[cfg(test)]
mod tests;
