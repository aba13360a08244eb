//! Graceful shutdown: on SIGTERM or SIGINT the listeners stop accepting, HTTP connections
//! finish the requests they carry (idle ones close at once), and the process exits when
//! they are done or a deadline passes.

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use hyper_util::server::graceful::GracefulConnection;
use tokio::sync::watch;

/// Held by the task that decides to shut down.
pub struct Shutdown {
    sender: watch::Sender<bool>,
}

/// Held by every accept loop and connection; dropping it says "I am done".
#[derive(Clone)]
pub struct Drain {
    receiver: watch::Receiver<bool>,
}

pub fn channel() -> (Shutdown, Drain) {
    let (sender, receiver) = watch::channel(false);
    (Shutdown { sender }, Drain { receiver })
}

impl Shutdown {
    /// Signals every holder of a `Drain` and waits until all of them dropped it, or until
    /// the deadline. Returns whether everything drained in time.
    pub async fn drain(self, deadline: Duration) -> bool {
        let _ = self.sender.send(true);
        tokio::time::timeout(deadline, self.sender.closed())
            .await
            .is_ok()
    }
}

impl Drain {
    /// Resolves once shutdown has begun.
    pub async fn signaled(&mut self) {
        let _ = self.receiver.wait_for(|started| *started).await;
    }

    /// Runs a connection to its end, asking it to finish gracefully once shutdown begins.
    pub fn watch<C>(mut self, connection: C) -> impl Future<Output = C::Output>
    where
        C: GracefulConnection,
    {
        async move {
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
    let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(signal) => signal,
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGTERM; only SIGINT stops the proxy");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = terminate.recv() => tracing::info!("SIGTERM: draining"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: draining"),
    }
}
