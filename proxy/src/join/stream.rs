//! The snapshot stream: hello, then snapshots in and ACKs or NACKs out.

use std::sync::Arc;

use meshcd_schemas::proto;
use meshcd_schemas::proto::control_plane_client::ControlPlaneClient;
use meshcd_schemas::proto::proxy_message::Message as Outgoing;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use super::{CertificateRoots, JoinError, JoinOptions, JoinSink};

pub fn channel(options: &JoinOptions) -> Result<Channel, JoinError> {
    if options
        .control_plane
        .parse::<std::net::SocketAddr>()
        .is_err()
        && !options.control_plane.contains(':')
    {
        return Err(JoinError::Address(options.control_plane.clone()));
    }
    if !options.ca_bundle_pem.contains("BEGIN CERTIFICATE") {
        return Err(JoinError::CaBundle("no PEM certificate in it".into()));
    }
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&options.ca_bundle_pem))
        .domain_name(options.control_plane_name.clone());
    let endpoint = Endpoint::from_shared(format!("https://{}", options.control_plane))
        .map_err(|_| JoinError::Address(options.control_plane.clone()))?
        .tls_config(tls)
        .map_err(|error| JoinError::CaBundle(meshcd_support::error_chain(&error)))?
        .connect_timeout(std::time::Duration::from_secs(3))
        // A control plane gone silent (partition, frozen host) is noticed within a
        // minute; a restarted one at once (its connection resets). Rarer pings keep an
        // idle proxy and a large fleet's control plane cheap.
        .http2_keep_alive_interval(std::time::Duration::from_secs(30))
        .keep_alive_while_idle(true);
    Ok(endpoint.connect_lazy())
}

/// Maps a gRPC failure to whether retrying can help.
pub fn classify(status: tonic::Status) -> JoinError {
    use tonic::Code;
    match status.code() {
        Code::Unauthenticated
        | Code::PermissionDenied
        | Code::FailedPrecondition
        | Code::InvalidArgument => JoinError::Refused(status.message().to_string()),
        _ => {
            // A TLS failure (wrong CA bundle) surfaces as an Unavailable status whose
            // source chain holds rustls' certificate error.
            let mut text = status.message().to_string();
            for cause in meshcd_support::error_chain::causes(&status) {
                text.push_str(&format!(": {cause}"));
            }
            if meshcd_support::error_chain::causes(&status).any(untrusted_certificate) {
                JoinError::Untrusted(text)
            } else {
                JoinError::Unreachable(text)
            }
        }
    }
}

