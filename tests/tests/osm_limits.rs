//! OSM UpstreamTrafficSetting circuit breakers end to end (issue 19): `maxRequests` and
//! `maxPendingRequests` committed to Git; a burst from the caller's proxy gets its excess
//! answered 503 at once, the rest served, and the app never more than the limit at a time;
//! local rate limits on requests and routes. Refusals (the breaker's, a local rate
//! limit's) are counted in the proxies' metrics and in the reconciler's `/traffic`, what
//! `meshcd top` shows.

use std::time::{Duration, Instant};

use meshcd_e2e::LocalMesh;
use meshcd_e2e::config_repo::{CANARY_ROLLOUT, CANARY_SPLIT};
use meshcd_e2e::eventually::{DEADLINE, eventually};
use meshcd_e2e::prometheus::sum;

const CANARY: &str = "osm-canary-deployment-sample-app";
const API: &str = "http://api.osm-canary-deployment-sample-app";

const LIMITS: &str = "apiVersion: policy.openservicemesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: {name: api-limits, namespace: osm-canary-deployment-sample-app}
spec:
  host: api.osm-canary-deployment-sample-app.svc.cluster.local
  connectionSettings:
    http: {maxRequests: 5, maxPendingRequests: 5}
";

/// The same limits through `maxConnections`: the mesh multiplexes calls, so each call
/// holds what a connection would for an HTTP/1.1 caller.
const CONNECTIONS: &str = "apiVersion: policy.openservicemesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: {name: api-limits, namespace: osm-canary-deployment-sample-app}
spec:
  host: api
  connectionSettings:
    tcp: {maxConnections: 5}
    http: {maxRequests: 100, maxPendingRequests: 5}
";

#[tokio::test]
async fn a_burst_over_the_limits_gets_its_excess_refused_at_once() -> anyhow::Result<()> {
    burst_over(LIMITS).await
}

#[tokio::test]
async fn a_burst_over_max_connections_gets_its_excess_refused_at_once() -> anyhow::Result<()> {
    burst_over(CONNECTIONS).await
}

async fn burst_over(setting: &str) -> anyhow::Result<()> {
    let mesh = LocalMesh::start(&[CANARY_SPLIT, CANARY_ROLLOUT]).await?;
    let frontend = mesh.workload(CANARY, "frontend", &["frontend"]).await?;
    let _api = mesh.workload(CANARY, "api", &["api-v1", "api"]).await?;
    mesh.await_in_sync(2).await?;
    let revision = mesh.repo.commit_file("limits.yaml", setting).await?;
    mesh.reconciler.await_in_sync(&revision, 2).await?;

    // 30 calls at once, each held 600 ms by the app.
    let client = frontend.proxy.client();
    let calls = (0..30).map(|_| {
        tokio::spawn(async move {
            let start = Instant::now();
            let response = client.get(&format!("{API}/slow?ms=600")).await;
            (response, start.elapsed())
        })
    });
    let mut served = Vec::new();
    let mut refused = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        let (response, took) = call.await?;
        let response = response?;
        match response.status.as_u16() {
            200 => served.push(took),
            503 => {
                assert_eq!(
                    response.headers["x-meshcd-overflow"],
                    "maxPendingRequests",
                    "{}",
                    response.text()
                );
                refused.push(took);
            }
            other => panic!("{other}: {}", response.text()),
        }
    }
    served.sort();
    refused.sort();
    eprintln!(
        "30 calls at once: {} served (fastest {:?}, slowest {:?}), {} refused (slowest {:?})",
        served.len(),
        served.first(),
        served.last(),
        refused.len(),
        refused.last()
    );
    assert_eq!((served.len(), refused.len()), (10, 20));
    // At once, not after a timeout or behind the served calls.
    assert!(refused[19] < Duration::from_millis(400), "{refused:?}");
    // Two waves of five: the app never had more than five at a time.
    assert!(served[9] >= Duration::from_millis(1_150), "{served:?}");
    let counted = sum(
        &frontend.proxy.metrics().await?,
        "meshcd_proxy_overflows_total",
        &[("limit", "maxPendingRequests")],
    );
    assert_eq!(counted, 20.0);
    reported(&mesh, "edges", "overflows", 20).await?;
    Ok(())
}

/// Waits until the reconciler's `/traffic` adds `field` of its `list` (`edges`: what
/// callers sent; `served`: what servers served) up to `expected`.
async fn reported(mesh: &LocalMesh, list: &str, field: &str, expected: u64) -> anyhow::Result<()> {
    eventually(DEADLINE, || async {
        let traffic = mesh.reconciler.admin_json("/traffic?window=600").await?;
        let entries = traffic[list].as_array().into_iter().flatten();
        let total: u64 = entries.filter_map(|entry| entry[field].as_u64()).sum();
        anyhow::ensure!(total == expected, "{list}: {field}: {total} in {traffic}");
        Ok(())
    })
    .await
}

