//! The HTTP/1.1 header-read deadline (a client that has not sent a whole request head in
//! time is disconnected) at the cost of one timer per connection instead of one per request.
//!
//! hyper arms its header-read timer for every request head it waits for and drops it once
//! the head is in: with tokio's timer that is an allocation, a timer-wheel insertion and a
//! removal per request (about 3 % of the proxy's user-space instructions per request). Here
//! hyper's sleeps only write their deadline into a cell the connection owns; one watchdog
//! task per connection sleeps until the earliest deadline it may have to enforce, and only
//! re-arms its tokio timer when that timer fires. hyper still decides everything else (when
//! the deadline starts, what an expiry does), so the behaviour is hyper's own.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use hyper::rt::{Sleep, Timer};
use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;
use tokio::task::AbortHandle;

/// `base` with a header-read timer of this connection's own on its HTTP/1.1 side (the
/// HTTP/2 side keeps `base`'s). `timeout` is the header-read timeout `base` configures:
/// the watchdog looks at the connection at least that often.
pub fn for_connection(
    base: &auto::Builder<TokioExecutor>,
    timeout: Duration,
) -> auto::Builder<TokioExecutor> {
    let mut builder = base.clone();
    builder.http1().timer(ConnectionTimer::new(timeout));
    builder
}

/// What hyper's sleeps and the watchdog share.
#[derive(Default)]
struct Cell {
    /// Bumped by every new sleep: a replaced sleep's drop must not clear its successor.
    generation: u64,
    /// The live sleep's deadline, until it expires or is dropped.
    deadline: Option<Instant>,
    expired: bool,
    /// The connection task polling the live sleep.
    sleeper: Option<Waker>,
    /// When the watchdog looks next, and how to make it look sooner.
    next_check: Option<Instant>,
    watchdog: Option<Waker>,
}

struct ConnectionTimer {
    cell: Arc<Mutex<Cell>>,
    period: Duration,
    /// The watchdog task, started on the first sleep (HTTP/2 connections never start one).
    task: Mutex<Option<AbortHandle>>,
}

impl ConnectionTimer {
    fn new(period: Duration) -> Self {
        Self {
            cell: Arc::default(),
            period,
            task: Mutex::new(None),
        }
    }
}

fn lock(cell: &Mutex<Cell>) -> MutexGuard<'_, Cell> {
    cell.lock().unwrap_or_else(|e| e.into_inner())
}

impl Timer for ConnectionTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        self.sleep_until(now() + duration)
    }

    fn now(&self) -> Instant {
        now()
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        let mut task = self.task.lock().unwrap_or_else(|e| e.into_inner());
        if task.is_none() {
            let watchdog = Watchdog {
                cell: self.cell.clone(),
                sleep: Box::pin(tokio::time::sleep(self.period)),
                period: self.period,
            };
            *task = Some(tokio::spawn(watchdog).abort_handle());
        }
        drop(task);
        let mut cell = lock(&self.cell);
        cell.generation += 1;
        cell.deadline = Some(deadline);
        cell.expired = false;
        cell.sleeper = None;
        // Only a deadline shorter than the watchdog's period can fall before its next look.
        if cell.next_check.is_some_and(|next| deadline < next)
            && let Some(watchdog) = cell.watchdog.take()
        {
            watchdog.wake();
        }
        Box::pin(ConnectionSleep {
            cell: self.cell.clone(),
            generation: cell.generation,
        })
    }
}

impl Drop for ConnectionTimer {
    fn drop(&mut self) {
        if let Some(task) = self
            .task
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            task.abort();
        }
    }
}

/// One of hyper's sleeps: ready once the watchdog found its deadline passed.
struct ConnectionSleep {
    cell: Arc<Mutex<Cell>>,
    generation: u64,
}

impl Future for ConnectionSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut cell = lock(&self.cell);
        if cell.generation != self.generation {
            // Replaced by a newer sleep: it can no longer expire.
            return Poll::Pending;
        }
        if cell.expired {
            return Poll::Ready(());
        }
        match &mut cell.sleeper {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            sleeper => *sleeper = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl Sleep for ConnectionSleep {}

impl Drop for ConnectionSleep {
    fn drop(&mut self) {
        let mut cell = lock(&self.cell);
        if cell.generation == self.generation {
            cell.deadline = None;
            cell.expired = false;
            cell.sleeper = None;
        }
    }
}

/// Wakes at the earliest instant a deadline can have passed. A deadline set after a look
/// ends at least `period` after it, so looking every `period` (or at the live deadline,
/// whichever is sooner) misses none; a shorter one wakes the watchdog at once.
struct Watchdog {
    cell: Arc<Mutex<Cell>>,
    sleep: Pin<Box<tokio::time::Sleep>>,
    period: Duration,
}

impl Future for Watchdog {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let now = now();
            let mut cell = lock(&self.cell);
            if cell.deadline.is_some_and(|deadline| deadline <= now) {
                cell.deadline = None;
                cell.expired = true;
                if let Some(sleeper) = cell.sleeper.take() {
                    sleeper.wake();
                }
            }
            let next_check = match cell.next_check {
                Some(next) if next > now => next,
                _ => now + self.period,
            };
            cell.next_check = Some(next_check);
            let wake_at = cell
                .deadline
                .map_or(next_check, |deadline| deadline.min(next_check));
            match &mut cell.watchdog {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                watchdog => *watchdog = Some(cx.waker().clone()),
            }
            drop(cell);
            let wake_at = tokio::time::Instant::from_std(wake_at);
            if self.sleep.deadline() != wake_at {
                self.sleep.as_mut().reset(wake_at);
            }
            if self.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }
}

