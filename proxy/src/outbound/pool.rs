//! Connections to peer proxies: the one pooled HTTP/2 connection per endpoint (kept in
//! the endpoint's handle, so it lives as long as some snapshot lists the endpoint), and
//! dedicated streams for upgrades and TCP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use hyper::client::conn::http2::{self, SendRequest};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::metrics::Metrics;
use crate::tls::TlsStore;
use crate::tls::spiffe::{self, IdentityError};
use crate::upstream::UpstreamBody;
use crate::upstream::endpoint::{Endpoint, Pooled};

/// HTTP/2 settings of the pooled connections: large windows so one connection carries
/// a busy endpoint's traffic, pings so a dead peer is noticed without a request.
const STREAM_WINDOW: u32 = 4 << 20;
const CONNECTION_WINDOW: u32 = 16 << 20;
const MAX_HEADER_LIST: u32 = 64 << 10;
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectError {
    #[error("connect to {address}: {message}")]
    Tcp { address: Arc<str>, message: String },
    #[error("connect to {address}: no answer within {timeout:?}")]
    Timeout {
        address: Arc<str>,
        timeout: Duration,
    },
    #[error("TLS handshake with {address}: {message}")]
    Tls { address: Arc<str>, message: String },
    #[error("{address}")]
    Identity {
        address: Arc<str>,
        source: IdentityError,
    },
    #[error("HTTP/2 handshake with {address}: {message}")]
    Http2 { address: Arc<str>, message: String },
    #[error("connect to {address}: {message} (attempt made by a concurrent request)")]
    Shared {
        address: Arc<str>,
        message: Arc<str>,
    },
}

/// Which kind of connection to open (the ALPN, see `hop`).
#[derive(Debug, Clone, Copy)]
pub enum Alpn {
    Http1,
    Tcp,
}

pub struct Pool {
    tls: Arc<TlsStore>,
    metrics: Arc<Metrics>,
}

impl Pool {
    pub fn new(tls: Arc<TlsStore>, metrics: Arc<Metrics>) -> Self {
        Self { tls, metrics }
    }

    /// The endpoint's pooled HTTP/2 connection, opened if there is none. Under a
    /// `max_per_connection`, a connection leaves the pool with its last call (it closes
    /// once that call is done) and the next call opens another.
    pub async fn http(
        &self,
        endpoint: &Endpoint,
        timeout: Duration,
        max_per_connection: Option<u32>,
    ) -> Result<SendRequest<UpstreamBody>, ConnectError> {
        if let Some(sender) = live(endpoint, max_per_connection) {
            return Ok(sender);
        }
        let seen = endpoint.connect_generation.load(Ordering::Acquire);
        let mut last_error = endpoint.connecting.lock().await;
        if let Some(sender) = live(endpoint, max_per_connection) {
            return Ok(sender);
        }
        if endpoint.connect_generation.load(Ordering::Acquire) != seen
            && let Some(message) = &*last_error
        {
            return Err(ConnectError::Shared {
                address: endpoint.address.clone(),
                message: message.clone(),
            });
        }
        endpoint.connect_generation.fetch_add(1, Ordering::AcqRel);
        match self.open_http2(endpoint, timeout).await {
            Ok(sender) => {
                *last_error = None;
                // This call is the connection's first.
                if max_per_connection.is_none_or(|max| max > 1) {
                    endpoint.connection.store(Some(Arc::new(Pooled {
                        sender: sender.clone(),
                        sent: AtomicU32::new(1),
                    })));
                }
                Ok(sender)
            }
            Err(error) => {
                *last_error = Some(meshcd_support::error_chain(&error).into());
                Err(error)
            }
        }
    }

