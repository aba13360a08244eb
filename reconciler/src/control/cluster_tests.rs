//! The control plane in cluster mode against the in-memory API server: proxies prove
//! their service account with TokenReview and register only what their pod's
//! EndpointSlices say, over the real gRPC service and TLS.

use std::sync::Arc;
use std::time::Duration;

use meshcd_schemas::proto;
use serde_json::json;
use tokio::sync::watch;
use tonic::transport::Channel;

use super::mesh::Mesh;
use crate::identity::token_review::{AUDIENCE, TokenReviewer};
use crate::inventory::Inventory;
use crate::kubernetes::discovery;
use crate::kubernetes::fake_api::FakeApi;

/// A Service `name` in shop whose slice lists the pod `pod` at `ip`, running as `name`.
fn service_with_pod(api: &FakeApi, name: &str, pod: &str, ip: &str) {
    api.insert(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"clusterIP": "10.96.0.10", "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}));
    api.insert(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod, "namespace": "shop", "uid": format!("uid-{pod}"),
                     "annotations": {"meshcd.dev/injected": "true"}},
        "spec": {"serviceAccountName": name, "containers": []},
        "status": {"podIP": ip}}));
    api.insert(json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
        "metadata": {"name": format!("{name}-x"), "namespace": "shop", "labels": {"kubernetes.io/service-name": name}},
        "endpoints": [{"addresses": [ip], "conditions": {"ready": true},
                       "targetRef": {"kind": "Pod", "name": pod, "namespace": "shop"}}],
        "ports": [{"name": "http", "port": 8080}]}));
}

fn hello(
    token: &str,
    service_account: &str,
    services: &[&str],
    inbound: &str,
) -> proto::ProxyMessage {
    proto::ProxyMessage {
        message: Some(proto::proxy_message::Message::Hello(proto::Hello {
            certificate_root: String::new(),
            proxy_id: "uid-web-1".into(),
            token: token.into(),
            workload: Some(proto::Workload {
                namespace: "shop".into(),
                service_account: service_account.into(),
                identity: String::new(),
                services: services.iter().map(|s| s.to_string()).collect(),
                ports: Vec::new(),
                rate_limits: Vec::new(),
                ingress: Vec::new(),
            }),
            inbound_address: inbound.into(),
            version: String::new(),
        })),
    }
}

/// The control plane of `mesh`, reviewing tokens with `api`.
async fn control_plane(mesh: &Arc<Mesh>, api: &FakeApi) -> Channel {
    super::server_tests::control_plane(mesh.clone(), TokenReviewer::new(api.client(), AUDIENCE))
        .await
}

/// Opens a stream with `hello`: `Ok` once registered (kept until the test ends), the
/// refusal otherwise.
async fn join(channel: &Channel, hello: proto::ProxyMessage) -> Result<(), tonic::Status> {
    super::server_tests::join(channel, hello)
        .await
        .map(std::mem::forget)
}

#[tokio::test]
async fn a_pod_whose_proxy_claims_a_service_its_pod_does_not_back_is_refused() {
    let api = FakeApi::new();
    api.accept_token("web-token", "shop", "web");
    service_with_pod(&api, "web", "web-1", "10.244.0.2");
    service_with_pod(&api, "api", "api-1", "10.244.0.3");

    let mesh = Arc::new(Mesh::default());
    let (sender, mut discovered) = watch::channel(Inventory::default());
    tokio::spawn(discovery::run(api.client(), sender));
    let found = tokio::time::timeout(
        Duration::from_secs(10),
        discovered.wait_for(|inventory| inventory.workloads.len() == 2),
    )
    .await
    .is_ok_and(|waited| waited.is_ok());
    assert!(found, "both pods are discovered");
    let inventory = discovered.borrow().clone();
    mesh.set_discovered(inventory).await;

    let channel = control_plane(&mesh, &api).await;

    let refused = join(
        &channel,
        hello("web-token", "web", &["api"], "10.244.0.2:15003"),
    )
    .await
    .expect_err("web's pod registered as api");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied, "{refused:?}");
    assert_eq!(
        refused.message(),
        r#"the pod at 10.244.0.2 backs [web], not "api""#
    );
    // Another pod's address: the pod there runs as another service account.
    let elsewhere = join(
        &channel,
        hello("web-token", "web", &["web"], "10.244.0.3:15003"),
    )
    .await
    .expect_err("web registered at api's pod");
    assert_eq!(
        elsewhere.code(),
        tonic::Code::PermissionDenied,
        "{elsewhere:?}"
    );
    let forged = join(
        &channel,
        hello("forged", "web", &["web"], "10.244.0.2:15003"),
    )
    .await
    .expect_err("a forged token registered");
    assert_eq!(
        (forged.code(), forged.message()),
        (
            tonic::Code::Unauthenticated,
            "the API server does not authenticate this service-account token for meshcd"
        )
    );
    assert!(mesh.proxies().await.is_empty());

    join(
        &channel,
        hello("web-token", "web", &["web"], "10.244.0.2:15003"),
    )
    .await
    .expect("web's own pod registers");
    let proxies = mesh.proxies().await;
    assert_eq!(proxies.len(), 1);
    assert_eq!(proxies[0].services, ["web"]);
    assert_eq!(proxies[0].inbound_address, "10.244.0.2:15003");
}

/// web's proxy says hello to a cluster-mode control plane that discovered nothing yet,
/// leading or standing by.
async fn early_hello(api: &FakeApi, leading: bool) -> tonic::Status {
    api.accept_token("web-token", "shop", "web");
    let mesh = Arc::new(Mesh::default());
    // What `meshcd run --kubernetes` does before discovery has listed anything.
    mesh.set_cluster().await;
    mesh.set_standby(!leading).await;
    let channel = control_plane(&mesh, api).await;
    let refused = join(
        &channel,
        hello("web-token", "web", &["web"], "10.244.0.2:15003"),
    )
    .await
    .expect_err("no pod is known yet");
    assert!(mesh.proxies().await.is_empty());
    refused
}

#[tokio::test]
async fn a_proxy_that_says_hello_before_discovery_answers_is_told_to_retry_not_refused() {
    let early = early_hello(&FakeApi::new(), true).await;
    // Unavailable: meshcd-proxy retries with backoff (PermissionDenied would stop it).
    assert_eq!(early.code(), tonic::Code::Unavailable, "{early:?}");
    assert!(early.message().contains("known yet"), "{early:?}");
}

#[tokio::test]
async fn a_standby_replica_sends_proxies_to_the_leader_without_reviewing_their_tokens() {
    let api = FakeApi::new();
    let refused = early_hello(&api, false).await;
    // Unavailable: the proxy retries, and the Service sends it to the leader.
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    assert!(refused.message().contains("stands by"), "{refused:?}");
    assert!(
        api.take_requests()
            .iter()
            .all(|request| !request.line().contains("tokenreviews")),
        "a standby spends no TokenReview on a proxy it refuses"
    );
}
