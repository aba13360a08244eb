//! The reconciler's one HTTP client (the CLI's admin calls, Prometheus, the canary
//! webhook, the local mesh's apps): pooled connections, a deadline on every exchange, a
//! cap on every body read.
//!
//! hyper-util's pooled client over hyper-rustls (ring, like every TLS stack here). Each
//! owner keeps one [`HttpClient`] and clones it: clones share the pool. Whatever the
//! server does (never answers, trickles, streams without end) an exchange ends within
//! [`Limits::timeout`] having buffered at most [`Limits::body`] bytes.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::{HeaderMap, Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// A TCP connect that takes longer is a host that is down or filtered, not a slow one.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle pooled connections are dropped after this, before most servers' own keep-alive
/// timeouts (Prometheus: 5 min, Go's default: 90 s) close them under a request.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// The reconciler talks to a handful of hosts with a few requests at a time.
const POOL_MAX_IDLE_PER_HOST: usize = 4;

/// What one exchange may cost: time from connect to the body's last byte, and the body's
/// size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub timeout: Duration,
    pub body: usize,
}

/// A status, the headers and the whole body (at most [`Limits::body`] bytes).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0} is not an absolute http:// or https:// URI")]
    Uri(String),
    #[error("connecting to {authority}")]
    Connect {
        authority: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no complete answer from {authority} within {limit:?} (the exchange timeout)")]
    Timeout { authority: String, limit: Duration },
    #[error("the answer from {authority} exceeds the {limit}-byte body limit")]
    TooLarge { authority: String, limit: usize },
    #[error("exchange with {authority}")]
    Http {
        authority: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A pooled HTTP/1.1 client; cheap to clone.
#[derive(Debug, Clone)]
pub struct HttpClient {
    /// Behind an `Arc`: the client's own handles make it some 400 bytes, too much to
    /// carry by value in every owner.
    client: Arc<Client<HttpsConnector<HttpConnector>, Full<Bytes>>>,
}

impl HttpClient {
    /// For plain http:// servers (the admin API, Prometheus): their URLs are checked to
    /// be http:// before they get here, and an https:// one fails verification, as this
    /// client trusts no root.
    pub fn plain() -> HttpClient {
        let roots = rustls::RootCertStore::empty();
        HttpClient::with_roots(roots).expect("ring supports the default protocol versions")
    }

    /// For http:// and https:// servers, the latter verified against `roots`.
    pub fn with_roots(roots: rustls::RootCertStore) -> Result<HttpClient, rustls::Error> {
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(HttpClient {
            client: Arc::new(client),
        })
    }

    /// Sends `request` (its URI absolute: scheme and authority) and reads the whole
    /// answer within `limits`. The Host header is set from the URI.
    pub async fn send(
        &self,
        request: Request<Full<Bytes>>,
        limits: Limits,
    ) -> Result<Answer, ClientError> {
        let Some(authority) = request.uri().authority().map(|a| a.to_string()) else {
            return Err(ClientError::Uri(request.uri().to_string()));
        };
        tokio::time::timeout(
            limits.timeout,
            self.exchange(request, &authority, limits.body),
        )
        .await
        .map_err(|_| ClientError::Timeout {
            authority: authority.clone(),
            limit: limits.timeout,
        })?
    }

    async fn exchange(
        &self,
        request: Request<Full<Bytes>>,
        authority: &str,
        body_limit: usize,
    ) -> Result<Answer, ClientError> {
        let response = self
            .client
            .request(request)
            .await
            .map_err(|error| classify(error, authority))?;
        let (parts, body) = response.into_parts();
        let too_large = || ClientError::TooLarge {
            authority: authority.to_string(),
            limit: body_limit,
        };
        // A declared length over the limit is refused before a byte of the body is read;
        // without one (chunked, or until close) `Limited` stops at the limit.
        let declared = parts
            .headers
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > body_limit as u64) {
            return Err(too_large());
        }
        let body = Limited::new(body, body_limit)
            .collect()
            .await
            .map_err(|source| {
                if source.is::<LengthLimitError>() {
                    too_large()
                } else {
                    ClientError::Http {
                        authority: authority.to_string(),
                        source,
                    }
                }
            })?
            .to_bytes();
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

/// A failed connect (TCP or TLS) names the I/O error under hyper's wrappers, so that the
/// message reads "connecting to host:port: Connection refused".
fn classify(error: hyper_util::client::legacy::Error, authority: &str) -> ClientError {
    if error.is_connect() {
        for current in meshcd_support::error_chain::causes(&error) {
            if let Some(io) = current.downcast_ref::<std::io::Error>() {
                let source = match io.raw_os_error() {
                    Some(code) => std::io::Error::from_raw_os_error(code),
                    None => std::io::Error::new(io.kind(), io.to_string()),
                };
                return ClientError::Connect {
                    authority: authority.to_string(),
                    source,
                };
            }
        }
    }
    ClientError::Http {
        authority: authority.to_string(),
        source: Box::new(error),
    }
}

#[cfg(test)]
#[path = "http_client_tests.rs"]
mod tests;
