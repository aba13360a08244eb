//! Accepting connections on the reconciler's listeners: a cap on the connections each
//! one holds, and a growing pause when accepting fails instead of a busy loop.
//!
//! Out of file descriptors (EMFILE, ENFILE) or kernel memory (ENOBUFS, ENOMEM), `accept`
//! fails at once every time it is called until a connection closes: retrying at once spins
//! a core and floods the log. Pausing 5 ms, doubling to 1 s, resetting on the next
//! success, is what Go's net/http and hyper's examples do. Past the cap, a new connection
//! is accepted and closed at once (counted, logged once per episode), so established
//! clients keep their connections and the backlog never fills with clients left hanging.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use meshcd_support::Backoff;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The first pause after a failed accept; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// The default of `meshcd run --max-connections`: far above what a mesh's proxies and
/// operators open, far below the default 1,024-descriptor soft limit's exhaustion.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1000;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListenerLabels {
    listener: &'static str,
}

/// `meshcd_listener_connections_refused_total{listener}`; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct ListenerMetrics {
    refused: Family<ListenerLabels, Counter>,
}

impl ListenerMetrics {
    /// Registers the family; `listeners` are shown from the start, at zero.
    pub fn register(
        &self,
        registry: &mut prometheus_client::registry::Registry,
        listeners: &[&'static str],
    ) {
        for &listener in listeners {
            self.refused
                .get_or_create_owned(&ListenerLabels { listener });
        }
        registry.register(
            "meshcd_listener_connections_refused",
            "Connections closed at once because their listener held its maximum",
            self.refused.clone(),
        );
    }

    fn refused(&self, listener: &'static str) {
        self.refused
            .get_or_create(&ListenerLabels { listener })
            .inc();
    }
}

/// What every listener of one process shares: the cap (`--max-connections`) and the
/// metric.
#[derive(Clone, Debug)]
pub struct Caps {
    pub max_connections: usize,
    pub metrics: ListenerMetrics,
}

impl Caps {
    /// `name` labels the metric and log lines (`admin`, `control-plane`, `webhook`).
    pub fn acceptor(&self, listener: TcpListener, name: &'static str) -> Acceptor {
        Acceptor::new(listener, name, self.max_connections, self.metrics.clone())
    }
}

/// The pause before the next accept after failed ones in a row.
const BACKOFF: Backoff = Backoff::new(FIRST_BACKOFF, MAX_BACKOFF);

/// Errors about one connection that died in the backlog: the next accept is fine.
fn is_per_connection(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | Interrupted
    )
}

/// A run of trouble (failed accepts, or refusals at the cap), logged once. It ends only
/// after [`QUIET`] without trouble: a descriptor or slot freed now and then lets one
/// accept through, which must not start a new episode, and a new log line, each time.
#[derive(Debug, Default)]
struct Episode {
    /// Occurrences so far and the last one's time; `None` outside an episode.
    current: Option<(u64, Instant)>,
}

/// How long a listener must go without trouble for an episode to end.
const QUIET: Duration = Duration::from_secs(1);

impl Episode {
    /// Records one occurrence; true when it starts an episode (time to log).
    fn occurred(&mut self, now: Instant) -> bool {
        let (count, _) = self.current.unwrap_or((0, now));
        self.current = Some((count + 1, now));
        count == 0
    }

    /// After a success: the count of the episode this ends, once it has been quiet.
    fn ended(&mut self, now: Instant) -> Option<u64> {
        let (count, last) = self.current?;
        if now.saturating_duration_since(last) < QUIET {
            return None;
        }
        self.current = None;
        Some(count)
    }
}

/// A listener with a connection cap.
pub struct Acceptor {
    listener: TcpListener,
    name: &'static str,
    slots: Arc<Semaphore>,
    max: usize,
    metrics: ListenerMetrics,
    /// Failed accepts in a row (the pause grows with them); 0 after a success.
    failures: u32,
    failing: Episode,
    capped: Episode,
}

impl Acceptor {
    /// `name` labels the metric and log lines (`admin`, `control-plane`, `webhook`).
    pub fn new(
        listener: TcpListener,
        name: &'static str,
        max: usize,
        metrics: ListenerMetrics,
    ) -> Acceptor {
        Acceptor {
            listener,
            name,
            slots: Arc::new(Semaphore::new(max)),
            max,
            metrics,
            failures: 0,
            failing: Episode::default(),
            capped: Episode::default(),
        }
    }

    /// The next connection within the cap; it holds its slot until dropped.
    pub async fn accept(&mut self) -> Capped {
        let name = self.name;
        loop {
            match self.listener.accept().await {
                Ok((stream, peer)) => {
                    self.failures = 0;
                    if let Some(failures) = self.failing.ended(Instant::now()) {
                        tracing::info!(listener = name, failures, "accepting connections again");
                    }
                    match self.slots.clone().try_acquire_owned() {
                        Ok(slot) => {
                            if let Some(refused) = self.capped.ended(Instant::now()) {
                                tracing::info!(
                                    listener = name,
                                    refused,
                                    "below the connection cap again"
                                );
                            }
                            return Capped {
                                stream,
                                peer,
                                _slot: slot,
                            };
                        }
                        Err(_) => {
                            self.metrics.refused(name);
                            if self.capped.occurred(Instant::now()) {
                                tracing::warn!(
                                    listener = name,
                                    max_connections = self.max,
                                    "connection cap reached: closing new connections until some close (--max-connections)"
                                );
                            }
                            drop(stream);
                        }
                    }
                }
                Err(error) if is_per_connection(&error) => {}
                Err(error) => {
                    self.failures = self.failures.saturating_add(1);
                    if self.failing.occurred(Instant::now()) {
                        tracing::warn!(listener = name, %error, "accepting a connection failed; pausing accepts, up to {MAX_BACKOFF:?} at a time, until it works again");
                    }
                    tokio::time::sleep(BACKOFF.delay_after(self.failures)).await;
                }
            }
        }
    }

    /// Accepted connections as a stream that never ends and never fails, for servers
    /// that take one (tonic).
    pub fn into_stream(
        self,
    ) -> impl futures_util::Stream<Item = Result<Capped, std::io::Error>> + Send + 'static {
        futures_util::stream::unfold(self, |mut acceptor| async move {
            let connection = acceptor.accept().await;
            Some((Ok(connection), acceptor))
        })
    }
}

/// An accepted connection holding one of its listener's slots.
pub struct Capped {
    stream: TcpStream,
    peer: SocketAddr,
    _slot: OwnedSemaphorePermit,
}

impl Capped {
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }
}

impl AsyncRead for Capped {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Capped {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// tonic asks its connections who is on the other end.
impl tonic::transport::server::Connected for Capped {
    type ConnectInfo = tonic::transport::server::TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream.connect_info()
    }
}

#[cfg(test)]
#[path = "accept_tests.rs"]
mod tests;
