//! The inbound listener: tells TLS from plaintext by the first byte, completes the mTLS
//! handshake (client certificate required and chained to the mesh CA), reads the
//! caller's SPIFFE identity from the verified leaf, and hands the connection to HTTP or
//! TCP by ALPN. Plaintext is served in permissive mTLS mode, and under strict mTLS to the
//! addresses an IngressBackend names; a verified certificate without a SPIFFE identity
//! only when it names one of an IngressBackend's AuthenticatedPrincipals.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::authorize::UNAUTHENTICATED;
use super::{Inbound, NonMesh, Peer, caller, forward, tcp};
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
    peer_address: SocketAddr,
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
        let Some(peer) = plaintext_peer(&inbound, peer_address) else {
            return;
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
    let Some(peer) = tls_peer(&inbound, session.peer_certificates(), peer_address) else {
        inbound.metrics.handshake_failures.inc();
        return;
    };
    if session.alpn_protocol() == Some(hop::ALPN_TCP) && peer.non_mesh.is_some() {
        // IngressBackends open HTTP ports only; the mesh's TCP hop is for mesh peers.
        tracing::info!(peer = ?peer_address, principal = %peer.identity, "TCP stream from an ingress principal refused");
        return;
    }
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

/// A plaintext caller: every client in permissive mTLS; under strict mTLS only one whose
/// address an IngressBackend names (each request is checked again against them).
fn plaintext_peer(inbound: &Inbound, peer_address: SocketAddr) -> Option<Peer> {
    let snapshot = inbound.snapshots.current();
    let permissive = snapshot
        .as_ref()
        .is_some_and(|snapshot| snapshot.mesh.mtls == MtlsMode::Permissive);
    let ingress = snapshot
        .as_ref()
        .is_some_and(|snapshot| snapshot.workload.lets_in(peer_address.ip()));
    if !permissive && !ingress {
        tracing::info!(peer = ?peer_address, "plaintext connection refused: mTLS is strict and no IngressBackend lets this address in");
        return None;
    }
    Some(Peer {
        identity: UNAUTHENTICATED.into(),
        non_mesh: Some(NonMesh::Plaintext(peer_address.ip())),
    })
}

/// The caller of a completed handshake (its chain verified against the mesh's roots): a
/// mesh peer by its SPIFFE identity, else an IngressBackend's principal; `None` (said in
/// the log) for anyone else.
fn tls_peer(
    inbound: &Inbound,
    chain: Option<&[rustls::pki_types::CertificateDer<'_>]>,
    peer_address: SocketAddr,
) -> Option<Peer> {
    let Some(leaf) = chain.and_then(|chain| chain.first()) else {
        tracing::info!(peer = ?peer_address, "peer presented no certificate");
        return None;
    };
    if let Some(identity) = spiffe::identity_of(leaf) {
        return Some(Peer {
            identity: identity.into(),
            non_mesh: None,
        });
    }
    let peer = principal(inbound, leaf);
    if peer.is_none() {
        tracing::info!(peer = ?peer_address, "peer certificate carries no SPIFFE identity nor an IngressBackend's principal");
    }
    peer
}

/// An ingress caller whose certificate (already chained to the mesh's roots by the
/// handshake) names an AuthenticatedPrincipal of an IngressBackend of this workload.
fn principal(inbound: &Inbound, leaf: &[u8]) -> Option<Peer> {
    let snapshot = inbound.snapshots.current()?;
    let names = spiffe::names_of(leaf);
    let principal = snapshot.workload.principal_among(&names)?;
    Some(Peer {
        identity: principal.into(),
        non_mesh: Some(NonMesh::Principal),
    })
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
