//! Failures behind the mesh, as the calling app sees them: a dead endpoint costs no
//! request, a slow one ends in 504 at the configured timeout, an unreachable service in
//! a 502/503 that names it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use meshcd_e2e::http;
use meshcd_e2e::load;
use meshcd_e2e::pki::spiffe_id;
use meshcd_e2e::proxy::Proxy;
use meshcd_e2e::snapshot::{Endpoint, SnapshotBuilder, allow_all_http, endpoints, http_service};
use meshcd_e2e::sockets::established_peers;
use meshcd_e2e::testapp::TestApp;
use meshcd_e2e::{TestMesh, eventually};

const VALUES: &str = "http://api.shop/api/values";

/// One replica of the api service: its app, answering with `name`, behind its proxy.
async fn api_replica(mesh: &TestMesh, name: &str) -> anyhow::Result<(TestApp, Proxy)> {
    let app = mesh.app(name).await?;
    let identity = mesh.identity("shop", "api")?;
    let snapshot = SnapshotBuilder::new(&identity)
        .serves_http("api", app.address)
        .allow(allow_all_http(
            "shop/api",
            &[&spiffe_id("shop", "frontend")],
        ))
        .build();
    let proxy = mesh.start_proxy(name, &identity, snapshot).await?;
    Ok((app, proxy))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_one_of_two_endpoints_causes_no_client_error() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_a_app, mut a) = api_replica(&mesh, "api-a").await?;
    let (_b_app, b) = api_replica(&mesh, "api-b").await?;
    let identity = mesh.identity("shop", "frontend")?;
    let snapshot = SnapshotBuilder::new(&identity)
        .service(http_service("api", "shop", endpoints(&[&a, &b])))
        .build();
    let frontend = mesh.start_proxy("frontend", &identity, snapshot).await?;
    let client = frontend.client();
    // Both replicas serve before one dies, so the proxy holds connections to both.
    eventually(Duration::from_secs(10), || async {
        let report = load::run(client, Arc::new(|| http::get(VALUES)), 20, 2).await;
        anyhow::ensure!(report.failures() == 0, "{report:?}");
        anyhow::ensure!(
            report.by_app.len() == 2,
            "only {:?} answered",
            report.by_app
        );
        Ok(())
    })
    .await?;

    a.kill();
    let report = load::run(client, Arc::new(|| http::get(VALUES)), 300, 4).await;

    assert_eq!(
        report.failures(),
        0,
        "clients saw failures after an endpoint died: {report:?}"
    );
    assert_eq!(
        report.by_app.get("api-b"),
        Some(&300),
        "{:?}",
        report.by_app
    );
    Ok(())
}

#[tokio::test]
async fn slow_backend_gets_504_when_the_request_timeout_expires() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_app, api) = api_replica(&mesh, "api").await?;
    let identity = mesh.identity("shop", "frontend")?;
    let snapshot = SnapshotBuilder::new(&identity)
        .service(http_service("api", "shop", endpoints(&[&api])))
        .build();
    let frontend = mesh
        .proxy("frontend", &identity, snapshot)?
        .request_timeout("500ms")
        .start()
        .await?;

    let started = Instant::now();
    let response = frontend
        .client()
        .get("http://api.shop/slow?ms=5000")
        .await?;
    let elapsed = started.elapsed();

    assert_eq!(response.status, 504, "{}", response.text());
    assert!(
        elapsed >= Duration::from_millis(450),
        "504 after {elapsed:?}, before the 500ms timeout"
    );
    assert!(
        elapsed < Duration::from_millis(2500),
        "504 after {elapsed:?}, long after the 500ms timeout"
    );
    // Under the timeout the same route answers normally.
    let response = frontend.client().get("http://api.shop/slow?ms=50").await?;
    assert_eq!(response.status, 200, "{}", response.text());
    Ok(())
}

#[tokio::test]
async fn service_without_a_reachable_endpoint_gets_502_or_503_naming_it() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    // A port nobody listens on: taken from the kernel, then released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let identity = mesh.identity("shop", "frontend")?;
    let gone = Endpoint {
        address: closed.to_string(),
        identity: spiffe_id("shop", "api"),
        direct: Vec::new(),
    };
    let snapshot = SnapshotBuilder::new(&identity)
        .service(http_service("api", "shop", vec![gone]))
        .build();
    let frontend = mesh.start_proxy("frontend", &identity, snapshot).await?;

    let response = frontend.client().get(VALUES).await?;

    assert!(
        matches!(response.status.as_u16(), 502 | 503),
        "got {}: {}",
        response.status,
        response.text()
    );
    assert!(
        response.text().contains("api"),
        "the body names the backend: {}",
        response.text()
    );
    Ok(())
}

#[tokio::test]
async fn endpoint_with_an_unexpected_identity_is_not_trusted() -> anyhow::Result<()> {
    // The snapshot says api's endpoint must be spiffe://…/sa/api; a workload with another
    // identity listening there must not receive the call.
    let mesh = TestMesh::new()?;
    let (_app, api) = api_replica(&mesh, "api").await?;
    let identity = mesh.identity("shop", "frontend")?;
    let impostor = Endpoint {
        address: api.inbound.to_string(),
        identity: spiffe_id("shop", "payments"),
        direct: Vec::new(),
    };
    let snapshot = SnapshotBuilder::new(&identity)
        .service(http_service("api", "shop", vec![impostor]))
        .build();
    let frontend = mesh.start_proxy("frontend", &identity, snapshot).await?;

    let response = frontend.client().get(VALUES).await?;

    assert!(
        response.status.is_server_error(),
        "got {}: {}",
        response.status,
        response.text()
    );
    assert!(
        response.app().is_err(),
        "the request reached the app: {}",
        response.text()
    );
    Ok(())
}

#[tokio::test]
async fn stopping_a_proxy_gracefully_lets_its_in_flight_request_finish() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (app, api) = api_replica(&mesh, "api").await?;
    let identity = mesh.identity("shop", "frontend")?;
    let snapshot = SnapshotBuilder::new(&identity)
        .service(http_service("api", "shop", endpoints(&[&api])))
        .build();
    let mut frontend = mesh.start_proxy("frontend", &identity, snapshot).await?;
    let client = frontend.client();
    let in_flight = tokio::spawn(async move { client.get("http://api.shop/slow?ms=1000").await });
    // The app is fresh: a connection to it means the request got there.
    eventually(Duration::from_secs(10), || async {
        anyhow::ensure!(
            !established_peers(app.address)?.is_empty(),
            "the request has not reached the app"
        );
        Ok(())
    })
    .await?;

    frontend.process().terminate()?;
    let finished = in_flight.await??;
    let status = frontend.process().exited(Duration::from_secs(20)).await?;

    assert_eq!(
        finished.status,
        200,
        "the in-flight request: {}",
        finished.text()
    );
    assert!(
        status.success(),
        "the proxy exited with {status} after SIGTERM"
    );
    Ok(())
}
