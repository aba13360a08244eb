//! The outcome webhook against real receivers: plain HTTP, HTTPS with a private CA, and
//! one that fails before it accepts.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;

use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::mpsc;

use super::*;
use crate::model::Canary;

fn rolled_back() -> Rollout {
    let mut canary = Canary {
        interval: Duration::from_secs(1),
        progress_deadline: Duration::from_secs(30),
        ..Canary::example(&[50])
    };
    canary.analysis.min_requests = 5;
    canary.analysis.failure_threshold = 2;
    let mut rollout = Rollout::start(&canary, 20, Instant::now());
    let failing = Verdict::Fail {
        metric: "successRate".into(),
        value: "0.00%".into(),
        threshold: ">= 99%".into(),
    };
    rollout.analyse(&canary, failing.clone(), Instant::now());
    rollout.analyse(&canary, failing, Instant::now());
    rollout
}

#[test]
fn a_rollback_document_names_the_canary_the_outcome_the_evidence_and_the_commit() {
    let document = outcome_document(
        &rolled_back(),
        &Outcome::new(false, &Ok("0123456789abcdef".into())),
        "2026-11-25T22:00:00Z",
    );
    assert_eq!(
        document,
        serde_json::json!({
            "kind": "CanaryOutcome",
            "canary": "api",
            "namespace": "shop",
            "outcome": "rolledBack",
            "decision": "rollBack",
            "weight": 0,
            "step": 0,
            "steps": 1,
            "failedAnalyses": 2,
            "failureThreshold": 2,
            "analysis": {"result": "fail", "metric": "successRate", "value": "0.00%", "threshold": ">= 99%"},
            "message": "rolled back: successRate 0.00% (threshold >= 99%), 2 failed analyses",
            "commit": "0123456789abcdef",
            "reason": null,
            "time": "2026-11-25T22:00:00Z",
        })
    );
}

#[test]
fn an_outcome_git_refused_says_why() {
    let document = outcome_document(
        &rolled_back(),
        &Outcome::new(false, &Err("the source is pinned to tag v1".into())),
        "2026-11-25T22:00:00Z",
    );
    assert_eq!(document["outcome"], "notWritten");
    assert_eq!(document["decision"], "rollBack");
    assert_eq!(document["commit"], serde_json::Value::Null);
    assert_eq!(document["reason"], "the source is pinned to tag v1");
}

#[test]
fn only_http_and_https_urls_are_accepted() {
    for url in [
        "http://127.0.0.1:8080/hook",
        "https://hooks.example.com/meshcd?token=x",
    ] {
        assert_eq!(parse_url(url).as_deref(), Ok(url));
    }
    for url in ["ftp://example.com/hook", "example.com/hook", "http:///hook"] {
        assert!(
            matches!(Webhook::new(url, None), Err(WebhookError::Url(_))),
            "{url}"
        );
        assert!(parse_url(url).is_err(), "{url}");
    }
}

/// A receiver answering with the given statuses in turn (then 200), handing each body over.
async fn receiver(
    statuses: Vec<u16>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> (
    std::net::SocketAddr,
    mpsc::UnboundedReceiver<(String, Bytes)>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (bodies, received) = mpsc::unbounded_channel();
    let statuses = Arc::new(Mutex::new(VecDeque::from(statuses)));
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (bodies, statuses, tls) = (bodies.clone(), statuses.clone(), tls.clone());
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                        let (bodies, statuses) = (bodies.clone(), statuses.clone());
                        async move {
                            let content_type = request
                                .headers()
                                .get(hyper::header::CONTENT_TYPE)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_string();
                            let body = request.into_body().collect().await?.to_bytes();
                            let _ = bodies.send((content_type, body));
                            let status = statuses.lock().unwrap().pop_front().unwrap_or(200);
                            let mut response = hyper::Response::new(Full::new(Bytes::new()));
                            *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                            Ok::<_, hyper::Error>(response)
                        }
                    });
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                match tls {
                    Some(acceptor) => {
                        let stream = acceptor.accept(stream).await.unwrap();
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                    None => {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
            });
        }
    });
    (address, received)
}

async fn next_document(
    received: &mut mpsc::UnboundedReceiver<(String, Bytes)>,
) -> (String, serde_json::Value) {
    let (content_type, body) = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("a POST within 10s")
        .expect("the receiver runs");
    (content_type, serde_json::from_slice(&body).unwrap())
}

fn observers(webhook: Webhook) -> Observers {
    Observers {
        metrics: CanaryMetrics::default(),
        webhook: Some(Arc::new(webhook)),
    }
}

