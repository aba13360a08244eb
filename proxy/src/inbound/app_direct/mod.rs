//! Body-less requests (GET, HEAD, DELETE, … — nearly all of a service's traffic) to the
//! local app over pooled keep-alive HTTP/1.1 connections, written and read in the task of
//! the request itself.
//!
//! hyper's client runs each connection as a task of its own and hands requests, responses
//! and body chunks across channels: per request that is two more task wake-ups, a second
//! HTTP state machine polling its socket for end-of-file while it waits, and a fresh read
//! buffer (measured: about 45 % of the proxy's user-space instructions on the one-hop
//! path). Here the request head is written straight to the socket and the response head
//! is parsed by httparse (hyper's own parser) off the same buffer, which the response
//! body then reads on demand. Requests with a body keep using hyper's client
//! (`app_pool`): streaming one out, `Expect: 100-continue` and early responses are its
//! job.

pub mod body;
#[cfg(test)]
mod differential_tests;
mod head;

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use http::{Method, Request, Response};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::io::poll_read_buf;

use super::idle::IdleConnections;
use crate::http::quickack;
use body::DirectBody;
pub use head::HeadError;
use head::ResponseHead;

/// The longest response head accepted: what hyper's client accepts (its largest read
/// buffer), so requests with and without a body meet the same limit.
const MAX_HEAD: usize = 8192 + 4096 * 100;
/// Read-buffer growth step; a read is attempted with at least `MIN_READ` bytes free.
const READ_SIZE: usize = 8 * 1024;
const MIN_READ: usize = 1024;

#[derive(Debug, thiserror::Error)]
#[error("connect to {address}: {message}")]
pub struct ConnectError {
    pub address: Arc<str>,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectError {
    /// The app could not be reached: the request never reached it.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("sending the request: {0}")]
    Write(io::Error),
    #[error("the app closed the connection before it answered")]
    Closed,
    #[error("reading the response: {0}")]
    Read(io::Error),
    #[error("the response head exceeds {MAX_HEAD} bytes")]
    HeadTooLarge,
    #[error(transparent)]
    Head(#[from] HeadError),
}

/// Opens a TCP connection to the app, within `timeout`.
pub async fn open(address: &Arc<str>, timeout: Duration) -> Result<TcpStream, ConnectError> {
    let failed = |message: String| ConnectError {
        address: address.clone(),
        message,
    };
    let tcp = match tokio::time::timeout(timeout, TcpStream::connect(&**address)).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(error)) => return Err(failed(error.to_string())),
        Err(_) => return Err(failed(format!("no answer within {timeout:?}"))),
    };
    let _ = tcp.set_nodelay(true);
    Ok(tcp)
}

pub struct AppConnection {
    stream: TcpStream,
    /// Bytes read and not yet consumed. Empty between exchanges.
    buffer: BytesMut,
    /// It has carried an exchange before: a failure before any answer may just mean the
    /// app closed it while it was idle.
    reused: bool,
}

impl AppConnection {
    /// Reads what the socket has into the buffer: `Ok(0)` at end of file. Through
    /// `AsyncRead`, whose short reads tell tokio the socket is drained: the next exchange
    /// then waits for the app's answer without first trying a read that finds nothing.
    /// `midway`: part of the response has arrived, so a wait is for the rest of it, which
    /// an app without `TCP_NODELAY` may hold back until this side acknowledges
    /// (`quickack`).
    fn poll_fill(&mut self, cx: &mut Context<'_>, midway: bool) -> Poll<io::Result<usize>> {
        if self.buffer.capacity() - self.buffer.len() < MIN_READ {
            self.buffer.reserve(READ_SIZE);
        }
        let polled = poll_read_buf(Pin::new(&mut self.stream), cx, &mut self.buffer);
        if midway && polled.is_pending() {
            quickack::acknowledge_now(&self.stream);
        }
        polled
    }