    async fn open_http2(
        &self,
        endpoint: &Endpoint,
        timeout: Duration,
    ) -> Result<SendRequest<UpstreamBody>, ConnectError> {
        let config = self.tls.current().client_http2.clone();
        let stream = self.open_tls(endpoint, config, timeout).await?;
        let handshake = http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .initial_stream_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .max_header_list_size(MAX_HEADER_LIST)
            .keep_alive_interval(KEEP_ALIVE_INTERVAL)
            .keep_alive_timeout(KEEP_ALIVE_TIMEOUT)
            .handshake(TokioIo::new(stream));
        let (sender, connection) = tokio::time::timeout(timeout, handshake)
            .await
            .map_err(|_| ConnectError::Timeout {
                address: endpoint.address.clone(),
                timeout,
            })?
            .map_err(|error| ConnectError::Http2 {
                address: endpoint.address.clone(),
                message: meshcd_support::error_chain(&error),
            })?;
        let metrics = self.metrics.clone();
        let address = endpoint.address.clone();
        metrics.upstream_open.inc();
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(endpoint = %address, error = %meshcd_support::error_chain(&error), "pooled connection closed");
            }
            metrics.upstream_open.dec();
        });
        Ok(sender)
    }

    /// A dedicated mTLS stream to the endpoint (upgrades, TCP). The returned guard keeps
    /// the open-connections gauge right for as long as the stream lives.
    pub async fn stream(
        &self,
        endpoint: &Endpoint,
        alpn: Alpn,
        timeout: Duration,
    ) -> Result<UpstreamStream, ConnectError> {
        let material = self.tls.current();
        let config = match alpn {
            Alpn::Http1 => material.client_http1.clone(),
            Alpn::Tcp => material.client_tcp.clone(),
        };
        let stream = self.open_tls(endpoint, config, timeout).await?;
        Ok(UpstreamStream {
            stream,
            _open: OpenGuard::new(self.metrics.clone()),
        })
    }

    async fn open_tls(
        &self,
        endpoint: &Endpoint,
        config: Arc<ClientConfig>,
        timeout: Duration,
    ) -> Result<TlsStream<TcpStream>, ConnectError> {
        let result = tokio::time::timeout(timeout, connect_tls(endpoint, config)).await;
        let result = result.unwrap_or_else(|_| {
            Err(ConnectError::Timeout {
                address: endpoint.address.clone(),
                timeout,
            })
        });
        self.metrics.upstream_connect(result.is_ok());
        result
    }
}

fn live(endpoint: &Endpoint, max_per_connection: Option<u32>) -> Option<SendRequest<UpstreamBody>> {
    let guard = endpoint.connection.load();
    let pooled = guard.as_ref()?;
    if pooled.sender.is_closed() {
        return None;
    }
    if let Some(max) = max_per_connection {
        let sent = pooled.sent.fetch_add(1, Ordering::Relaxed) + 1;
        if sent > max {
            return None;
        }
        if sent == max {
            endpoint.connection.compare_and_swap(&*guard, None);
        }
    }
    Some(SendRequest::clone(&pooled.sender))
}

async fn connect_tls(
    endpoint: &Endpoint,
    config: Arc<ClientConfig>,
) -> Result<TlsStream<TcpStream>, ConnectError> {
    let address = &endpoint.address;
    let tcp = TcpStream::connect(&**address)
        .await
        .map_err(|error| ConnectError::Tcp {
            address: address.clone(),
            message: meshcd_support::error_chain(&error),
        })?;
    let _ = tcp.set_nodelay(true);
    // Peers are verified by SPIFFE identity, not by name; the name only has to be valid.
    let server_name = match address.parse::<SocketAddr>() {
        Ok(socket) => ServerName::IpAddress(socket.ip().into()),
        Err(_) => address
            .rsplit_once(':')
            .and_then(|(host, _)| ServerName::try_from(host.to_owned()).ok())
            .unwrap_or_else(|| ServerName::try_from("meshcd.invalid").expect("valid DNS name")),
    };
    let stream = TlsConnector::from(config)
        .connect(server_name, tcp)
        .await
        .map_err(|error| ConnectError::Tls {
            address: address.clone(),
            message: meshcd_support::error_chain(&error),
        })?;
    spiffe::expect_identity(stream.get_ref().1.peer_certificates(), &endpoint.identity).map_err(
        |source| ConnectError::Identity {
            address: address.clone(),
            source,
        },
    )?;
    Ok(stream)
}

/// Counts an open upstream stream in the gauge until dropped.
struct OpenGuard(Arc<Metrics>);

impl OpenGuard {
    fn new(metrics: Arc<Metrics>) -> Self {
        metrics.upstream_open.inc();
        Self(metrics)
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.upstream_open.dec();
    }
}

/// A dedicated mTLS stream to a peer proxy.
pub struct UpstreamStream {
    pub stream: TlsStream<TcpStream>,
    _open: OpenGuard,
}

impl tokio::io::AsyncRead for UpstreamStream {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for UpstreamStream {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
