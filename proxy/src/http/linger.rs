//! Lingering close: after hyper gives up on a connection (a malformed request, headers
//! too large) the task that accepted it reads and discards what the client is still
//! sending before closing. Closing a socket with unread input makes the kernel send a
//! reset, which can destroy the 400/431 response hyper has just written before the
//! client reads it.

use std::io;
use std::net::Shutdown;
use std::time::Duration;

use tokio::net::TcpStream;

/// How long, and how much, to drain after an error before closing anyway.
const LINGER_TIME: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 1 << 20;

/// A second handle on an accepted socket (a duplicated descriptor), kept by the accepting
/// task while hyper owns the `TcpStream` itself. Hyper thus reads through tokio's own
/// stream, which knows that a short read emptied the socket and skips the read that would
/// only return `EAGAIN` (one system call per request saved); this handle keeps the socket
/// open after hyper drops its stream, so that it can linger.
#[derive(Debug)]
pub struct Linger(socket2::Socket);

impl Linger {
    /// `None` when the descriptor cannot be duplicated (out of descriptors): the
    /// connection is then served without lingering rather than refused.
    pub fn new(stream: &TcpStream) -> Option<Self> {
        socket2::SockRef::from(stream).try_clone().ok().map(Self)
    }

    /// Stops sending, then discards the client's input until it closes, a deadline
    /// passes, or too much arrived. Call it once hyper has dropped its stream: tokio
    /// deregisters a stream from its poller when it drops it, so the socket can be
    /// registered again here.
    pub async fn linger(self) {
        let _ = self.0.shutdown(Shutdown::Write);
        let socket: std::net::TcpStream = self.0.into();
        if socket.set_nonblocking(true).is_err() {
            return;
        }
        let Ok(stream) = TcpStream::from_std(socket) else {
            return;
        };
        let drain = async {
            let mut buffer = [0u8; 8192];
            let mut total = 0;
            while total < LINGER_BYTES {
                if stream.readable().await.is_err() {
                    return;
                }
                match stream.try_read(&mut buffer) {
                    Ok(0) => return,
                    Ok(n) => total += n,
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(_) => return,
                }
            }
        };
        let _ = tokio::time::timeout(LINGER_TIME, drain).await;
    }
}
