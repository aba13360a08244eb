//! Waiting for an effect with a deadline, never with a fixed sleep.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long scenarios wait for an effect unless they say otherwise. Generous, because
/// two cores may be busy building and running other suites; a passing check returns at
/// once.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Runs `check` until it returns `Ok`, backing off from 10 ms to 200 ms between attempts,
/// and returns its value. After `deadline` the last error is returned, with the time
/// waited; a single attempt that hangs is cut off at the deadline too.
pub async fn eventually<T, F, Fut>(deadline: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let start = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        let remaining = deadline.saturating_sub(start.elapsed());
        let outcome =
            match tokio::time::timeout(remaining.max(Duration::from_millis(50)), check()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(anyhow::anyhow!(
                    "attempt did not finish before the deadline"
                )),
            };
        match outcome {
            Ok(value) => return Ok(value),
            Err(error) if start.elapsed() >= deadline => {
                return Err(error.context(format!("still failing after {deadline:?}")));
            }
            Err(_) => {
                tokio::time::sleep(pause.min(deadline.saturating_sub(start.elapsed()))).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn returns_the_value_once_the_check_passes() {
        let attempts = AtomicU32::new(0);
        let value = eventually(Duration::from_secs(5), || async {
            let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
            anyhow::ensure!(attempt >= 3, "attempt {attempt}");
            Ok(attempt)
        })
        .await
        .unwrap();
        assert_eq!(value, 3);
    }

    #[tokio::test]
    async fn gives_the_last_error_after_the_deadline() {
        let error = eventually(Duration::from_millis(100), || async {
            Err::<(), _>(anyhow::anyhow!("never ready"))
        })
        .await
        .unwrap_err();
        let text = format!("{error:#}");
        assert!(text.contains("never ready"), "{text}");
        assert!(text.contains("still failing after"), "{text}");
    }
}
