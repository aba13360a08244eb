//! Policies on calls between services (issue 19): faults the calling proxies inject.

use std::time::Duration;

use super::{Identity, Rule};

/// A `meshcd.dev/v1alpha1` Fault: what calling proxies do to HTTP calls to one Service of
/// the Fault's namespace (called directly, or chosen as a split or route backend).
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub name: String,
    pub namespace: String,
    /// The Service's name, in `namespace`.
    pub destination: String,
    /// The callers whose calls get the faults; empty: every caller.
    pub sources: Vec<Identity>,
    /// The calls that get the faults: those matching these HTTPRouteGroup rules (in the
    /// Fault's namespace); empty: every call.
    pub routes: Vec<Rule>,
    pub abort: Option<Abort>,
    pub delay: Option<Delay>,
}

impl Fault {
    /// Whether calls from `caller` get this Fault.
    pub fn applies_to(&self, caller: &Identity) -> bool {
        self.sources.is_empty() || self.sources.contains(caller)
    }
}

/// Answer `percent` of the calls with `status`, without sending them.
#[derive(Debug, Clone, PartialEq)]
pub struct Abort {
    pub percent: f64,
    pub status: u16,
}

/// Hold `percent` of the calls for `duration` before sending them.
#[derive(Debug, Clone, PartialEq)]
pub struct Delay {
    pub percent: f64,
    pub duration: Duration,
}

/// An OSM `policy.openservicemesh.io/v1alpha1` Retry: how the proxies of one service
/// account retry its failed calls to some Services.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub name: String,
    pub namespace: String,
    pub source: Identity,
    /// (namespace, name) of each destination Service.
    pub destinations: Vec<(String, String)>,
    /// `retryOn`'s words as written (each one [`retry_condition`] knows); what they
    /// retry is [`RetryPolicy::conditions`].
    pub retry_on: Vec<String>,
    /// Retries after the first attempt (`numRetries`).
    pub attempts: u32,
    /// `perTryTimeout`; zero: none of its own.
    pub per_try_timeout: Duration,
    /// `retryBackoffBaseInterval`: the first wait, doubling up to ten times it.
    pub backoff: Duration,
}

impl RetryPolicy {
    /// The statuses retried, sorted, and whether failed or broken connections and
    /// timed-out attempts are retried too.
    pub fn conditions(&self) -> (Vec<u16>, bool) {
        let (mut codes, mut connections) = (Vec::new(), false);
        for (statuses, connection) in self.retry_on.iter().filter_map(|w| retry_condition(w)) {
            codes.extend(statuses);
            connections |= connection;
        }
        codes.sort_unstable();
        codes.dedup();
        (codes, connections)
    }
}

/// What a `retryOn` word retries: statuses, and whether failed connections and timed-out
/// attempts too (Envoy's meaning of the words, which OSM hands over); `None`: not a word
/// meshcd knows.
pub fn retry_condition(word: &str) -> Option<(Vec<u16>, bool)> {
    Some(match word {
        "5xx" => ((500..=599).collect(), true),
        "gateway-error" => (vec![502, 503, 504], true),
        "reset" | "connect-failure" => (Vec::new(), true),
        "retriable-4xx" => (vec![409], false),
        code => {
            let code: u16 = code.parse().ok().filter(|c| (100..=599).contains(c))?;
            (vec![code], false)
        }
    })
}

/// An OSM `policy.openservicemesh.io/v1alpha1` UpstreamTrafficSetting: limits every
/// caller's proxy keeps on its calls to one Service (circuit breakers).
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamTrafficSetting {
    pub name: String,
    pub namespace: String,
    /// The Service (`spec.host`), in `namespace`.
    pub destination: String,
    /// `connectionSettings.http.maxRequests`: calls in flight from one proxy.
    pub max_requests: Option<u32>,
    /// `connectionSettings.http.maxPendingRequests`: calls waiting for one of those.
    pub max_pending_requests: Option<u32>,
    /// `connectionSettings.tcp.connectTimeout`.
    pub connect_timeout: Option<Duration>,
    /// `connectionSettings.tcp.maxConnections`: TCP connections from one proxy at once
    /// (and, calls being multiplexed, HTTP calls in flight as `maxRequests`).
    pub max_connections: Option<u32>,
    /// `connectionSettings.http.maxRequestsPerConnection`.
    pub max_requests_per_connection: Option<u32>,
    /// `connectionSettings.http.maxRetries`: retries in flight from one proxy at once.
    pub max_retries: Option<u32>,
    /// `rateLimit.local.http`: what each proxy of the Service lets in.
    pub rate_limit: Option<RateLimit>,
    /// `rateLimit.local.tcp`: the connections each proxy of the Service lets in
    /// (`requests` counts connections; no status or headers).
    pub tcp_rate_limit: Option<RateLimit>,
    /// `httpRoutes[].rateLimit.local`: for requests whose path fully matches, instead of
    /// `rate_limit`.
    pub route_rate_limits: Vec<RouteRateLimit>,
    /// `outlierDetection` (meshcd's addition to the kind); `None`: the built-in ejection.
    pub outlier: Option<OutlierDetection>,
}