/// tokio's clock (the same as `Instant::now` unless a test paused it).
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_sleep_ends_at_its_deadline_and_not_before() {
        let timer = ConnectionTimer::new(Duration::from_secs(10));
        let start = tokio::time::Instant::now();
        timer.sleep(Duration::from_secs(10)).await;
        assert!(start.elapsed() >= Duration::from_secs(10));
        assert!(start.elapsed() < Duration::from_secs(11));
    }

    #[tokio::test(start_paused = true)]
    async fn a_later_sleep_is_not_cut_short_by_the_watchdogs_earlier_look() {
        let timer = ConnectionTimer::new(Duration::from_secs(10));
        drop(timer.sleep(Duration::from_secs(10)));
        tokio::time::sleep(Duration::from_secs(7)).await;
        let start = tokio::time::Instant::now();
        timer.sleep(Duration::from_secs(10)).await;
        assert!(start.elapsed() >= Duration::from_secs(10));
        assert!(start.elapsed() < Duration::from_secs(11));
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_shorter_than_the_period_wakes_the_watchdog() {
        let timer = ConnectionTimer::new(Duration::from_secs(10));
        drop(timer.sleep(Duration::from_secs(10)));
        tokio::task::yield_now().await;
        let start = tokio::time::Instant::now();
        timer.sleep(Duration::from_secs(1)).await;
        assert!(start.elapsed() >= Duration::from_secs(1));
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_sleep_never_fires_and_its_successor_does() {
        let timer = ConnectionTimer::new(Duration::from_secs(10));
        let first = timer.sleep(Duration::from_secs(10));
        let second = timer.sleep(Duration::from_secs(20));
        drop(first);
        let start = tokio::time::Instant::now();
        second.await;
        assert!(start.elapsed() >= Duration::from_secs(20));
        assert!(start.elapsed() < Duration::from_secs(21));
    }

    /// A real connection served as the listeners serve theirs, over loopback.
    async fn served_connection() -> tokio::net::TcpStream {
        use hyper::service::service_fn;
        use hyper_util::rt::TokioIo;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let base = crate::outbound::listener::server_builder();
            let builder = for_connection(&base, crate::outbound::listener::HEADER_READ_TIMEOUT);
            let service = service_fn(|_request| async {
                Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
                    bytes::Bytes::from_static(b"ok"),
                )))
            });
            let _ = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await;
        });
        tokio::net::TcpStream::connect(address).await.unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_never_finishes_its_head_is_disconnected_at_the_timeout() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let mut client = served_connection().await;
        let start = tokio::time::Instant::now();
        client
            .write_all(b"GET / HTTP/1.1\r\nhost: a\r\n")
            .await
            .unwrap();
        let mut rest = Vec::new();
        let _ = client.read_to_end(&mut rest).await;
        let timeout = crate::outbound::listener::HEADER_READ_TIMEOUT;
        assert!(
            start.elapsed() >= timeout,
            "closed after {:?}",
            start.elapsed()
        );
        assert!(start.elapsed() < timeout + Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn requests_keep_a_connection_open_past_the_timeout_and_idleness_then_ends_it() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let timeout = crate::outbound::listener::HEADER_READ_TIMEOUT;
        let mut client = served_connection().await;
        let start = tokio::time::Instant::now();
        let mut buffer = [0u8; 1024];
        for _ in 0..4 {
            client
                .write_all(b"GET / HTTP/1.1\r\nhost: a\r\n\r\n")
                .await
                .unwrap();
            let read = client.read(&mut buffer).await.unwrap();
            assert!(buffer[..read].starts_with(b"HTTP/1.1 200"));
            tokio::time::sleep(timeout * 6 / 10).await;
        }
        assert!(start.elapsed() > timeout * 2);
        let idle = tokio::time::Instant::now();
        assert_eq!(client.read(&mut buffer).await.unwrap(), 0);
        // Idle since the last response, 0.6 of the timeout before `idle`.
        assert!(idle.elapsed() >= timeout * 4 / 10 - Duration::from_millis(10));
        assert!(idle.elapsed() < timeout * 4 / 10 + Duration::from_secs(1));
    }
}
