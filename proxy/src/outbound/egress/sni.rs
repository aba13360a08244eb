//! The server name a TLS client asks for, read from its ClientHello by rustls's own
//! parser, with every byte kept to pass on unchanged.

use std::time::Duration;

use rustls::server::Acceptor;
use tokio::io::{AsyncRead, AsyncReadExt};

/// A ClientHello larger than this is not waited for (post-quantum key shares make them
/// a few KiB; 64 KiB is far beyond any real one).
const MAX_HELLO: usize = 64 << 10;
/// A client that has not sent its ClientHello within this is cut off.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum HelloError {
    #[error("the stream is not TLS: {0}")]
    NotTls(rustls::Error),
    #[error("no ClientHello within {HELLO_TIMEOUT:?} and {MAX_HELLO} bytes")]
    TooSlow,
    #[error("reading the ClientHello")]
    Io(#[from] std::io::Error),
}

/// The ClientHello's server name (lower case; `None` without SNI) and the bytes read.
pub async fn read_server_name<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<(Option<String>, Vec<u8>), HelloError> {
    let read = async {
        let mut acceptor = Acceptor::default();
        let mut seen = Vec::with_capacity(2048);
        let mut chunk = [0u8; 4096];
        loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 || seen.len() + n > MAX_HELLO {
                return Err(HelloError::TooSlow);
            }
            seen.extend_from_slice(&chunk[..n]);
            let mut fresh = &chunk[..n];
            while !fresh.is_empty() {
                acceptor.read_tls(&mut fresh)?;
            }
            match acceptor.accept() {
                Ok(None) => continue,
                Ok(Some(accepted)) => {
                    let name = accepted
                        .client_hello()
                        .server_name()
                        .map(|name| name.trim_end_matches('.').to_ascii_lowercase());
                    return Ok((name, seen));
                }
                Err((error, _alert)) => return Err(HelloError::NotTls(error)),
            }
        }
    };
    tokio::time::timeout(HELLO_TIMEOUT, read)
        .await
        .unwrap_or(Err(HelloError::TooSlow))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_server_name_is_read_and_every_byte_kept() {
        let (mut client_side, mut proxy_side) = tokio::io::duplex(1 << 16);
        let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        let name = rustls_pki_types::ServerName::try_from("API.Example.com").unwrap();
        tokio::spawn(async move {
            let _ = connector.connect(name, &mut client_side).await;
        });
        let (sni, bytes) = read_server_name(&mut proxy_side).await.unwrap();
        assert_eq!(sni.as_deref(), Some("api.example.com"));
        assert_eq!(bytes[0], 0x16, "a TLS handshake record, as sent");
    }

    #[tokio::test]
    async fn plaintext_is_not_tls() {
        let mut plain: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        assert!(matches!(
            read_server_name(&mut plain).await,
            Err(HelloError::NotTls(_))
        ));
    }
}
