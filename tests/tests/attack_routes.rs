//! Routes never grant access: a Gateway API route (or its mirror) that sends a caller's
//! requests to a Service the caller may not call gets nothing from it. The destination's
//! proxy authorizes the call as it would any other, so the route's author cannot widen a
//! caller's reach by pointing a rule, or a copy, at another workload.

use std::time::Duration;

use meshcd_e2e::config_repo::{CANARY_ACCESS, CANARY_ROLLOUT, CANARY_SPLIT};
use meshcd_e2e::prometheus::sum;
use meshcd_e2e::{LocalMesh, eventually};

const CANARY: &str = "osm-canary-deployment-sample-app";
const API: &str = "http://api.osm-canary-deployment-sample-app";

/// `api`'s route: `/steal` to billing (which no TrafficTarget opens to frontend), `/copy`
/// to api-v1 with a copy to billing, the rest to api-v1.
const ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: osm-canary-deployment-sample-app}
spec:
  parentRefs: [{group: '', kind: Service, name: api, port: 80}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /steal}}]
    backendRefs: [{name: billing, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /copy}}]
    filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: billing, port: 80}}
    backendRefs: [{name: api-v1, port: 80}]
  - backendRefs: [{name: api-v1, port: 80}]
";

#[tokio::test]
async fn a_route_or_mirror_to_a_service_the_caller_may_not_call_gets_nothing_from_it()
-> anyhow::Result<()> {
    let mesh = LocalMesh::start(&[CANARY_ACCESS, CANARY_SPLIT, CANARY_ROLLOUT]).await?;
    let frontend = mesh.workload(CANARY, "frontend", &["frontend"]).await?;
    let _api = mesh.workload(CANARY, "api", &["api-v1", "api"]).await?;
    let billing = mesh.workload(CANARY, "billing", &["billing"]).await?;
    mesh.await_in_sync(3).await?;
    // frontend may call api, and nothing else.
    mesh.repo.commit_from_examples(CANARY_ACCESS).await?;
    let routed = mesh
        .repo
        .commit_file(&format!("{CANARY}/route.yaml"), ROUTE)
        .await?;
    mesh.reconciler.await_in_sync(&routed, 3).await?;
    let client = frontend.proxy.client();
    eventually(Duration::from_secs(10), || async {
        let response = client.get(&format!("{API}/copy")).await?;
        anyhow::ensure!(
            response.status == 200,
            "{} {}",
            response.status,
            response.text()
        );
        anyhow::ensure!(response.app()?.name == "api-v1", "{}", response.text());
        Ok(())
    })
    .await?;

    // The rule to billing: billing's proxy refuses frontend, and its app answers nothing.
    let stolen = client.get(&format!("{API}/steal/ledger")).await?;
    assert_eq!(stolen.status, 403, "{}", stolen.text());
    assert!(
        stolen.app().is_err(),
        "billing's app answered: {}",
        stolen.text()
    );

    // The copies to billing are refused there too: counted as denied, never served.
    let frontend_id = format!("spiffe://cluster.local/ns/{CANARY}/sa/frontend");
    eventually(Duration::from_secs(10), || async {
        let text = billing.proxy.metrics().await?;
        let denied = sum(
            &text,
            "meshcd_proxy_inbound_denied_total",
            &[("source", &frontend_id)],
        );
        let served = sum(
            &text,
            "meshcd_proxy_requests_total",
            &[("direction", "inbound"), ("source", &frontend_id)],
        );
        // The /steal call and at least one copy; none let through.
        anyhow::ensure!(
            denied >= 2.0 && served == 0.0,
            "denied {denied}, served {served}:\n{text}"
        );
        Ok(())
    })
    .await
}
