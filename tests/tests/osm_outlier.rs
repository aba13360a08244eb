//! Outlier detection from Git (issue 19): an UpstreamTrafficSetting's `outlierDetection`
//! makes the callers' proxies eject an endpoint that answers 5xx (or does not answer within
//! a Retry's `perTryTimeout`), after the configured failures in a row, for the base
//! ejection time, longer each time it fails again.

use std::time::{Duration, Instant};

use meshcd_e2e::LocalMesh;
use meshcd_e2e::config_repo::{CANARY_ROLLOUT, CANARY_SPLIT};
use meshcd_e2e::local_mesh::{JoinedProxy, Workload};
use meshcd_e2e::prometheus::sum;
use meshcd_e2e::testapp::TestApp;

const CANARY: &str = "osm-canary-deployment-sample-app";
const FAILING: &str = "http://api.osm-canary-deployment-sample-app/fails-as?name=api-bad";

const OUTLIER: &str = "apiVersion: policy.openservicemesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: {name: api-outliers, namespace: osm-canary-deployment-sample-app}
spec:
  host: api
  outlierDetection:
    consecutiveFailures: 3
    baseEjectionTime: 2s
    interval: 60s
";

/// When each 500 came, since the first call, over `calls` calls one after another.
async fn failures(
    client: &meshcd_e2e::http::Client,
    run: Duration,
) -> anyhow::Result<(usize, Vec<Duration>)> {
    let start = Instant::now();
    let (mut calls, mut failed) = (0, Vec::new());
    while start.elapsed() < run {
        let response = client.get(FAILING).await?;
        calls += 1;
        match response.status.as_u16() {
            200 => {}
            500 => failed.push(start.elapsed()),
            other => panic!("{other}: {}", response.text()),
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok((calls, failed))
}

/// A good and a bad endpoint of `api` (both `api` service accounts), and the frontend.
async fn good_and_bad(mesh: &LocalMesh) -> anyhow::Result<(Workload, Vec<(TestApp, JoinedProxy)>)> {
    let frontend = mesh.workload(CANARY, "frontend", &["frontend"]).await?;
    let mut held = Vec::new();
    for name in ["api-good", "api-bad"] {
        let app = mesh.app(name).await?;
        let proxy = mesh
            .join(CANARY, "api")
            .named(name)
            .serves_http(app.address)
            .service("api-v1")
            .service("api")
            .start()
            .await?;
        held.push((app, proxy));
    }
    mesh.await_in_sync(3).await?;
    Ok((frontend, held))
}

const HUNG: &str = "apiVersion: policy.openservicemesh.io/v1alpha1
kind: Retry
metadata: {name: frontend-to-api, namespace: osm-canary-deployment-sample-app}
spec:
  source: {kind: ServiceAccount, name: frontend, namespace: osm-canary-deployment-sample-app}
  destinations: [{kind: Service, name: api, namespace: osm-canary-deployment-sample-app}]
  retryPolicy: {retryOn: 5xx, perTryTimeout: 200ms, numRetries: 2, retryBackoffBaseInterval: 10ms}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: {name: api-outliers, namespace: osm-canary-deployment-sample-app}
spec:
  host: api
  outlierDetection: {consecutiveFailures: 2, baseEjectionTime: 60s}
";

#[tokio::test]
async fn an_endpoint_that_does_not_answer_within_the_per_try_timeout_is_ejected()
-> anyhow::Result<()> {
    let mesh = LocalMesh::start(&[CANARY_SPLIT, CANARY_ROLLOUT]).await?;
    let (frontend, _held) = good_and_bad(&mesh).await?;
    let revision = mesh.repo.commit_file("outliers.yaml", HUNG).await?;
    mesh.reconciler.await_in_sync(&revision, 3).await?;
    let client = frontend.proxy.client();
    let hanging = format!("{FAILING}&hang=2000");
    let mut took = Vec::new();
    for _ in 0..30 {
        let start = Instant::now();
        let response = client.get(&hanging).await?;
        assert_eq!(response.status, 200, "{}", response.text());
        took.push(start.elapsed());
    }
    eprintln!("calls with api-bad hanging: {took:?}");
    // Two timed-out attempts eject it; from then on no call waits for it.
    let slow = took
        .iter()
        .filter(|t| **t >= Duration::from_millis(200))
        .count();
    assert!(slow <= 2, "{slow} slow calls: {took:?}");
    assert!(
        took[10..].iter().all(|t| *t < Duration::from_millis(200)),
        "{took:?}"
    );
    Ok(())
}

#[tokio::test]
async fn an_endpoint_answering_5xx_is_ejected_after_the_failures_and_back_after_the_base_time()
-> anyhow::Result<()> {
    let mesh = LocalMesh::start(&[CANARY_SPLIT, CANARY_ROLLOUT]).await?;
    let (frontend, _held) = good_and_bad(&mesh).await?;
    let client = frontend.proxy.client();

    // The built-in ejection counts failed connections only: the bad endpoint keeps its
    // share of the calls.
    let (calls, failed) = failures(&client, Duration::from_secs(1)).await?;
    eprintln!(
        "without the setting: {} of {calls} calls failed",
        failed.len()
    );
    assert!(failed.len() * 4 >= calls, "{} of {calls}", failed.len());

    let revision = mesh.repo.commit_file("outliers.yaml", OUTLIER).await?;
    mesh.reconciler.await_in_sync(&revision, 3).await?;
    let (calls, failed) = failures(&client, Duration::from_secs(8)).await?;
    eprintln!("with consecutiveFailures 3, baseEjectionTime 2s: {calls} calls, 500s at {failed:?}");
    // Three in a row eject it; it is back 2 s later, fails once and is out for 4 s (the
    // second ejection in a row), then back again and out for 6 s.
    assert!(failed.len() >= 4, "{failed:?}");
    let first_out = failed[2];
    assert!(
        failed[3] - first_out >= Duration::from_millis(1_900),
        "back too early: {failed:?}"
    );
    assert!(
        failed[3] - first_out <= Duration::from_millis(3_000),
        "back too late: {failed:?}"
    );
    if let Some(&again) = failed.get(4) {
        assert!(
            again - failed[3] >= Duration::from_millis(3_900),
            "second ejection: {failed:?}"
        );
    }
    let ejections = sum(
        &frontend.proxy.metrics().await?,
        "meshcd_proxy_endpoint_ejections_total",
        &[],
    );
    assert!(ejections >= 2.0, "{ejections} ejections counted");
    Ok(())
}
