//! One endpoint (a peer proxy's inbound listener) as the balancer sees it: its load, its
//! failure streak and ejection, and its pooled HTTP/2 connection. Handles are shared by
//! every snapshot that lists the same address and identity, so all of this survives a
//! snapshot swap.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Instant;

use arc_swap::ArcSwapOption;
use hyper::client::conn::http2::SendRequest;

use super::UpstreamBody;
use super::outlier::Outlier;

/// Milliseconds since the first call; cheap and monotonic, so it fits in an atomic.
pub fn now_millis() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

type Key = (Box<str>, Box<str>);

/// Endpoint handles by address and identity: a snapshot that lists an endpoint an
/// earlier one listed gets the same handle, with its connection, load and ejection.
#[derive(Debug, Default)]
pub struct EndpointRegistry {
    endpoints: Mutex<HashMap<Key, Weak<Endpoint>>>,
}

impl EndpointRegistry {
    /// The handle for an endpoint: the existing one while any snapshot still uses it.
    pub fn endpoint(&self, address: &str, identity: &str) -> Arc<Endpoint> {
        let mut endpoints = self.endpoints.lock().unwrap_or_else(|e| e.into_inner());
        let key: Key = (address.into(), identity.into());
        if let Some(existing) = endpoints.get(&key).and_then(Weak::upgrade) {
            return existing;
        }
        let endpoint = Arc::new(Endpoint::new(address, identity));
        endpoints.insert(key, Arc::downgrade(&endpoint));
        endpoint
    }

    /// Forgets endpoints no snapshot uses any more (their connection closes when the
    /// last request on it finishes).
    pub fn sweep(&self) {
        let mut endpoints = self.endpoints.lock().unwrap_or_else(|e| e.into_inner());
        endpoints.retain(|_, endpoint| endpoint.strong_count() > 0);
    }

    pub fn len(&self) -> usize {
        self.endpoints
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug)]
pub struct Endpoint {
    /// host:port of the peer proxy's inbound listener.
    pub address: Arc<str>,
    /// The SPIFFE identity the peer must present.
    pub identity: Arc<str>,
    in_flight: AtomicU32,
    consecutive_failures: AtomicU32,
    /// `now_millis()` until which the endpoint is ejected (or was, last); 0: never.
    ejected_until: AtomicU64,
    /// Ejections in a row, each longer; fades while the endpoint stays in.
    ejections: AtomicU32,
    /// The pooled multiplexed connection, when one is open.
    pub(crate) connection: ArcSwapOption<Pooled>,
    /// Counts connection attempts, so a request that waited for someone else's attempt
    /// can tell it happened (and fail fast with its error instead of trying again).
    pub(crate) connect_generation: AtomicU64,
    /// Serialises connection attempts; holds the last attempt's error.
    pub(crate) connecting: tokio::sync::Mutex<Option<Arc<str>>>,
}

/// A pooled connection, and the calls sent on it (counted only under a
/// `maxRequestsPerConnection`).
#[derive(Debug)]
pub struct Pooled {
    pub sender: SendRequest<UpstreamBody>,
    pub sent: AtomicU32,
}

/// Counts a request as in flight on an endpoint until dropped.
pub struct InFlight<'a>(&'a Endpoint);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Endpoint {
    pub fn new(address: &str, identity: &str) -> Self {
        Self {
            address: address.into(),
            identity: identity.into(),
            in_flight: AtomicU32::new(0),
            consecutive_failures: AtomicU32::new(0),
            ejected_until: AtomicU64::new(0),
            ejections: AtomicU32::new(0),
            connection: ArcSwapOption::empty(),
            connect_generation: AtomicU64::new(0),
            connecting: tokio::sync::Mutex::new(None),
        }
    }

