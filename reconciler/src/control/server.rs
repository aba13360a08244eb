//! The gRPC control plane (TLS): proxies prove who they are, get certificates, and hold
//! one stream on which they receive snapshots and send ACKs, NACKs and traffic reports.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use meshcd_schemas::proto;
use meshcd_schemas::proto::control_plane_server::{ControlPlane, ControlPlaneServer};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::mesh::Mesh;
use crate::compile::spiffe_id;
use crate::identity::ca::CertificateAuthority;
use crate::identity::verifier::Verifier;
use crate::inventory::{Protocol, Workload, WorkloadPort};
use crate::model::Identity;

/// How long a new stream may take to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

pub struct ControlPlaneService {
    pub mesh: Arc<Mesh>,
    /// Bootstrap tokens (local mode) or TokenReview (cluster mode).
    pub tokens: Verifier,
    pub ca: Arc<CertificateAuthority>,
}

impl ControlPlaneService {
    async fn authenticate(
        &self,
        token: &str,
        namespace: &str,
        service_account: &str,
    ) -> Result<Identity, Status> {
        let proven = self
            .tokens
            .verify(token)
            .await
            .map_err(|error| {
                let error: &dyn std::error::Error = &error;
                let mut message = error.to_string();
                let mut source = error.source();
                while let Some(cause) = source {
                    message.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                Status::internal(message)
            })?
            .ok_or_else(|| Status::unauthenticated(self.tokens.refusal()))?;
        if proven.namespace != namespace || proven.service_account != service_account {
            return Err(Status::permission_denied(format!(
                "the token is for {}/{}, not {namespace}/{service_account}",
                proven.namespace, proven.service_account
            )));
        }
        Ok(proven)
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
        let identity = self
            .authenticate(&hello.token, &wire.namespace, &wire.service_account)
            .await?;
        self.check_onboarded(&identity.namespace).await?;
        let workload = workload_from_hello(&hello, identity)?;

        let (sender, receiver) = mpsc::channel(16);
        let id = workload.id.clone();
        let source = workload.identity.clone();
        // A proxy that reconnects says which snapshot it serves (empty when it has none).
        let serving = Some(hello.version.clone()).filter(|version| !version.is_empty());
        let connection = self.mesh.connect(workload, serving, sender).await;
        tracing::info!(proxy = %id, "proxy connected");
        let mesh = self.mesh.clone();
        tokio::spawn(async move {
            while let Ok(Some(message)) = inbound.message().await {
                match message.message {
                    Some(proto::proxy_message::Message::Ack(ack)) => {
                        mesh.ack(&id, ack.version).await
                    }
                    Some(proto::proxy_message::Message::Nack(nack)) => {
                        mesh.nack(&id, nack.version, nack.error).await
                    }
                    Some(proto::proxy_message::Message::Report(report)) => {
                        mesh.traffic.record(&source, &report)
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
            .await?;
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
        let issued = self
            .ca
            .sign_workload(
                &request.csr_pem,
                &spiffe_id(&trust_domain, &identity),
                lifetime,
            )
            .map_err(|error| Status::invalid_argument(error.to_string()))?;
        Ok(Response::new(proto::CertificateResponse {
            certificate_chain_pem: issued.certificate_pem,
            ca_bundle_pem: self.ca.bundle_pem().to_string(),
            not_after_unix: issued.not_after.unix_timestamp(),
        }))
    }
}

fn workload_from_hello(hello: &proto::Hello, identity: Identity) -> Result<Workload, Status> {
    let wire = hello
        .workload
        .as_ref()
        .ok_or_else(|| Status::invalid_argument("hello without a workload"))?;
    if wire.services.is_empty() {
        return Err(Status::invalid_argument(
            "a workload belongs to at least one service",
        ));
    }
    if hello.inbound_address.parse::<SocketAddr>().is_err() {
        return Err(Status::invalid_argument(format!(
            "inbound address {:?} is not host:port",
            hello.inbound_address
        )));
    }
    let mut ports = Vec::new();
    for port in &wire.ports {
        let service_port = u16::try_from(port.service_port)
            .ok()
            .filter(|port| *port > 0)
            .ok_or_else(|| {
                Status::invalid_argument(format!(
                    "service port {} is not a port",
                    port.service_port
                ))
            })?;
        let protocol = match proto::Protocol::try_from(port.protocol) {
            Ok(proto::Protocol::Http) => Protocol::Http,
            Ok(proto::Protocol::Tcp) => Protocol::Tcp,
            Err(_) => return Err(Status::invalid_argument("unknown port protocol")),
        };
        ports.push(WorkloadPort {
            service_port,
            app_address: port.app_address.clone(),
            protocol,
        });
    }
    let id = if hello.proxy_id.is_empty() {
        format!(
            "{}/{}@{}",
            identity.namespace, identity.service_account, hello.inbound_address
        )
    } else {
        hello.proxy_id.clone()
    };
    Ok(Workload {
        id,
        identity,
        services: wire.services.clone(),
        ports,
        inbound_address: hello.inbound_address.clone(),
    })
}

/// Serves the control plane with TLS until `shutdown` resolves.
pub async fn serve(
    acceptor: crate::accept::Acceptor,
    service: ControlPlaneService,
    cert_pem: String,
    key_pem: String,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let tls = tonic::transport::ServerTlsConfig::new()
        .identity(tonic::transport::Identity::from_pem(cert_pem, key_pem));
    tonic::transport::Server::builder()
        .tls_config(tls)?
        .http2_keepalive_interval(Some(Duration::from_secs(10)))
        .add_service(ControlPlaneServer::new(service))
        // Within the connection cap, pausing when accepting fails (accept.rs): tonic's
        // own loop would retry a failed accept at once.
        .serve_with_incoming_shutdown(acceptor.into_stream(), shutdown)
        .await
}
