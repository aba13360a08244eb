//! The proxy's Prometheus metrics, served as text on the admin listener's `/metrics`.
//!
//! Long because it is the one registry: every family is declared, registered with its help
//! text and given its recording method here, beside the table that documents them.
//!
//! | metric | type | labels | meaning |
//! | --- | --- | --- | --- |
//! | `meshcd_proxy_requests_total` | counter | direction, source, destination, backend, route | HTTP requests handled |
//! | `meshcd_proxy_responses_total` | counter | direction, source, destination, backend, route, status_class | HTTP responses by status class (`1xx`…`5xx`), the proxy's own error responses included |
//! | `meshcd_proxy_request_duration_seconds` | histogram | direction, source, destination, backend, route | time from request to response headers |
//! | `meshcd_proxy_tcp_connections_total` | counter | direction, source, destination, backend | TCP streams proxied |
//! | `meshcd_proxy_tcp_bytes_total` | counter | direction, source, destination, backend, flow | TCP payload bytes, `flow` = `to_destination` or `from_destination` |
//! | `meshcd_proxy_tcp_connections_open` | gauge | direction | TCP streams open now |
//! | `meshcd_proxy_inbound_denied_total` | counter | source, protocol | inbound requests (403) and streams (closed) the authorization refused |
//! | `meshcd_proxy_inbound_handshake_failures_total` | counter | — | inbound TLS handshakes that failed (no or untrusted client certificate, …) |
//! | `meshcd_proxy_upstream_connections_open` | gauge | — | mTLS connections to peer proxies open now (pooled HTTP/2, upgrades, TCP streams) |
//! | `meshcd_proxy_upstream_connects_total` | counter | result (`ok`, `error`) | attempts to open an mTLS connection to a peer proxy |
//! | `meshcd_proxy_retries_total` | counter | — | requests sent again: on another endpoint after a connection failure, or by a route rule's `retry` |
//! | `meshcd_proxy_retry_budget_exhausted_total` | counter | — | retries not sent because the destination's retry budget was spent (the failed answer went to the caller) |
//! | `meshcd_proxy_mirrored_requests_total` | counter | result (`sent`, `skipped`) | copies a route rule's RequestMirror made (`skipped`: a request with a body, not copied) |
//! | `meshcd_proxy_overflows_total` | counter | setting (`namespace/name`), limit (`maxRequests`, `maxPendingRequests`) | calls an UpstreamTrafficSetting's limit refused at once with 503 |
//! | `meshcd_proxy_rate_limited_total` | counter | setting (`namespace/name`) | requests this proxy refused (429 or the setting's status) over its service's local rate limit |
//! | `meshcd_proxy_faults_injected_total` | counter | fault (`namespace/name`), kind (`abort`, `delay`) | calls a Fault aborted or delayed (the aborted ones are also in the request metrics, with the status the caller got) |
//! | `meshcd_proxy_egress_total` | counter | protocol (`http`, `https`, `tcp`), result (`allowed`, `denied`), policy (`namespace/name` of the Egress; empty: the Mesh's default) | calls to destinations outside the mesh (HTTP requests, CONNECT tunnels, redirected connections) |
//! | `meshcd_proxy_endpoint_ejections_total` | counter | — | endpoints taken out of balancing after consecutive failures |
//! | `meshcd_proxy_snapshot_reloads_total` | counter | result (`applied`, `rejected`) | snapshot file loads |
//! | `meshcd_proxy_snapshot_info` | gauge | version | 1 for the snapshot version in force |
//! | `meshcd_proxy_certificate_reloads_total` | counter | result (`applied`, `rejected`) | certificate / key / CA bundle loads |
//! | `meshcd_proxy_connections_open` | gauge | listener | connections a listener holds open now (counted against `--max-connections`) |
//! | `meshcd_proxy_connections_refused_total` | counter | listener | connections closed at once because their listener was at `--max-connections` |
//! | `meshcd_proxy_accept_errors_total` | counter | listener | failed accepts (descriptors or memory exhausted, …); the listener backs off |
//!
//! Labels: `direction` is `outbound` (the local app's calls) or `inbound` (peers' calls
//! to this workload). `source` is the calling identity (the SPIFFE ID, or
//! `unauthenticated` for plaintext clients in permissive mTLS mode). `destination` is the
//! service called (`name.namespace`; the root of a TrafficSplit), `backend` the service
//! that served it (a split backend, or the destination itself). `route` is the matched
//! HTTPRouteGroup match (`group/match`) on inbound, and on outbound the Gateway API route
//! rule that chose the backend (`namespace/route/rule`) or the TrafficSplit match that
//! selected the split; empty otherwise.
//!
//! The latency histogram is lock-free (atomic buckets), unlike prometheus-client's own,
//! so requests on different cores never contend on it. Route handles are created once
//! per label set and kept by the snapshot (outbound) or looked up once per request
//! through a read-mostly cache (inbound).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

