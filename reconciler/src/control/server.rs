//! The gRPC control plane (TLS): proxies prove who they are, get certificates, and hold
//! one stream on which they receive snapshots and send ACKs, NACKs and traffic reports.

use std::sync::Arc;
use std::time::Duration;

use meshcd_schemas::proto;
use meshcd_schemas::proto::control_plane_server::{ControlPlane, ControlPlaneServer};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::admission;
use super::mesh::{ConnectRefused, Mesh};
use crate::compile::spiffe_id;
use crate::identity::ca::CertificateAuthority;
use crate::identity::roots::Trust;
use crate::identity::verifier::{Proof, Proven, Verifier};
use crate::inventory::Workload;

/// How often an idle proxy connection is pinged: a silent network partition is noticed
/// within a minute, and 10,000 idle proxies cost a few hundred pings a second, not
/// thousands.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
/// How long a new stream may take to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// The most streams one connection may have open at once. A proxy holds one stream (and
/// renews its certificate now and then), so one connection must not carry unbounded
/// registrations and report streams.
const MAX_CONCURRENT_STREAMS: u32 = 64;
/// The largest message a proxy may send. A report of a proxy's 256 keys is well under
/// 100 KiB; tonic's default (4 MiB) would let one report carry ~100,000 counters. Only
/// what meshcd decodes is bounded: snapshots (encoded) keep tonic's unlimited default.
const MAX_DECODING_MESSAGE_SIZE: usize = 1024 * 1024;

pub struct ControlPlaneService {
    pub mesh: Arc<Mesh>,
    /// Bootstrap tokens (local mode) or TokenReview (cluster mode).
    pub tokens: Verifier,
    pub ca: Arc<CertificateAuthority>,
}

impl ControlPlaneService {
    /// The identity (and, in local mode, the services) a token proves for the
    /// namespace and service account the caller names. A caller that proves nothing
    /// learns nothing more than that: store or API failures are logged here, and it is
    /// told "internal error".
    async fn authenticate(
        &self,
        token: &str,
        namespace: &str,
        service_account: &str,
    ) -> Result<Proven, Status> {
        let proven = match self.tokens.verify(token).await {
            Ok(Proof::Proven(proven)) => proven,
            Ok(Proof::Refused(reason)) => return Err(Status::unauthenticated(reason)),
            Err(error) => {
                tracing::error!(error = %meshcd_support::error_chain(&error), "checking a proxy's token failed");
                return Err(Status::internal("internal error"));
            }
        };
        let identity = &proven.identity;
        if identity.namespace != namespace || identity.service_account != service_account {
            return Err(Status::permission_denied(format!(
                "the token is for {}/{}, not {namespace}/{service_account}",
                identity.namespace, identity.service_account
            )));
        }
        Ok(proven)
    }

    /// The workload a hello may register for a proven identity.
    async fn admit(&self, hello: &proto::Hello, proven: Proven) -> Result<Workload, Status> {
        let claimed = admission::claimed(hello, proven.identity)?;
        let admitted = match &proven.services {
            Some(allowed) => admission::by_token(claimed.clone(), allowed),
            None if self.mesh.is_cluster().await => {
                admission::by_pod(&claimed, &self.mesh.discovered().await)
            }
            // A service-account token without discovery: nothing says what it may serve.
            None => Err(admission::Refusal::NotEntitled(
                "no cluster inventory to check this workload against".into(),
            )),
        };
        admitted.map_err(|refusal| {
            tracing::warn!(proxy = %claimed.id, %refusal, "refused a proxy's registration");
            Status::from(refusal)
        })
    }

    async fn check_onboarded(&self, namespace: &str) -> Result<(), Status> {
        if let Some(applied) = self.mesh.applied().await
            && !applied.config.namespaces.contains(namespace)
        {
            return Err(Status::failed_precondition(format!(
                "namespace {namespace:?} is not onboarded: add it to the config repository (meshcd namespace add {namespace})"
            )));
        }
        Ok(())
    }
}

#[tonic::async_trait]
impl ControlPlane for ControlPlaneService {
    type StreamStream = ReceiverStream<Result<proto::ControlMessage, Status>>;

