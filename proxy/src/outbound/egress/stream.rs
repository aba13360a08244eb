//! Streams out of the mesh: CONNECT tunnels (explicit-proxy callers, `CONNECT host:443`)
//! and connections redirected to the outbound listener whose original destination is
//! no meshed address. A `tcp` Egress port passes bytes through; an `https` one first
//! reads the TLS ClientHello and lets the stream through only when its server name is
//! among the Egress's hosts. A refused stream is closed, with a log line and a metric.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::sni::read_server_name;
use super::{EgressClient, count};
use crate::http::respond::{self, ResponseBody};
use crate::metrics::Metrics;
use crate::snapshot::Snapshot;
use crate::snapshot::egress::{Destination, EgressProtocol, StreamVerdict};
use meshcd_support::error_chain;

/// How long a redirected connection may stay silent before it is judged not to be HTTP.
const FIRST_BYTES_TIMEOUT: Duration = Duration::from_secs(1);

/// A CONNECT to `host:port` outside the mesh: 403 when no Egress (nor the Mesh's
/// default) allows a stream there, 502 when it cannot be reached, else 200 and the tunnel.
pub async fn connect(
    client: Arc<EgressClient>,
    (snapshot, metrics): (Arc<Snapshot>, Arc<Metrics>),
    (host, port): (String, u16),
    mut request: Request<Incoming>,
) -> Response<ResponseBody> {
    let ip = host.parse::<IpAddr>().ok();
    let destination = Destination {
        host: Some(&host),
        ip,
        port,
    };
    let verdict = match snapshot.egress.stream(&destination) {
        Ok(verdict) => verdict,
        Err(denied) => {
            count(&metrics, denied.protocol, &Err(denied.clone()));
            return respond::text(StatusCode::FORBIDDEN, denied.to_string());
        }
    };
    let upstream = match open(&client, &host, port).await {
        Ok(upstream) => upstream,
        Err(error) => {
            return respond::text(
                StatusCode::BAD_GATEWAY,
                format!("egress to {host}:{port}: {error}"),
            );
        }
    };
    let upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else {
            return;
        };
        let tunnel = TokioIo::new(upgraded);
        let destination = Destination {
            host: Some(&host),
            ip,
            port,
        };
        pass(
            tunnel,
            upstream,
            &snapshot,
            &metrics,
            (&destination, verdict),
        )
        .await;
    });
    let mut response = Response::new(http_body_util::Either::Right(
        http_body_util::Full::default(),
    ));
    *response.status_mut() = StatusCode::OK;
    response
}

/// What to do with a redirected connection to `original`, no meshed address.
pub enum Redirected {
    /// Handled here (passed through or closed).
    Done,
    /// Serve it as HTTP: each request is judged on its Host (`egress::forward`).
    Http(TcpStream),
}

/// A redirected connection out of the mesh: passed through to `original` by a `tcp`
/// Egress port (or the Mesh's default); by an `https` one, to the host its ClientHello
/// names. When no stream is allowed, a client that speaks HTTP is served as HTTP (to
/// get its 403, or the Egress that allows its Host), any other is closed.
pub async fn transparent(
    client: &EgressClient,
    (snapshot, metrics): (&Snapshot, &Metrics),
    stream: TcpStream,
    original: SocketAddr,
) -> Redirected {
    let destination = Destination {
        host: None,
        ip: Some(original.ip()),
        port: original.port(),
    };
    match snapshot.egress.stream(&destination) {
        Ok(StreamVerdict::Pass(policy)) => {
            count(metrics, EgressProtocol::Tcp, &Ok(policy));
            match connect_to(client, original).await {
                Ok(upstream) => splice(stream, upstream, &[]).await,
                Err(error) => {
                    tracing::info!(%original, error = %error_chain(&error), "egress stream not connected")
                }
            }
            Redirected::Done
        }
        Ok(StreamVerdict::Tls) => {
            tls_to_named_host(client, (snapshot, metrics), stream, original).await;
            Redirected::Done
        }
        Err(denied) => {
            if speaks_http(&stream).await {
                return Redirected::Http(stream);
            }
            count(metrics, denied.protocol, &Err(denied));
            Redirected::Done
        }
    }
}