/// rustls' verdict that no CA in the bundle signed the peer's certificate. It travels
/// inside an `io::Error` (tokio-rustls), whose `source` skips it: look inside too.
fn untrusted_certificate(cause: &(dyn std::error::Error + 'static)) -> bool {
    use rustls::CertificateError::{BadSignature, UnknownIssuer};
    let tls = cause.downcast_ref::<rustls::Error>().or_else(|| {
        cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    });
    matches!(
        tls,
        Some(rustls::Error::InvalidCertificate(
            UnknownIssuer | BadSignature
        ))
    )
}

pub struct Session {
    outgoing: mpsc::Sender<proto::ProxyMessage>,
    incoming: tonic::Streaming<proto::ControlMessage>,
    sink: Arc<dyn JoinSink>,
    roots: Arc<CertificateRoots>,
    /// Wakes when a renewed certificate is from another root, to say so.
    serving: tokio::sync::watch::Receiver<String>,
}

impl Session {
    pub async fn open(
        channel: Channel,
        options: &JoinOptions,
        sink: Arc<dyn JoinSink>,
        roots: Arc<CertificateRoots>,
    ) -> Result<Session, JoinError> {
        let (outgoing, receiver) = mpsc::channel(16);
        let mut serving = roots.serving.subscribe();
        let hello = proto::ProxyMessage {
            message: Some(Outgoing::Hello(proto::Hello {
                proxy_id: options.proxy_id.clone(),
                token: options.token.current()?,
                workload: Some(options.workload.clone()),
                inbound_address: options.inbound_address.clone(),
                version: sink.current_version().unwrap_or_default(),
                certificate_root: serving.borrow_and_update().clone(),
            })),
        };
        outgoing
            .send(hello)
            .await
            .map_err(|_| JoinError::Unreachable("stream closed".into()))?;
        let incoming = ControlPlaneClient::new(channel)
            .stream(ReceiverStream::new(receiver))
            .await
            .map_err(classify)?
            .into_inner();
        sink.lookups().attach(outgoing.clone());
        // Reports stop by themselves when the stream (and so the sender) is gone.
        tokio::spawn(super::report::report_every_second(
            outgoing.clone(),
            sink.clone(),
        ));
        Ok(Session {
            outgoing,
            incoming,
            sink,
            roots,
            serving,
        })
    }

    /// Handles messages until the first snapshot has been applied (or rejected).
    pub async fn wait_first_snapshot(&mut self) -> Result<(), JoinError> {
        loop {
            match self.next().await? {
                Some(true) => return Ok(()),
                Some(false) => continue,
                None => {
                    return Err(JoinError::Unreachable(
                        "stream closed before the first snapshot".into(),
                    ));
                }
            }
        }
    }

    /// Handles messages until the stream ends; after each renewal of the certificate,
    /// ACKs the version in force again with the root of the new certificate.
    pub async fn run(&mut self) -> Result<(), JoinError> {
        loop {
            // Both cancel-safe: a message or a change is never lost to the other.
            let message = tokio::select! {
                message = self.incoming.message() => message.map_err(classify)?,
                Ok(()) = self.serving.changed() => {
                    let certificate_root = self.serving.borrow_and_update().clone();
                    let version = self.sink.current_version().unwrap_or_default();
                    let ack = Outgoing::Ack(proto::Ack { version, certificate_root });
                    let _ = self.outgoing.send(proto::ProxyMessage { message: Some(ack) }).await;
                    continue;
                }
            };
            match message {
                Some(message) => {
                    self.handle(message).await?;
                }
                None => return Ok(()),
            }
        }
    }

    /// `Some(true)` after a snapshot, `Some(false)` after another message, `None` at the end.
    async fn next(&mut self) -> Result<Option<bool>, JoinError> {
        let Some(message) = self.incoming.message().await.map_err(classify)? else {
            return Ok(None);
        };
        self.handle(message).await.map(Some)
    }

    /// `true` after a snapshot.
    async fn handle(&mut self, message: proto::ControlMessage) -> Result<bool, JoinError> {
        match message.message {
            Some(proto::control_message::Message::Snapshot(snapshot)) => {
                let version = snapshot.version.clone();
                let trust = snapshot.trust.clone();
                // The roots first: a snapshot ACKed is one whose roots are trusted.
                let applied = match &trust {
                    Some(trust) => self.sink.apply_trust(&trust.roots_pem),
                    None => Ok(()),
                }
                .and_then(|()| self.sink.apply_snapshot(snapshot));
                let reply = match applied {
                    Ok(()) => {
                        if let Some(trust) = trust {
                            self.roots.issuing.send_if_modified(|issuing| {
                                let changed = *issuing != trust.issuing_root;
                                *issuing = trust.issuing_root;
                                changed
                            });
                        }
                        let certificate_root = self.serving.borrow().clone();
                        Outgoing::Ack(proto::Ack {
                            version,
                            certificate_root,
                        })
                    }
                    Err(error) => {
                        tracing::warn!(%version, %error, "snapshot rejected; the previous one stays in force");
                        Outgoing::Nack(proto::Nack { version, error })
                    }
                };
                let _ = self
                    .outgoing
                    .send(proto::ProxyMessage {
                        message: Some(reply),
                    })
                    .await;
                Ok(true)
            }
            Some(proto::control_message::Message::Refused(refused)) => {
                Err(JoinError::Refused(refused.reason))
            }
            Some(proto::control_message::Message::LookupResult(result)) => {
                self.sink.lookups().answer(result);
                Ok(false)
            }
            None => Ok(false),
        }
    }
}
