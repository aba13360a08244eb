//! A bare mTLS client for negative tests: it presents a chosen certificate (or none) to a
//! proxy's inbound listener and reports whether the proxy let it talk at all.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::pki::Identity;

/// How long the probe waits for the server to answer or hang up.
const PROBE_DEADLINE: Duration = Duration::from_secs(10);

/// What the server did with the probe.
#[derive(Debug)]
pub enum Outcome {
    /// The handshake or the first read failed; the server never exchanged application
    /// data. Holds the error the client saw.
    Refused(String),
    /// The server sent application data back (the first bytes).
    Answered(Vec<u8>),
}

/// Connects to `address` with mTLS, presenting `client` (or no certificate), sends a small
/// HTTP/1.1 request and reads. The probe does not judge the server's certificate: it only
/// asks whether the server accepts the client.
pub async fn probe(address: SocketAddr, client: Option<&Identity>) -> anyhow::Result<Outcome> {
    exchange(address, client, b"GET / HTTP/1.1\r\nhost: probe\r\n\r\n").await
}

/// [`probe`] with `request` (raw HTTP/1.1 bytes) as what is sent.
pub async fn exchange(
    address: SocketAddr,
    client: Option<&Identity>,
    request: &[u8],
) -> anyhow::Result<Outcome> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .context("TLS 1.3")?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyServer { provider }));
    let mut config = match client {
        Some(identity) => {
            let chain = CertificateDer::pem_slice_iter(identity.certificate_pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .context("client certificate PEM")?;
            let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes())
                .context("client key PEM")?;
            builder
                .with_client_auth_cert(chain, key)
                .context("client certificate")?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(address)
        .await
        .with_context(|| format!("connect to {address}"))?;
    let server_name = ServerName::try_from("meshcd-probe.invalid").context("server name")?;

    let exchange = async {
        let mut stream = connector
            .connect(server_name, tcp)
            .await
            .map_err(|error| format!("handshake: {error}"))?;
        // With TLS 1.3 the server judges the client certificate after the client's side of
        // the handshake completed, so a refusal shows up on the first read.
        stream
            .write_all(request)
            .await
            .map_err(|error| format!("write: {error}"))?;
        let mut buffer = vec![0_u8; 1024];
        match stream.read(&mut buffer).await {
            Ok(0) => Err("closed without a byte of application data".to_owned()),
            Ok(read) => Ok(buffer[..read].to_vec()),
            Err(error) => Err(format!("read: {error}")),
        }
    };
    match tokio::time::timeout(PROBE_DEADLINE, exchange).await {
        Ok(Ok(bytes)) => Ok(Outcome::Answered(bytes)),
        Ok(Err(error)) => Ok(Outcome::Refused(error)),
        Err(_) => {
            anyhow::bail!("the server neither answered nor hung up within {PROBE_DEADLINE:?}")
        }
    }
}

/// The certificate chain the server at `address` presents in a handshake (leaf first).
/// The probe offers no client certificate: with TLS 1.3 the client has the server's
/// chain before the server judges the client.
pub async fn presented_chain(address: SocketAddr) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .context("TLS 1.3")?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyServer { provider }))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(address)
        .await
        .with_context(|| format!("connect to {address}"))?;
    let server_name = ServerName::try_from("meshcd-probe.invalid").context("server name")?;
    let stream = tokio::time::timeout(PROBE_DEADLINE, connector.connect(server_name, tcp))
        .await
        .context("handshake deadline")?
        .context("handshake")?;
    let chain = stream
        .get_ref()
        .1
        .peer_certificates()
        .context("the server presented no certificate")?;
    Ok(chain.iter().map(|der| der.clone().into_owned()).collect())
}

/// Whether `chain` (leaf first) verifies up to the root of `root_pem` alone, as a mesh
/// peer checks it.
pub fn chains_to(chain: &[CertificateDer<'static>], root_pem: &str) -> anyhow::Result<bool> {
    let mut roots = rustls::RootCertStore::empty();
    for root in CertificateDer::pem_slice_iter(root_pem.as_bytes()) {
        roots.add(root.context("root PEM")?).context("root")?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
            .build()
            .context("verifier")?;
    let (leaf, intermediates) = chain.split_first().context("an empty chain")?;
    Ok(verifier
        .verify_client_cert(leaf, intermediates, UnixTime::now())
        .is_ok())
}

/// Accepts any server certificate whose handshake signature is valid: the probe is about
/// the server's judgement of the client, not the other way round.
#[derive(Debug)]
struct AnyServer {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
