//! Joining a control plane (`--join`): prove the workload's identity with its bootstrap
//! token, get a certificate for a key that never leaves this process, hold one stream
//! that delivers snapshots (each ACKed or NACKed), rotate the certificate at two thirds
//! of its life, and reconnect with backoff. Losing the control plane never stops
//! traffic: the last snapshot and certificate stay in force.

mod certificate;
mod report;
mod stream;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use meshcd_schemas::proto;
use meshcd_support::Backoff;
use tonic::transport::Channel;

pub use certificate::{CertificateRoots, WorkloadCertificate};

/// Where joined material goes: the proxy's snapshot and TLS stores.
pub trait JoinSink: Send + Sync + 'static {
    /// Compiles and swaps in a snapshot; the error text is sent back as a NACK.
    fn apply_snapshot(&self, snapshot: proto::Snapshot) -> Result<(), String>;
    /// Swaps in a new workload certificate.
    fn apply_certificate(&self, certificate: &WorkloadCertificate) -> Result<(), String>;
    /// Trusts exactly these roots (PEM) from now on, keeping the certificate in force.
    fn apply_trust(&self, roots_pem: &str) -> Result<(), String>;
    /// The version in force, reported on reconnect.
    fn current_version(&self) -> Option<String>;
    /// Cumulative traffic of one direction per backend (inbound: per served service),
    /// for the control plane's canary analysis.
    fn traffic_totals(
        &self,
        direction: crate::metrics::Direction,
    ) -> Vec<crate::metrics::BackendTotals>;
    /// Signals responses completing, so the reporter can sleep while there are none.
    fn traffic_activity(&self) -> Arc<crate::metrics::Activity>;
    /// Where the control plane's answers about services the snapshot lacks go, and
    /// whose questions go on each new stream.
    fn lookups(&self) -> Arc<crate::outbound::on_demand::Lookups>;
}

#[derive(Debug, Clone)]
pub struct JoinOptions {
    /// host:port of the control plane's gRPC (TLS) listener.
    pub control_plane: String,
    /// The name the control plane's certificate must carry (default: localhost).
    pub control_plane_name: String,
    /// PEM of the mesh CA, which must have signed the control plane's certificate.
    pub ca_bundle_pem: String,
    /// Where that PEM was read from, for the error that says it is the wrong one.
    pub ca_bundle_path: PathBuf,
    pub token: Token,
    pub proxy_id: String,
    pub workload: proto::Workload,
    /// The address peers reach this proxy's inbound listener at.
    pub inbound_address: String,
}

/// The bootstrap token: given once, or a file read again each time it is needed (a
/// projected service-account token is rotated by the kubelet well before it expires).
#[derive(Debug, Clone)]
pub enum Token {
    Value(String),
    File(PathBuf),
}

impl Token {
    pub fn current(&self) -> Result<String, JoinError> {
        match self {
            Token::Value(token) => Ok(token.clone()),
            Token::File(path) => std::fs::read_to_string(path)
                .map(|text| text.trim().to_owned())
                .map_err(|error| JoinError::Token(format!("reading {}: {error}", path.display()))),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("bootstrap token: {0}")]
    Token(String),
    #[error("control plane address {0:?} is not host:port")]
    Address(String),
    #[error("the CA bundle is not usable: {0}")]
    CaBundle(String),
    #[error("the control plane refused this proxy: {0}")]
    Refused(String),
    #[error("control plane unreachable: {0}")]
    Unreachable(String),
    /// The TLS handshake failed because the CA bundle does not vouch for the control
    /// plane's certificate.
    #[error("control plane certificate not trusted: {0}")]
    Untrusted(String),
    #[error("certificate: {0}")]
    Certificate(String),
}

/// Reconnects wait 100 ms, doubling up to 5 s, ±20 % so that proxies restarted together
/// do not reconnect in lockstep.
const RECONNECT: Backoff =
    Backoff::new(Duration::from_millis(100), Duration::from_secs(5)).with_jitter(0.2);

/// Connects (lazily) and gets the first certificate: the proxy cannot serve without it.
pub async fn first_certificate(
    options: &JoinOptions,
) -> Result<(Channel, WorkloadCertificate), JoinError> {
    let channel = stream::channel(options)?;
    let certificate = certificate::issue(&channel, options)
        .await
        .map_err(|error| wrong_ca(error, &options.ca_bundle_path))?;
    Ok((channel, certificate))
}

/// A control plane whose certificate the bundle does not vouch for: say which file is
/// wrong and where the right one is, not only rustls' "UnknownIssuer".
fn wrong_ca(error: JoinError, bundle: &std::path::Path) -> JoinError {
    match error {
        JoinError::Untrusted(detail) => JoinError::CaBundle(format!(
            "{} does not hold the CA that signed the control plane's certificate ({detail}); \
                 use the bundle of the reconciler you join: ca-bundle.pem in its state directory \
                 (`meshcd run` names it when it creates it: the nearest .meshcd, else ~/.local/state/meshcd), or in a cluster the meshcd-ca-bundle ConfigMap",
            bundle.display()
        )),
        other => other,
    }
}

/// Opens the stream and applies the first snapshot, then keeps the stream and the
/// certificate alive in the background. Fails only when the first snapshot cannot be had.
pub async fn start(
    channel: Channel,
    options: JoinOptions,
    sink: Arc<dyn JoinSink>,
    first: WorkloadCertificate,
) -> Result<tokio::task::JoinHandle<()>, JoinError> {
    let roots = Arc::new(CertificateRoots::new(&first.root));
    let mut session =
        stream::Session::open(channel.clone(), &options, sink.clone(), roots.clone()).await?;
    session.wait_first_snapshot().await?;
    let handle = tokio::spawn(async move {
        tokio::spawn(certificate::rotate_forever(
            channel.clone(),
            options.clone(),
            sink.clone(),
            first,
            roots.clone(),
        ));
        let mut backoff = RECONNECT;
        loop {
            match session.run().await {
                Ok(()) => tracing::warn!("control plane closed the stream; reconnecting"),
                Err(error) => {
                    tracing::warn!(error = %meshcd_support::error_chain(&error), "control plane stream lost; serving the last snapshot")
                }
            }
            loop {
                tokio::time::sleep(backoff.next_delay()).await;
                match stream::Session::open(channel.clone(), &options, sink.clone(), roots.clone())
                    .await
                {
                    Ok(next) => {
                        session = next;
                        backoff.reset();
                        tracing::info!("reconnected to the control plane");
                        break;
                    }
                    Err(error) => {
                        tracing::debug!(error = %meshcd_support::error_chain(&error), "reconnect failed");
                    }
                }
            }
        }
    });
    Ok(handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_file_is_read_again_each_time_so_a_rotated_token_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "first\n").unwrap();
        let token = Token::File(path.clone());
        assert_eq!(token.current().unwrap(), "first");
        // The kubelet swaps the projected file for a fresh token.
        std::fs::write(&path, "second").unwrap();
        assert_eq!(token.current().unwrap(), "second");
        std::fs::remove_file(&path).unwrap();
        let error = token.current().unwrap_err().to_string();
        assert!(error.contains(&path.display().to_string()), "{error}");
    }
}
