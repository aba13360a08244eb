//! One plain-HTTP/1.1 exchange over a fresh connection: the reconciler's calls to a
//! running reconciler's admin API (the CLI) and to Prometheus (canary analysis).

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("connecting to {authority}: {source}")]
    Connect {
        authority: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Http(#[from] hyper::Error),
}

/// Connects to `authority` (host:port), sends `request` (whose URI is the path) with a
/// Host header, and returns the status and the whole body.
pub async fn exchange(
    authority: &str,
    mut request: Request<Full<Bytes>>,
) -> Result<(StatusCode, Bytes), ExchangeError> {
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .map_err(|source| ExchangeError::Connect {
            authority: authority.to_string(),
            source,
        })?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    if let Ok(host) = hyper::header::HeaderValue::from_str(authority) {
        request.headers_mut().insert(hyper::header::HOST, host);
    }
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}
