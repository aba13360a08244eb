use std::time::Duration;

use serde_json::json;

use super::*;
use crate::identity::ca::CertificateAuthority;
use crate::kubernetes::fake_api::FakeApi;

const SERVER_NAME: &str = "meshcd-webhook.meshcd-system.svc";

struct Running {
    address: std::net::SocketAddr,
    ca_pem: String,
    onboarded: watch::Sender<BTreeSet<String>>,
    server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

async fn start() -> Running {
    let dir = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::load_or_create(dir.path(), "cluster.local").unwrap();
    let (cert, key) = ca
        .issue_server(&[SERVER_NAME.to_string()], Duration::from_secs(3600))
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (onboarded, receiver) = watch::channel(BTreeSet::from(["osm-simple-app".to_string()]));
    let settings = Settings {
        proxy_image: "meshcd/meshcd-proxy:test".into(),
        control_plane: "meshcd-control-plane.meshcd-system.svc:15012".into(),
        control_plane_name: "meshcd-control-plane.meshcd-system.svc".into(),
        native_sidecars: true,
    };
    let server = tokio::spawn(serve(
        crate::accept::Acceptor::new(
            listener,
            "webhook",
            8,
            crate::accept::ListenerMetrics::default(),
        ),
        acceptor(&cert, &key).unwrap(),
        settings,
        receiver,
    ));
    Running {
        address,
        ca_pem: ca.bundle_pem().to_string(),
        onboarded,
        server,
        _dir: dir,
    }
}

/// POSTs over TLS, trusting only the mesh CA and checking the webhook's DNS name, as the
/// API server does with the configuration's caBundle.
async fn post(running: &Running, path: &str, body: &Value) -> (StatusCode, Value) {
    let mut roots = rustls::RootCertStore::empty();
    for cert in
        <rustls::pki_types::CertificateDer as rustls::pki_types::pem::PemObject>::pem_slice_iter(
            running.ca_pem.as_bytes(),
        )
    {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(running.address)
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from(SERVER_NAME).unwrap();
    let tls = connector
        .connect(name, tcp)
        .await
        .expect("TLS with the mesh CA");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = Request::post(path)
        .header("host", SERVER_NAME)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn review(namespace: &str, annotations: Value) -> Value {
    json!({
        "kind": "AdmissionReview",
        "apiVersion": "admission.k8s.io/v1",
        "request": {
            "uid": "0df28fbd-5f5f-11e8-bc74-36e6bb280816",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": namespace,
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
            "object": {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"generateName": "web-", "namespace": namespace, "labels": {"app": "web"}, "annotations": annotations},
                "spec": {"serviceAccountName": "web", "containers": [{"name": "web", "image": "web:1"}]},
            },
            "dryRun": false,
        }
    })
}

#[tokio::test]
async fn the_webhook_answers_admission_reviews_over_https_for_each_kind_of_pod() {
    let running = start().await;

    let (status, onboarded) = post(&running, "/inject", &review("osm-simple-app", json!({}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        onboarded["response"]["uid"],
        "0df28fbd-5f5f-11e8-bc74-36e6bb280816"
    );
    assert_eq!(onboarded["response"]["patchType"], "JSONPatch");

    let (_, elsewhere) = post(&running, "/inject", &review("default", json!({}))).await;
    assert_eq!(elsewhere["response"]["allowed"], true);
    assert!(elsewhere["response"].get("patch").is_none());

    let (_, opted_out) = post(
        &running,
        "/inject",
        &review("osm-simple-app", json!({"meshcd.dev/inject": "disabled"})),
    )
    .await;
    assert!(opted_out["response"].get("patch").is_none());

    let (_, injected) = post(
        &running,
        "/inject",
        &review("osm-simple-app", json!({"meshcd.dev/injected": "true"})),
    )
    .await;
    assert!(injected["response"].get("patch").is_none());

    // A namespace onboarded by a new revision is injected from then on.
    running
        .onboarded
        .send_replace(BTreeSet::from(["default".to_string()]));
    let (_, now_onboarded) = post(&running, "/inject", &review("default", json!({}))).await;
    assert_eq!(now_onboarded["response"]["patchType"], "JSONPatch");

    let (status, _) = post(&running, "/inject", &json!("not a review")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    running.server.abort();
}

#[tokio::test]
async fn the_mesh_ca_is_patched_into_every_webhook_of_the_configuration() {
    let api = FakeApi::new();
    api.insert(json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": "meshcd"},
        "webhooks": [{"name": WEBHOOK_NAME, "clientConfig": {"service": {"name": "meshcd-webhook", "namespace": "meshcd-system", "path": "/inject", "port": 15017}},
                      "admissionReviewVersions": ["v1"], "sideEffects": "None"}],
    }));
    patch_ca_bundle(
        &api.client(),
        "meshcd",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .await
    .unwrap();
    let patch = api.take_writes().pop().unwrap();
    assert_eq!(
        patch.line(),
        "PATCH /apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/meshcd"
    );
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/json-patch+json")
    );
    let configuration = api
        .get(
            "admissionregistration.k8s.io/v1",
            "MutatingWebhookConfiguration",
            None,
            "meshcd",
        )
        .unwrap();
    let bundle = configuration["webhooks"][0]["clientConfig"]["caBundle"]
        .as_str()
        .unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(bundle)
            .unwrap(),
        b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    );
    assert_eq!(
        configuration["webhooks"][0]["clientConfig"]["service"]["port"], 15017,
        "the rest is untouched"
    );
}

#[tokio::test]
async fn callers_that_never_finish_a_handshake_lose_their_slots_and_reviews_go_on() {
    use tokio::io::AsyncReadExt as _;
    let running = start().await;
    // Every slot of the cap (8) held by a connection that sends nothing.
    let mut silent = Vec::new();
    for _ in 0..8 {
        silent.push(
            tokio::net::TcpStream::connect(running.address)
                .await
                .unwrap(),
        );
    }
    for stream in &mut silent {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut byte))
            .await
            .expect("the webhook closes a connection that never handshakes");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }
    let (status, _) = post(&running, "/inject", &review("osm-simple-app", json!({}))).await;
    assert_eq!(status, StatusCode::OK);
    running.server.abort();
}
