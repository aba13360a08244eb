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
    let mut filled = 0;
    let read = async {
        loop {
            if let Some(end) = buffer[..filled].iter().position(|&b| b == b'\n') {
                return Some(end);
            }
            if filled == buffer.len() {
                return None;
            }
            match stream.read(&mut buffer[filled..]).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => filled += n,
            }
        }
    };
    let Ok(Some(_)) = tokio::time::timeout(PREAMBLE_TIMEOUT, read).await else {
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
    let timeout = snapshot.connect_timeout(inbound.connect_timeout);
    let mut app_stream = match tokio::time::timeout(timeout, TcpStream::connect(&*app.app_address))
        .await
    {
        Ok(Ok(app_stream)) => app_stream,
        Ok(Err(error)) => {
            tracing::warn!(app = %app.app_address, error = %meshcd_support::error_chain(&error), "TCP app unavailable");
            return;
        }
        Err(_) => {
            tracing::warn!(app = %app.app_address, "TCP app did not answer in time");
            return;
        }
    };
    let _ = app_stream.set_nodelay(true);
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
