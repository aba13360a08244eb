//! How long to wait before trying again: the one back-off every retry loop of both binaries
//! uses (reconcile after a failed fetch, outcome push, webhook delivery, proxy join and
//! certificate renewal, leader labelling, accept errors). Exponential from a first delay,
//! doubling up to a cap, optionally jittered so that many processes that failed together do
//! not retry in step.

use std::time::Duration;

use rand::Rng as _;

/// A doubling delay between a first value and a cap. `next_delay` advances it;
/// `reset` after a success starts again from the first value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    first: Duration,
    cap: Duration,
    /// Every delay is drawn from ±`jitter` (a fraction) around its nominal value.
    jitter: f64,
    failures: u32,
}

impl Backoff {
    /// Waits `first`, then twice as long each time, never longer than `cap`.
    pub const fn new(first: Duration, cap: Duration) -> Self {
        Backoff {
            first,
            cap,
            jitter: 0.0,
            failures: 0,
        }
    }

    /// Moves every delay by up to ±`fraction` of it, at random (`0.1` for ±10 %).
    pub const fn with_jitter(mut self, fraction: f64) -> Self {
        self.jitter = fraction;
        self
    }

    /// The wait after one more failure: the first call gives the first delay.
    pub fn next_delay(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        self.delay_after(self.failures)
    }

    /// Starts again from the first delay (after a success).
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Failures counted since the last reset.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The (jittered) wait after `failures` failures in a row, 1 for the first.
    pub fn delay_after(&self, failures: u32) -> Duration {
        jittered(self.nominal(failures), self.jitter)
    }

    /// The wait after `failures` failures in a row before jitter: `first · 2^(failures-1)`,
    /// at most the cap.
    pub fn nominal(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        self.first.saturating_mul(1u32 << doublings).min(self.cap)
    }
}

/// `duration` moved by a random amount within ±`fraction` of it.
pub fn jittered(duration: Duration, fraction: f64) -> Duration {
    if fraction <= 0.0 {
        return duration;
    }
    spread(duration, fraction, rand::rng().random_range(-1.0..=1.0))
}

/// `duration` moved by `at` (in -1..=1) times `fraction` of it.
fn spread(duration: Duration, fraction: f64, at: f64) -> Duration {
    duration.mul_f64((1.0 + fraction * at.clamp(-1.0, 1.0)).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn delays_double_from_the_first_and_stop_at_the_cap() {
        let mut backoff = Backoff::new(SECOND, Duration::from_secs(60));
        let delays: Vec<u64> = (0..9).map(|_| backoff.next_delay().as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff.failures(), 9);
        assert_eq!(backoff.nominal(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn a_reset_starts_again_from_the_first_delay() {
        let mut backoff = Backoff::new(Duration::from_millis(5), SECOND);
        backoff.next_delay();
        backoff.next_delay();
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_millis(5));
    }

    #[test]
    fn jitter_stays_within_its_fraction_and_spreads() {
        let backoff =
            Backoff::new(Duration::from_secs(10), Duration::from_secs(10)).with_jitter(0.2);
        let delays: Vec<Duration> = (0..200).map(|_| backoff.delay_after(1)).collect();
        assert!(
            delays
                .iter()
                .all(|d| (8.0..=12.0).contains(&d.as_secs_f64()))
        );
        assert!(delays.iter().any(|d| *d < Duration::from_secs(10)));
        assert!(delays.iter().any(|d| *d > Duration::from_secs(10)));
        assert_eq!(
            spread(Duration::from_secs(10), 0.2, -1.0),
            Duration::from_secs(8)
        );
        assert_eq!(
            spread(Duration::from_secs(10), 0.2, 1.0),
            Duration::from_secs(12)
        );
    }
}
