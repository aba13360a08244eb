//! HTTPRoute RequestMirror end to end, in the Mesh conformance setting
//! (`meshcd_e2e::gamma`): every request, or a share of them, is copied to another Service
//! while the caller gets the real backend's answer; a request with a body is not copied.
//! Modelled on upstream's Gateway tests `httproute-request-mirror.go` and
//! `httproute-request-percentage-mirror.go` (the share within 3 binomial standard
//! deviations), which the Mesh profile does not have. The apps count the requests they
//! got per `key` (`/seen?key=K`).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use meshcd_e2e::eventually;
use meshcd_e2e::gamma::ConformanceMesh;

const ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: mirrored
  namespace: gateway-conformance-mesh
spec:
  parentRefs:
  - {group: '', kind: Service, name: echo, port: 80}
  rules:
  - name: all
    matches: [{path: {type: PathPrefix, value: /all}}]
    filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: echo-v2, port: 80}}
    backendRefs: [{name: echo-v1, port: 80}]
  - name: half
    matches: [{path: {type: PathPrefix, value: /half}}]
    filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: echo-v2, port: 80}, percent: 50}
    backendRefs: [{name: echo-v1, port: 80}]
";

async fn mesh() -> anyhow::Result<ConformanceMesh> {
    let route = ("mirrored.yaml".to_owned(), ROUTE.to_owned());
    ConformanceMesh::start_with(vec![route], &[]).await
}

/// How many requests with `key` the app behind Service `app` got.
async fn seen(mesh: &ConformanceMesh, app: &str, key: &str) -> anyhow::Result<u64> {
    let response = mesh
        .client
        .get(&format!("http://{app}/seen?key={key}"))
        .await?;
    anyhow::ensure!(response.status == 200, "{}", response.text());
    Ok(response.text().trim().parse()?)
}

/// GETs `path` through the route, which echo-v1 must answer.
async fn get(mesh: &ConformanceMesh, path: &str) -> anyhow::Result<()> {
    let response = mesh.client.get(&format!("http://echo{path}")).await?;
    anyhow::ensure!(
        response.status == 200,
        "{} {}",
        response.status,
        response.text()
    );
    anyhow::ensure!(response.app()?.name == "echo-v1", "{}", response.text());
    Ok(())
}

#[tokio::test]
async fn a_mirror_copies_each_request_and_the_caller_sees_only_the_backend() -> anyhow::Result<()> {
    let mesh = mesh().await?;
    get(&mesh, "/all?key=one").await?;
    assert_eq!(seen(&mesh, "echo-v1", "one").await?, 1);
    eventually(Duration::from_secs(10), || async {
        let copies = seen(&mesh, "echo-v2", "one").await?;
        anyhow::ensure!(copies == 1, "echo-v2 got {copies} copies");
        Ok(())
    })
    .await?;

    // A request with a body reaches the backend and is not copied.
    let post = http::Request::post("http://echo/all?key=posted")
        .body(Full::new(Bytes::from_static(b"a body")))?;
    let answered = mesh.client.send(post).await?;
    assert_eq!(answered.status, 200, "{}", answered.text());
    assert_eq!(answered.app()?.body_bytes, 6);
    // Copies go out in order on one connection: once a later one has landed, a copy of
    // the POST would have too.
    get(&mesh, "/all?key=after-post").await?;
    eventually(Duration::from_secs(10), || async {
        anyhow::ensure!(seen(&mesh, "echo-v2", "after-post").await? == 1);
        Ok(())
    })
    .await?;
    assert_eq!(seen(&mesh, "echo-v2", "posted").await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_mirror_with_a_percent_copies_that_share_of_the_requests() -> anyhow::Result<()> {
    let mesh = mesh().await?;
    const REQUESTS: u64 = 400;
    for _ in 0..REQUESTS {
        get(&mesh, "/half?key=half").await?;
    }
    get(&mesh, "/all?key=marker").await?;
    eventually(Duration::from_secs(10), || async {
        anyhow::ensure!(seen(&mesh, "echo-v2", "marker").await? == 1);
        Ok(())
    })
    .await?;
    // 50 % of 400: 200 ± 3 standard deviations (10 each).
    let copies = seen(&mesh, "echo-v2", "half").await?;
    assert!(
        (170..=230).contains(&copies),
        "{copies} copies of {REQUESTS}"
    );
    assert_eq!(seen(&mesh, "echo-v1", "half").await?, REQUESTS);
    Ok(())
}
