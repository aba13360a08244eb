//! Kubernetes mode of the admin API on a real socket, with the in-memory API server
//! answering TokenReview and SubjectAccessReview: RBAC decides who may read and promote.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::rt::TokioIo;
use tokio::sync::Mutex;

use super::cluster_auth::ClusterAuthorizer;
use super::{Admin, Authenticator};
use crate::canary::controller::{CanaryController, Settings};
use crate::control::mesh::Mesh;
use crate::kubernetes::fake_api::FakeApi;
use crate::metrics::Metrics;

const OPERATOR: &str = "system:serviceaccount:ops:operator";
const VIEWER: &str = "system:serviceaccount:ops:viewer";

/// The admin listener on 127.0.0.1, deciding with `api`; its address.
async fn serve(api: &FakeApi, state: &std::path::Path) -> (SocketAddr, Arc<Metrics>) {
    let mesh = Arc::new(Mesh::default());
    let metrics = Arc::new(Metrics::new());
    let canaries = CanaryController::new(
        mesh.clone(),
        Settings {
            writable: Err("a test".into()),
            progress: crate::canary::progress::ProgressStore::empty(state),
            metric_source: crate::canary::metrics_source::MetricSource::Proxies,
            observers: crate::canary::notify::Observers {
                metrics: metrics.canary.clone(),
                webhook: None,
            },
            hold_new: false,
            leadership: None,
        },
    );
    let (triggers, _) = tokio::sync::mpsc::channel(1);
    let admin = Admin {
        mesh,
        status: Arc::new(Mutex::default()),
        triggers,
        refusals: metrics.admin.clone(),
        exposition: metrics.exposition(),
        webhook: None,
        kubernetes: None,
        canaries,
        authenticator: Authenticator::Cluster(ClusterAuthorizer::new(api.client())),
        ca_not_after: None,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(super::serve(
        crate::accept::Acceptor::new(
            listener,
            "admin",
            8,
            crate::accept::ListenerMetrics::default(),
        ),
        admin,
    ));
    (address, metrics)
}

/// `method path` with `token` as bearer: the status and body.
async fn call(address: SocketAddr, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, address.to_string());
    if let Some(token) = token {
        request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = sender
        .send_request(request.body(Empty::<Bytes>::new()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Two service accounts: `operator`, whom a RoleBinding in `shop` lets promote canaries
/// there and a ClusterRoleBinding lets read the status, and `viewer`, bound to nothing.
fn cluster() -> FakeApi {
    let api = FakeApi::new();
    api.accept_token("operator-token", "ops", "operator");
    api.accept_token("viewer-token", "ops", "viewer");
    api.grant(OPERATOR, ("meshcd.dev", "status"), "get", None);
    api.grant(
        OPERATOR,
        ("meshcd.dev", "canaries"),
        "promote",
        Some("shop"),
    );
    api
}

#[tokio::test]
async fn a_service_account_without_the_rbac_verb_gets_403_and_one_with_it_gets_through() {
    let state = tempfile::tempdir().unwrap();
    let api = cluster();
    let (address, metrics) = serve(&api, state.path()).await;

    let (code, body) = call(address, "GET", "/status", Some("viewer-token")).await;
    assert_eq!(code, 403, "{body}");
    assert!(
        body.contains(&format!("{VIEWER} may not get status.meshcd.dev")),
        "{body}"
    );
    let (code, body) = call(address, "GET", "/status", Some("operator-token")).await;
    assert_eq!(code, 200, "{body}");

    let promote = "/canaries/shop/api/promote";
    let (code, body) = call(address, "POST", promote, Some("viewer-token")).await;
    assert_eq!(code, 403, "{body}");
    // Allowed, the command reaches the controller, which has no such rollout.
    let (code, body) = call(address, "POST", promote, Some("operator-token")).await;
    assert_eq!(code, 409, "{body}");
    // The RoleBinding is for `shop` only, and for promote only.
    let (code, body) = call(
        address,
        "POST",
        "/canaries/web/api/promote",
        Some("operator-token"),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    let (code, body) = call(
        address,
        "POST",
        "/canaries/shop/api/abort",
        Some("operator-token"),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    let (code, body) = call(address, "POST", "/suspend", Some("operator-token")).await;
    assert_eq!(code, 403, "{body}");

    let text = metrics.encode();
    assert!(
        text.contains("meshcd_admin_requests_refused_total{reason=\"forbidden\"} 5"),
        "{text}"
    );
}

#[tokio::test]
async fn a_token_the_api_server_does_not_authenticate_gets_403_and_none_gets_401() {
    let state = tempfile::tempdir().unwrap();
    let api = cluster();
    let (address, _) = serve(&api, state.path()).await;
    let (code, body) = call(address, "POST", "/sync", Some("forged-token")).await;
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("does not authenticate this token"), "{body}");
    assert!(!body.contains("forged-token"), "{body}");
    let (code, body) = call(address, "POST", "/sync", None).await;
    assert_eq!(code, 401, "{body}");
    // Probes stay open, and ask the API server nothing.
    api.take_requests();
    let (code, _) = call(address, "GET", "/healthz", None).await;
    assert_eq!(code, 200);
    assert!(api.take_requests().is_empty());
}

#[tokio::test]
async fn the_access_review_names_the_user_and_the_canarys_namespace_verb_and_name() {
    let state = tempfile::tempdir().unwrap();
    let api = cluster();
    let (address, _) = serve(&api, state.path()).await;
    api.take_requests();
    call(
        address,
        "POST",
        "/canaries/shop/api/promote",
        Some("operator-token"),
    )
    .await;
    let reviews = api.take_writes();
    assert_eq!(
        reviews[1].line(),
        "POST /apis/authorization.k8s.io/v1/subjectaccessreviews"
    );
    let spec = &reviews[1].body.as_ref().unwrap()["spec"];
    assert_eq!(spec["user"], OPERATOR);
    assert_eq!(
        spec["resourceAttributes"],
        serde_json::json!({
            "group": "meshcd.dev", "resource": "canaries", "verb": "promote",
            "namespace": "shop", "name": "api"
        })
    );
}

#[tokio::test]
async fn an_api_server_that_cannot_review_tokens_means_503_never_a_pass() {
    let state = tempfile::tempdir().unwrap();
    // A server that serves no kinds at all: every review fails with 404.
    let api = FakeApi::default();
    let (address, metrics) = serve(&api, state.path()).await;
    let (code, body) = call(address, "POST", "/suspend", Some("operator-token")).await;
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("could not review the token"), "{body}");
    assert!(
        metrics
            .encode()
            .contains("meshcd_admin_requests_refused_total{reason=\"review_failed\"} 1")
    );
}
