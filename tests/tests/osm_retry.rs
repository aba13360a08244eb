//! OSM Retry policies end to end (issue 19): a `policy.openservicemesh.io/v1alpha1` Retry
//! committed to Git makes the source's proxy retry its failed calls, and the Mesh's retry
//! budget keeps a failing destination from getting a retry storm. Real reconciler, proxies
//! and apps; what is counted is what the client got and what the app's proxy served, and
//! the retries as the reconciler's `/traffic` (what `meshcd top` shows) reports them.

use meshcd_e2e::LocalMesh;
use meshcd_e2e::config_repo::{CANARY_ROLLOUT, CANARY_SPLIT, examples_repo};
use meshcd_e2e::eventually::{DEADLINE, eventually};
use meshcd_e2e::http::Client;
use meshcd_e2e::local_mesh::Workload;
use meshcd_e2e::prometheus::sum;

const CANARY: &str = "osm-canary-deployment-sample-app";
const API: &str = "http://api.osm-canary-deployment-sample-app";

/// frontend's calls to `api` retried on 5xx up to `retries` times.
fn retry_policy(retries: u32) -> String {
    format!(
        "apiVersion: policy.openservicemesh.io/v1alpha1
kind: Retry
metadata: {{name: frontend-to-api, namespace: {CANARY}}}
spec:
  source: {{kind: ServiceAccount, name: frontend, namespace: {CANARY}}}
  destinations:
  - {{kind: Service, name: api, namespace: {CANARY}}}
  retryPolicy:
    retryOn: 5xx
    perTryTimeout: 2s
    numRetries: {retries}
    retryBackoffBaseInterval: 10ms
"
    )
}

/// examples-repo's Mesh with a retry budget of `percent` and no per-second minimum.
fn with_budget(percent: u32) -> String {
    std::fs::read_to_string(examples_repo().join("mesh.yaml"))
        .expect("examples-repo/mesh.yaml")
        .replace(
            "  certificateLifetime: 24h\n",
            &format!(
                "  certificateLifetime: 24h\n  retryBudget: {{percent: {percent}, minRetriesPerSecond: 0}}\n"
            ),
        )
}

/// The canary app's frontend and one api workload (no split), with the example's access.
async fn mesh() -> anyhow::Result<(LocalMesh, Client, Vec<Workload>)> {
    let mesh = LocalMesh::start(&[CANARY_SPLIT, CANARY_ROLLOUT]).await?;
    let frontend = mesh.workload(CANARY, "frontend", &["frontend"]).await?;
    let api = mesh.workload(CANARY, "api", &["api-v1", "api"]).await?;
    mesh.await_in_sync(2).await?;
    let client = frontend.proxy.client();
    Ok((mesh, client, vec![frontend, api]))
}

/// Statuses of `requests` GETs of `path`: (2xx, others).
async fn outcomes(client: &Client, path: &str, requests: usize) -> anyhow::Result<(usize, usize)> {
    let mut ok = 0;
    for _ in 0..requests {
        if client
            .get(&format!("{API}{path}"))
            .await?
            .status
            .is_success()
        {
            ok += 1;
        }
    }
    Ok((ok, requests - ok))
}

#[tokio::test]
async fn a_flaky_endpoint_behind_a_retry_policy_looks_healthy_to_its_client() -> anyhow::Result<()>
{
    // The workloads are kept to the end: dropping one stops its proxy.
    let (mesh, client, _workloads) = mesh().await?;
    // Without the policy one call in three fails.
    let (_, failed) = outcomes(&client, "/flaky?every=3&key=before", 30).await?;
    assert_eq!(failed, 10, "the endpoint fails 1 in 3");

    // One call in three needs a retry: more than the default budget's 20 % allows, so the
    // Mesh's budget is raised to half the calls.
    mesh.repo.commit_file("mesh.yaml", &with_budget(50)).await?;
    let revision = mesh
        .repo
        .commit_file("retry.yaml", &retry_policy(2))
        .await?;
    mesh.reconciler.await_in_sync(&revision, 2).await?;
    let (ok, failed) = outcomes(&client, "/flaky?every=3&key=after", 1_000).await?;
    eprintln!("behind the Retry: {ok} of 1,000 succeeded, {failed} failed");
    assert!(ok >= 990, "{ok} of 1,000 succeeded");
    Ok(())
}

#[tokio::test]
async fn the_retry_budget_keeps_a_failing_endpoint_from_a_retry_storm() -> anyhow::Result<()> {
    let (mesh, client, workloads) = mesh().await?;
    // A budget of 20 % with no per-second minimum: retries may add a fifth of the calls.
    mesh.repo.commit_file("mesh.yaml", &with_budget(20)).await?;
    let revision = mesh
        .repo
        .commit_file("retry.yaml", &retry_policy(3))
        .await?;
    mesh.reconciler.await_in_sync(&revision, 2).await?;

    let api = &workloads[1];
    let served = |text: &str| {
        sum(
            text,
            "meshcd_proxy_requests_total",
            &[("direction", "inbound")],
        )
    };
    let before = served(&api.proxy.metrics().await?);
    let (ok, failed) = outcomes(&client, "/status/503", 1_000).await?;
    let sent = served(&api.proxy.metrics().await?) - before;
    let frontend = &workloads[0];
    let exhausted = sum(
        &frontend.proxy.metrics().await?,
        "meshcd_proxy_retry_budget_exhausted_total",
        &[],
    );
    eprintln!(
        "1,000 calls to an endpoint failing every one: it got {sent} requests; {exhausted} retries refused by the budget ({ok} ok, {failed} failed)"
    );
    assert_eq!(failed, 1_000);
    // Without the budget, 3 retries each: 4,000.
    assert!(sent <= 1_250.0, "{sent} requests reached the endpoint");
    assert!(sent >= 1_000.0, "{sent}");
    assert!(exhausted > 0.0);

    // The frontend's traffic reports carry the same counts to the reconciler.
    let retries = sum(
        &frontend.proxy.metrics().await?,
        "meshcd_proxy_retries_total",
        &[],
    );
    let reported = eventually(DEADLINE, || async {
        let traffic = mesh.reconciler.admin_json("/traffic?window=600").await?;
        let to_api = |field: &str| -> f64 {
            let edges = traffic["edges"].as_array().into_iter().flatten();
            edges
                .filter(|edge| edge["source"]["serviceAccount"] == "frontend")
                .filter(|edge| edge["service"] == "api")
                .filter_map(|edge| edge[field].as_f64())
                .sum()
        };
        let reported = (to_api("retries"), to_api("retriesRefused"));
        anyhow::ensure!(
            reported == (retries, exhausted),
            "{reported:?} in {traffic}"
        );
        Ok(reported)
    })
    .await?;
    eprintln!("/traffic: {reported:?} (retries, refused by the budget)");
    Ok(())
}
