//! Inbound TCP streams: read the preamble that names the service port, authorize the
//! caller for a TCP stream to it, then splice the stream to the app.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use super::authorize::{self, Call, Decision};
use super::{Inbound, Peer};
use crate::http::access_log::TcpEntry;
use crate::http::hop;
use crate::metrics::{Direction, TcpLabels};
use crate::snapshot::Protocol;

/// Time allowed for the preamble to arrive.
const PREAMBLE_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn serve(inbound: Arc<Inbound>, mut stream: TlsStream<TcpStream>, peer: Peer) {
    let start = Instant::now();
    let mut buffer = [0u8; hop::MAX_PREAMBLE];
    let read = read_preamble(&mut stream, &mut buffer);
    let Ok(Some(filled)) = tokio::time::timeout(PREAMBLE_TIMEOUT, read).await else {
        tracing::info!(source = %peer.identity, "TCP stream without a valid preamble closed");
        return;
    };
    let Some((Some(destination), rest)) = hop::parse_tcp_preamble(&buffer[..filled]) else {
        tracing::info!(source = %peer.identity, "TCP stream with a malformed preamble closed");
        return;
    };
    let port = destination.port;
    let Some(snapshot) = inbound.snapshots.current() else {
        return;
    };
    let service: Arc<str> = snapshot
        .workload
        .services
        .iter()
        .find(|s| &***s == destination.service)
        .cloned()
        .unwrap_or_else(|| Arc::from(destination.service));
    let rest = rest.to_vec();
    let Some(app) = snapshot
        .inbound_port(port)
        .filter(|app| app.protocol == Protocol::Tcp)
    else {
        tracing::info!(source = %peer.identity, port, "TCP stream for a port with no TCP app closed");
        let _ = stream.shutdown().await;
        return;
    };
    if let Decision::Deny(denial) =
        authorize::authorize(&snapshot, &peer.identity, &Call::Tcp { port })
    {
        inbound.metrics.denied(&peer.identity, "tcp");
        tracing::info!(%denial, "inbound TCP stream denied");
        let _ = stream.shutdown().await;
        return;
    }
    if let Some(limit) = snapshot
        .workload
        .rate_limits_of(&service)
        .and_then(|limits| limits.tcp.as_ref())
        && inbound.rate_limiters.take(limit, Instant::now()).is_err()
    {
        inbound.metrics.rate_limited(&limit.setting);
        tracing::info!(source = %peer.identity, %service, setting = %limit.setting, "inbound TCP stream closed: over the rate limit");
        let _ = stream.shutdown().await;
        return;
    }
    let timeout = snapshot.connect_timeout(inbound.connect_timeout);
    let Some(mut app_stream) = connect_app(&app.app_address, timeout).await else {
        return;
    };
    let labels = TcpLabels {
        direction: Direction::Inbound,
        source: peer.identity.clone(),
        destination: service.clone(),
        backend: service,
    };
    inbound.metrics.tcp_opened(&labels);
    let result = async {
        app_stream.write_all(&rest).await?;
        let (sent, received) = tokio::io::copy_bidirectional(&mut stream, &mut app_stream).await?;
        Ok::<_, std::io::Error>((sent + rest.len() as u64, received))
    }
    .await;
    let (sent, received, outcome) = match result {
        Ok((sent, received)) => (sent, received, "closed"),
        Err(_) => (0, 0, "error"),
    };
    inbound.metrics.tcp_closed(&labels, sent, received);
    if let Some(access_log) = inbound.access_log {
        access_log.write(&TcpEntry {
            direction: "inbound",
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

/// Reads up to the end of the preamble's line; how many bytes were read (the app's first
/// bytes may follow it), or `None` when the stream ends or the buffer fills first.
async fn read_preamble(
    stream: &mut TlsStream<TcpStream>,
    buffer: &mut [u8; hop::MAX_PREAMBLE],
) -> Option<usize> {
    let mut filled = 0;
    loop {
        if buffer[..filled].contains(&b'\n') {
            return Some(filled);
        }
        if filled == buffer.len() {
            return None;
        }
        match stream.read(&mut buffer[filled..]).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => filled += n,
        }
    }
}

/// The app's TCP port, connected within `timeout`; `None` (said in the log) otherwise.
async fn connect_app(address: &str, timeout: Duration) -> Option<TcpStream> {
    match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            Some(stream)
        }
        Ok(Err(error)) => {
            tracing::warn!(app = %address, error = %meshcd_support::error_chain(&error), "TCP app unavailable");
            None
        }
        Err(_) => {
            tracing::warn!(app = %address, "TCP app did not answer in time");
            None
        }
    }
}
