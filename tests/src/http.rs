//! An HTTP client that behaves like an app in the mesh: it talks to one address (its
//! proxy's outbound listener, or an app directly) over HTTP/1.1 or h2c, and writes the
//! request URI exactly as given — absolute-form for an explicit proxy, origin-form with a
//! Host header otherwise.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper::upgrade::Upgraded;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::testapp::AppReply;

pub use http::Method;

/// The longest a single request of the harness may take; scenarios that test timeouts
/// stay well below it.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

/// A response, body read completely.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    /// The body as text (lossy), for assertions and failure messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The test app's JSON reply; an error says what came back instead.
    pub fn app(&self) -> anyhow::Result<AppReply> {
        serde_json::from_slice(&self.body)
            .with_context(|| format!("not a test-app reply: {} {}", self.status, self.text()))
    }
}

/// A GET of `uri` (absolute `http://host/path` for the explicit-proxy form).
pub fn get(uri: &str) -> Request<Full<Bytes>> {
    request(http::Method::GET, uri)
}

/// A request without a body.
pub fn request(method: http::Method, uri: &str) -> Request<Full<Bytes>> {
    let mut request = Request::new(Full::new(Bytes::new()));
    *request.method_mut() = method;
    *request.uri_mut() = uri
        .parse()
        .unwrap_or_else(|error| panic!("bad URI {uri:?}: {error}"));
    request
}

/// Where requests go: one TCP address.
#[derive(Clone, Copy, Debug)]
pub struct Client {
    address: SocketAddr,
    /// The local address its connections come from (`None`: the system's choice).
    source: Option<std::net::IpAddr>,
}

impl Client {
    /// A client that connects to `address` for every request.
    pub fn new(address: SocketAddr) -> Self {
        Self {
            address,
            source: None,
        }
    }

    /// The same client with its connections coming from `source` (a loopback address such
    /// as 127.0.0.3 stands for another host).
    pub fn from_address(self, source: std::net::IpAddr) -> Self {
        Self {
            source: Some(source),
            ..self
        }
    }

    /// The address requests go to.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// GET `uri` on a fresh HTTP/1.1 connection.
    pub async fn get(&self, uri: &str) -> anyhow::Result<Response> {
        self.send(get(uri)).await
    }

    /// Sends `request` on a fresh HTTP/1.1 connection.
    pub async fn send(&self, request: Request<Full<Bytes>>) -> anyhow::Result<Response> {
        self.connect().await?.send(request).await
    }

    /// Opens a persistent HTTP/1.1 connection.
    pub async fn connect(&self) -> anyhow::Result<Connection> {
        let stream = self.tcp().await?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP/1.1 handshake")?;
        tokio::spawn(connection.with_upgrades());
        Ok(Connection {
            sender: Sender::Http1(sender),
        })
    }

    /// Opens an HTTP/2 connection with prior knowledge (h2c), as gRPC clients do.
    pub async fn connect_h2c(&self) -> anyhow::Result<Connection> {
        let stream = self.tcp().await?;
        let (sender, connection) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .context("h2c handshake")?;
        tokio::spawn(connection);
        Ok(Connection {
            sender: Sender::Http2(sender),
        })
    }

