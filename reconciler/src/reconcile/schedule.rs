//! When the next reconcile is due without an event: the poll interval while all is well,
//! a capped exponential backoff after failures; both jittered so that many reconcilers
//! started together do not knock on the Git server in step.

use std::time::Duration;

use rand::Rng as _;

/// The first retry after a failure, doubled at each further failure…
pub const RETRY_INITIAL: Duration = Duration::from_secs(1);
/// …up to this.
pub const RETRY_MAX: Duration = Duration::from_secs(60);
/// Every delay is drawn from ±10 % around its nominal value.
const JITTER: f64 = 0.1;

#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub poll_interval: Duration,
    pub retry_initial: Duration,
    pub retry_max: Duration,
}

impl Schedule {
    pub fn new(poll_interval: Duration) -> Self {
        Schedule {
            poll_interval,
            retry_initial: RETRY_INITIAL,
            retry_max: RETRY_MAX,
        }
    }

    pub fn poll_delay(&self) -> Duration {
        jittered(self.poll_interval, rand::rng().random_range(-1.0..=1.0))
    }

    /// The delay after `failures` failures in a row (1 for the first).
    pub fn retry_delay(&self, failures: u32) -> Duration {
        jittered(
            self.nominal_retry(failures),
            rand::rng().random_range(-1.0..=1.0),
        )
    }

    fn nominal_retry(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        self.retry_initial
            .saturating_mul(1u32 << doublings)
            .min(self.retry_max)
    }
}

/// `duration` moved by `spread` (in -1..=1) times the jitter fraction.
fn jittered(duration: Duration, spread: f64) -> Duration {
    duration.mul_f64(1.0 + JITTER * spread.clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_from_one_second_and_stop_at_a_minute() {
        let schedule = Schedule::new(Duration::from_secs(15));
        let nominal: Vec<u64> = (1..=9)
            .map(|failures| schedule.nominal_retry(failures).as_secs())
            .collect();
        assert_eq!(nominal, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(schedule.nominal_retry(u32::MAX), RETRY_MAX);
    }

    #[test]
    fn delays_stay_within_ten_percent_of_nominal() {
        let schedule = Schedule::new(Duration::from_secs(15));
        for _ in 0..1000 {
            let poll = schedule.poll_delay().as_secs_f64();
            assert!((13.5..=16.5).contains(&poll), "{poll}");
            let retry = schedule.retry_delay(3).as_secs_f64();
            assert!((3.6..=4.4).contains(&retry), "{retry}");
        }
        let high = jittered(Duration::from_secs(10), 1.0).as_secs_f64();
        let low = jittered(Duration::from_secs(10), -1.0).as_secs_f64();
        assert!(
            (high - 11.0).abs() < 1e-6 && (low - 9.0).abs() < 1e-6,
            "{low} {high}"
        );
    }
}
