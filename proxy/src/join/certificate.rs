//! Workload certificates: a fresh key per certificate, a CSR proven by the bootstrap
//! token, rotation at two thirds of the certificate's life.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meshcd_schemas::proto;
use meshcd_schemas::proto::control_plane_client::ControlPlaneClient;
use tokio::sync::watch;
use tonic::transport::Channel;

use meshcd_support::Backoff;

use super::{JoinError, JoinOptions, JoinSink};

/// A failed renewal is tried again after 200 ms, doubling up to 10 s.
const RETRY: Backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));

/// A certificate chain with its private key, which exists only in this process.
#[derive(Clone)]
pub struct WorkloadCertificate {
    pub chain_pem: String,
    /// PKCS#8 PEM.
    pub key_pem: String,
    pub ca_bundle_pem: String,
    pub issued_at: SystemTime,
    pub not_after: SystemTime,
    /// SHA-256 (hex) of the root it chains to, as the control plane said.
    pub root: String,
}

/// The root of the certificate this proxy serves with, and the root the control plane
/// issues from now: when they differ, the certificate is renewed at once (a rotation).
pub struct CertificateRoots {
    /// Changes after each renewal; the stream then tells the control plane.
    pub serving: watch::Sender<String>,
    /// The issuing root of the last snapshot (empty: none said).
    pub issuing: watch::Sender<String>,
}

impl CertificateRoots {
    pub fn new(serving: &str) -> Self {
        CertificateRoots {
            serving: watch::Sender::new(serving.to_string()),
            issuing: watch::Sender::new(String::new()),
        }
    }

    /// Whether the certificate in force is from another root than the issuing one.
    fn stale(&self) -> bool {
        let issuing = self.issuing.borrow();
        !issuing.is_empty() && *issuing != *self.serving.borrow()
    }
}

impl std::fmt::Debug for WorkloadCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("WorkloadCertificate")
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl WorkloadCertificate {
    /// When to ask for the next one: two thirds into its life.
    pub fn renew_at(&self) -> SystemTime {
        let life = self
            .not_after
            .duration_since(self.issued_at)
            .unwrap_or_default();
        self.issued_at + life.mul_f64(2.0 / 3.0)
    }
}

pub async fn issue(
    channel: &Channel,
    options: &JoinOptions,
) -> Result<WorkloadCertificate, JoinError> {
    let key = rcgen::KeyPair::generate()
        .map_err(|e| JoinError::Certificate(format!("generating a key: {e}")))?;
    let csr = rcgen::CertificateParams::new(Vec::<String>::new())
        .and_then(|params| params.serialize_request(&key))
        .and_then(|csr| csr.pem())
        .map_err(|e| JoinError::Certificate(format!("building the CSR: {e}")))?;
    let workload = &options.workload;
    let response = ControlPlaneClient::new(channel.clone())
        .issue_certificate(proto::CertificateRequest {
            token: options.token.current()?,
            namespace: workload.namespace.clone(),
            service_account: workload.service_account.clone(),
            csr_pem: csr,
        })
        .await
        .map_err(super::stream::classify)?
        .into_inner();
    Ok(WorkloadCertificate {
        chain_pem: response.certificate_chain_pem,
        key_pem: key.serialize_pem(),
        ca_bundle_pem: response.ca_bundle_pem,
        issued_at: SystemTime::now(),
        not_after: UNIX_EPOCH
            + Duration::from_secs(u64::try_from(response.not_after_unix).unwrap_or(0)),
        root: response.root,
    })
}

/// Renews before expiry, and at once when the issuing root is not the certificate's,
/// forever. New connections use the new certificate; established ones keep theirs, so
/// rotation drops no request.
pub async fn rotate_forever(
    channel: Channel,
    options: JoinOptions,
    sink: Arc<dyn JoinSink>,
    mut current: WorkloadCertificate,
    roots: Arc<CertificateRoots>,
) {
    let mut issuing = roots.issuing.subscribe();
    let mut early = roots.stale();
    loop {
        let wait = current
            .renew_at()
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        let renew_at = tokio::time::sleep(wait);
        tokio::pin!(renew_at);
        // Woken only by the expiry timer or a change of the issuing root; a root that
        // did not change since the last renewal does not renew again (no loop when the
        // control plane has not switched yet).
        if !std::mem::take(&mut early) {
            loop {
                tokio::select! {
                    () = &mut renew_at => break,
                    changed = issuing.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        if roots.stale() {
                            break;
                        }
                    }
                }
            }
        }
        issuing.mark_unchanged();
        let mut retry = RETRY;
        loop {
            match issue(&channel, &options).await {
                Ok(next) => match sink.apply_certificate(&next) {
                    Ok(()) => {
                        tracing::info!(not_after = ?next.not_after, root = %next.root, "workload certificate rotated");
                        roots.serving.send_replace(next.root.clone());
                        current = next;
                        break;
                    }
                    Err(error) => tracing::warn!(%error, "new certificate rejected"),
                },
                Err(error) => {
                    tracing::warn!(error = %meshcd_support::error_chain(&error), "certificate renewal failed; retrying")
                }
            }
            tokio::time::sleep(retry.next_delay()).await;
        }
    }
}