/// One `httpRoutes` entry's local rate limit.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteRateLimit {
    /// `path`: an RE2 regex the request's path must fully match.
    pub path: String,
    pub limit: RateLimit,
}

/// When a caller's proxy leaves an endpoint of the Service out of balancing (Envoy's
/// and Istio's outlier detection).
#[derive(Debug, Clone, PartialEq)]
pub struct OutlierDetection {
    /// 5xx answers or failed connections in a row that eject an endpoint.
    pub consecutive_failures: u32,
    /// How fast repeated ejections are forgotten: one per interval back in.
    pub interval: Duration,
    /// The first ejection's length; each one in a row lasts one base longer.
    pub base_ejection_time: Duration,
    /// The share of the endpoints that may be out at once (at least one always may).
    pub max_ejection_percent: u32,
}

/// A local rate limit on a Service's HTTP requests (or TCP connections), per serving proxy
/// (Envoy's token bucket, as OSM configures it).
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimit {
    pub requests: u32,
    /// `unit`: a second, a minute or an hour.
    pub per: Duration,
    pub burst: u32,
    /// `responseStatusCode`, 429 by default.
    pub status: u16,
    /// `responseHeadersToAdd`.
    pub headers: Vec<(String, String)>,
}

impl RateLimit {
    /// OSM's `unit` words and the lengths they stand for.
    const UNITS: [(&'static str, Duration); 3] = [
        ("second", Duration::from_secs(1)),
        ("minute", Duration::from_secs(60)),
        ("hour", Duration::from_secs(3600)),
    ];

    /// The length of a `unit` word (the schema allows only OSM's three; a second else).
    pub fn unit_length(word: &str) -> Duration {
        Self::UNITS
            .iter()
            .find(|(name, _)| *name == word)
            .map_or(Duration::from_secs(1), |(_, length)| *length)
    }

    /// `per` as OSM's `unit` word.
    pub fn unit(&self) -> &'static str {
        Self::UNITS
            .iter()
            .find(|(_, length)| *length == self.per)
            .map_or("second", |(name, _)| name)
    }
}

/// An OSM `policy.openservicemesh.io/v1alpha1` IngressBackend: callers from outside the
/// mesh (an ingress controller, a batch job) that the proxies of some Services of its
/// namespace let in over plaintext, to those Services' ports alone, even under strict
/// mTLS. Ingress policy, beside SMI access: TrafficTargets still decide mesh callers.
#[derive(Debug, Clone, PartialEq)]
pub struct IngressBackend {
    pub name: String,
    pub namespace: String,
    /// The Service ports opened (Services of `namespace`).
    pub backends: Vec<IngressBackendPort>,
    /// Who may come in.
    pub sources: Vec<IngressSource>,
}

/// One `backends` entry: a Service of the IngressBackend's namespace and one of its ports.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IngressBackendPort {
    pub service: String,
    pub port: u16,
    pub protocol: IngressProtocol,
}

/// How a backend is reached: plaintext HTTP from an address source, or HTTP over TLS from
/// a caller whose certificate names an `AuthenticatedPrincipal` source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IngressProtocol {
    Http,
    Https,
}

impl IngressProtocol {
    /// OSM's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            IngressProtocol::Http => "http",
            IngressProtocol::Https => "https",
        }
    }
}

/// One `sources` entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum IngressSource {
    /// `kind: IPRange`: callers whose TCP peer address is in the range.
    IpRange(meshcd_support::Cidr),
    /// `kind: Service`: callers whose address is one of that Service's endpoints'.
    Service { namespace: String, name: String },
    /// `kind: AuthenticatedPrincipal`: TLS callers whose certificate chains to the mesh's
    /// roots and carries this name as a DNS or URI SAN (no SPIFFE identity).
    AuthenticatedPrincipal(String),
}

impl IngressSource {
    /// Whether it names callers by their address (plaintext, `http` backends) rather than
    /// by a certificate (TLS, `https` backends).
    pub fn by_address(&self) -> bool {
        !matches!(self, IngressSource::AuthenticatedPrincipal(_))
    }
}

impl std::fmt::Display for IngressSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IngressSource::IpRange(range) => write!(f, "addresses {range}"),
            IngressSource::Service { namespace, name } => {
                write!(f, "the endpoints of Service {namespace}/{name}")
            }
            IngressSource::AuthenticatedPrincipal(name) => write!(f, "principal {name}"),
        }
    }
}
