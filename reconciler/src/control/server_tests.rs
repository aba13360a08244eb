//! The control plane in local mode over the real gRPC service and TLS: what one identity
//! may hold, and what one message may weigh.

use std::sync::Arc;
use std::time::Duration;

use meshcd_schemas::proto;
use meshcd_schemas::proto::control_plane_client::ControlPlaneClient;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

use super::mesh::Mesh;
use super::server::{ControlPlaneService, serve};
use crate::identity::ca::CertificateAuthority;
use crate::identity::tokens::{DEFAULT_TTL, TokenStore};
use crate::model::Identity;

/// A control plane on the loopback for `mesh` that takes the tokens `tokens` proves
/// (a local store, or TokenReview), and a TLS channel to it.
pub(super) async fn control_plane(
    mesh: Arc<Mesh>,
    tokens: impl Into<crate::identity::verifier::Verifier>,
) -> Channel {
    let (ca, _) = CertificateAuthority::generate("cluster.local").unwrap();
    let (cert_pem, key_pem) = ca
        .issue_server(&["localhost".to_string()], Duration::from_secs(3600))
        .unwrap();
    let bundle = ca.bundle_pem().to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let service = ControlPlaneService {
        mesh,
        tokens: tokens.into(),
        ca: Arc::new(ca),
    };
    tokio::spawn(serve(
        crate::accept::Acceptor::new(
            listener,
            "control-plane",
            8,
            crate::accept::ListenerMetrics::default(),
        ),
        service,
        cert_pem,
        key_pem,
        std::future::pending(),
    ));
    Channel::from_shared(format!("https://{address}"))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(bundle))
                .domain_name("localhost"),
        )
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// A token of shop/`service_account` for the service of the same name.
fn token(tokens: &TokenStore, service_account: &str) -> String {
    let identity = Identity {
        namespace: "shop".into(),
        service_account: service_account.into(),
    };
    tokens
        .create(&identity, &[service_account.to_string()], DEFAULT_TTL)
        .unwrap()
        .1
}

fn hello(token: &str, service_account: &str, proxy_id: &str) -> proto::ProxyMessage {
    proto::ProxyMessage {
        message: Some(proto::proxy_message::Message::Hello(proto::Hello {
            certificate_root: String::new(),
            proxy_id: proxy_id.into(),
            token: token.into(),
            workload: Some(proto::Workload {
                namespace: "shop".into(),
                service_account: service_account.into(),
                identity: String::new(),
                services: vec![service_account.into()],
                ports: Vec::new(),
                rate_limits: Vec::new(),
                ingress: Vec::new(),
            }),
            inbound_address: "127.0.0.1:15003".into(),
            version: String::new(),
        })),
    }
}

/// Opens a stream with `hello`: the sender of its further messages once registered, the
/// refusal otherwise. The response stream is kept open until the test ends.
pub(super) async fn join(
    channel: &Channel,
    hello: proto::ProxyMessage,
) -> Result<mpsc::Sender<proto::ProxyMessage>, tonic::Status> {
    let (sender, receiver) = mpsc::channel(4);
    sender.send(hello).await.unwrap();
    let stream = ControlPlaneClient::new(channel.clone())
        .stream(ReceiverStream::new(receiver))
        .await?;
    std::mem::forget(stream);
    Ok(sender)
}

async fn registered(mesh: &Mesh, service_account: &str) -> usize {
    mesh.proxies()
        .await
        .iter()
        .filter(|proxy| proxy.service_account == service_account)
        .count()
}

#[tokio::test]
async fn an_identity_past_its_cap_of_registrations_is_refused_while_another_registers() {
    let state = tempfile::tempdir().unwrap();
    let tokens = TokenStore::new(state.path());
    let flood = token(&tokens, "flood");
    let web = token(&tokens, "web");
    let mesh = Arc::new(Mesh::with_max_registrations_per_identity(3));
    let channel = control_plane(mesh.clone(), tokens).await;

    let mut held = Vec::new();
    for index in 0..3 {
        let id = format!("flood-{index}");
        held.push(join(&channel, hello(&flood, "flood", &id)).await.unwrap());
    }
    let refused = join(&channel, hello(&flood, "flood", "flood-3"))
        .await
        .expect_err("a fourth registration of one identity was accepted");
    assert_eq!(
        refused.code(),
        tonic::Code::ResourceExhausted,
        "{refused:?}"
    );
    assert_eq!(
        refused.message(),
        "shop/flood already has 3 proxies registered, the most one identity may have; \
         a proxy that reconnects with its own proxy id replaces its registration"
    );
    assert_eq!(registered(&mesh, "flood").await, 3);

    // A proxy of the capped identity that reconnects under its own id still gets in.
    held.push(
        join(&channel, hello(&flood, "flood", "flood-0"))
            .await
            .expect("a reconnecting proxy replaces its own registration"),
    );
    assert_eq!(registered(&mesh, "flood").await, 3);

    // Another identity is not held back by the first one's cap.
    held.push(
        join(&channel, hello(&web, "web", "web-0"))
            .await
            .expect("another identity registers"),
    );
    assert_eq!(registered(&mesh, "web").await, 1);
}

#[tokio::test]
async fn a_message_over_the_decoding_limit_ends_its_stream() {
    let state = tempfile::tempdir().unwrap();
    let tokens = TokenStore::new(state.path());
    let web = token(&tokens, "web");
    let mesh = Arc::new(Mesh::default());
    let channel = control_plane(mesh.clone(), tokens).await;
    let sender = join(&channel, hello(&web, "web", "web-0")).await.unwrap();
    assert_eq!(registered(&mesh, "web").await, 1);

    let counter = proto::TrafficCounter {
        service: "web".into(),
        namespace: "shop".into(),
        backend: "web".into(),
        requests: 1,
        failures: 0,
        bucket_bounds_ms: Vec::new(),
        bucket_counts: Vec::new(),
        ..Default::default()
    };
    // About 2 MiB: over the 1 MiB limit, under tonic's default of 4 MiB.
    let report = proto::ProxyMessage {
        message: Some(proto::proxy_message::Message::Report(
            proto::TrafficReport {
                counters: vec![counter; 120_000],
                served: Vec::new(),
            },
        )),
    };
    sender.send(report).await.unwrap();
    let mut left = false;
    for _ in 0..100 {
        if registered(&mesh, "web").await == 0 {
            left = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(left, "a 2 MiB report did not end its stream");
}

#[tokio::test]
async fn one_connection_carries_a_bounded_number_of_streams() {
    let state = tempfile::tempdir().unwrap();
    let tokens = TokenStore::new(state.path());
    let web = token(&tokens, "web");
    let mesh = Arc::new(Mesh::default());
    let channel = control_plane(mesh.clone(), tokens).await;
    let mut held = Vec::new();
    for index in 0..64 {
        let id = format!("web-{index}");
        held.push(join(&channel, hello(&web, "web", &id)).await.unwrap());
    }
    // The server allows 64 streams on this connection: the client waits for a slot.
    let waiting = tokio::time::timeout(
        Duration::from_secs(1),
        join(&channel, hello(&web, "web", "web-64")),
    )
    .await;
    assert!(waiting.is_err(), "a 65th stream opened on one connection");
    assert_eq!(registered(&mesh, "web").await, 64);
}