    /// Sends `request` (it must carry `Connection: upgrade` and `Upgrade`) and, once the
    /// server switched protocols, returns the raw upgraded stream.
    pub async fn upgrade(
        &self,
        request: Request<Full<Bytes>>,
    ) -> anyhow::Result<TokioIo<Upgraded>> {
        let mut connection = self.connect().await?;
        let response = connection.send_head(request).await?;
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            bail!(
                "expected 101 Switching Protocols, got {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        let upgraded = hyper::upgrade::on(response).await.context("upgrade")?;
        Ok(TokioIo::new(upgraded))
    }

    /// Writes `raw` bytes and returns the status line of what comes back. Writing happens
    /// beside reading, so a server that answers before reading everything (a 431) and
    /// closes is still heard.
    pub async fn send_raw(&self, raw: Vec<u8>) -> anyhow::Result<String> {
        let stream = self.tcp().await?;
        let (mut reader, mut writer) = stream.into_split();
        let writing = tokio::spawn(async move {
            let _ = writer.write_all(&raw).await;
            writer
        });
        let mut received = Vec::new();
        let mut buffer = [0_u8; 4096];
        let status_line = tokio::time::timeout(REQUEST_DEADLINE, async {
            loop {
                let read = reader.read(&mut buffer).await.context("read response")?;
                if read == 0 {
                    bail!(
                        "connection closed after {} bytes: {:?}",
                        received.len(),
                        String::from_utf8_lossy(&received)
                    );
                }
                received.extend_from_slice(&buffer[..read]);
                if let Some(end) = received.windows(2).position(|window| window == b"\r\n") {
                    return Ok(String::from_utf8_lossy(&received[..end]).into_owned());
                }
            }
        })
        .await
        .context("no response line in time")??;
        writing.abort();
        Ok(status_line)
    }

    async fn tcp(&self) -> anyhow::Result<TcpStream> {
        let connect = async {
            let Some(source) = self.source else {
                return TcpStream::connect(self.address).await;
            };
            let socket = if source.is_ipv4() {
                tokio::net::TcpSocket::new_v4()?
            } else {
                tokio::net::TcpSocket::new_v6()?
            };
            socket.bind(SocketAddr::new(source, 0))?;
            socket.connect(self.address).await
        };
        let stream = tokio::time::timeout(REQUEST_DEADLINE, connect)
            .await
            .with_context(|| format!("connect to {} timed out", self.address))?
            .with_context(|| format!("connect to {}", self.address))?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

enum Sender {
    Http1(http1::SendRequest<Full<Bytes>>),
    Http2(http2::SendRequest<Full<Bytes>>),
}

/// One client connection; HTTP/1.1 requests on it go one after another.
pub struct Connection {
    sender: Sender,
}

impl Connection {
    /// Sends `request` and reads the whole response.
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> anyhow::Result<Response> {
        tokio::time::timeout(REQUEST_DEADLINE, async {
            let response = self.send_head(request).await?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .context("read response body")?
                .to_bytes();
            Ok(Response {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        })
        .await
        .context("no complete response in time")?
    }

    /// Whether the connection can take another request.
    pub fn is_open(&self) -> bool {
        match &self.sender {
            Sender::Http1(sender) => !sender.is_closed(),
            Sender::Http2(sender) => !sender.is_closed(),
        }
    }

    async fn send_head(
        &mut self,
        mut request: Request<Full<Bytes>>,
    ) -> anyhow::Result<http::Response<hyper::body::Incoming>> {
        match &mut self.sender {
            Sender::Http1(sender) => {
                // HTTP/1.1 needs Host; like curl through a proxy, derive it from an
                // absolute URI unless the scenario set one.
                if !request.headers().contains_key(header::HOST)
                    && let Some(authority) = request.uri().authority()
                {
                    let host = authority.as_str().parse().context("host header")?;
                    request.headers_mut().insert(header::HOST, host);
                }
                sender.ready().await.context("connection not ready")?;
                sender
                    .send_request(request)
                    .await
                    .context("send HTTP/1.1 request")
            }
            Sender::Http2(sender) => {
                *request.version_mut() = http::Version::HTTP_2;
                if request.uri().authority().is_none() {
                    let host = request
                        .headers()
                        .get(header::HOST)
                        .and_then(|value| value.to_str().ok())
                        .context("h2 request needs an absolute URI or a Host header")?
                        .to_owned();
                    let path = request
                        .uri()
                        .path_and_query()
                        .map_or("/", |p| p.as_str())
                        .to_owned();
                    *request.uri_mut() = format!("http://{host}{path}").parse::<Uri>()?;
                }
                sender.ready().await.context("connection not ready")?;
                sender
                    .send_request(request)
                    .await
                    .context("send h2 request")
            }
        }
    }
}
