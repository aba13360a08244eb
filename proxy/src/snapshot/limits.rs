//! Circuit breakers on this proxy's calls to one Service (an OSM UpstreamTrafficSetting's
//! connectionSettings), compiled from the snapshot's client policies.

use std::sync::Arc;
use std::time::Duration;

use meshcd_schemas::proto;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `namespace/name` of the UpstreamTrafficSetting, for answers and metrics.
    pub name: Arc<str>,
    /// Calls in flight; `None`: no limit.
    pub max_requests: Option<u32>,
    /// Calls that may wait for a free slot.
    pub max_pending_requests: u32,
    pub connect_timeout: Option<Duration>,
}

impl From<proto::Limits> for Limits {
    fn from(limits: proto::Limits) -> Self {
        Limits {
            name: limits.name.into(),
            max_requests: limits.max_requests,
            max_pending_requests: limits.max_pending_requests.unwrap_or(0),
            connect_timeout: (limits.connect_timeout_ms > 0)
                .then(|| Duration::from_millis(limits.connect_timeout_ms)),
        }
    }
}

/// A local rate limit on the HTTP requests this workload serves for one service: a token
/// bucket holding `requests + burst` tokens at most, `requests` added every `interval`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// `namespace/name` of the UpstreamTrafficSetting.
    pub setting: Arc<str>,
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
        let status = u16::try_from(limit.status)
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
            requests: limit.requests,
            interval: Duration::from_millis(limit.fill_interval_ms),
            burst: limit.burst,
            status,
            headers,
        })
    }
}
