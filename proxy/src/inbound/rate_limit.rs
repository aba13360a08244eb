//! Local rate limits (an UpstreamTrafficSetting's `rateLimit.local.http`): Envoy's token
//! bucket per service this proxy serves, `requests + burst` tokens at most and `requests`
//! more at the end of every interval; a request finding the bucket empty is answered at
//! once, with Retry-After.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::snapshot::limits::RateLimit;

/// One bucket per limit (a service's HTTP requests, its TCP connections, a route), kept
/// across snapshots while the limit stays the same.
#[derive(Debug, Default)]
pub struct RateLimiters {
    by_bucket: Mutex<HashMap<Arc<str>, Arc<Bucket>>>,
}

#[derive(Debug)]
struct Bucket {
    limit: RateLimit,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    tokens: u64,
    last_fill: Instant,
}

impl RateLimiters {
    /// Takes a token of `limit`, or says how long until the next fill.
    pub fn take(&self, limit: &RateLimit, now: Instant) -> Result<(), Duration> {
        let bucket = {
            let mut buckets = self
                .by_bucket
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let bucket = buckets
                .entry(limit.bucket.clone())
                .or_insert_with(|| Bucket::new(limit, now));
            if bucket.limit != *limit {
                *bucket = Bucket::new(limit, now);
            }
            bucket.clone()
        };
        bucket.take(now)
    }
}

impl Bucket {
    fn new(limit: &RateLimit, now: Instant) -> Arc<Bucket> {
        Arc::new(Bucket {
            limit: limit.clone(),
            state: Mutex::new(State {
                tokens: capacity(limit),
                last_fill: now,
            }),
        })
    }

    fn take(&self, now: Instant) -> Result<(), Duration> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let interval = self.limit.interval;
        let elapsed = now.saturating_duration_since(state.last_fill);
        let fills = (elapsed.as_nanos() / interval.as_nanos().max(1)) as u32;
        if fills > 0 {
            state.tokens = (state.tokens + u64::from(fills) * u64::from(self.limit.requests))
                .min(capacity(&self.limit));
            state.last_fill += interval * fills;
        }
        if state.tokens == 0 {
            return Err((state.last_fill + interval).saturating_duration_since(now));
        }
        state.tokens -= 1;
        Ok(())
    }
}

fn capacity(limit: &RateLimit) -> u64 {
    u64::from(limit.requests) + u64::from(limit.burst)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(requests: u32, burst: u32) -> RateLimit {
        RateLimit {
            setting: "shop/api-limits".into(),
            bucket: "api.shop".into(),
            requests,
            interval: Duration::from_secs(1),
            burst,
            status: http::StatusCode::TOO_MANY_REQUESTS,
            headers: Vec::new(),
        }
    }

    #[test]
    fn over_five_seconds_the_bucket_lets_five_intervals_and_the_burst_through() {
        let limiters = RateLimiters::default();
        let start = Instant::now();
        let mut accepted = 0;
        // 100 requests every 10 ms for 5 s.
        for step in 0..500u32 {
            let now = start + Duration::from_millis(u64::from(step) * 10);
            if limiters.take(&limit(20, 10), now).is_ok() {
                accepted += 1;
            }
        }
        // 30 at once, then 20 at each of the 4 fills within the 5 s.
        assert_eq!(accepted, 5 * 20 + 10);
    }

    #[test]
    fn an_empty_bucket_says_when_it_fills() {
        let limiters = RateLimiters::default();
        let start = Instant::now();
        assert!(limiters.take(&limit(1, 0), start).is_ok());
        let wait = limiters
            .take(&limit(1, 0), start + Duration::from_millis(300))
            .unwrap_err();
        assert_eq!(wait, Duration::from_millis(700));
    }
}
