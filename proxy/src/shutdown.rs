//! Graceful shutdown: on SIGTERM or SIGINT the listeners stop accepting, HTTP connections
//! finish the requests they carry (idle ones close at once), and the process exits when
//! they are done or a deadline passes.

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use hyper_util::server::graceful::GracefulConnection;
use tokio::sync::{mpsc, watch};

/// Held by the task that decides to shut down.
pub struct Shutdown {
    signal: watch::Sender<bool>,
    /// Every watched connection holds a sender; `recv` returns `None` once all are gone.
    connections: mpsc::Receiver<()>,
    token: mpsc::Sender<()>,
}

/// Cloned freely by accept loops and connections: tells them when to stop, and counts
/// the connections it watches (not its holders).
#[derive(Clone)]
pub struct Drain {
    signal: watch::Receiver<bool>,
    token: mpsc::WeakSender<()>,
}

pub fn channel() -> (Shutdown, Drain) {
    let (signal, receiver) = watch::channel(false);
    let (token, connections) = mpsc::channel(1);
    let drain = Drain {
        signal: receiver,
        token: token.downgrade(),
    };
    (
        Shutdown {
            signal,
            connections,
            token,
        },
        drain,
    )
}

impl Shutdown {
    /// Signals every `Drain` and waits until every watched connection has ended, or until
    /// the deadline. Returns whether everything drained in time.
    pub async fn drain(self, deadline: Duration) -> bool {
        let Self {
            signal,
            mut connections,
            token,
        } = self;
        drop(token);
        let _ = signal.send(true);
        tokio::time::timeout(deadline, async {
            while connections.recv().await.is_some() {}
        })
        .await
        .is_ok()
    }
}

impl Drain {
    /// Resolves once shutdown has begun.
    pub async fn signaled(&mut self) {
        let _ = self.signal.wait_for(|started| *started).await;
    }

    /// Runs a connection to its end, asking it to finish gracefully once shutdown begins;
    /// shutdown waits for it.
    pub fn watch<C>(mut self, connection: C) -> impl Future<Output = C::Output>
    where
        C: GracefulConnection,
    {
        let token = self.token.upgrade();
        async move {
            let _token = token;
            let mut connection = pin!(connection);
            tokio::select! {
                output = connection.as_mut() => return output,
                () = self.signaled() => connection.as_mut().graceful_shutdown(),
            }
            connection.await
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(signal) => signal,
        Err(error) => {
            tracing::warn!(error = %meshcd_support::error_chain(&error), "cannot listen for SIGTERM; only SIGINT stops the proxy");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = terminate.recv() => tracing::info!("SIGTERM: draining"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: draining"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shutdown_without_watched_connections_completes_at_once() {
        let (shutdown, drain) = channel();
        let _held_by_an_accept_loop = drain.clone();
        assert!(shutdown.drain(Duration::from_secs(5)).await);
    }
}
