//! Accepting connections without spinning or drowning, shared by every listener of the
//! proxy (inbound, outbound, admin, the TCP services' listeners).
//!
//! - Accept errors that mean the process or the kernel ran out of something (descriptors,
//!   buffers, memory) back off: 5 ms, doubling to 1 s, reset by the next success. Retrying
//!   at once would spin on the error, as the pending connection stays in the backlog.
//!   Each episode is logged once, when it starts and when it ends, not per error.
//! - Each listener holds at most `max_connections` connections open. One accepted past
//!   that is closed at once and counted (`meshcd_proxy_connections_refused_total`), as
//!   Envoy's listener connection limit does: the connections already established keep
//!   being served, and the flood is shed instead of filling the kernel's backlog, which
//!   would leave the listener looking dead to every new client until the flood left.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use meshcd_support::Backoff;
use prometheus_client::metrics::gauge::Gauge;

use crate::metrics::{ListenerMetrics, Metrics};

/// The first pause after an accept error, and the longest.
const FIRST_PAUSE: Duration = Duration::from_millis(5);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// One listener's accept loop state: its cap, its metrics and its back-off.
pub struct Acceptor {
    listener: TcpListener,
    name: Arc<str>,
    slots: Arc<Semaphore>,
    max_connections: usize,
    metrics: ListenerMetrics,
    /// The pause before the next accept after an error; `None` when the last one succeeded.
    pause: Option<Duration>,
    backoff: Backoff,
    /// Connections refused since the cap was reached; `None` while below it.
    refusing: Option<u64>,
}

/// A connection's place under its listener's cap, given back when dropped: keep it for as
/// long as the connection is served.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    /// The listener's `connections_open`.
    open: Gauge,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.dec();
    }
}

impl Acceptor {
    /// `name` labels the metrics and log lines (`inbound`, `outbound`, `admin`, `tcp …`).
    pub fn new(
        listener: TcpListener,
        name: impl Into<Arc<str>>,
        max_connections: usize,
        metrics: &Metrics,
    ) -> Self {
        let name = name.into();
        Self {
            listener,
            metrics: metrics.listener(&name),
            name,
            slots: Arc::new(Semaphore::new(max_connections)),
            max_connections,
            pause: None,
            backoff: Backoff::new(FIRST_PAUSE, LONGEST_PAUSE),
            refusing: None,
        }
    }

    pub fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// The next connection within the cap, and its peer's address. Cancel-safe:
    /// dropping the future loses no accepted connection.
    pub async fn accept(&mut self) -> (TcpStream, SocketAddr, Slot) {
        loop {
            if let Some(pause) = self.pause {
                tokio::time::sleep(pause).await;
            }
            let (stream, peer) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    self.failed(&error);
                    continue;
                }
            };
            self.succeeded();
            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                self.refuse(stream);
                continue;
            };
            if let Some(refused) = self.refusing.take() {
                tracing::info!(
                    listener = %self.name,
                    refused,
                    "below the connection cap again; accepting"
                );
            }
            self.metrics.open.inc();
            return (
                stream,
                peer,
                Slot {
                    _permit: permit,
                    open: self.metrics.open.clone(),
                },
            );
        }
    }

    fn refuse(&mut self, stream: TcpStream) {
        self.metrics.refused.inc();
        // A reset rather than a graceful close: the refused connection's state is gone at
        // once, and the client learns at once that it was not served.
        let _ = stream.set_zero_linger();
        drop(stream);
        match &mut self.refusing {
            Some(refused) => *refused += 1,
            None => {
                self.refusing = Some(1);
                tracing::warn!(
                    listener = %self.name,
                    max_connections = self.max_connections,
                    "connection cap reached; closing new connections until one ends"
                );
            }
        }
    }

    fn failed(&mut self, error: &io::Error) {
        // A connection that went away before it was accepted concerns that connection only.
        if matches!(
            error.kind(),
            io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionRefused
                | io::ErrorKind::Interrupted
        ) {
            return;
        }
        self.metrics.accept_errors.inc();
        if self.pause.is_none() {
            tracing::warn!(
                listener = %self.name,
                error = %meshcd_support::error_chain(&error),
                "accept failed; backing off until it succeeds again"
            );
        }
        self.pause = Some(self.backoff.next_delay());
    }

    fn succeeded(&mut self) {
        self.backoff.reset();
        if self.pause.take().is_some() {
            tracing::info!(listener = %self.name, "accepting again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn acceptor(max_connections: usize) -> (Acceptor, std::net::SocketAddr, Metrics) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let metrics = Metrics::new();
        (
            Acceptor::new(listener, "test", max_connections, &metrics),
            address,
            metrics,
        )
    }

    #[tokio::test]
    async fn connections_past_the_cap_are_closed_and_counted_until_a_slot_frees() {
        let (mut acceptor, address, metrics) = acceptor(2).await;
        let _first = TcpStream::connect(address).await.unwrap();
        let _second = TcpStream::connect(address).await.unwrap();
        let (_, _, slot_one) = acceptor.accept().await;
        let (_, _, slot_two) = acceptor.accept().await;
        assert_eq!(acceptor.metrics.open.get(), 2);

        let mut third = TcpStream::connect(address).await.unwrap();
        let mut fourth = TcpStream::connect(address).await.unwrap();
        let mut byte = [0u8; 1];
        for refused in [&mut third, &mut fourth] {
            tokio::select! {
                _ = acceptor.accept() => panic!("accepted past the cap"),
                read = refused.read(&mut byte) => assert!(matches!(read, Ok(0) | Err(_))),
            }
        }
        drop(slot_one);
        let _fifth = TcpStream::connect(address).await.unwrap();
        let (_, _, _slot_five) = acceptor.accept().await;
        assert_eq!(acceptor.metrics.refused.get(), 2);
        assert_eq!(acceptor.metrics.open.get(), 2);
        drop(slot_two);
        assert_eq!(acceptor.metrics.open.get(), 1);
        let text = metrics.encode();
        assert!(
            text.contains("meshcd_proxy_connections_refused_total{listener=\"test\"} 2"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn errors_back_off_from_5_ms_doubling_to_a_second_and_success_resets() {
        let (mut acceptor, _, _) = acceptor(1).await;
        let exhausted = io::Error::from_raw_os_error(24); // EMFILE
        let mut pauses = Vec::new();
        for _ in 0..10 {
            acceptor.failed(&exhausted);
            pauses.push(acceptor.pause.unwrap().as_millis());
        }
        assert_eq!(pauses, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        assert_eq!(acceptor.metrics.accept_errors.get(), 10);
        acceptor.failed(&io::Error::from(io::ErrorKind::ConnectionAborted));
        assert_eq!(
            acceptor.metrics.accept_errors.get(),
            10,
            "not an exhaustion"
        );
        acceptor.succeeded();
        assert_eq!(acceptor.pause, None);
        acceptor.failed(&exhausted);
        assert_eq!(acceptor.pause, Some(FIRST_PAUSE));
    }
}
