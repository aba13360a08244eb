//! Policies on calls between services (issue 19): faults the calling proxies inject.

use std::time::Duration;

use super::Identity;

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
    /// Statuses retried (`retryOn`: `5xx`, `gateway-error`, `retriable-4xx`, codes).
    pub codes: Vec<u16>,
    /// Failed or broken connections and timed-out attempts retried too (`retryOn` has
    /// `5xx`, `gateway-error`, `reset` or `connect-failure`).
    pub connection_failures: bool,
    /// Retries after the first attempt (`numRetries`).
    pub attempts: u32,
    /// `perTryTimeout`; zero: none of its own.
    pub per_try_timeout: Duration,
    /// `retryBackoffBaseInterval`: the first wait, doubling up to ten times it.
    pub backoff: Duration,
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
    /// `rateLimit.local.http`: what each proxy of the Service lets in.
    pub rate_limit: Option<RateLimit>,
}

/// A local rate limit on a Service's HTTP requests, per serving proxy (Envoy's token
/// bucket, as OSM configures it).
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
