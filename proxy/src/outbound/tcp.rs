//! TCP services: one local listener per TCP service port (the app connects to it as it
//! would to the service), streams split per connection and balanced like requests,
//! each carried to the peer proxy on its own mTLS connection (see `hop`).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::OwnedSemaphorePermit;
use tokio::task::JoinHandle;

use super::error::ForwardError;
use super::pool::{Alpn, UpstreamStream};
use super::send::{Upstream, fail};
use super::{Outbound, balance};
use crate::accept::{Acceptor, Slot};
use crate::http::access_log::TcpEntry;
use crate::http::hop;
use crate::http::respond::{self, ResponseBody};
use crate::metrics::{Direction, TcpLabels};
use crate::shutdown::Drain;
use crate::snapshot::{Backend, Protocol, Service, Snapshot, parse_authority};
use crate::upstream::endpoint::Endpoint;

/// The local listeners of TCP service ports, kept in step with the snapshot.
pub struct TcpListeners {
    outbound: Arc<Outbound>,
    host: IpAddr,
    max_connections: usize,
    drain: Drain,
    bound: Mutex<BTreeMap<String, Bound>>,
}

struct Bound {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Bound {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TcpListeners {
    pub fn new(
        outbound: Arc<Outbound>,
        host: IpAddr,
        max_connections: usize,
        drain: Drain,
    ) -> Self {
        Self {
            outbound,
            host,
            max_connections,
            drain,
            bound: Mutex::new(BTreeMap::new()),
        }
    }

    /// Binds listeners for new TCP service ports and closes those of ports that left
    /// (streams in progress go on). Returns whether a listener was added.
    pub fn sync(&self, snapshot: &Snapshot) -> bool {
        let mut bound = self.bound.lock().unwrap_or_else(|e| e.into_inner());
        let mut wanted = BTreeMap::new();
        for (service, port) in snapshot.tcp_ports() {
            wanted.insert(
                format!("{}:{}", service.name, port.port),
                (service.name.clone(), port),
            );
        }
        bound.retain(|key, _| wanted.contains_key(key));
        let mut added = false;
        for (key, (service, port)) in wanted {
            if bound.contains_key(&key) {
                continue;
            }
            let address = SocketAddr::new(self.host, port.local_port);
            match bind(address) {
                Ok(listener) => {
                    let address = listener.local_addr().unwrap_or(address);
                    tracing::info!(service = %key, %address, "TCP listener bound");
                    let acceptor = Acceptor::new(
                        listener,
                        format!("tcp {key}"),
                        self.max_connections,
                        &self.outbound.metrics,
                    );
                    let task = tokio::spawn(accept(
                        acceptor,
                        self.outbound.clone(),
                        service,
                        port.port,
                        self.drain.clone(),
                    ));
                    bound.insert(key, Bound { address, task });
                    added = true;
                }
                Err(error) => {
                    tracing::error!(service = %key, %address, error = %meshcd_support::error_chain(&error), "cannot bind TCP listener");
                }
            }
        }
        added
    }

    /// `service.namespace:port` → local address, for the announcements and `/config`.
    pub fn addresses(&self) -> BTreeMap<String, String> {
        let bound = self.bound.lock().unwrap_or_else(|e| e.into_inner());
        bound
            .iter()
            .map(|(key, bound)| (key.clone(), bound.address.to_string()))
            .collect()
    }

