//! Waiting for an effect with a deadline, never with a fixed sleep.

use std::future::Future;
use std::time::{Duration, Instant};

/// Generous: two cores may be busy building and running other suites. A passing check
/// returns at once.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Runs `check` until it returns `Ok`, pausing 20 ms growing to 200 ms between tries;
/// after `deadline`, fails with the last error.
pub async fn eventually<T, F, Fut>(deadline: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let start = Instant::now();
    let mut pause = Duration::from_millis(20);
    loop {
        let remaining = deadline.saturating_sub(start.elapsed());
        let outcome =
            match tokio::time::timeout(remaining.max(Duration::from_millis(100)), check()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(anyhow::anyhow!(
                    "a check did not finish before the deadline"
                )),
            };
        match outcome {
            Ok(value) => return Ok(value),
            Err(error) if start.elapsed() >= deadline => {
                return Err(error.context(format!("still failing after {deadline:?}")));
            }
            Err(_) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
        }
    }
}