/// A redirected TLS stream goes to the host its ClientHello names, as resolved here (to
/// `original` only when an address range allowed it without a name).
async fn tls_to_named_host(
    client: &EgressClient,
    (snapshot, metrics): (&Snapshot, &Metrics),
    mut stream: TcpStream,
    original: SocketAddr,
) {
    let destination = &Destination {
        host: None,
        ip: Some(original.ip()),
        port: original.port(),
    };
    let Some((sni, hello)) = allowed_hello(&mut stream, (snapshot, metrics), destination).await
    else {
        return;
    };
    let upstream = match sni {
        Some(name) => open(client, &name, destination.port).await,
        None => connect_to(client, original).await,
    };
    match upstream {
        Ok(upstream) => splice(stream, upstream, &hello).await,
        Err(error) => {
            tracing::info!(destination = %destination, error = %error_chain(&error), "egress stream not connected")
        }
    }
}

/// A tunnel's bytes: straight through, or once its ClientHello passes.
async fn pass<C: AsyncRead + AsyncWrite + Unpin>(
    mut tunnel: C,
    upstream: TcpStream,
    snapshot: &Snapshot,
    metrics: &Metrics,
    (destination, verdict): (&Destination<'_>, StreamVerdict),
) {
    match verdict {
        StreamVerdict::Pass(policy) => {
            count(metrics, EgressProtocol::Tcp, &Ok(policy));
            splice(tunnel, upstream, &[]).await;
        }
        StreamVerdict::Tls => {
            let shared = (snapshot, metrics);
            if let Some((_, hello)) = allowed_hello(&mut tunnel, shared, destination).await {
                splice(tunnel, upstream, &hello).await;
            }
        }
    }
}

/// The ClientHello of a TLS stream to `destination`, when its server name is allowed:
/// the name and the bytes read. A refusal is counted and logged.
async fn allowed_hello<C: AsyncRead + Unpin>(
    stream: &mut C,
    (snapshot, metrics): (&Snapshot, &Metrics),
    destination: &Destination<'_>,
) -> Option<(Option<String>, Vec<u8>)> {
    let (sni, hello) = match read_server_name(stream).await {
        Ok(read) => read,
        Err(error) => {
            tracing::info!(destination = %destination, error = %error_chain(&error), "egress stream closed: no TLS ClientHello");
            return None;
        }
    };
    let decision = snapshot.egress.tls(destination, sni.as_deref());
    count(metrics, EgressProtocol::Https, &decision);
    decision.ok().map(|_| (sni, hello))
}

/// Copies both ways until either side closes; `first` is sent upstream before anything.
async fn splice<C: AsyncRead + AsyncWrite + Unpin>(
    mut client: C,
    mut upstream: TcpStream,
    first: &[u8],
) {
    if !first.is_empty() && upstream.write_all(first).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// A connection to `host:port`, resolved here, first address that answers.
async fn open(client: &EgressClient, host: &str, port: u16) -> Result<TcpStream, std::io::Error> {
    let addresses = client
        .resolver
        .resolve(host)
        .await
        .map_err(|error| std::io::Error::other(error_chain(&error)))?;
    let mut last = std::io::Error::other(format!("{host} has no address"));
    for ip in addresses {
        match connect_to(client, SocketAddr::new(ip, port)).await {
            Ok(stream) => return Ok(stream),
            Err(error) => last = error,
        }
    }
    Err(last)
}

async fn connect_to(
    client: &EgressClient,
    address: SocketAddr,
) -> Result<TcpStream, std::io::Error> {
    let stream = tokio::time::timeout(client.connect_timeout, TcpStream::connect(address))
        .await
        .map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("connecting to {address}"),
            )
        })??;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Whether the client's first bytes look like an HTTP/1 request line (a method token
/// and a space) or the HTTP/2 preface; silence for a second is not HTTP.
async fn speaks_http(stream: &TcpStream) -> bool {
    let mut head = [0u8; 16];
    let Ok(Ok(n)) = tokio::time::timeout(FIRST_BYTES_TIMEOUT, stream.peek(&mut head)).await else {
        return false;
    };
    let head = &head[..n];
    let method_len = head.iter().take_while(|b| b.is_ascii_uppercase()).count();
    (method_len > 0 && head.get(method_len) == Some(&b' ')) || head.starts_with(b"PRI * HTTP/2")
}
