//! Attacks through the control plane's own gRPC API, against a real reconciler, proxies
//! and apps: a workload that is neither a caller of a canary nor the canary itself
//! streams crafted traffic reports, and a proxy presents an expired token. The attacker
//! is a gRPC client over TLS speaking the proxies' protocol with a token of its own.
//!
//! Needs `meshcd-proxy` next to the `meshcd` binary (`cargo build --workspace --bins`).

mod canary_support;
mod local_support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use canary_support::{canary_yaml, commit_by_meshcd, commit_canary};
use local_support::{NAMESPACE, config_repo, eventually, keep_calling, mesh_with};
use meshcd::cli::local_mesh::LocalMesh;
use meshcd::identity::tokens::{DEFAULT_TTL, TokenStore};
use meshcd::model::Identity;
use meshcd_schemas::proto;
use meshcd_schemas::proto::control_plane_client::ControlPlaneClient;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

/// A TLS channel to the control plane, trusting the mesh CA as a proxy does.
async fn control_plane(mesh: &LocalMesh, state: &Path) -> Channel {
    let bundle = std::fs::read_to_string(state.join("ca-bundle.pem")).unwrap();
    Channel::from_shared(format!("https://{}", mesh.control_plane()))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(bundle))
                .domain_name("localhost"),
        )
        .unwrap()
        .connect()
        .await
        .expect("control plane reachable")
}

fn token_for(state: &Path, service_account: &str, services: &[&str], ttl: Duration) -> String {
    let services: Vec<String> = services.iter().map(|s| s.to_string()).collect();
    TokenStore::new(state)
        .create(
            &Identity {
                namespace: NAMESPACE.into(),
                service_account: service_account.into(),
            },
            &services,
            ttl,
        )
        .unwrap()
        .1
}

fn hello(token: &str, service_account: &str, service: &str) -> proto::ProxyMessage {
    proto::ProxyMessage {
        message: Some(proto::proxy_message::Message::Hello(proto::Hello {
            certificate_root: String::new(),
            proxy_id: String::new(),
            token: token.into(),
            workload: Some(proto::Workload {
                namespace: NAMESPACE.into(),
                service_account: service_account.into(),
                identity: String::new(),
                services: vec![service.into()],
                ports: Vec::new(),
                rate_limits: Vec::new(),
                ingress: Vec::new(),
            }),
            inbound_address: "127.0.0.1:9".into(),
            version: String::new(),
        })),
    }
}

/// `requests` calls to api-v2 with `failures` failures, claimed both as a caller of api
/// and as api-v2's own inbound.
fn forged_report(requests: u64, failures: u64) -> proto::ProxyMessage {
    let counter = |service: &str, backend: &str| proto::TrafficCounter {
        service: service.into(),
        namespace: NAMESPACE.into(),
        backend: backend.into(),
        requests,
        failures,
        bucket_bounds_ms: vec![1.0, f64::INFINITY],
        bucket_counts: vec![requests, requests],
        ..Default::default()
    };
    proto::ProxyMessage {
        message: Some(proto::proxy_message::Message::Report(
            proto::TrafficReport {
                counters: vec![counter("api", "api-v2")],
                served: vec![counter("api-v2", "api-v2")],
            },
        )),
    }
}

/// Joins as shop/forger, with a valid token of its own for its own service, and streams
/// forged reports every 100 ms until `stop`.
async fn forge(
    channel: Channel,
    state: &Path,
    requests: u64,
    failures: u64,
    stop: Arc<AtomicBool>,
) {
    let token = token_for(state, "forger", &["forger"], DEFAULT_TTL);
    let (sender, receiver) = mpsc::channel(16);
    sender
        .send(hello(&token, "forger", "forger"))
        .await
        .unwrap();
    let mut snapshots = ControlPlaneClient::new(channel)
        .stream(ReceiverStream::new(receiver))
        .await
        .expect("the forger's own registration is accepted")
        .into_inner();
    tokio::spawn(async move { while let Ok(Some(_)) = snapshots.message().await {} });
    tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            if sender
                .send(forged_report(requests, failures))
                .await
                .is_err()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
}

/// Runs a canary whose backend answers `canary_status` while the forger reports
/// `requests`/`failures` every 100 ms; returns meshcd's outcome commit message.
async fn outcome_with_forger(canary_status: u16, requests: u64, failures: u64) -> String {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let state: PathBuf = dir.path().join("state");
    let (mesh, frontend) = mesh_with(&repo, &state, canary_status, &[]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let channel = control_plane(&mesh, &state).await;
    forge(channel, &state, requests, failures, stop.clone()).await;
    let load = keep_calling(frontend.clone(), stop.clone());

    commit_canary(&repo, &canary_yaml(&[50], "30s", 2), "canary for api-v2");
    let (_, message) = commit_by_meshcd(&repo, Duration::from_secs(60)).await;
    stop.store(true, Ordering::Relaxed);
    let _ = load.await;
    mesh.stop().await;
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_canary_is_rolled_back_although_a_non_caller_reports_it_all_successful() {
    let message = outcome_with_forger(500, 5_000, 0).await;
    assert!(
        message.starts_with("meshcd: roll back canary shop/api"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_canary_is_promoted_although_a_non_caller_reports_it_all_failing() {
    let message = outcome_with_forger(200, 5_000, 5_000).await;
    assert!(
        message.starts_with("meshcd: promote canary shop/api"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_gets_no_certificate_renewal_and_no_stream() {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let state = dir.path().join("state");
    let meshcd = PathBuf::from(env!("CARGO_BIN_EXE_meshcd"));
    let mesh = LocalMesh::start_with_args(&meshcd, &repo, &state, "1s", &[])
        .await
        .expect("reconciler starts");
    let channel = control_plane(&mesh, &state).await;
    let ttl = Duration::from_secs(3);
    let created = Instant::now();
    let token = token_for(&state, "api", &["api"], ttl);
    let renew = || {
        let key = rcgen::KeyPair::generate().unwrap();
        let csr = rcgen::CertificateParams::new(Vec::<String>::new())
            .and_then(|params| params.serialize_request(&key))
            .and_then(|csr| csr.pem())
            .unwrap();
        let request = proto::CertificateRequest {
            token: token.clone(),
            namespace: NAMESPACE.into(),
            service_account: "api".into(),
            csr_pem: csr,
        };
        let mut client = ControlPlaneClient::new(channel.clone());
        async move { client.issue_certificate(request).await }
    };
    renew().await.expect("a valid token gets a certificate");

    eventually(Duration::from_secs(20), || async {
        (created.elapsed() > ttl)
            .then_some(())
            .ok_or_else(|| "the token has not expired yet".to_string())
    })
    .await;

    let refused = renew()
        .await
        .expect_err("an expired token got a certificate");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused:?}");
    assert!(
        refused.message().starts_with("token expired at "),
        "{refused:?}"
    );
    let (sender, receiver) = mpsc::channel(1);
    sender.send(hello(&token, "api", "api")).await.unwrap();
    let joined = ControlPlaneClient::new(channel)
        .stream(ReceiverStream::new(receiver))
        .await;
    let refused = joined.expect_err("an expired token opened a stream");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused:?}");
    assert!(
        refused.message().starts_with("token expired at "),
        "{refused:?}"
    );
    mesh.stop().await;
}
