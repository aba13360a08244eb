//! The inbound listener: tells TLS from plaintext by the first byte, completes the mTLS
//! handshake (client certificate required and chained to the mesh CA), reads the
//! caller's SPIFFE identity from the verified leaf, and hands the connection to HTTP or
//! TCP by ALPN. Plaintext is served in permissive mTLS mode, and under strict mTLS to the
//! addresses an IngressBackend names.

use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::authorize::UNAUTHENTICATED;
use super::{Inbound, Peer, caller, forward, tcp};
use crate::accept::{Acceptor, Slot};
use crate::http::header_timeout;
use crate::http::hop;
use crate::http::linger::Linger;
use crate::outbound::listener::{HEADER_READ_TIMEOUT, server_builder};
use crate::shutdown::Drain;
use crate::snapshot::MtlsMode;
use crate::tls::spiffe;

/// Time allowed for the first byte and the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The first byte of a TLS record carrying a handshake (the ClientHello).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

pub async fn serve(mut acceptor: Acceptor, inbound: Arc<Inbound>, mut drain: Drain) {
    let builder = Arc::new(server_builder());
    loop {
        let (stream, peer, slot) = tokio::select! {
            accepted = acceptor.accept() => accepted,
            () = drain.signaled() => return,
        };
        tokio::spawn(connection(
            stream,
            peer,
            slot,
            inbound.clone(),
            builder.clone(),
            drain.clone(),
        ));
    }
}

/// Serves one connection; `slot` keeps its place under the listener's cap until it ends.
async fn connection(
    stream: TcpStream,
    peer_address: std::net::SocketAddr,
    slot: Slot,
    inbound: Arc<Inbound>,
    builder: Arc<auto::Builder<TokioExecutor>>,
    drain: Drain,
) {
    let _ = stream.set_nodelay(true);
    let mut first = [0u8; 1];
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.peek(&mut first)).await {
        Ok(Ok(1)) => {}
        _ => return,
    }
    if first[0] != TLS_HANDSHAKE_RECORD {
        // Plaintext: every client in permissive mTLS; under strict mTLS only one whose
        // address an IngressBackend names (each request is checked again against them).
        let snapshot = inbound.snapshots.current();
        let permissive = snapshot
            .as_ref()
            .is_some_and(|snapshot| snapshot.mesh.mtls == MtlsMode::Permissive);
        let ingress = snapshot
            .as_ref()
            .is_some_and(|snapshot| snapshot.workload.lets_in(peer_address.ip()));
        drop(snapshot);
        if !permissive && !ingress {
            tracing::info!(peer = ?peer_address, "plaintext connection refused: mTLS is strict and no IngressBackend lets this address in");
            return;
        }
        let peer = Peer {
            identity: UNAUTHENTICATED.into(),
            plaintext: Some(peer_address.ip()),
        };
        let linger = Linger::new(&stream);
        let io = TokioIo::new(stream);
        serve_http(io, slot, inbound, builder, peer, drain, linger).await;
        return;
    }

    let acceptor = TlsAcceptor::from(inbound.tls.current().server.clone());
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            inbound.metrics.handshake_failures.inc();
            tracing::info!(peer = ?peer_address, error = %meshcd_support::error_chain(&error), "inbound TLS handshake failed");
            return;
        }
        Err(_) => {
            inbound.metrics.handshake_failures.inc();
            tracing::info!(peer = ?peer_address, "inbound TLS handshake timed out");
            return;
        }
    };
    let (_, session) = stream.get_ref();
    let identity = session
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|leaf| spiffe::identity_of(leaf));
    let Some(identity) = identity else {
        inbound.metrics.handshake_failures.inc();
        tracing::info!(peer = ?peer_address, "peer certificate carries no SPIFFE identity");
        return;
    };
    let peer = Peer {
        identity: identity.into(),
        plaintext: None,
    };
    if session.alpn_protocol() == Some(hop::ALPN_TCP) {
        tcp::serve(inbound, stream, peer).await;
        drop(slot);
    } else {
        serve_http(
            TokioIo::new(stream),
            slot,
            inbound,
            builder,
            peer,
            drain,
            None,
        )
        .await;
    }
}

async fn serve_http<IO>(
    io: TokioIo<IO>,
    slot: Slot,
    inbound: Arc<Inbound>,
    builder: Arc<auto::Builder<TokioExecutor>>,
    peer: Peer,
    drain: Drain,
    plaintext: Option<Linger>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let builder = header_timeout::for_connection(&builder, HEADER_READ_TIMEOUT);
    let caller = caller::Caller::new(peer, slot);
    let service =
        service_fn(move |request| forward::handle(inbound.clone(), caller.clone(), request));
    let connection = builder.serve_connection_with_upgrades(io, service);
    if let Err(error) = drain.watch(connection).await {
        tracing::debug!(error = %meshcd_support::error_chain(&*error), "inbound connection ended with an error");
        if let Some(linger) = plaintext {
            linger.linger().await;
        }
    }
}