const RATE_LIMIT: &str = "apiVersion: policy.openservicemesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: {name: api-limits, namespace: osm-canary-deployment-sample-app}
spec:
  host: api
  rateLimit:
    local:
      http:
        requests: 20
        unit: second
        burst: 10
        responseHeadersToAdd: [{name: x-limited-by, value: api-limits}]
";

#[tokio::test]
async fn a_local_rate_limit_lets_five_seconds_of_its_rate_and_the_burst_through()
-> anyhow::Result<()> {
    let mesh = LocalMesh::start(&[CANARY_SPLIT, CANARY_ROLLOUT]).await?;
    let frontend = mesh.workload(CANARY, "frontend", &["frontend"]).await?;
    let api = mesh.workload(CANARY, "api", &["api-v1", "api"]).await?;
    mesh.await_in_sync(2).await?;
    let revision = mesh.repo.commit_file("limits.yaml", RATE_LIMIT).await?;
    mesh.reconciler.await_in_sync(&revision, 2).await?;

    let client = frontend.proxy.client();
    let start = Instant::now();
    let (mut accepted, mut limited) = (0, 0u32);
    while start.elapsed() < Duration::from_secs(5) {
        let response = client.get(&format!("{API}/")).await?;
        match response.status.as_u16() {
            200 => accepted += 1,
            429 => {
                let retry_after: u64 = response.headers["retry-after"].to_str()?.parse()?;
                assert!((1..=1).contains(&retry_after), "{retry_after}");
                assert_eq!(response.headers["x-limited-by"], "api-limits");
                limited += 1;
            }
            other => panic!("{other}: {}", response.text()),
        }
    }
    eprintln!("5 s at 20/s with a burst of 10: {accepted} accepted, {limited} answered 429");
    // 30 at once, then 20 at each fill: 110 over 5 s (a fill more if the last call
    // landed just after the fifth second).
    assert!((105..=132).contains(&accepted), "{accepted} accepted");
    assert!(limited > 0);
    let counted = sum(
        &api.proxy.metrics().await?,
        "meshcd_proxy_rate_limited_total",
        &[],
    );
    assert_eq!(counted, f64::from(limited));
    reported(&mesh, "served", "rateLimited", u64::from(limited)).await?;
    Ok(())
}

const ROUTES: &str = "apiVersion: policy.openservicemesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: {name: api-limits, namespace: osm-canary-deployment-sample-app}
spec:
  host: api
  connectionSettings:
    http: {maxRequestsPerConnection: 2}
  rateLimit:
    local:
      http: {requests: 1000, unit: second}
  httpRoutes:
  - path: /orders/.*
    rateLimit:
      local: {requests: 3, unit: hour, responseStatusCode: 503}
";

#[tokio::test]
async fn a_route_gets_its_own_rate_limit_and_connections_carry_at_most_their_calls()
-> anyhow::Result<()> {
    let mesh = LocalMesh::start(&[CANARY_SPLIT, CANARY_ROLLOUT]).await?;
    let frontend = mesh.workload(CANARY, "frontend", &["frontend"]).await?;
    let _api = mesh.workload(CANARY, "api", &["api-v1", "api"]).await?;
    mesh.await_in_sync(2).await?;
    let revision = mesh.repo.commit_file("limits.yaml", ROUTES).await?;
    mesh.reconciler.await_in_sync(&revision, 2).await?;
    let connects = |metrics: &str| sum(metrics, "meshcd_proxy_upstream_connects_total", &[]);
    let before = connects(&frontend.proxy.metrics().await?);

    let client = frontend.proxy.client();
    let mut orders = Vec::new();
    for _ in 0..5 {
        orders.push(
            client
                .get(&format!("{API}/orders/7"))
                .await?
                .status
                .as_u16(),
        );
        let other = client.get(&format!("{API}/cart")).await?;
        assert_eq!(other.status, 200, "{}", other.text());
    }
    eprintln!("/orders/7 five times under 3 an hour: {orders:?}");
    assert_eq!(orders, [200, 200, 200, 503, 503]);
    // Ten calls on connections of two calls each: five connections at least.
    let opened = connects(&frontend.proxy.metrics().await?) - before;
    eprintln!("connections opened for 10 calls at maxRequestsPerConnection 2: {opened}");
    assert_eq!(opened, 5.0);
    Ok(())
}
