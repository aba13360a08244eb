//! Gateway API routes for the mesh (GAMMA), end to end in local mode: an HTTPRoute
//! committed to Git, compiled by the reconciler, applied by real proxies. Producer routes
//! bound to a Service: path, header, query and method matches in the spec's precedence,
//! weighted backendRefs, and 404 for a request no rule matches. Authorization stays with
//! the SMI TrafficTargets.

use std::collections::BTreeMap;
use std::time::Duration;

use meshcd_e2e::config_repo::{CANARY_ACCESS, CANARY_ROLLOUT, CANARY_SPLIT};
use meshcd_e2e::http::{Client, request};
use meshcd_e2e::local_mesh::Workload;
use meshcd_e2e::{LocalMesh, eventually};

const CANARY: &str = "osm-canary-deployment-sample-app";
const ROUTE_FILE: &str = "osm-canary-deployment-sample-app/route.yaml";
const API: &str = "http://api.osm-canary-deployment-sample-app";

const ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: api
  namespace: osm-canary-deployment-sample-app
spec:
  parentRefs:
  - {group: '', kind: Service, name: api, port: 80}
  rules:
  - name: v2-paths
    matches:
    - path: {type: PathPrefix, value: /v2}
    backendRefs:
    - {name: api-v2, port: 80}
  - name: testers
    matches:
    - headers: [{name: x-tester, value: 'yes'}]
      method: GET
    - queryParams: [{name: version, value: two}]
    backendRefs:
    - {name: api-v2, port: 80}
  - name: headers
    matches:
    - path: {type: PathPrefix, value: /headers}
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: x-env, value: mesh}]
        add: [{name: x-added, value: 'yes'}]
        remove: [x-secret]
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        set: [{name: x-route, value: headers}]
    backendRefs:
    - name: api-v1
      port: 80
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier:
          add: [{name: x-backend, value: v1}]
  - name: shop
    matches:
    - path: {type: PathPrefix, value: /shop}
    backendRefs:
    - {name: api-v1, port: 80, weight: 75}
    - {name: api-v2, port: 80, weight: 25}
---
# A Service no workload serves itself: its route is all there is to it.
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: router
  namespace: osm-canary-deployment-sample-app
spec:
  parentRefs:
  - {group: '', kind: Service, name: api-router, port: 80}
  rules:
  - backendRefs:
    - {name: api-v1, port: 80}
";

/// The canary app's frontend, api-v1 and api-v2 (both serving `api`), with access for
/// the frontend, and the route committed; returns once a routed request is answered.
async fn routed_mesh() -> anyhow::Result<(LocalMesh, Client, Vec<Workload>)> {
    // Without the example's TrafficSplit (and its Canary): a Service is split or routed.
    let mesh = LocalMesh::start(&[CANARY_ACCESS, CANARY_SPLIT, CANARY_ROLLOUT]).await?;
    let frontend = mesh.workload(CANARY, "frontend", &["frontend"]).await?;
    let v1 = mesh.workload(CANARY, "api", &["api-v1", "api"]).await?;
    let v2 = mesh.workload(CANARY, "api", &["api-v2", "api"]).await?;
    mesh.await_in_sync(3).await?;
    mesh.repo.commit_from_examples(CANARY_ACCESS).await?;
    let routed = mesh.repo.commit_file(ROUTE_FILE, ROUTE).await?;
    mesh.reconciler.await_in_sync(&routed, 3).await?;
    let client = frontend.proxy.client();
    eventually(Duration::from_secs(10), || async {
        let response = client.get(&format!("{API}/v2/ready")).await?;
        anyhow::ensure!(
            response.status == 200,
            "{} {}",
            response.status,
            response.text()
        );
        anyhow::ensure!(response.app()?.name == "api-v2", "{}", response.text());
        Ok(())
    })
    .await?;
    Ok((mesh, client, vec![frontend, v1, v2]))
}

/// The app that answered `request` with 200.
async fn answered_by(
    client: &Client,
    request: http::Request<http_body_util::Full<bytes::Bytes>>,
) -> anyhow::Result<String> {
    let response = client.send(request).await?;
    anyhow::ensure!(
        response.status == 200,
        "{} {}",
        response.status,
        response.text()
    );
    Ok(response.app()?.name)
}

