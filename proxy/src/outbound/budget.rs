//! Retry budgets: retries to one destination may add at most a share of the calls made to
//! it over the last 10 seconds, plus a few per second (Linkerd's and Finagle's budget), so
//! that retries cannot multiply an outage.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Seconds of history a budget weighs.
const WINDOW_SECONDS: u64 = 10;

use crate::snapshot::BudgetSettings;

/// One budget per destination (`name.namespace`), for the proxy's life: a snapshot
/// reload does not refill it.
#[derive(Debug, Default)]
pub struct RetryBudgets {
    by_destination: Mutex<HashMap<Arc<str>, Arc<Budget>>>,
}

impl RetryBudgets {
    pub fn of(&self, destination: &Arc<str>) -> Arc<Budget> {
        let mut budgets = self
            .by_destination
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        budgets
            .entry(destination.clone())
            .or_insert_with(|| {
                Arc::new(Budget {
                    epoch: Instant::now(),
                    slots: Mutex::default(),
                })
            })
            .clone()
    }
}

/// Calls and retries per second, over the window.
#[derive(Debug)]
pub struct Budget {
    epoch: Instant,
    slots: Mutex<[Slot; WINDOW_SECONDS as usize]>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Slot {
    second: u64,
    calls: u64,
    retries: u64,
}

impl Budget {
    /// A call to the destination (its first attempt).
    pub fn called(&self, now: Instant) {
        self.update(now, |slot| slot.calls += 1);
    }

    /// Whether a retry may be sent now; if so it is counted against the budget.
    pub fn try_retry(&self, now: Instant, settings: BudgetSettings) -> bool {
        let second = self.second(now);
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let (calls, retries) = slots
            .iter()
            .filter(|slot| slot.second + WINDOW_SECONDS > second && slot.second <= second)
            .fold((0, 0), |(calls, retries), slot| {
                (calls + slot.calls, retries + slot.retries)
            });
        let allowed = calls as f64 * settings.percent / 100.0
            + f64::from(settings.min_per_second) * WINDOW_SECONDS as f64;
        if (retries as f64) + 1.0 > allowed {
            return false;
        }
        current(&mut slots, second).retries += 1;
        true
    }

    fn update(&self, now: Instant, change: impl FnOnce(&mut Slot)) {
        let second = self.second(now);
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        change(current(&mut slots, second));
    }

    fn second(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_secs()
    }
}

/// The slot of `second`, emptied when it last held an older second.
fn current(slots: &mut [Slot; WINDOW_SECONDS as usize], second: u64) -> &mut Slot {
    let slot = &mut slots[(second % WINDOW_SECONDS) as usize];
    if slot.second != second {
        *slot = Slot {
            second,
            ..Slot::default()
        };
    }
    slot
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const TWENTY_PERCENT: BudgetSettings = BudgetSettings {
        percent: 20.0,
        min_per_second: 0,
    };

    #[test]
    fn retries_add_at_most_the_share_of_calls() {
        let budget = RetryBudgets::default().of(&Arc::from("api.shop"));
        let now = Instant::now();
        let mut retried = 0;
        for _ in 0..1_000 {
            budget.called(now);
            if budget.try_retry(now, TWENTY_PERCENT) {
                retried += 1;
            }
        }
        assert_eq!(retried, 200);
    }

    #[test]
    fn the_minimum_lets_a_quiet_client_retry_and_old_calls_stop_counting() {
        let budget = RetryBudgets::default().of(&Arc::from("api.shop"));
        let start = Instant::now();
        let settings = BudgetSettings {
            percent: 20.0,
            min_per_second: 1,
        };
        // No calls at all: ten retries (1 per second over the window), not eleven.
        let granted = (0..11)
            .filter(|_| budget.try_retry(start, settings))
            .count();
        assert_eq!(granted, 10);
        // A window later the old calls and retries are forgotten.
        let later = start + Duration::from_secs(WINDOW_SECONDS + 1);
        budget.called(later);
        assert!(!budget.try_retry(later, TWENTY_PERCENT));
        for _ in 0..5 {
            budget.called(later);
        }
        assert!(budget.try_retry(later, TWENTY_PERCENT));
    }
}