    /// Stops accepting on every TCP listener (shutdown).
    pub fn close(&self) {
        self.bound.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    let listener = std::net::TcpListener::bind(address)?;
    listener.set_nonblocking(true)?;
    TcpListener::from_std(listener)
}

async fn accept(
    mut acceptor: Acceptor,
    outbound: Arc<Outbound>,
    service: Arc<str>,
    port: u16,
    mut drain: Drain,
) {
    loop {
        let (stream, _, slot) = tokio::select! {
            accepted = acceptor.accept() => accepted,
            () = drain.signaled() => return,
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(forward(
            outbound.clone(),
            stream,
            service.clone(),
            port,
            slot,
        ));
    }
}

/// Carries one TCP connection of the app to the service's chosen backend; `_slot` keeps
/// its place under the listener's cap until it ends.
pub async fn forward<S>(
    outbound: Arc<Outbound>,
    client: S,
    service_name: Arc<str>,
    port: u16,
    _slot: Slot,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some(snapshot) = outbound.snapshots.current() else {
        return;
    };
    let Some(service) = snapshot.service_by_host(&service_name.to_ascii_lowercase()) else {
        tracing::info!(service = %service_name, "TCP service no longer meshed; closing");
        return;
    };
    let backend = match &service.split {
        Some(split) => &split.backends[split.weights.pick()],
        None => &service.own,
    };
    let labels = TcpLabels {
        direction: Direction::Outbound,
        source: snapshot.workload.identity.clone(),
        destination: service.name.clone(),
        backend: backend.service.clone(),
    };
    splice(
        &outbound,
        &snapshot,
        (service, backend),
        port,
        client,
        labels,
    )
    .await;
}

async fn splice<S>(
    outbound: &Outbound,
    snapshot: &Snapshot,
    (service, backend): (&Service, &Backend),
    port: u16,
    mut client: S,
    labels: TcpLabels,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let start = Instant::now();
    let (mut upstream, endpoint, _connection_slot) = match open(
        outbound,
        snapshot,
        (service, backend),
        port,
    )
    .await
    {
        Ok(connected) => connected,
        Err(error) => {
            tracing::info!(destination = %labels.destination, error = %meshcd_support::error_chain(&error), "TCP stream not connected");
            return;
        }
    };
    let _in_flight = endpoint.start();
    outbound.metrics.tcp_opened(&labels);
    let result = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    let (sent, received, outcome) = match &result {
        Ok((sent, received)) => (*sent, *received, "closed"),
        Err(_) => (0, 0, "error"),
    };
    outbound.metrics.tcp_closed(&labels, sent, received);
    if let Some(access_log) = outbound.access_log {
        access_log.write(&TcpEntry {
            direction: "outbound",
            source: &labels.source,
            destination: &labels.destination,
            backend: &labels.backend,
            bytes_to_destination: sent,
            bytes_from_destination: received,
            outcome,
            duration_ms: start.elapsed(),
        });
    }
}

/// A connection to `backend` under the destination's limits: its `maxConnections` slot
/// (held for the connection's life; none free: refused at once), then the stream.
async fn open(
    outbound: &Outbound,
    snapshot: &Snapshot,
    (service, backend): (&Service, &Backend),
    port: u16,
) -> Result<(UpstreamStream, Arc<Endpoint>, Option<OwnedSemaphorePermit>), ForwardError> {
    let limits = snapshot.client_policy(service, backend).limits;
    let slot = match limits.and_then(|l| Some((l, l.max_connections?))) {
        Some((limits, max)) => {
            let slot = outbound
                .breakers
                .slot(&backend.service, "maxConnections", max);
            if slot.is_none() {
                outbound.metrics.overflowed(&limits.name, "maxConnections");
                return Err(ForwardError::Overflow {
                    backend: backend.service.clone(),
                    setting: limits.name.clone(),
                    limit: "maxConnections",
                    max,
                });
            }
            slot
        }
        None => None,
    };
    let upstream = Upstream {
        connect_timeout: limits
            .and_then(|limits| limits.connect_timeout)
            .unwrap_or_else(|| snapshot.connect_timeout(outbound.connect_timeout)),
        limits,
        attempt_timeout: None,
    };
    let (stream, endpoint) = connect(outbound, backend, upstream, port).await?;
    Ok((stream, endpoint, slot))
}

/// Opens the stream and sends the preamble; a failed connection is retried once on
/// another endpoint (nothing has been sent yet).
async fn connect(
    outbound: &Outbound,
    backend: &Backend,
    upstream: Upstream<'_>,
    port: u16,
) -> Result<(UpstreamStream, Arc<Endpoint>), ForwardError> {
    let timeout = upstream.connect_timeout;
    let mut avoid: Option<Arc<Endpoint>> = None;
    let mut last_error = ForwardError::NoEndpoints {
        backend: backend.service.clone(),
    };
    for attempt in 0..2 {
        let Some(endpoint) = balance::choose(&backend.endpoints, avoid.as_deref()) else {
            break;
        };
        if attempt > 0 {
            outbound.metrics.retries.inc();
        }
        match outbound.pool.stream(endpoint, Alpn::Tcp, timeout).await {
            Ok(mut stream) => {
                let preamble = hop::tcp_preamble(&backend.service, port);
                match stream.write_all(&preamble).await {
                    Ok(()) => {
                        endpoint.succeeded();
                        return Ok((stream, endpoint.clone()));
                    }
                    Err(error) => {
                        last_error = ForwardError::Upstream {
                            backend: backend.service.clone(),
                            endpoint: endpoint.address.clone(),
                            message: meshcd_support::error_chain(&error),
                        };
                    }
                }
            }
            Err(source) => {
                last_error = ForwardError::Connect {
                    backend: backend.service.clone(),
                    source,
                };
            }
        }
        fail(outbound, backend, endpoint, upstream);
        avoid = Some(endpoint.clone());
    }
    Err(last_error)
}

/// `CONNECT service:port` on the explicit proxy, for a TCP service port: answers 200
/// once the peer is connected, then splices the tunnel to it.
pub async fn connect_tunnel(
    outbound: Arc<Outbound>,
    snapshot: Arc<Snapshot>,
    mut request: Request<Incoming>,
) -> Response<ResponseBody> {
    let authority = request.uri().authority().map(|a| a.as_str()).unwrap_or("");
    let found = parse_authority(authority).and_then(|parsed| {
        let service = snapshot.service_by_host(&parsed.host)?;
        let port = service.port(parsed.port?)?;
        (port.protocol == Protocol::Tcp).then_some((service, port.port))
    });
    let Some((service, port)) = found else {
        return respond::text(
            StatusCode::NOT_FOUND,
            format!("no meshed TCP service {authority:?}"),
        );
    };
    let backend = match &service.split {
        Some(split) => &split.backends[split.weights.pick()],
        None => &service.own,
    };
    let (upstream, endpoint, slot) =
        match open(&outbound, &snapshot, (service, backend), port).await {
            Ok(connected) => connected,
            Err(error) => return error.into_response(),
        };
    let labels = TcpLabels {
        direction: Direction::Outbound,
        source: snapshot.workload.identity.clone(),
        destination: service.name.clone(),
        backend: backend.service.clone(),
    };
    let client = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        let Ok(client) = client.await else {
            return;
        };
        let mut client = TokioIo::new(client);
        let mut upstream = upstream;
        let _slot = slot;
        let _in_flight = endpoint.start();
        outbound.metrics.tcp_opened(&labels);
        let (sent, received) = tokio::io::copy_bidirectional(&mut client, &mut upstream)
            .await
            .unwrap_or((0, 0));
        outbound.metrics.tcp_closed(&labels, sent, received);
    });
    let mut response = Response::new(http_body_util::Either::Right(
        http_body_util::Full::default(),
    ));
    *response.status_mut() = StatusCode::OK;
    response
}