#[tokio::test]
async fn mesh_httproute_matching_sends_each_request_where_its_first_matching_rule_says()
-> anyhow::Result<()> {
    // The workloads are kept to the end: dropping one stops its proxy.
    let (_mesh, client, _workloads) = routed_mesh().await?;

    // Path prefix, on whole segments only.
    let get = |path: &str| request(http::Method::GET, &format!("{API}{path}"));
    assert_eq!(answered_by(&client, get("/v2")).await?, "api-v2");
    assert_eq!(answered_by(&client, get("/v2/orders")).await?, "api-v2");
    let not_a_segment = client.get(&format!("{API}/v2orders")).await?;
    assert_eq!(not_a_segment.status, 404, "{}", not_a_segment.text());

    // A header and a method, or a query parameter, select the testers' rule.
    let mut tester = get("/anything");
    tester
        .headers_mut()
        .insert("x-tester", http::HeaderValue::from_static("yes"));
    assert_eq!(answered_by(&client, tester).await?, "api-v2");
    let mut posted = request(http::Method::POST, &format!("{API}/anything"));
    posted
        .headers_mut()
        .insert("x-tester", http::HeaderValue::from_static("yes"));
    let wrong_method = client.send(posted).await?;
    assert_eq!(wrong_method.status, 404, "{}", wrong_method.text());
    assert_eq!(
        answered_by(&client, get("/anything?version=two")).await?,
        "api-v2"
    );

    // No rule matches: the calling proxy answers 404 itself and says why.
    let unmatched = client.get(&format!("{API}/other")).await?;
    assert_eq!(unmatched.status, 404, "{}", unmatched.text());
    assert!(
        unmatched.app().is_err(),
        "an app answered: {}",
        unmatched.text()
    );
    assert!(
        unmatched.text().contains("no rule of the routes of api.osm-canary-deployment-sample-app port 80 matches GET /other"),
        "{}",
        unmatched.text()
    );
    Ok(())
}

#[tokio::test]
async fn mesh_httproute_weight_shares_requests_by_the_backend_weights() -> anyhow::Result<()> {
    // The workloads are kept to the end: dropping one stops its proxy.
    let (_mesh, client, _workloads) = routed_mesh().await?;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    // Enough calls that ±5 points is over 5 standard deviations (400 left it at 2.3: a
    // run in fifty failed by chance).
    const CALLS: usize = 2000;
    for call in 0..CALLS {
        let name = answered_by(
            &client,
            request(http::Method::GET, &format!("{API}/shop/{call}")),
        )
        .await?;
        *seen.entry(name).or_default() += 1;
    }
    let v2 = seen.get("api-v2").copied().unwrap_or(0) as f64 / CALLS as f64;
    // 25 % expected; the Gateway API's weight tests allow ±5 points of the whole.
    assert!(
        (0.20..=0.30).contains(&v2),
        "api-v2 got {:.1} %: {seen:?}",
        v2 * 100.0
    );
    assert_eq!(seen.len(), 2, "{seen:?}");
    Ok(())
}

#[tokio::test]
async fn a_service_only_routes_serve_is_addressable_by_its_name() -> anyhow::Result<()> {
    let (_mesh, client, _workloads) = routed_mesh().await?;
    let uri = "http://api-router.osm-canary-deployment-sample-app/anything";
    assert_eq!(
        answered_by(&client, request(http::Method::GET, uri)).await?,
        "api-v1"
    );
    Ok(())
}

#[tokio::test]
async fn mesh_httproute_request_and_backend_header_modifiers_reach_the_backend_and_the_client()
-> anyhow::Result<()> {
    let (_mesh, client, _workloads) = routed_mesh().await?;
    let mut sent = request(http::Method::GET, &format!("{API}/headers/check"));
    let headers = sent.headers_mut();
    headers.insert("x-env", http::HeaderValue::from_static("dev"));
    headers.insert("x-secret", http::HeaderValue::from_static("s3cret"));
    let response = client.send(sent).await?;
    assert_eq!(response.status, 200, "{}", response.text());
    // The client sees the rule's response header.
    assert_eq!(
        response.headers.get("x-route").map(|v| v.as_bytes()),
        Some(&b"headers"[..]),
        "{:?}",
        response.headers
    );
    // The backend sees the rule's request headers, then its own backendRef's.
    let seen = response.app()?.headers;
    assert_eq!(
        seen.get("x-env").map(String::as_str),
        Some("mesh"),
        "{seen:?}"
    );
    assert_eq!(
        seen.get("x-added").map(String::as_str),
        Some("yes"),
        "{seen:?}"
    );
    assert_eq!(
        seen.get("x-backend").map(String::as_str),
        Some("v1"),
        "{seen:?}"
    );
    assert!(
        !seen.contains_key("x-secret"),
        "removed, yet the backend got it: {seen:?}"
    );
    Ok(())
}
