//! A route rule's retry policy (GEP-1731), compiled once per snapshot.

use std::time::Duration;

use meshcd_schemas::proto;

/// A rule's retries (GEP-1731): connection failures and timed-out attempts are retried,
/// answers when their status is listed; at most `attempts` times, waiting `backoff`
/// (doubling) before each.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub codes: Vec<u16>,
    pub attempts: u32,
    pub backoff: Duration,
    /// The longest wait; `None`: the proxy's growth of `backoff`.
    pub max_backoff: Option<Duration>,
    /// Each attempt's timeout (an OSM Retry's `perTryTimeout`).
    pub per_try_timeout: Option<Duration>,
    /// Only listed statuses are retried, not failed connections or timed-out attempts.
    pub status_only: bool,
}

/// The least wait before a retry when the route names none (Envoy's and Istio's
/// default).
const DEFAULT_BACKOFF: Duration = Duration::from_millis(25);

/// The least wait before a retry whatever the route says (`backoff: 0s` included): the
/// API asks for a minimum, so waiting longer is allowed, and a backend answering a listed
/// status at once is not hammered in a tight loop.
const MIN_BACKOFF: Duration = Duration::from_millis(10);

impl RetryPolicy {
    pub(crate) fn compile(policy: proto::RetryPolicy) -> RetryPolicy {
        RetryPolicy {
            codes: policy
                .codes
                .iter()
                .filter_map(|code| u16::try_from(*code).ok())
                .collect(),
            attempts: policy.attempts,
            backoff: policy
                .backoff_ms
                .map_or(DEFAULT_BACKOFF, Duration::from_millis)
                .max(MIN_BACKOFF),
            max_backoff: (policy.max_backoff_ms > 0)
                .then(|| Duration::from_millis(policy.max_backoff_ms).max(MIN_BACKOFF)),
            per_try_timeout: (policy.per_try_timeout_ms > 0)
                .then(|| Duration::from_millis(policy.per_try_timeout_ms)),
            status_only: policy.status_only,
        }
    }
}

/// The Mesh's retry budget: retries to a destination add at most `percent` of its calls,
/// plus `min_per_second` (see `outbound::budget`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetSettings {
    pub percent: f64,
    pub min_per_second: u32,
}

impl Default for BudgetSettings {
    /// Linkerd's defaults.
    fn default() -> Self {
        BudgetSettings {
            percent: 20.0,
            min_per_second: 10,
        }
    }
}