    /// Whether an idle connection is still open and silent: an app that closed it, or sent
    /// bytes no request asked for (a late part of a mis-framed response, a 408 before
    /// closing), must not meet the next caller's request. Costs a system call only when
    /// the reactor has seen the socket readable since the last read drained it.
    fn still_open(&self) -> bool {
        let mut probe = [0u8; 1];
        matches!(self.stream.try_read(&mut probe), Err(error) if error.kind() == io::ErrorKind::WouldBlock)
    }
}

/// Where a connection goes back to once its response body has been read.
pub struct Checkin {
    pool: Arc<DirectPool>,
    address: Arc<str>,
}

impl Checkin {
    fn give_back(self, mut connection: Box<AppConnection>) {
        connection.reused = true;
        self.pool.idle.put(&self.address, connection);
    }
}

/// A request without a body, as the app will get it: its head, ready to write. The
/// request itself (whose header values share the caller's read buffer) can go at once.
pub struct Prepared {
    head: Vec<u8>,
    method: Method,
}

impl Prepared {
    /// The request must have an origin-form URI, `Host` set and no hop-by-hop headers.
    pub fn new<B>(request: &Request<B>) -> Self {
        let mut head = Vec::with_capacity(256);
        head::encode_request(request, &mut head);
        Self {
            head,
            method: request.method().clone(),
        }
    }
}

/// A failed exchange, and whether it may be sent again on a new connection.
struct Failure {
    error: DirectError,
    stale: bool,
}

pub struct DirectPool {
    idle: IdleConnections<Box<AppConnection>>,
    connect_timeout: Duration,
}

impl DirectPool {
    pub fn new(connect_timeout: Duration) -> Arc<Self> {
        Arc::new(Self {
            idle: IdleConnections::default(),
            connect_timeout,
        })
    }

    /// Sends a prepared request to the app at `address`. An idempotent request that
    /// meets a pooled connection the app had closed is sent again on a new one (RFC 9110
    /// §9.2.2).
    pub async fn send(
        self: &Arc<Self>,
        address: &Arc<str>,
        prepared: &Prepared,
    ) -> Result<Response<DirectBody>, DirectError> {
        let Prepared { head, method } = prepared;
        let idempotent = method.is_idempotent();
        if let Some(connection) = self.checkout(address) {
            match self.exchange(connection, head, method, address).await {
                Ok(response) => return Ok(response),
                Err(Failure { stale: true, .. }) if idempotent => {}
                Err(failure) => return Err(failure.error),
            }
        }
        let connection = Box::new(AppConnection {
            stream: open(address, self.connect_timeout).await?,
            buffer: BytesMut::new(),
            reused: false,
        });
        self.exchange(connection, head, method, address)
            .await
            .map_err(|failure| failure.error)
    }

    /// An idle connection to `address` that is still open and silent.
    fn checkout(&self, address: &str) -> Option<Box<AppConnection>> {
        while let Some(connection) = self.idle.take(address) {
            if connection.still_open() {
                return Some(connection);
            }
        }
        None
    }

