//! The canary outcome webhook end to end: `meshcd run --canary-webhook` with a real
//! receiver started by the test; a failing canary is rolled back and the receiver gets
//! the outcome document, naming the rollback commit meshcd pushed to the repository.
//!
//! Needs `meshcd-proxy` next to the `meshcd` binary (`cargo build --workspace --bins`).

mod canary_support;
mod local_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use canary_support::{canary_yaml, commit_canary};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use local_support::{NAMESPACE, config_repo, eventually, git, keep_calling, mesh_with};
use tokio::sync::mpsc;

/// An HTTP server on 127.0.0.1 handing over (path, content type, body) of every POST.
async fn receiver() -> (
    std::net::SocketAddr,
    mpsc::UnboundedReceiver<(String, String, Bytes)>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (deliveries, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let deliveries = deliveries.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: hyper::Request<hyper::body::Incoming>| {
                        let deliveries = deliveries.clone();
                        async move {
                            let path = request.uri().path().to_string();
                            let content_type = request
                                .headers()
                                .get(hyper::header::CONTENT_TYPE)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_string();
                            let body = request.into_body().collect().await?.to_bytes();
                            let _ = deliveries.send((path, content_type, body));
                            Ok::<_, hyper::Error>(hyper::Response::new(Full::new(Bytes::new())))
                        }
                    },
                );
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (address, received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_canary_is_posted_to_the_webhook_with_its_evidence_and_commit() {
    let (address, mut received) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let url = format!("http://{address}/hooks/canary");
    let (mesh, frontend) = mesh_with(
        &repo,
        &dir.path().join("state"),
        500,
        &["--canary-webhook", &url],
    )
    .await;
    let stop = Arc::new(AtomicBool::new(false));
    let load = keep_calling(frontend, stop.clone());

    commit_canary(&repo, &canary_yaml(&[50], "30s", 2), "canary for api-v2");

    let (path, content_type, body) = tokio::time::timeout(Duration::from_secs(60), received.recv())
        .await
        .expect("the webhook is called within 60s")
        .expect("the receiver runs");
    stop.store(true, Ordering::Relaxed);
    let _ = load.await;

    assert_eq!(path, "/hooks/canary");
    assert_eq!(content_type, "application/json");
    let document: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(document["kind"], "CanaryOutcome");
    assert_eq!(document["canary"], "api");
    assert_eq!(document["namespace"], NAMESPACE);
    assert_eq!(document["outcome"], "rolledBack", "{document:#}");
    assert_eq!(document["weight"], 0);
    assert_eq!(document["failedAnalyses"], 2);
    assert_eq!(document["failureThreshold"], 2);
    assert_eq!(document["analysis"]["result"], "fail");
    assert_eq!(document["analysis"]["metric"], "successRate");
    assert_eq!(document["analysis"]["threshold"], ">= 99%");
    assert!(
        document["message"]
            .as_str()
            .unwrap()
            .starts_with("rolled back: successRate"),
        "{document:#}"
    );
    assert!(
        document["time"].as_str().unwrap().contains('T'),
        "RFC 3339 time: {document:#}"
    );
    let commit = document["commit"].as_str().unwrap().to_string();
    let (author, subject) = eventually(Duration::from_secs(10), || {
        let repo = repo.clone();
        let commit = commit.clone();
        async move {
            let line = git(&repo, &["log", "-1", "--format=%H %an %s"]);
            let mut parts = line.splitn(3, ' ');
            let (id, author, subject) = (
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
            );
            (id == commit)
                .then(|| (author.to_string(), subject.to_string()))
                .ok_or(line)
        }
    })
    .await;
    assert_eq!(author, "meshcd");
    assert_eq!(subject, format!("meshcd: roll back canary {NAMESPACE}/api"));

    // Exactly one outcome, one delivery: nothing else arrives once the rollback is applied.
    mesh.wait_in_sync(Some(&commit)).await.unwrap();
    assert!(received.try_recv().is_err(), "a second delivery arrived");
    let (_, metrics) = meshcd_metrics(mesh.admin).await;
    assert!(
        metrics.contains(&format!(
            r#"meshcd_canary_outcomes_total{{namespace="{NAMESPACE}",canary="api",outcome="rolledBack"}} 1"#
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"meshcd_canary_webhook_deliveries_total{result="delivered"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            r#"meshcd_canary_analyses_total{{namespace="{NAMESPACE}",canary="api",result="fail"}} 2"#
        )),
        "{metrics}"
    );
    mesh.stop().await;
}

async fn meshcd_metrics(admin: std::net::SocketAddr) -> (u16, String) {
    let stream = tokio::net::TcpStream::connect(admin).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = hyper::Request::get("/metrics")
        .header(hyper::header::HOST, admin.to_string())
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}
