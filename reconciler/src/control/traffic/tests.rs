//! Tests of the traffic store: windows, callers kept apart, and what a report may not do.

use super::*;

fn counter(service: &str, backend: &str, requests: u64, failures: u64) -> proto::TrafficCounter {
    proto::TrafficCounter {
        service: service.into(),
        namespace: "shop".into(),
        backend: backend.into(),
        requests,
        failures,
        bucket_bounds_ms: vec![10.0, 100.0, f64::INFINITY],
        bucket_counts: vec![requests, requests, requests],
        ..Default::default()
    }
}

fn report(requests: u64, failures: u64, buckets: Vec<u64>) -> proto::TrafficReport {
    let mut counter = counter("api", "api-v2", requests, failures);
    counter.bucket_counts = buckets;
    proto::TrafficReport {
        counters: vec![counter],
        served: Vec::new(),
    }
}

fn served(service: &str, requests: u64, failures: u64) -> proto::TrafficReport {
    proto::TrafficReport {
        counters: Vec::new(),
        served: vec![counter(service, service, requests, failures)],
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

fn traffic() -> Traffic {
    let traffic = Traffic::default();
    traffic.set_known(
        ["api", "api-v1", "api-v2", "web"]
            .into_iter()
            .map(|name| ("shop".to_string(), name.to_string()))
            .collect(),
    );
    traffic
}

#[test]
fn a_window_adds_up_requests_failures_and_latency_from_every_caller() {
    let traffic = traffic();
    let start = Instant::now();
    traffic.record_at(
        &source("web"),
        &[],
        &report(100, 0, vec![100, 100, 100]),
        start,
    );
    traffic.record_at(
        &source("batch"),
        &[],
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
    let traffic = traffic();
    let now = Instant::now();
    traffic.record_at(&source("web"), &[], &report(30, 3, vec![30, 30, 30]), now);
    traffic.record_at(&source("batch"), &[], &report(10, 0, vec![0, 10, 10]), now);
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
    let traffic = traffic();
    assert_eq!(traffic.since(&key(), Instant::now()).success_rate(), None);
}

#[test]
fn counters_naming_services_outside_the_mesh_are_ignored() {
    let traffic = traffic();
    let now = Instant::now();
    let mut invented = report(10, 0, vec![10, 10, 10]);
    invented.counters[0].backend = "invented-1".into();
    traffic.record_at(&source("web"), &[], &invented, now);
    assert!(traffic.edges(Duration::from_secs(10)).is_empty());
}

#[test]
fn one_identity_holds_a_bounded_number_of_keys() {
    let traffic = Traffic::default();
    let mut names: Vec<String> = (0..MAX_KEYS_PER_SOURCE + 50)
        .map(|index| format!("s{index}"))
        .collect();
    names.extend(["api".to_string(), "api-v2".to_string()]);
    traffic.set_known(
        names
            .iter()
            .map(|name| ("shop".to_string(), name.clone()))
            .collect(),
    );
    let now = Instant::now();
    for name in &names[..MAX_KEYS_PER_SOURCE + 50] {
        let report = proto::TrafficReport {
            counters: vec![counter(name, name, 1, 0)],
            served: Vec::new(),
        };
        traffic.record_at(&source("flood"), &[], &report, now);
    }
    traffic.record_at(&source("web"), &[], &report(1, 0, vec![1, 1, 1]), now);
    let edges = traffic.edges(Duration::from_secs(10));
    let flood = edges
        .iter()
        .filter(|e| e.source.service_account == "flood")
        .count();
    assert_eq!(flood, MAX_KEYS_PER_SOURCE);
    assert!(edges.iter().any(|e| e.source.service_account == "web"));
}

#[test]
fn samples_and_their_keys_age_out() {
    let traffic = traffic();
    let start = Instant::now();
    traffic.record_at(&source("web"), &[], &report(5, 0, vec![5, 5, 5]), start);
    let later = start + RETENTION + SWEEP_EVERY;
    traffic.record_at(&source("web"), &[], &served("web", 1, 0), later);
    let state = traffic.lock();
    assert_eq!(state.samples.len(), 0, "{:?}", state.samples.keys());
    assert!(state.keys_per_source.is_empty());
}

#[test]
fn a_canary_is_judged_on_what_it_served_not_on_what_anyone_says() {
    let traffic = traffic();
    let now = Instant::now();
    // The canary's own proxy served 100 requests, 40 of them 500s.
    traffic.record_at(
        &source("api"),
        &["api-v2".into()],
        &served("api-v2", 100, 40),
        now,
    );
    // A workload that serves web claims to have served api-v2, and a caller that is not
    // allowed to call api reports 1,000 successes to it.
    traffic.record_at(
        &source("web"),
        &["web".into()],
        &served("api-v2", 1000, 0),
        now,
    );
    traffic.record_at(
        &source("intruder"),
        &[],
        &report(1000, 0, vec![1000; 3]),
        now,
    );
    let callers: BTreeSet<Source> = [source("frontend")].into_iter().collect();
    let judged = traffic.judged(&key(), now, Some(&callers));
    assert_eq!((judged.requests, judged.failures), (100, 40));
}

#[test]
fn failures_that_never_reached_the_canary_count_from_allowed_callers() {
    let traffic = traffic();
    let now = Instant::now();
    traffic.record_at(
        &source("api"),
        &["api-v2".into()],
        &served("api-v2", 50, 0),
        now,
    );
    // The caller made 80 calls: 30 failed in its own proxy (connect errors).
    traffic.record_at(&source("frontend"), &[], &report(80, 30, vec![80; 3]), now);
    let callers: BTreeSet<Source> = [source("frontend")].into_iter().collect();
    let judged = traffic.judged(&key(), now, Some(&callers));
    assert_eq!((judged.requests, judged.failures), (80, 30));
    let anyone = traffic.judged(&key(), now, None);
    assert_eq!((anyone.requests, anyone.failures), (80, 30));
    let nobody = traffic.judged(&key(), now, Some(&BTreeSet::new()));
    assert_eq!((nobody.requests, nobody.failures), (50, 0));
}

/// How many samples `source`'s client-side queue of [`key`] holds.
fn samples_of(traffic: &Traffic, source: &Source) -> usize {
    traffic
        .lock()
        .samples
        .get(&(Side::Client, key(), source.clone()))
        .map_or(0, VecDeque::len)
}

/// A counter of api → api-v2 with no histogram (even `index`) or a one-bucket one (odd).
fn alternating(index: usize) -> proto::TrafficCounter {
    let mut counter = counter("api", "api-v2", 1, 0);
    if index.is_multiple_of(2) {
        counter.bucket_bounds_ms = Vec::new();
        counter.bucket_counts = Vec::new();
    } else {
        counter.bucket_bounds_ms = vec![1.0];
        counter.bucket_counts = vec![1];
    }
    counter
}

#[test]
fn a_report_of_counters_alternating_bounds_on_one_key_is_one_sample() {
    let traffic = traffic();
    let now = Instant::now();
    let flood = proto::TrafficReport {
        counters: (0..100_000).map(alternating).collect(),
        served: Vec::new(),
    };
    traffic.record_at(&source("flood"), &[], &flood, now);
    let held = samples_of(&traffic, &source("flood"));
    assert!(held <= MAX_SAMPLES_PER_KEY, "{held} samples");
    assert_eq!(held, 1);
    // Only the first MAX_COUNTERS_PER_REPORT counters were taken.
    let taken = traffic.since(&key(), now);
    assert_eq!(taken.requests, MAX_COUNTERS_PER_REPORT as u64);
}

#[test]
fn a_queue_grows_by_at_most_two_samples_a_second_whatever_the_bounds() {
    let traffic = traffic();
    let start = Instant::now();
    // A report every 10 ms for 10 s, each alternating bounds twice.
    for tick in 0..1_000u32 {
        let report = proto::TrafficReport {
            counters: (0..4).map(alternating).collect(),
            served: Vec::new(),
        };
        let at = start + Duration::from_millis(10) * tick;
        traffic.record_at(&source("flood"), &[], &report, at);
    }
    let held = samples_of(&traffic, &source("flood"));
    assert!(held <= 21, "{held} samples in 10 s");
    assert_eq!(traffic.since(&key(), start).requests, 4_000);
}

#[test]
fn a_key_keeps_at_most_its_cap_of_samples_between_sweeps() {
    let traffic = traffic();
    let start = Instant::now();
    let reports = (RETENTION + 3 * SWEEP_EVERY).as_millis() / FOLD.as_millis();
    let mut most = 0;
    for tick in 0..reports as u32 {
        let at = start + FOLD * tick;
        traffic.record_at(&source("web"), &[], &report(1, 0, vec![1, 1, 1]), at);
        most = most.max(samples_of(&traffic, &source("web")));
    }
    assert_eq!(most, MAX_SAMPLES_PER_KEY);
}

#[test]
fn a_counter_with_other_bounds_in_the_same_sample_counts_its_requests_not_its_histogram() {
    let traffic = traffic();
    let now = Instant::now();
    traffic.record_at(&source("web"), &[], &report(10, 0, vec![10, 10, 10]), now);
    let mut other = report(10, 1, vec![0, 10]);
    other.counters[0].bucket_bounds_ms = vec![1_000.0, f64::INFINITY];
    traffic.record_at(
        &source("web"),
        &[],
        &other,
        now + Duration::from_millis(100),
    );
    assert_eq!(samples_of(&traffic, &source("web")), 1);
    let all = traffic.since(&key(), now);
    assert_eq!((all.requests, all.failures), (20, 1));
    assert_eq!((all.p50_ms, all.p99_ms), (Some(10.0), Some(10.0)));
}

#[test]
fn policy_counts_add_up_over_the_window_on_each_side() {
    let traffic = traffic();
    let now = Instant::now();
    let mut retried = report(10, 1, vec![10, 10, 10]);
    retried.counters[0].retries = 4;
    retried.counters[0].retries_refused = 1;
    retried.counters[0].faults_injected = 2;
    traffic.record_at(&source("web"), &[], &retried, now);
    // A second report folded into the same sample, and one with only a retry in it.
    let mut broken = report(5, 5, vec![5, 5, 5]);
    broken.counters[0].overflows = 5;
    traffic.record_at(
        &source("web"),
        &[],
        &broken,
        now + Duration::from_millis(100),
    );
    let mut retry_only = report(0, 0, vec![0, 0, 0]);
    retry_only.counters[0].retries = 1;
    traffic.record_at(
        &source("web"),
        &[],
        &retry_only,
        now + Duration::from_secs(1),
    );
    let mut limited = served("api-v2", 30, 0);
    limited.served[0].rate_limited = 12;
    traffic.record_at(&source("api"), &["api-v2".into()], &limited, now);

    let edges = traffic.edges(Duration::from_secs(10));
    assert_eq!(edges.len(), 1);
    assert_eq!((edges[0].requests, edges[0].failures), (15, 6));
    assert_eq!(
        edges[0].policy,
        PolicyCounts {
            retries: 5,
            retries_refused: 1,
            overflows: 5,
            faults_injected: 2,
            rate_limited: 0,
        }
    );
    let served = traffic.served(Duration::from_secs(10));
    assert_eq!(served.len(), 1);
    assert_eq!(
        (
            served[0].server.service_account.as_str(),
            served[0].service.as_str(),
            served[0].requests,
            served[0].policy.rate_limited
        ),
        ("api", "api-v2", 30, 12)
    );
}

#[test]
fn an_edge_with_only_retries_in_the_window_is_still_shown() {
    let traffic = traffic();
    let mut retry_only = report(0, 0, vec![0, 0, 0]);
    retry_only.counters[0].retries = 2;
    traffic.record_at(&source("web"), &[], &retry_only, Instant::now());
    let edges = traffic.edges(Duration::from_secs(10));
    assert_eq!((edges[0].requests, edges[0].policy.retries), (0, 2));
    assert_eq!(edges[0].success_rate, None);
}

#[test]
fn the_traffic_document_of_an_older_reconciler_still_reads() {
    let old = r#"{"windowSeconds":10,"edges":[{"source":{"namespace":"shop","serviceAccount":"web"},
        "namespace":"shop","service":"api","backend":"api","requests":3,"failures":0,
        "requestsPerSecond":0.3,"successRate":100.0,"p50Ms":1.0,"p99Ms":5.0}]}"#;
    let document: TrafficDocument = serde_json::from_str(old).unwrap();
    assert!(document.served.is_empty());
    assert!(document.edges[0].policy.is_zero());
}