mod histogram;
mod labels;
mod route;

pub use histogram::LatencyHistogram;
use histogram::{LATENCY_BUCKETS, STATUS_CLASSES};
use labels::*;
pub use labels::{Direction, ListenerMetrics, RouteLabels, TcpLabels};
pub use route::{Activity, BackendTotals, PolicyCounts, PolicyEvent, RouteMetrics};

/// The registry and every metric family.
pub struct Metrics {
    registry: Registry,
    requests: Family<RouteLabels, Counter>,
    responses: Family<ResponseLabels, Counter>,
    duration: Family<RouteLabels, LatencyHistogram>,
    routes: RwLock<HashMap<RouteLabels, Arc<RouteMetrics>>>,
    activity: Arc<Activity>,
    tcp_connections: Family<TcpLabels, Counter>,
    tcp_bytes: Family<TcpBytesLabels, Counter>,
    tcp_open: Family<DirectionLabel, Gauge>,
    denied: Family<DeniedLabels, Counter>,
    pub handshake_failures: Counter,
    pub upstream_open: Gauge,
    upstream_connects: Family<ResultLabel, Counter>,
    pub retries: Counter,
    pub retry_budget_exhausted: Counter,
    mirrored: Family<ResultLabel, Counter>,
    faults_injected: Family<FaultLabels, Counter>,
    overflows: Family<OverflowLabels, Counter>,
    rate_limited: Family<SettingLabel, Counter>,
    egress: Family<EgressLabels, Counter>,
    pub ejections: Counter,
    snapshot_reloads: Family<ResultLabel, Counter>,
    snapshot_info: Family<VersionLabel, Gauge>,
    certificate_reloads: Family<ResultLabel, Counter>,
    connections_open: Family<ListenerLabel, Gauge>,
    connections_refused: Family<ListenerLabel, Counter>,
    accept_errors: Family<ListenerLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut metrics = Self {
            registry: Registry::with_prefix("meshcd_proxy"),
            requests: Family::default(),
            responses: Family::default(),
            duration: Family::default(),
            routes: RwLock::new(HashMap::new()),
            activity: Arc::default(),
            tcp_connections: Family::default(),
            tcp_bytes: Family::default(),
            tcp_open: Family::default(),
            denied: Family::default(),
            handshake_failures: Counter::default(),
            upstream_open: Gauge::default(),
            upstream_connects: Family::default(),
            retries: Counter::default(),
            retry_budget_exhausted: Counter::default(),
            mirrored: Family::default(),
            faults_injected: Family::default(),
            overflows: Family::default(),
            rate_limited: Family::default(),
            egress: Family::default(),
            ejections: Counter::default(),
            snapshot_reloads: Family::default(),
            snapshot_info: Family::default(),
            certificate_reloads: Family::default(),
            connections_open: Family::default(),
            connections_refused: Family::default(),
            accept_errors: Family::default(),
        };
        metrics.register_http();
        metrics.register_tcp();
        metrics.register_upstream();
        metrics.register_state();
        metrics.register_listeners();
        metrics
    }

    /// HTTP requests, their responses and latency; inbound refusals.
    fn register_http(&mut self) {
        let registry = &mut self.registry;
        registry.register("requests", "HTTP requests handled", self.requests.clone());
        registry.register(
            "responses",
            "HTTP responses by status class",
            self.responses.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time from request to response headers",
            self.duration.clone(),
        );
        registry.register(
            "inbound_denied",
            "Inbound requests and streams refused by authorization",
            self.denied.clone(),
        );
        registry.register(
            "inbound_handshake_failures",
            "Inbound TLS handshakes that failed",
            self.handshake_failures.clone(),
        );
    }

    /// TCP streams and their bytes.
    fn register_tcp(&mut self) {
        let registry = &mut self.registry;
        registry.register(
            "tcp_connections",
            "TCP streams proxied",
            self.tcp_connections.clone(),
        );
        registry.register("tcp_bytes", "TCP payload bytes", self.tcp_bytes.clone());
        registry.register(
            "tcp_connections_open",
            "TCP streams open now",
            self.tcp_open.clone(),
        );
    }

    /// Connections to peer proxies.
    fn register_upstream(&mut self) {
        let registry = &mut self.registry;
        registry.register(
            "upstream_connections_open",
            "mTLS connections to peer proxies open now",
            self.upstream_open.clone(),
        );
        registry.register(
            "upstream_connects",
            "Attempts to open an mTLS connection to a peer proxy",
            self.upstream_connects.clone(),
        );
        registry.register(
            "retries",
            "Requests sent again: on another endpoint after a connection failure, or by a route rule's retry or a Retry policy",
            self.retries.clone(),
        );
        registry.register(
            "retry_budget_exhausted",
            "Retries not sent because the destination's retry budget was spent",
            self.retry_budget_exhausted.clone(),
        );
        registry.register(
            "mirrored_requests",
            "Copies a route rule's RequestMirror made (skipped: a request with a body, not copied)",
            self.mirrored.clone(),
        );
        registry.register(
            "faults_injected",
            "Calls a Fault aborted or delayed",
            self.faults_injected.clone(),
        );
        registry.register(
            "overflows",
            "Calls refused at once by an UpstreamTrafficSetting's limit",
            self.overflows.clone(),
        );
        registry.register(
            "rate_limited",
            "Requests this proxy refused over its service's local rate limit",
            self.rate_limited.clone(),
        );
        registry.register(
            "egress",
            "Calls to destinations outside the mesh, allowed or denied",
            self.egress.clone(),
        );
        registry.register(
            "endpoint_ejections",
            "Endpoints taken out of balancing after consecutive failures",
            self.ejections.clone(),
        );
    }

    /// The snapshot and certificate in force.
    fn register_state(&mut self) {
        let registry = &mut self.registry;
        registry.register(
            "snapshot_reloads",
            "Snapshot file loads",
            self.snapshot_reloads.clone(),
        );
        registry.register(
            "snapshot_info",
            "1 for the snapshot version in force",
            self.snapshot_info.clone(),
        );
        registry.register(
            "certificate_reloads",
            "Certificate, key and CA bundle loads",
            self.certificate_reloads.clone(),
        );
    }

    /// Each listener's connections under its cap.
    fn register_listeners(&mut self) {
        let registry = &mut self.registry;
        registry.register(
            "connections_open",
            "Connections a listener holds open now",
            self.connections_open.clone(),
        );
        registry.register(
            "connections_refused",
            "Connections closed at once because their listener was at its connection cap",
            self.connections_refused.clone(),
        );
        registry.register(
            "accept_errors",
            "Failed accepts, after which the listener backs off",
            self.accept_errors.clone(),
        );
    }

    /// The handles for one route, created on first use.
    pub fn route(&self, labels: RouteLabels) -> Arc<RouteMetrics> {
        if let Some(found) = self
            .routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&labels)
        {
            return found.clone();
        }
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        routes
            .entry(labels.clone())
            .or_insert_with(|| {
                let responses = STATUS_CLASSES.map(|class| {
                    self.responses.get_or_create_owned(&ResponseLabels {
                        direction: labels.direction,
                        source: labels.source.clone(),
                        destination: labels.destination.clone(),
                        backend: labels.backend.clone(),
                        route: labels.route.clone(),
                        status_class: class,
                    })
                });
                Arc::new(RouteMetrics {
                    requests: self.requests.get_or_create_owned(&labels),
                    responses,
                    duration: self.duration.get_or_create_owned(&labels),
                    activity: self.activity.clone(),
                    policy: Default::default(),
                })
            })
            .clone()
    }

    /// Cumulative totals of one direction per (destination, backend), summed over
    /// sources and routes: what the control plane's canary analysis and `meshcd top` read
    /// (outbound: what the app called; inbound: what this workload served, destination =
    /// backend = the served service), with what policies did to those calls. Off the hot
    /// path: one read lock per report.
    pub fn totals(&self, direction: Direction) -> Vec<BackendTotals> {
        let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
        let mut totals: HashMap<(Arc<str>, Arc<str>), BackendTotals> = HashMap::new();
        for (labels, route) in routes.iter().filter(|(l, _)| l.direction == direction) {
            let entry = totals
                .entry((labels.destination.clone(), labels.backend.clone()))
                .or_insert_with(|| BackendTotals {
                    destination: labels.destination.to_string(),
                    backend: labels.backend.to_string(),
                    requests: 0,
                    failures: 0,
                    latency_buckets: vec![0; LATENCY_BUCKETS.len() + 1],
                    policy: PolicyCounts::default(),
                });
            let responses: Vec<u64> = route.responses.iter().map(Counter::get).collect();
            entry.requests += responses.iter().sum::<u64>();
            entry.failures += responses[4];
            entry.policy.add(route.policy_counts());
            for (slot, (_, count)) in entry
                .latency_buckets
                .iter_mut()
                .zip(route.duration.buckets())
            {
                *slot += count;
            }
        }
        totals.into_values().collect()
    }

    /// Wakes the traffic reporter when responses complete after a quiet spell.
    pub fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    /// Upper bounds (seconds) of the latency buckets, `+Inf` last.
    pub fn latency_bounds() -> Vec<f64> {
        LATENCY_BUCKETS
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .collect()
    }

    pub fn tcp_opened(&self, labels: &TcpLabels) {
        self.tcp_connections.get_or_create(labels).inc();
        self.tcp_open
            .get_or_create(&DirectionLabel {
                direction: labels.direction,
            })
            .inc();
    }

    pub fn tcp_closed(&self, labels: &TcpLabels, to_destination: u64, from_destination: u64) {
        self.tcp_open
            .get_or_create(&DirectionLabel {
                direction: labels.direction,
            })
            .dec();
        for (flow, bytes) in [
            ("to_destination", to_destination),
            ("from_destination", from_destination),
        ] {
            self.tcp_bytes
                .get_or_create(&TcpBytesLabels {
                    direction: labels.direction,
                    source: labels.source.clone(),
                    destination: labels.destination.clone(),
                    backend: labels.backend.clone(),
                    flow,
                })
                .inc_by(bytes);
        }
    }

    pub fn denied(&self, source: &Arc<str>, protocol: &'static str) {
        self.denied
            .get_or_create(&DeniedLabels {
                source: source.clone(),
                protocol,
            })
            .inc();
    }

    /// The connection-accounting handles of the listener named `listener`.
    pub fn listener(&self, listener: &str) -> ListenerMetrics {
        let labels = ListenerLabel {
            listener: listener.into(),
        };
        ListenerMetrics {
            open: self.connections_open.get_or_create_owned(&labels),
            refused: self.connections_refused.get_or_create_owned(&labels),
            accept_errors: self.accept_errors.get_or_create_owned(&labels),
        }
    }

    pub fn upstream_connect(&self, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.upstream_connects
            .get_or_create(&ResultLabel { result })
            .inc();
    }

    /// A route's RequestMirror copied a request (`sent`) or could not (`skipped`).
    pub fn mirrored(&self, sent: bool) {
        let result = if sent { "sent" } else { "skipped" };
        self.mirrored.get_or_create(&ResultLabel { result }).inc();
    }

    /// A request over its service's local rate limit was refused.
    pub fn rate_limited(&self, setting: &Arc<str>) {
        self.rate_limited
            .get_or_create(&SettingLabel {
                setting: setting.clone(),
            })
            .inc();
    }

    /// An UpstreamTrafficSetting's `limit` refused a call.
    /// A call out of the mesh, allowed by `policy` (empty: the Mesh's default) or denied.
    pub fn egress(&self, protocol: &'static str, allowed: bool, policy: &Arc<str>) {
        self.egress
            .get_or_create(&EgressLabels {
                protocol,
                result: if allowed { "allowed" } else { "denied" },
                policy: policy.clone(),
            })
            .inc();
    }

    pub fn overflowed(&self, setting: &Arc<str>, limit: &'static str) {
        self.overflows
            .get_or_create(&OverflowLabels {
                setting: setting.clone(),
                limit,
            })
            .inc();
    }

    /// A Fault delayed or aborted a call (or both: counted once for each).
    pub fn fault_injected(&self, fault: &Arc<str>, (delayed, aborted): (bool, bool)) {
        for (happened, kind) in [(delayed, "delay"), (aborted, "abort")] {
            if happened {
                self.faults_injected
                    .get_or_create(&FaultLabels {
                        fault: fault.clone(),
                        kind,
                    })
                    .inc();
            }
        }
    }

    pub fn snapshot_reload(&self, applied: Option<&str>, previous: Option<&str>) {
        let result = if applied.is_some() {
            "applied"
        } else {
            "rejected"
        };
        self.snapshot_reloads
            .get_or_create(&ResultLabel { result })
            .inc();
        if let Some(version) = applied {
            if let Some(previous) = previous {
                self.snapshot_info.remove(&VersionLabel {
                    version: previous.to_owned(),
                });
            }
            self.snapshot_info
                .get_or_create(&VersionLabel {
                    version: version.to_owned(),
                })
                .set(1);
        }
    }

    pub fn certificate_reload(&self, applied: bool) {
        let result = if applied { "applied" } else { "rejected" };
        self.certificate_reloads
            .get_or_create(&ResultLabel { result })
            .inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::with_capacity(16 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn labels(route: &str) -> RouteLabels {
        RouteLabels {
            direction: Direction::Outbound,
            source: "spiffe://cluster.local/ns/shop/sa/web".into(),
            destination: "api.shop".into(),
            backend: "api-v1.shop".into(),
            route: route.into(),
        }
    }

    #[test]
    fn route_handles_are_shared_per_label_set() {
        let metrics = Metrics::new();
        let first = metrics.route(labels(""));
        let second = metrics.route(labels(""));
        assert!(Arc::ptr_eq(&first, &second));
        assert!(!Arc::ptr_eq(&first, &metrics.route(labels("g/m"))));
    }

    #[test]
    fn totals_keep_directions_apart_and_sum_callers_and_routes() {
        let metrics = Metrics::new();
        metrics
            .route(labels(""))
            .response(http::StatusCode::OK, Duration::from_millis(3));
        for (caller, status) in [("web", 200), ("batch", 500), ("batch", 503)] {
            let route = metrics.route(RouteLabels {
                direction: Direction::Inbound,
                source: format!("spiffe://cluster.local/ns/shop/sa/{caller}").into(),
                destination: "api-v2.shop".into(),
                backend: "api-v2.shop".into(),
                route: "g/m".into(),
            });
            route.response(
                http::StatusCode::from_u16(status).unwrap(),
                Duration::from_millis(3),
            );
        }
        let served = metrics.totals(Direction::Inbound);
        assert_eq!(served.len(), 1);
        assert_eq!(
            (
                served[0].destination.as_str(),
                served[0].requests,
                served[0].failures
            ),
            ("api-v2.shop", 3, 2)
        );
        let called = metrics.totals(Direction::Outbound);
        assert_eq!((called[0].requests, called[0].failures), (1, 0));
    }

    #[test]
    fn totals_carry_the_policy_counts_of_every_route_of_a_backend() {
        let metrics = Metrics::new();
        let default_route = metrics.route(labels(""));
        let rule = metrics.route(labels("shop/api/0"));
        default_route.count(PolicyEvent::Retry);
        rule.count(PolicyEvent::Retry);
        rule.count(PolicyEvent::Overflow);
        rule.count(PolicyEvent::FaultInjected);
        let called = metrics.totals(Direction::Outbound);
        assert_eq!(called.len(), 1);
        assert_eq!(
            called[0].policy,
            PolicyCounts {
                retries: 2,
                overflows: 1,
                faults_injected: 1,
                ..PolicyCounts::default()
            }
        );
        assert!(metrics.totals(Direction::Inbound).is_empty());
    }

    #[test]
    fn exposition_names_every_documented_family() {
        let metrics = Metrics::new();
        let route = metrics.route(labels(""));
        route.request();
        route.response(http::StatusCode::OK, Duration::from_millis(3));
        route.response(http::StatusCode::BAD_GATEWAY, Duration::from_millis(30));
        let text = metrics.encode();
        assert!(
            text.contains("meshcd_proxy_requests_total{direction=\"outbound\""),
            "{text}"
        );
        assert!(text.contains("status_class=\"5xx\"} 1"), "{text}");
        assert!(text.contains("status_class=\"2xx\"} 1"), "{text}");
        assert!(
            text.contains("meshcd_proxy_request_duration_seconds_bucket"),
            "{text}"
        );
        assert!(
            text.contains("_bucket{le=\"0.005\",direction=\"outbound\""),
            "{text}"
        );
        assert!(
            text.contains("meshcd_proxy_request_duration_seconds_count{"),
            "{text}"
        );
    }

    #[test]
    fn latency_lands_in_the_first_bucket_that_holds_it() {
        let histogram = LatencyHistogram::default();
        histogram.observe(Duration::from_micros(400));
        histogram.observe(Duration::from_secs(60));
        let buckets = histogram.buckets();
        assert_eq!(buckets[0], (0.0005, 1));
        assert_eq!(buckets.last().copied(), Some((f64::INFINITY, 1)));
    }
}
