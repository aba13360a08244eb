//! Waiting for an effect with a deadline, never with a fixed sleep: the one `eventually`
//! of every test suite in the workspace (async, and blocking for tests without a
//! runtime).

use std::future::Future;
use std::time::{Duration, Instant};

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

/// [`eventually`] for a check that only says whether `what` holds yet; panics with `what`
/// after `deadline`.
pub async fn eventually_holds(what: &str, deadline: Duration, check: impl AsyncFn() -> bool) {
    eventually(deadline, async || {
        anyhow::ensure!(check().await, "{what}");
        Ok(())
    })
    .await
    .unwrap_or_else(|error| panic!("{error:#}"));
}

/// [`eventually`] for a test without an async runtime: runs `check` on this thread.
pub fn eventually_blocking<T>(
    deadline: Duration,
    mut check: impl FnMut() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        match check() {
            Ok(value) => return Ok(value),
            Err(error) if start.elapsed() >= deadline => {
                return Err(error.context(format!("still failing after {deadline:?}")));
            }
            Err(_) => {
                std::thread::sleep(pause.min(deadline.saturating_sub(start.elapsed())));
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

    #[test]
    fn the_blocking_form_waits_the_same_way() {
        let mut attempts = 0;
        let value = eventually_blocking(Duration::from_secs(5), || {
            attempts += 1;
            anyhow::ensure!(attempts >= 3, "attempt {attempts}");
            Ok(attempts)
        })
        .unwrap();
        assert_eq!(value, 3);
        let error = eventually_blocking(Duration::from_millis(50), || {
            Err::<(), _>(anyhow::anyhow!("never ready"))
        })
        .unwrap_err();
        assert!(format!("{error:#}").contains("never ready"));
    }
}
