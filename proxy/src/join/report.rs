//! Traffic reports: every second, what this proxy's app sent to each backend and what its
//! inbound served per service since the previous report (requests, 5xx and the proxy's
//! own failures, latency, and what policies did: retries, breaker and rate-limit
//! refusals, faults), so the control plane can judge a canary on what the canary itself
//! served, cross-checked with what its callers saw, and `meshcd top` can show both.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use meshcd_schemas::proto;
use tokio::sync::mpsc;

use super::JoinSink;
use crate::metrics::{BackendTotals, Direction, Metrics};

const INTERVAL: Duration = Duration::from_secs(1);

pub async fn report_every_second(
    outgoing: mpsc::Sender<proto::ProxyMessage>,
    sink: Arc<dyn JoinSink>,
) {
    let mut previous: HashMap<(String, String), BackendTotals> = HashMap::new();
    let mut previous_served: HashMap<(String, String), BackendTotals> = HashMap::new();
    let bounds_ms: Vec<f64> = Metrics::latency_bounds()
        .into_iter()
        .map(|b| b * 1000.0)
        .collect();
    let activity = sink.traffic_activity();
    let read = |previous: &mut HashMap<_, _>, previous_served: &mut HashMap<_, _>| {
        let counters = deltas(
            previous,
            sink.traffic_totals(Direction::Outbound),
            &bounds_ms,
        );
        let served = deltas(
            previous_served,
            sink.traffic_totals(Direction::Inbound),
            &bounds_ms,
        );
        (counters, served)
    };
    let mut ticker = tokio::time::interval(INTERVAL);
    loop {
        ticker.tick().await;
        if outgoing.is_closed() {
            return;
        }
        let (mut counters, mut served) = read(&mut previous, &mut previous_served);
        if counters.is_empty() && served.is_empty() {
            // Quiet: sleep until the next response instead of waking every second.
            activity.quiet();
            (counters, served) = read(&mut previous, &mut previous_served);
            if counters.is_empty() && served.is_empty() {
                tokio::select! {
                    () = activity.next() => {}
                    () = outgoing.closed() => return,
                }
                // Report a whole interval's traffic, not the first response alone.
                ticker.reset();
                continue;
            }
        }
        let message = proto::ProxyMessage {
            message: Some(proto::proxy_message::Message::Report(
                proto::TrafficReport { counters, served },
            )),
        };
        if outgoing.send(message).await.is_err() {
            return;
        }
    }
}

/// The change since `previous` for every backend that saw requests or policy actions (a
/// retry may come a report before its call's answer); updates `previous`.
fn deltas(
    previous: &mut HashMap<(String, String), BackendTotals>,
    totals: Vec<BackendTotals>,
    bounds_ms: &[f64],
) -> Vec<proto::TrafficCounter> {
    let mut counters = Vec::new();
    for total in totals {
        let key = (total.destination.clone(), total.backend.clone());
        let before = previous.get(&key);
        let requests = total.requests - before.map_or(0, |b| b.requests.min(total.requests));
        let policy = before.map_or(total.policy, |b| total.policy.since(&b.policy));
        if requests > 0 || !policy.is_zero() {
            let failures = total.failures - before.map_or(0, |b| b.failures.min(total.failures));
            let mut cumulative = 0;
            let bucket_counts = total
                .latency_buckets
                .iter()
                .enumerate()
                .map(|(index, count)| {
                    let earlier = before
                        .and_then(|b| b.latency_buckets.get(index))
                        .copied()
                        .unwrap_or(0);
                    cumulative += count.saturating_sub(earlier);
                    cumulative
                })
                .collect();
            let (service, namespace) = total
                .destination
                .split_once('.')
                .unwrap_or((total.destination.as_str(), ""));
            // Metrics qualify backends with their namespace (`api-v2.shop`); reports name
            // them as the TrafficSplit does.
            let backend = total
                .backend
                .strip_suffix(&format!(".{namespace}"))
                .unwrap_or(&total.backend);
            counters.push(proto::TrafficCounter {
                service: service.to_string(),
                namespace: namespace.to_string(),
                backend: backend.to_string(),
                requests,
                failures,
                bucket_bounds_ms: bounds_ms.to_vec(),
                bucket_counts,
                retries: policy.retries,
                retries_refused: policy.retries_refused,
                overflows: policy.overflows,
                faults_injected: policy.faults_injected,
                rate_limited: policy.rate_limited,
            });
        }
        previous.insert(key, total);
    }
    counters
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::PolicyCounts;

    fn totals(requests: u64, failures: u64, buckets: Vec<u64>) -> BackendTotals {
        BackendTotals {
            destination: "api.shop".into(),
            backend: "api-v2.shop".into(),
            requests,
            failures,
            latency_buckets: buckets,
            policy: PolicyCounts::default(),
        }
    }

    #[test]
    fn reports_carry_only_what_happened_since_the_last_one() {
        let mut previous = HashMap::new();
        let bounds = [10.0, 100.0, f64::INFINITY];
        let first = deltas(&mut previous, vec![totals(10, 1, vec![8, 2, 0])], &bounds);
        assert_eq!(first[0].requests, 10);
        assert_eq!(first[0].bucket_counts, vec![8, 10, 10]);
        assert_eq!(
            (first[0].service.as_str(), first[0].namespace.as_str()),
            ("api", "shop")
        );
        let second = deltas(&mut previous, vec![totals(15, 4, vec![9, 5, 1])], &bounds);
        assert_eq!((second[0].requests, second[0].failures), (5, 3));
        assert_eq!(second[0].bucket_counts, vec![1, 4, 5]);
        assert!(deltas(&mut previous, vec![totals(15, 4, vec![9, 5, 1])], &bounds).is_empty());
    }

    #[test]
    fn policy_counts_are_reported_as_changes_even_before_the_calls_answer() {
        let mut previous = HashMap::new();
        let bounds = [10.0, f64::INFINITY];
        let mut first = totals(4, 2, vec![3, 1]);
        first.policy = PolicyCounts {
            retries: 3,
            retries_refused: 1,
            overflows: 1,
            faults_injected: 2,
            rate_limited: 0,
        };
        let reported = deltas(&mut previous, vec![first.clone()], &bounds);
        assert_eq!(
            (
                reported[0].retries,
                reported[0].retries_refused,
                reported[0].overflows,
                reported[0].faults_injected,
                reported[0].rate_limited
            ),
            (3, 1, 1, 2, 0)
        );
        // A retry whose call is still out: no new request, yet a counter to send.
        let mut retrying = first.clone();
        retrying.policy.retries = 5;
        let reported = deltas(&mut previous, vec![retrying.clone()], &bounds);
        assert_eq!((reported[0].requests, reported[0].retries), (0, 2));
        assert_eq!(reported[0].overflows, 0, "only what changed");
        assert!(deltas(&mut previous, vec![retrying], &bounds).is_empty());
    }
}
