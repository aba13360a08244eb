//! HTTPRoute timeouts (GEP-1742) and retries (GEP-1731) end to end, in the Mesh conformance
//! setting (`meshcd_e2e::gamma`): a request timeout answers 504 and `0s` lifts every
//! timeout, `backendRequest` bounds each attempt, listed statuses are retried up to
//! `attempts` times and others are not, and a retried request keeps its body. Modelled on
//! upstream's Gateway tests of the same features (`httproute-timeout-*.go`,
//! `httproute-retry.go`), which the Mesh profile does not have.

use bytes::Bytes;
use http_body_util::Full;
use meshcd_e2e::gamma::{Case, ConformanceMesh};

const ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: resilience
  namespace: gateway-conformance-mesh
spec:
  parentRefs:
  - {group: '', kind: Service, name: echo, port: 80}
  rules:
  - name: bounded
    matches: [{headers: [{name: x-case, value: bounded}]}]
    timeouts: {request: 500ms}
    backendRefs: [{name: echo-v1, port: 80}]
  - name: unbounded
    matches: [{headers: [{name: x-case, value: unbounded}]}]
    timeouts: {request: 0s}
    backendRefs: [{name: echo-v1, port: 80}]
  - name: per-attempt
    matches: [{headers: [{name: x-case, value: per-attempt}]}]
    timeouts: {request: 10s, backendRequest: 300ms}
    backendRefs: [{name: echo-v1, port: 80}]
  - name: retried
    matches: [{headers: [{name: x-case, value: retried}]}]
    retry: {codes: [500], attempts: 3, backoff: 10ms}
    backendRefs: [{name: echo-v1, port: 80}]
  - name: plain
    backendRefs: [{name: echo-v1, port: 80}]
";

/// The mesh with the route, requests leaving from a proxy whose own request timeout is
/// 1 s (what `0s` must lift).
async fn mesh() -> anyhow::Result<ConformanceMesh> {
    let route = ("resilience.yaml".to_owned(), ROUTE.to_owned());
    ConformanceMesh::start_with(vec![route], &["--request-timeout", "1s"]).await
}

#[tokio::test]
async fn a_request_timeout_answers_504_and_0s_lifts_the_proxys_own() -> anyhow::Result<()> {
    let mesh = mesh().await?;
    mesh.expect_all(&[
        Case::answered("/slow?ms=2000", 504).with_header("x-case", "bounded"),
        Case::reaches("/slow?ms=100", "echo-v1").with_header("x-case", "bounded"),
        // Longer than the proxy's 1 s: only a lifted timeout lets it through.
        Case::reaches("/slow?ms=1500", "echo-v1").with_header("x-case", "unbounded"),
        Case::answered("/slow?ms=1500", 504).with_header("x-case", "plain"),
    ])
    .await
}

#[tokio::test]
async fn a_backend_request_timeout_bounds_each_attempt() -> anyhow::Result<()> {
    let mesh = mesh().await?;
    mesh.expect_all(&[
        Case::answered("/slow?ms=1000", 504).with_header("x-case", "per-attempt"),
        Case::reaches("/slow?ms=50", "echo-v1").with_header("x-case", "per-attempt"),
    ])
    .await
}

/// Sent once each (a retry by the test would spend the app's failures): the proxies are in
/// sync with the route before the mesh is handed over.
#[tokio::test]
async fn listed_statuses_are_retried_up_to_the_attempts_and_others_are_not() -> anyhow::Result<()> {
    let mesh = mesh().await?;
    let status = |path: &'static str, case: &'static str| {
        let mesh = &mesh;
        async move {
            let mut request = meshcd_e2e::http::get(&format!("http://echo{path}"));
            request
                .headers_mut()
                .insert("x-case", http::HeaderValue::from_static(case));
            anyhow::Ok(mesh.client.send(request).await?.status)
        }
    };
    // Two failures, three retries allowed: the third attempt is answered.
    assert_eq!(status("/flaky?key=two&fail=2", "retried").await?, 200);
    // Four failures outlast one attempt and three retries: the last failure is the answer.
    assert_eq!(status("/flaky?key=four&fail=4", "retried").await?, 500);
    // 503 is not listed: not retried.
    assert_eq!(
        status("/flaky?key=unlisted&fail=1&status=503", "retried").await?,
        503
    );
    // Without a retry stanza, one failure is the answer.
    assert_eq!(status("/flaky?key=plain&fail=1", "plain").await?, 500);

    // A retried POST is sent again with its body.
    let post = http::Request::post("http://echo/flaky?key=post&fail=1")
        .header("x-case", "retried")
        .body(Full::new(Bytes::from_static(b"hello, retry")))?;
    let answered = mesh.client.send(post).await?;
    assert_eq!(answered.status, 200, "{}", answered.text());
    assert_eq!(answered.app()?.body_bytes, 12);
    Ok(())
}
