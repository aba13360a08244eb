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