#[tokio::test]
async fn a_receiver_behind_a_private_ca_gets_the_outcome_over_https() {
    let key = rcgen::KeyPair::generate().unwrap();
    let certificate = rcgen::CertificateParams::new(vec!["localhost".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, certificate.pem()).unwrap();
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![certificate.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    let (address, mut received) = receiver(
        vec![],
        Some(tokio_rustls::TlsAcceptor::from(Arc::new(server))),
    )
    .await;

    let url = format!("https://localhost:{}/hooks/canary", address.port());
    let observers = observers(Webhook::new(&url, Some(&ca_file)).unwrap());
    observers.decided(&rolled_back(), false, &Ok("0123456789abcdef".into()));

    let (content_type, document) = next_document(&mut received).await;
    assert_eq!(content_type, "application/json");
    assert_eq!(document["outcome"], "rolledBack");
    assert_eq!(document["commit"], "0123456789abcdef");
    assert_eq!(document["analysis"]["metric"], "successRate");
}

#[tokio::test]
async fn a_failed_delivery_is_retried_and_counted_once_it_lands() {
    let (address, mut received) = receiver(vec![503, 500], None).await;
    let mut webhook = Webhook::new(&format!("http://{address}/hook"), None).unwrap();
    webhook.first_backoff = Duration::from_millis(20);
    let metrics = crate::metrics::Metrics::new();
    let observers = Observers {
        metrics: metrics.canary.clone(),
        webhook: Some(Arc::new(webhook)),
    };
    observers.decided(&rolled_back(), false, &Ok("abc".into()));

    for _ in 0..3 {
        let (_, document) = next_document(&mut received).await;
        assert_eq!(document["canary"], "api");
    }
    let delivered = r#"meshcd_canary_webhook_deliveries_total{result="delivered"} 1"#;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !metrics.encode().contains(delivered) {
        assert!(
            Instant::now() < deadline,
            "no delivery counted:\n{}",
            metrics.encode()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        metrics
            .encode()
            .contains(r#"meshcd_canary_webhook_deliveries_total{result="failed"} 0"#)
    );
    assert!(metrics.encode().contains(
        r#"meshcd_canary_outcomes_total{namespace="shop",canary="api",outcome="rolledBack"} 1"#
    ));
}

#[tokio::test]
async fn an_unreachable_receiver_never_blocks_the_caller_and_is_counted_as_failed() {
    // A port nobody listens on: every attempt fails at connect.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let mut webhook = Webhook::new(&format!("http://{address}/hook"), None).unwrap();
    webhook.first_backoff = Duration::from_millis(10);
    let metrics = crate::metrics::Metrics::new();
    let observers = Observers {
        metrics: metrics.canary.clone(),
        webhook: Some(Arc::new(webhook)),
    };
    let started = Instant::now();
    observers.decided(&rolled_back(), true, &Err("pinned".into()));
    assert!(started.elapsed() < Duration::from_millis(100));

    let failed = r#"meshcd_canary_webhook_deliveries_total{result="failed"} 1"#;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !metrics.encode().contains(failed) {
        assert!(
            Instant::now() < deadline,
            "no failure counted:\n{}",
            metrics.encode()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A receiver that reads the POST, then answers 200 with a body that never ends, or
/// (`silent`) never answers.
async fn misbehaving_receiver(silent: bool) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = stream.read(&mut [0u8; 64 * 1024]).await;
                if silent {
                    let _ = stream.read(&mut [0u8; 1]).await;
                    return;
                }
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                    .await;
                let mut chunk = b"4000\r\n".to_vec();
                chunk.extend([b'x'; 0x4000]);
                chunk.extend(b"\r\n");
                while stream.write_all(&chunk).await.is_ok() {}
            });
        }
    });
    address
}

#[tokio::test]
async fn a_receiver_answering_without_end_fails_the_attempt_at_the_body_limit() {
    let address = misbehaving_receiver(false).await;
    let webhook = Webhook::new(&format!("http://{address}/hook"), None).unwrap();
    let error = webhook.post(Bytes::from_static(b"{}")).await.unwrap_err();
    assert!(
        meshcd_support::error_chain(&error).contains("exceeds the 65536-byte body limit"),
        "{error}"
    );
}

#[tokio::test]
async fn a_receiver_that_never_answers_fails_the_attempt_at_its_timeout() {
    let address = misbehaving_receiver(true).await;
    let mut webhook = Webhook::new(&format!("http://{address}/hook"), None).unwrap();
    webhook.limits.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let error = webhook.post(Bytes::from_static(b"{}")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        meshcd_support::error_chain(&error).contains("within 300ms"),
        "{error}"
    );
}
