//! Requests with a body to the local app, on keep-alive HTTP/1.1 connections driven by
//! hyper's client (streaming the body out, `Expect: 100-continue` and responses that
//! arrive before the body has gone are its job); body-less requests take `app_direct`.
//!
//! A request takes the most recently returned idle connection, or opens one; the
//! connection comes back when its response body has been read to the end. That is
//! cheaper than hyper-util's legacy client, which builds a pool key and spawns a task
//! per HTTP/1.1 request to wait for the connection to become idle again.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;

use super::app_direct::{ConnectError, open};
use super::idle::IdleConnections;
use crate::http::quickack::AckingStream;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The app could not be reached: the request never reached it.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The app was reached but the exchange failed.
    #[error(transparent)]
    Request(#[from] hyper::Error),
}

pub struct AppPool {
    idle: IdleConnections<SendRequest<Incoming>>,
    connect_timeout: Duration,
}

impl AppPool {
    pub fn new(connect_timeout: Duration) -> Arc<Self> {
        Arc::new(Self {
            idle: IdleConnections::default(),
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

    /// The most recently returned connection that is ready for a request. Closed ones
    /// are dropped, and so is one still sending its previous request's body (its
    /// response came first): it closes once that is done.
    fn checkout(&self, address: &str) -> Option<SendRequest<Incoming>> {
        while let Some(sender) = self.idle.take(address) {
            if !sender.is_closed() && sender.is_ready() {
                return Some(sender);
            }
        }
        None
    }

    fn give_back(&self, address: Arc<str>, sender: SendRequest<Incoming>) {
        if !sender.is_closed() {
            self.idle.put(&address, sender);
        }
    }

    async fn connect(&self, address: &Arc<str>) -> Result<SendRequest<Incoming>, AppError> {
        let tcp = open(address, self.connect_timeout).await?;
        let failed = |message: String| ConnectError {
            address: address.clone(),
            message,
        };
        // Requests to the app are mostly a head alone: one flat write buffer (see
        // `server_builder`).
        let (sender, connection) = http1::Builder::new()
            .writev(false)
            .handshake(TokioIo::new(AckingStream::client(tcp)))
            .await
            .map_err(|error| failed(meshcd_support::error_chain(&error)))?;
        let address = address.clone();
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(app = %address, error = %meshcd_support::error_chain(&error), "app connection closed");
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
