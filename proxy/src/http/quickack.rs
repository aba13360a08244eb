//! No 40 ms stalls with apps that write a message in two small pieces.
//!
//! An app without `TCP_NODELAY` that writes a response head and then its body (Python's
//! `http.server`, many Node and Java servers) has Nagle's algorithm hold the body until
//! the head is acknowledged; on a keep-alive connection Linux delays that ACK for up to
//! 40 ms, hoping to piggyback it on data the proxy never sends while it waits. The
//! proxy breaks the tie by acknowledging at once (`TCP_QUICKACK`) when a read has left a
//! message incomplete and it is about to wait for the rest. On the body-less path to the
//! app (`app_direct`, nearly all traffic) framing is known, so a response that arrives
//! whole costs no extra system call. Where hyper reads (requests with a body to the app;
//! the app's own connection while a request body streams), the stream cannot tell
//! hyper's end-of-file check after a complete message from a wait for the rest, so such
//! an exchange costs one `setsockopt`.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Acknowledges what `stream` has received now rather than after the delayed-ACK timer.
pub fn acknowledge_now(stream: &TcpStream) {
    // Best effort: a socket that refuses just keeps the kernel's timing.
    let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
}

/// When a connection may be waiting for the rest of a message: set by whoever knows
/// the message framing (the server's request handler), read by the stream.
#[derive(Debug, Default)]
pub struct Midway(AtomicBool);

impl Midway {
    pub fn set(&self, midway: bool) {
        // Relaxed is enough: a stale value costs one system call or one delayed ACK.
        if self.0.load(Ordering::Relaxed) != midway {
            self.0.store(midway, Ordering::Relaxed);
        }
    }

    fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A TCP stream to or from an app that acknowledges at once when a read that brought
/// data is followed by a wait while a message is incomplete.
pub struct AckingStream {
    stream: TcpStream,
    /// `None`: any wait after data is a wait for the rest of a message (a client
    /// connection to the app, where a response follows each request).
    midway: Option<Arc<Midway>>,
    /// Data arrived since the last acknowledgement was forced.
    received: bool,
}

impl AckingStream {
    /// For a connection whose reader says when it is mid-message.
    pub fn server(stream: TcpStream, midway: Arc<Midway>) -> Self {
        Self {
            stream,
            midway: Some(midway),
            received: false,
        }
    }

    /// For a client connection to the app: waiting after data means a response is
    /// incomplete.
    pub fn client(stream: TcpStream) -> Self {
        Self {
            stream,
            midway: None,
            received: false,
        }
    }
}

impl AsyncRead for AckingStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        match &polled {
            Poll::Ready(Ok(())) if buf.filled().len() > before => this.received = true,
            Poll::Pending if this.received && this.midway.as_ref().is_none_or(|m| m.get()) => {
                this.received = false;
                acknowledge_now(&this.stream);
            }
            _ => {}
        }
        polled
    }
}

impl AsyncWrite for AckingStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
