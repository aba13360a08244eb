//! Circuit breakers on this proxy's calls to one Service (an OSM UpstreamTrafficSetting's
//! connectionSettings), compiled from the snapshot's client policies.

use std::sync::Arc;
use std::time::Duration;

use meshcd_schemas::proto;
use regex::Regex;

use super::matcher::full_match;

pub use crate::upstream::outlier::Outlier;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `namespace/name` of the UpstreamTrafficSetting, for answers and metrics.
    pub name: Arc<str>,
    /// Calls in flight; `None`: no limit.
    pub max_requests: Option<u32>,
    /// Calls that may wait for a free slot.
    pub max_pending_requests: u32,
    pub connect_timeout: Option<Duration>,
    /// Connections at once: TCP streams, and (multiplexed) HTTP calls as `max_requests`.
    pub max_connections: Option<u32>,
    /// Calls on one pooled connection before it is replaced.
    pub max_requests_per_connection: Option<u32>,
    /// Retries in flight at once.
    pub max_retries: Option<u32>,
    pub outlier: Outlier,
}

impl Limits {
    /// HTTP calls in flight at once, and the limit that sets it: the smaller of
    /// `maxRequests` and `maxConnections` (each call being one connection's worth to an
    /// HTTP/1.1 caller, which is what the setting's author had in mind).
    pub fn concurrency(&self) -> Option<(u32, &'static str)> {
        match (self.max_requests, self.max_connections) {
            (Some(requests), Some(connections)) if connections < requests => {
                Some((connections, "maxConnections"))
            }
            (Some(requests), _) => Some((requests, "maxRequests")),
            (None, Some(connections)) => Some((connections, "maxConnections")),
            (None, None) => None,
        }
    }
}

impl From<proto::Limits> for Limits {
    fn from(limits: proto::Limits) -> Self {
        Limits {
            name: limits.name.into(),
            max_requests: limits.max_requests,
            max_pending_requests: limits.max_pending_requests.unwrap_or(0),
            connect_timeout: (limits.connect_timeout_ms > 0)
                .then(|| Duration::from_millis(limits.connect_timeout_ms)),
            max_connections: limits.max_connections,
            max_requests_per_connection: limits.max_requests_per_connection,
            max_retries: limits.max_retries,
            outlier: limits.outlier.map(Outlier::from).unwrap_or_default(),
        }
    }
}

/// Envoy's default longest ejection.
const MAX_EJECTION: Duration = Duration::from_secs(300);

impl From<proto::Outlier> for Outlier {
    fn from(outlier: proto::Outlier) -> Self {
        let base_ejection = Duration::from_millis(outlier.base_ejection_ms.max(1));
        Outlier {
            consecutive_failures: outlier.consecutive_failures.max(1),
            interval: Duration::from_millis(outlier.interval_ms.max(1)),
            base_ejection,
            max_ejection: MAX_EJECTION.max(base_ejection),
            max_ejection_percent: outlier.max_ejection_percent.min(100),
            counts_5xx: true,
        }
    }
}

/// The local rate limits of one service this workload serves.
#[derive(Debug, Default)]
pub struct RateLimits {
    /// On its HTTP requests, but for those a route limit takes.
    pub http: Option<RateLimit>,
    /// On its TCP connections.
    pub tcp: Option<RateLimit>,
    /// On the HTTP requests whose path fully matches (an `httpRoutes` entry): the first
    /// that matches takes the request.
    pub routes: Vec<(Regex, RateLimit)>,
}

impl RateLimits {
    /// The limit an HTTP request to `path` is counted against.
    pub fn of_request(&self, path: &str) -> Option<&RateLimit> {
        self.routes
            .iter()
            .find(|(regex, _)| regex.is_match(path))
            .map(|(_, limit)| limit)
            .or(self.http.as_ref())
    }

    /// Adds a limit of the snapshot (`service` qualified) in its place.
    pub fn add(&mut self, service: &str, limit: proto::RateLimit) -> Result<(), InvalidRateLimit> {
        let scope = limit.scope();
        let regex = limit.path_regex.clone();
        let mut limit = RateLimit::try_from(limit)?;
        match scope {
            proto::RateLimitScope::Http => {
                limit.bucket = service.into();
                self.http = Some(limit);
            }
            proto::RateLimitScope::Tcp => {
                limit.bucket = format!("{service} tcp").into();
                self.tcp = Some(limit);
            }
            proto::RateLimitScope::Route => {
                let path = full_match(&regex).map_err(|error| InvalidRateLimit {
                    setting: limit.setting.to_string(),
                    reason: format!("path {regex:?}: {error}"),
                })?;
                limit.bucket = format!("{service} route {regex}").into();
                self.routes.push((path, limit));
            }
        }
        Ok(())
    }
}

/// A local rate limit on the HTTP requests (or TCP connections) this workload serves for
/// one service: a token bucket holding `requests + burst` tokens at most, `requests` added
/// every `interval`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// `namespace/name` of the UpstreamTrafficSetting.
    pub setting: Arc<str>,
    /// Which bucket counts it: one per service and scope (and route).
    pub bucket: Arc<str>,
    pub requests: u32,
    pub interval: Duration,
    pub burst: u32,
    pub status: http::StatusCode,
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
}

#[derive(Debug, thiserror::Error)]
#[error("rate limit of {setting:?}: {reason}")]
pub struct InvalidRateLimit {
    setting: String,
    reason: String,
}

impl TryFrom<proto::RateLimit> for RateLimit {
    type Error = InvalidRateLimit;

    fn try_from(limit: proto::RateLimit) -> Result<Self, Self::Error> {
        let invalid = |reason: String| InvalidRateLimit {
            setting: limit.setting.clone(),
            reason,
        };
        // Unset (a TCP limit has no use for it): 429.
        let status = u16::try_from(if limit.status == 0 { 429 } else { limit.status })
            .ok()
            .and_then(|status| http::StatusCode::from_u16(status).ok())
            .ok_or_else(|| invalid(format!("status {} is not an HTTP status", limit.status)))?;
        if limit.requests == 0 || limit.fill_interval_ms == 0 {
            return Err(invalid("no requests or no interval".into()));
        }
        let headers = limit
            .headers
            .iter()
            .map(|header| {
                let name = http::HeaderName::from_bytes(header.name.as_bytes());
                let value = http::HeaderValue::from_str(&header.value);
                match (name, value) {
                    (Ok(name), Ok(value)) => Ok((name, value)),
                    _ => Err(invalid(format!(
                        "header {:?} is not valid HTTP",
                        header.name
                    ))),
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(RateLimit {
            setting: limit.setting.as_str().into(),
            bucket: limit.service.as_str().into(),
            requests: limit.requests,
            interval: Duration::from_millis(limit.fill_interval_ms),
            burst: limit.burst,
            status,
            headers,
        })
    }
}
