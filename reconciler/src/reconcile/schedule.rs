//! When the next reconcile is due without an event: the poll interval while all is well,
//! the shared back-off after failures; both jittered so that many reconcilers started
//! together do not knock on the Git server in step.

use std::time::Duration;

use meshcd_support::Backoff;
use meshcd_support::backoff::jittered;

/// The first retry after a failure, doubled at each further failure…
pub const RETRY_INITIAL: Duration = Duration::from_secs(1);
/// …up to this.
pub const RETRY_MAX: Duration = Duration::from_secs(60);
/// Every delay is drawn from ±10 % around its nominal value.
const JITTER: f64 = 0.1;

#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub poll_interval: Duration,
    pub retry: Backoff,
}

impl Schedule {
    pub fn new(poll_interval: Duration) -> Self {
        Schedule {
            poll_interval,
            retry: Backoff::new(RETRY_INITIAL, RETRY_MAX).with_jitter(JITTER),
        }
    }

    pub fn poll_delay(&self) -> Duration {
        jittered(self.poll_interval, JITTER)
    }

    /// The delay after `failures` failures in a row (1 for the first).
    pub fn retry_delay(&self, failures: u32) -> Duration {
        self.retry.delay_after(failures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_from_one_second_and_stop_at_a_minute() {
        let schedule = Schedule::new(Duration::from_secs(15));
        let nominal: Vec<u64> = (1..=9)
            .map(|failures| schedule.retry.nominal(failures).as_secs())
            .collect();
        assert_eq!(nominal, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(schedule.retry.nominal(u32::MAX), RETRY_MAX);
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
    }
}