    async fn stream(
        &self,
        request: Request<Streaming<proto::ProxyMessage>>,
    ) -> Result<Response<Self::StreamStream>, Status> {
        if self.mesh.standing_by().await {
            return Err(Status::unavailable(super::mesh::STANDBY));
        }
        let mut inbound = request.into_inner();
        let first = tokio::time::timeout(HELLO_TIMEOUT, inbound.message())
            .await
            .map_err(|_| Status::deadline_exceeded("no hello within 10s"))??
            .ok_or_else(|| Status::invalid_argument("stream closed before hello"))?;
        let Some(proto::proxy_message::Message::Hello(hello)) = first.message else {
            return Err(Status::invalid_argument(
                "the first message must be a hello",
            ));
        };
        let wire = hello
            .workload
            .clone()
            .ok_or_else(|| Status::invalid_argument("hello without a workload"))?;
        let proven = self
            .authenticate(&hello.token, &wire.namespace, &wire.service_account)
            .await?;
        self.check_onboarded(&proven.identity.namespace).await?;
        let key =
            admission::registration_key(&proven.identity, &hello.proxy_id, &hello.inbound_address);
        let workload = self.admit(&hello, proven).await?;

        let (sender, receiver) = mpsc::channel(16);
        let id = key.clone();
        let source = workload.identity.clone();
        let served = workload.services.clone();
        // A proxy that reconnects says which snapshot it serves (empty when it has none).
        let serving = Some(hello.version.clone()).filter(|version| !version.is_empty());
        let replies = sender.clone();
        let connection = self
            .mesh
            .connect(key, workload, serving, sender)
            .await
            .map_err(|refusal| {
                tracing::warn!(proxy = %id, %refusal, "refused a proxy's registration");
                match refusal {
                    ConnectRefused::TooMany(_) => Status::resource_exhausted(refusal.to_string()),
                    ConnectRefused::StandingBy => Status::unavailable(refusal.to_string()),
                }
            })?;
        tracing::info!(proxy = %id, "proxy connected");
        if !hello.certificate_root.is_empty() {
            self.mesh
                .certificate_root(&id, hello.certificate_root.clone())
                .await;
        }
        let mesh = self.mesh.clone();
        tokio::spawn(async move {
            while let Ok(Some(message)) = inbound.message().await {
                match message.message {
                    Some(proto::proxy_message::Message::Ack(ack)) => {
                        let root = Some(ack.certificate_root).filter(|root| !root.is_empty());
                        mesh.ack(&id, ack.version, root).await
                    }
                    Some(proto::proxy_message::Message::Nack(nack)) => {
                        mesh.nack(&id, nack.version, nack.error).await
                    }
                    Some(proto::proxy_message::Message::Report(report)) => {
                        mesh.traffic.record(&source, &served, &report)
                    }
                    Some(proto::proxy_message::Message::Lookup(lookup)) => {
                        let result = mesh.lookup(&source.namespace, &lookup).await;
                        let message = proto::control_message::Message::LookupResult(result);
                        // Waits only on this proxy's own channel.
                        let sent = replies.send(Ok(proto::ControlMessage {
                            message: Some(message),
                        }));
                        if sent.await.is_err() {
                            break;
                        }
                    }
                    Some(proto::proxy_message::Message::Hello(_)) | None => {}
                }
            }
            tracing::info!(proxy = %id, "proxy disconnected");
            mesh.disconnect(&id, connection).await;
        });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }

    async fn issue_certificate(
        &self,
        request: Request<proto::CertificateRequest>,
    ) -> Result<Response<proto::CertificateResponse>, Status> {
        let request = request.into_inner();
        let identity = self
            .authenticate(&request.token, &request.namespace, &request.service_account)
            .await?
            .identity;
        self.check_onboarded(&identity.namespace).await?;
        let (trust_domain, lifetime) = match self.mesh.applied().await {
            Some(applied) => (
                applied.config.mesh.trust_domain.clone(),
                applied.config.mesh.certificate_lifetime,
            ),
            None => {
                let defaults = crate::model::Mesh::default();
                (defaults.trust_domain, defaults.certificate_lifetime)
            }
        };
        // The issuing root of the revision in force; before the first, the mesh's CA.
        let trust = match self.mesh.trust().await {
            Some(trust) => trust,
            None => Arc::new(Trust::single(self.ca.clone())),
        };
        let issued = trust
            .issuer
            .sign_workload(
                &request.csr_pem,
                &spiffe_id(&trust_domain, &identity),
                lifetime,
            )
            .map_err(|error| Status::invalid_argument(error.to_string()))?;
        Ok(Response::new(proto::CertificateResponse {
            certificate_chain_pem: issued.certificate_pem,
            ca_bundle_pem: trust.bundle_pem(),
            not_after_unix: issued.not_after.unix_timestamp(),
            root: trust.issuing().to_string(),
        }))
    }
}

/// How long a proxy may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves the control plane with TLS until `shutdown` resolves.
pub async fn serve(
    acceptor: crate::accept::Acceptor,
    service: ControlPlaneService,
    cert_pem: String,
    key_pem: String,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    // A caller that never finishes its handshake gives its connection slot back.
    let tls = tonic::transport::ServerTlsConfig::new()
        .identity(tonic::transport::Identity::from_pem(cert_pem, key_pem))
        .timeout(HANDSHAKE_TIMEOUT);
    tonic::transport::Server::builder()
        .tls_config(tls)?
        .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
        .max_concurrent_streams(Some(MAX_CONCURRENT_STREAMS))
        .add_service(
            ControlPlaneServer::new(service).max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE),
        )
        // Within the connection cap, pausing when accepting fails (accept.rs): tonic's
        // own loop would retry a failed accept at once.
        .serve_with_incoming_shutdown(acceptor.into_stream(), shutdown)
        .await
}