    /// Requests (or streams) in flight: the load power-of-two-choices compares.
    pub fn load(&self) -> u32 {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub fn start(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    pub fn is_ejected(&self, now: u64) -> bool {
        self.ejected_until.load(Ordering::Relaxed) > now
    }

    pub fn succeeded(&self) {
        if self.consecutive_failures.load(Ordering::Relaxed) != 0 {
            self.consecutive_failures.store(0, Ordering::Relaxed);
        }
    }

    /// Records a failure; returns true when it ejects the endpoint. The streak is kept
    /// through an ejection, so an endpoint that fails again once it is back goes out
    /// again at once, for longer. `may_eject` says whether the backend can spare it
    /// (asked only when the streak is long enough).
    pub fn failed(&self, outlier: &Outlier, may_eject: impl FnOnce() -> bool) -> bool {
        let failures = self.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1;
        if failures < outlier.consecutive_failures {
            return false;
        }
        let now = now_millis();
        let back_since = self.ejected_until.load(Ordering::Relaxed);
        if back_since > now || !may_eject() {
            return false;
        }
        let (ejections, ejection) = self.next_ejection(outlier, now, back_since);
        let until = now.saturating_add(millis(ejection).max(1));
        // Of failures landing together, one ejects (and counts) the endpoint.
        if self
            .ejected_until
            .compare_exchange(back_since, until, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        self.ejections.store(ejections, Ordering::Relaxed);
        tracing::warn!(
            endpoint = %self.address,
            identity = %self.identity,
            failures,
            "endpoint ejected for {ejection:?} after consecutive failures"
        );
        true
    }

    /// The ejections in a row this one makes, and how long it lasts: the base times
    /// that count, which has faded by one per `interval` since the endpoint came back
    /// (at `back_since`).
    fn next_ejection(
        &self,
        outlier: &Outlier,
        now: u64,
        back_since: u64,
    ) -> (u32, std::time::Duration) {
        let faded = now.saturating_sub(back_since) / millis(outlier.interval).max(1);
        let ejections = self
            .ejections
            .load(Ordering::Relaxed)
            .saturating_sub(u32::try_from(faded).unwrap_or(u32::MAX))
            .saturating_add(1);
        let ejection = outlier
            .base_ejection
            .saturating_mul(ejections)
            .min(outlier.max_ejection);
        (ejections, ejection)
    }
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_consecutive_failures_eject_and_a_success_resets_the_streak() {
        let endpoint = Endpoint::new("127.0.0.1:1", "spiffe://cluster.local/ns/a/sa/b");
        let built_in = Outlier::default();
        for _ in 0..4 {
            assert!(!endpoint.failed(&built_in, || true));
        }
        endpoint.succeeded();
        for _ in 0..4 {
            assert!(!endpoint.failed(&built_in, || true));
        }
        assert!(!endpoint.is_ejected(now_millis()));
        assert!(
            !endpoint.failed(&built_in, || false),
            "the backend cannot spare it"
        );
        assert!(endpoint.failed(&built_in, || true));
        assert!(endpoint.is_ejected(now_millis()));
    }

    #[test]
    fn ejections_in_a_row_last_longer_and_fade_while_the_endpoint_stays_in() {
        let endpoint = Endpoint::new("127.0.0.1:1", "id");
        let outlier = Outlier {
            consecutive_failures: 1,
            interval: std::time::Duration::from_secs(10),
            base_ejection: std::time::Duration::from_secs(2),
            max_ejection: std::time::Duration::from_secs(5),
            max_ejection_percent: 100,
            counts_5xx: true,
        };
        let now = now_millis();
        let seconds = |n: u64| std::time::Duration::from_secs(n);
        let eject = |at: u64| {
            let back_since = endpoint.ejected_until.load(Ordering::Relaxed);
            let (ejections, ejection) = endpoint.next_ejection(&outlier, at, back_since);
            endpoint.ejections.store(ejections, Ordering::Relaxed);
            endpoint
                .ejected_until
                .store(at + ejection.as_millis() as u64, Ordering::Relaxed);
            ejection
        };
        assert_eq!(eject(now), seconds(2));
        // Back at +2 s, failing again at once: twice the base.
        assert_eq!(eject(now + 2_000), seconds(4));
        assert_eq!(eject(now + 6_000), seconds(5), "capped");
        // Back at +11 s; 25 s later two of the three ejections have faded.
        assert_eq!(eject(now + 36_000), seconds(4));
    }

    #[test]
    fn an_endpoint_listed_again_gets_the_same_handle_until_no_one_holds_it() {
        let registry = EndpointRegistry::default();
        let first = registry.endpoint("127.0.0.1:1", "a");
        assert!(Arc::ptr_eq(&first, &registry.endpoint("127.0.0.1:1", "a")));
        assert!(!Arc::ptr_eq(&first, &registry.endpoint("127.0.0.1:1", "b")));
        drop(first);
        registry.sweep();
        assert!(registry.is_empty());
    }

    #[test]
    fn in_flight_counts_until_the_guard_drops() {
        let endpoint = Endpoint::new("127.0.0.1:1", "id");
        let first = endpoint.start();
        let second = endpoint.start();
        assert_eq!(endpoint.load(), 2);
        drop(first);
        drop(second);
        assert_eq!(endpoint.load(), 0);
    }
}
