//! Keep-alive HTTP/1.1 connections to the local app, pooled per app address.
//!
//! A request takes the most recently returned idle connection, or opens one; the
//! connection comes back when its response body has been read to the end. This is the
//! inbound hot path, so it avoids what a general-purpose pooled client pays per request
//! (hyper-util's legacy client builds a pool key and spawns a task per HTTP/1.1 request to
//! wait for the connection to become idle again).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// An idle connection older than this is closed rather than reused (apps close idle
/// keep-alive connections too, typically after a minute or more).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Idle connections kept per app address; more are closed when they come back.
const MAX_IDLE: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The app could not be reached: the request never reached it.
    #[error("connect to {address}: {message}")]
    Connect { address: Arc<str>, message: String },
    /// The app was reached but the exchange failed.
    #[error(transparent)]
    Request(#[from] hyper::Error),
}

struct Idle {
    sender: SendRequest<Incoming>,
    since: Instant,
}

pub struct AppPool {
    /// Idle connections per app address. A workload has a handful of app addresses at
    /// most: a scan comparing them is cheaper than hashing the address twice a request.
    idle: Mutex<Vec<(Arc<str>, Vec<Idle>)>>,
    connect_timeout: Duration,
}

impl AppPool {
    pub fn new(connect_timeout: Duration) -> Arc<Self> {
        Arc::new(Self {
            idle: Mutex::new(Vec::new()),
            connect_timeout,
        })
    }

    /// Sends the request (origin-form URI, Host set) to the app at `address`. A pooled
    /// connection that turns out to be closing before the request left is replaced by a
    /// new one, once.
    pub async fn send(
        self: &Arc<Self>,
        address: &Arc<str>,
        request: Request<Incoming>,
    ) -> Result<Response<AppBody>, AppError> {
        let mut request = request;
        if let Some(mut sender) = self.checkout(address) {
            match sender.try_send_request(request).await {
                Ok(response) => return Ok(self.body(address, sender, response)),
                Err(mut error) => match error.take_message() {
                    Some(unsent) => request = unsent,
                    None => return Err(AppError::Request(error.into_error())),
                },
            }
        }
        let mut sender = self.connect(address).await?;
        match sender.try_send_request(request).await {
            Ok(response) => Ok(self.body(address, sender, response)),
            Err(error) => Err(AppError::Request(error.into_error())),
        }
    }

    /// The most recently returned connection that is ready for a request. Closed and
    /// expired ones are dropped; one still finishing its previous exchange is skipped.
    fn checkout(&self, address: &str) -> Option<SendRequest<Incoming>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle_for(&mut idle, address)?;
        let now = Instant::now();
        let mut skipped = 0;
        while list.len() > skipped {
            let entry = list.pop()?;
            if entry.sender.is_closed() || now.duration_since(entry.since) > IDLE_TIMEOUT {
                continue;
            }
            if entry.sender.is_ready() {
                return Some(entry.sender);
            }
            // Busy for now (its request body is still going out): oldest position, so the
            // scan does not meet it again.
            list.insert(0, entry);
            skipped += 1;
        }
        None
    }

    fn give_back(&self, address: Arc<str>, sender: SendRequest<Incoming>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let index = match idle.iter().position(|(known, _)| *known == address) {
            Some(index) => index,
            None => {
                idle.push((address, Vec::new()));
                idle.len() - 1
            }
        };
        let list = &mut idle[index].1;
        let now = Instant::now();
        // The oldest sit at the front: expire them as newer ones come back.
        let expired = list
            .iter()
            .take_while(|entry| now.duration_since(entry.since) > IDLE_TIMEOUT)
            .count();
        list.drain(..expired);
        if list.len() < MAX_IDLE {
            list.push(Idle { sender, since: now });
        }
    }

    async fn connect(&self, address: &Arc<str>) -> Result<SendRequest<Incoming>, AppError> {
        let failed = |message: String| AppError::Connect {
            address: address.clone(),
            message,
        };
        let tcp = match tokio::time::timeout(self.connect_timeout, TcpStream::connect(&**address))
            .await
        {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(error)) => return Err(failed(error.to_string())),
            Err(_) => {
                return Err(failed(format!(
                    "no answer within {:?}",
                    self.connect_timeout
                )));
            }
        };
        let _ = tcp.set_nodelay(true);
        // Requests to the app are mostly a head alone: one flat write buffer (see
        // `server_builder`).
        let (sender, connection) = http1::Builder::new()
            .writev(false)
            .handshake(TokioIo::new(tcp))
            .await
            .map_err(|error| failed(error.to_string()))?;
        let address = address.clone();
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(app = %address, %error, "app connection closed");
            }
        });
        Ok(sender)
    }

    fn body(
        self: &Arc<Self>,
        address: &Arc<str>,
        sender: SendRequest<Incoming>,
        response: Response<Incoming>,
    ) -> Response<AppBody> {
        let mut giveback = Some(Giveback {
            pool: self.clone(),
            address: address.clone(),
            sender,
        });
        // A response without a body (HEAD, 204, 304, length 0) is never polled: the
        // connection is free again now.
        if response.body().is_end_stream()
            && let Some(giveback) = giveback.take()
        {
            giveback.give();
        }
        response.map(|body| AppBody { body, giveback })
    }
}

fn idle_for<'a>(idle: &'a mut [(Arc<str>, Vec<Idle>)], address: &str) -> Option<&'a mut Vec<Idle>> {
    idle.iter_mut()
        .find(|(known, _)| **known == *address)
        .map(|(_, list)| list)
}

struct Giveback {
    pool: Arc<AppPool>,
    address: Arc<str>,
    sender: SendRequest<Incoming>,
}

impl Giveback {
    fn give(self) {
        self.pool.give_back(self.address, self.sender);
    }
}

/// The app's response body; its end returns the connection to the pool. Dropped
/// before its end, it takes the connection with it (hyper then closes it).
pub struct AppBody {
    body: Incoming,
    giveback: Option<Giveback>,
}

impl Body for AppBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let frame = ready!(Pin::new(&mut this.body).poll_frame(cx));
        let ended = match &frame {
            None => true,
            Some(Ok(_)) => this.body.is_end_stream(),
            Some(Err(_)) => {
                this.giveback = None;
                false
            }
        };
        if ended && let Some(giveback) = this.giveback.take() {
            giveback.give();
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