    async fn exchange(
        self: &Arc<Self>,
        mut connection: Box<AppConnection>,
        head: &[u8],
        method: &Method,
        address: &Arc<str>,
    ) -> Result<Response<DirectBody>, Failure> {
        let reused = connection.reused;
        if let Err(error) = connection.stream.write_all(head).await {
            return Err(Failure {
                error: DirectError::Write(error),
                stale: reused,
            });
        }
        let mut answered = false;
        loop {
            let parsed = if answered {
                head::parse_response(&mut connection.buffer, method)
            } else {
                Ok(None)
            };
            match parsed {
                Ok(Some(ResponseHead {
                    response,
                    framing,
                    keep_alive,
                })) => {
                    let checkin = Checkin {
                        pool: self.clone(),
                        address: address.clone(),
                    };
                    let body = DirectBody::new(connection, framing, keep_alive, checkin);
                    return Ok(response.map(|()| body));
                }
                Ok(None) if connection.buffer.len() > MAX_HEAD => {
                    return Err(Failure {
                        error: DirectError::HeadTooLarge,
                        stale: false,
                    });
                }
                Ok(None) => {}
                Err(error) => {
                    return Err(Failure {
                        error: error.into(),
                        stale: false,
                    });
                }
            }
            match poll_fn(|cx| connection.poll_fill(cx, answered)).await {
                Ok(0) => {
                    return Err(Failure {
                        error: DirectError::Closed,
                        stale: reused && !answered,
                    });
                }
                Ok(_) => answered = true,
                Err(error) => {
                    let reset = matches!(
                        error.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                    );
                    return Err(Failure {
                        error: DirectError::Read(error),
                        stale: reused && !answered && reset,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Exchanges with a scripted app on a real loopback socket: it reads each request head
    //! and answers with the next scripted bytes, then keeps the connection or closes it.

    use std::sync::atomic::{AtomicUsize, Ordering};

    use http::{HeaderMap, StatusCode};
    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    struct Answer {
        bytes: &'static [u8],
        then_close: bool,
    }

    fn keep(bytes: &'static [u8]) -> Answer {
        Answer {
            bytes,
            then_close: false,
        }
    }

    fn close(bytes: &'static [u8]) -> Answer {
        Answer {
            bytes,
            then_close: true,
        }
    }

    /// Starts the scripted app; returns its address and its count of accepted connections.
    async fn scripted_app(answers: Vec<Answer>) -> (Arc<str>, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: Arc<str> = Arc::from(listener.local_addr().unwrap().to_string());
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            let mut answers = answers.into_iter();
            'connections: loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                let mut request = Vec::new();
                loop {
                    let mut chunk = [0u8; 1024];
                    let read = stream.read(&mut chunk).await.unwrap_or(0);
                    if read == 0 {
                        continue 'connections;
                    }
                    request.extend_from_slice(&chunk[..read]);
                    if !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        continue;
                    }
                    request.clear();
                    let Some(answer) = answers.next() else {
                        return;
                    };
                    stream.write_all(answer.bytes).await.unwrap();
                    if answer.then_close {
                        continue 'connections;
                    }
                }
            }
        });
        (address, accepted)
    }

    fn get(method: Method) -> Request<()> {
        Request::builder()
            .method(method)
            .uri("/")
            .header("host", "app")
            .body(())
            .unwrap()
    }

    async fn call(
        pool: &Arc<DirectPool>,
        address: &Arc<str>,
        method: Method,
    ) -> (StatusCode, String, HeaderMap) {
        let response = pool
            .send(address, &Prepared::new(&get(method)))
            .await
            .unwrap();
        let status = response.status();
        let collected = response.into_body().collect().await.unwrap();
        let trailers = collected.trailers().cloned().unwrap_or_default();
        let body = String::from_utf8(collected.to_bytes().to_vec()).unwrap();
        (status, body, trailers)
    }

    #[tokio::test]
    async fn a_chunked_body_arrives_whole_with_its_trailers_and_the_connection_is_reused() {
        let (address, accepted) = scripted_app(vec![
            keep(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-checksum: 7\r\n\r\n"),
            keep(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        ])
        .await;
        let pool = DirectPool::new(Duration::from_secs(1));
        let (status, body, trailers) = call(&pool, &address, Method::GET).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "hello world"));
        assert_eq!(trailers["x-checksum"], "7");
        let (_, body, _) = call(&pool, &address, Method::GET).await;
        assert_eq!(body, "ok");
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "one connection for both"
        );
    }

    #[tokio::test]
    async fn a_body_delimited_by_close_is_read_to_the_end_and_its_connection_not_reused() {
        let (address, accepted) = scripted_app(vec![
            close(b"HTTP/1.0 200 OK\r\n\r\nuntil the end"),
            keep(b"HTTP/1.1 204 No Content\r\n\r\n"),
        ])
        .await;
        let pool = DirectPool::new(Duration::from_secs(1));
        let (_, body, _) = call(&pool, &address, Method::GET).await;
        assert_eq!(body, "until the end");
        let (status, body, _) = call(&pool, &address, Method::GET).await;
        assert_eq!((status, body.as_str()), (StatusCode::NO_CONTENT, ""));
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn interim_responses_are_skipped_and_head_responses_have_no_body() {
        let (address, accepted) = scripted_app(vec![
            keep(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
            keep(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"),
            keep(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlast"),
        ])
        .await;
        let pool = DirectPool::new(Duration::from_secs(1));
        let (status, body, _) = call(&pool, &address, Method::GET).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
        let (status, body, _) = call(&pool, &address, Method::HEAD).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, ""));
        let (_, body, _) = call(&pool, &address, Method::GET).await;
        assert_eq!(body, "last");
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_get_on_a_connection_the_app_closed_while_idle_is_sent_again_on_a_new_one() {
        let (address, accepted) = scripted_app(vec![
            // Says nothing of closing, then closes: the pooled connection is stale.
            close(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"),
            keep(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond"),
        ])
        .await;
        let pool = DirectPool::new(Duration::from_secs(1));
        let (_, body, _) = call(&pool, &address, Method::GET).await;
        assert_eq!(body, "first");
        let (status, body, _) = call(&pool, &address, Method::GET).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "second"));
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn bytes_beyond_the_announced_length_are_never_read_as_the_next_callers_response() {
        let (address, accepted) = scripted_app(vec![
            keep(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok!"),
            keep(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"),
        ])
        .await;
        let pool = DirectPool::new(Duration::from_secs(1));
        let (_, body, _) = call(&pool, &address, Method::GET).await;
        assert_eq!(body, "ok");
        let (_, body, _) = call(&pool, &address, Method::GET).await;
        assert_eq!(body, "next");
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            2,
            "the first connection was not reused"
        );
    }

    #[tokio::test]
    async fn a_chunk_size_line_without_a_hex_digit_is_an_error_not_the_end_of_the_body() {
        let (address, _) = scripted_app(vec![keep(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n\r\nmore",
        )])
        .await;
        let pool = DirectPool::new(Duration::from_secs(1));
        let response = pool
            .send(&address, &Prepared::new(&get(Method::GET)))
            .await
            .unwrap();
        let error = response.into_body().collect().await.unwrap_err();
        assert!(matches!(error, body::BodyError::Chunked(_)), "{error}");
    }

    #[tokio::test]
    async fn a_body_cut_short_by_the_app_is_an_error_not_a_short_success() {
        let (address, _) = scripted_app(vec![close(
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        )])
        .await;
        let pool = DirectPool::new(Duration::from_secs(1));
        let response = pool
            .send(&address, &Prepared::new(&get(Method::GET)))
            .await
            .unwrap();
        let error = response.into_body().collect().await.unwrap_err();
        assert!(matches!(error, body::BodyError::Incomplete), "{error}");
    }

    #[tokio::test]
    async fn an_app_that_closes_without_answering_or_cannot_be_reached_is_an_error() {
        let (address, _) = scripted_app(vec![close(b"")]).await;
        let pool = DirectPool::new(Duration::from_secs(1));
        let Err(error) = pool.send(&address, &Prepared::new(&get(Method::GET))).await else {
            panic!("a response from an app that said nothing");
        };
        assert!(matches!(error, DirectError::Closed), "{error}");

        let unused = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let refused: Arc<str> = Arc::from(unused.local_addr().unwrap().to_string());
        drop(unused);
        let Err(error) = pool.send(&refused, &Prepared::new(&get(Method::GET))).await else {
            panic!("a response from an address nobody listens on");
        };
        assert!(matches!(error, DirectError::Connect(_)), "{error}");
    }
}
