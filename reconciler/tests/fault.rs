//! Fault injection end to end (issue 19): a `meshcd.dev/v1alpha1` Fault committed to a real
//! repository, compiled by the reconciler into the calling proxy's snapshot, applied by that
//! proxy to real calls: aborts answered at once with the Fault's status, delays held, both
//! counted in the caller's metrics and its traffic reports (`/traffic`, `meshcd top`); and
//! a Canary whose canary backend gets aborts rolled back, the rollback committed.
//!
//! Needs `meshcd-proxy` next to the `meshcd` binary (`cargo build --workspace --bins`).

mod canary_support;
mod local_support;

use std::time::{Duration, Instant};

use canary_support::{canary_yaml, commit_by_meshcd, commit_canary};
use local_support::{
    AdminApi, NAMESPACE, config_repo, eventually, get_text, git, keep_calling, mesh_with,
};

/// A Mesh allowing faults, and a Fault on `destination` for frontend's calls.
fn fault_yaml(destination: &str, effect: &str) -> String {
    format!(
        "apiVersion: meshcd.dev/v1alpha1
kind: Mesh
metadata: {{name: meshcd}}
spec: {{faultInjection: allowed}}
---
apiVersion: meshcd.dev/v1alpha1
kind: Fault
metadata: {{name: chaos, namespace: {NAMESPACE}}}
spec:
  destination: {{kind: Service, name: {destination}}}
  sources: [{{kind: ServiceAccount, name: frontend}}]
  {effect}
"
    )
}

/// Commits `faults.yaml` and returns the commit.
fn commit_faults(repo: &std::path::Path, yaml: &str) -> String {
    std::fs::write(repo.join("faults.yaml"), yaml).unwrap();
    git(repo, &["add", "faults.yaml"]);
    git(repo, &["commit", "-q", "-m", "inject faults"]);
    git(repo, &["rev-parse", "HEAD"])
}

/// The value of one series of the frontend proxy's `/metrics`, 0 when absent.
async fn frontend_metric(mesh: &meshcd::cli::local_mesh::LocalMesh, series: &str) -> u64 {
    // The frontend joined first (local_support::add_workloads).
    let metrics = get_text(mesh.proxy_admin_addresses()[0], "/metrics")
        .await
        .unwrap();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_the_calls_are_aborted_by_the_callers_proxy_with_the_faults_status() {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let (mesh, frontend) = mesh_with(&repo, &dir.path().join("state"), 200, &[]).await;
    let revision = commit_faults(
        &repo,
        &fault_yaml("api", "abort: {percent: 50, httpStatus: 503}"),
    );
    mesh.wait_in_sync(Some(&revision)).await.unwrap();

    let url = format!("http://api.{NAMESPACE}/");
    let (mut aborted, mut served) = (0, 0);
    for _ in 0..1_000 {
        let (status, body) = frontend.request("GET", &url).await.unwrap();
        match status {
            503 => {
                assert!(body.starts_with("fault injected by meshcd"), "{body}");
                aborted += 1;
            }
            200 => served += 1,
            other => panic!("unexpected {other}: {body}"),
        }
    }
    eprintln!("aborted {aborted} of 1,000 calls, served {served}");
    assert!(
        (450..=550).contains(&aborted),
        "{aborted} of 1,000 aborted, {served} served"
    );
    let counted = frontend_metric(
        &mesh,
        "meshcd_proxy_faults_injected_total{fault=\"shop/chaos\",kind=\"abort\"}",
    )
    .await;
    assert_eq!(counted, aborted, "every abort is counted as injected");
    // The caller's reports say so too, summed over api's backends.
    let admin = AdminApi::of(&mesh);
    eventually(Duration::from_secs(20), || async {
        let traffic = admin.get_json("/traffic?window=600").await?;
        let edges = traffic["edges"].as_array().into_iter().flatten();
        let reported: u64 = edges
            .filter(|edge| edge["source"]["serviceAccount"] == "frontend")
            .filter(|edge| edge["service"] == "api")
            .filter_map(|edge| edge["faultsInjected"].as_u64())
            .sum();
        (reported == aborted)
            .then_some(())
            .ok_or_else(|| format!("{reported} of {aborted} aborts reported: {traffic}"))
    })
    .await;
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_is_held_for_the_faults_delay() {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let (mesh, frontend) = mesh_with(&repo, &dir.path().join("state"), 200, &[]).await;
    let revision = commit_faults(
        &repo,
        &fault_yaml("api", "delay: {percent: 100, fixedDelay: 200ms}"),
    );
    mesh.wait_in_sync(Some(&revision)).await.unwrap();

    let url = format!("http://api.{NAMESPACE}/");
    let mut took = Vec::new();
    for _ in 0..21 {
        let start = Instant::now();
        let (status, _) = frontend.request("GET", &url).await.unwrap();
        took.push(start.elapsed());
        assert_eq!(status, 200, "a delayed call is still served");
    }
    took.sort();
    let p50 = took[took.len() / 2];
    eprintln!("delayed calls: p50 {p50:?}, fastest {:?}", took[0]);
    assert!(p50 >= Duration::from_millis(200), "p50 {p50:?}");
    let counted = frontend_metric(
        &mesh,
        "meshcd_proxy_faults_injected_total{fault=\"shop/chaos\",kind=\"delay\"}",
    )
    .await;
    assert_eq!(counted, 21);
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_scoped_to_a_route_aborts_only_the_calls_that_match_it() {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let (mesh, frontend) = mesh_with(&repo, &dir.path().join("state"), 200, &[]).await;
    let scoped = format!(
        "{}---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {{name: api-routes, namespace: {NAMESPACE}}}
spec:
  matches:
  - {{name: orders, pathRegex: /orders/.*, methods: [POST]}}
  - {{name: cart, pathRegex: /cart}}
",
        fault_yaml("api", "abort: {percent: 100, httpStatus: 503}").replace(
            "  abort:",
            "  routes: [{kind: HTTPRouteGroup, name: api-routes, matches: [orders]}]\n  abort:"
        )
    );
    let revision = commit_faults(&repo, &scoped);
    mesh.wait_in_sync(Some(&revision)).await.unwrap();

    let url = |path: &str| format!("http://api.{NAMESPACE}{path}");
    for _ in 0..20 {
        let (status, body) = frontend.request("POST", &url("/orders/7")).await.unwrap();
        assert_eq!(status, 503, "{body}");
        assert!(body.starts_with("fault injected by meshcd"), "{body}");
        for (method, path) in [("GET", "/orders/7"), ("POST", "/cart"), ("GET", "/")] {
            let (status, body) = frontend.request(method, &url(path)).await.unwrap();
            assert_eq!(status, 200, "{method} {path}: {body}");
        }
    }
    let counted = frontend_metric(
        &mesh,
        "meshcd_proxy_faults_injected_total{fault=\"shop/chaos\",kind=\"abort\"}",
    )
    .await;
    assert_eq!(counted, 20, "only the matching calls are aborted");
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_whose_backend_gets_aborts_is_rolled_back_and_the_rollback_committed() {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    // api-v2 itself is healthy: only the Fault makes its calls fail.
    let (mesh, frontend) = mesh_with(&repo, &dir.path().join("state"), 200, &[]).await;
    let revision = commit_faults(
        &repo,
        &fault_yaml("api-v2", "abort: {percent: 100, httpStatus: 503}"),
    );
    mesh.wait_in_sync(Some(&revision)).await.unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = keep_calling(frontend.clone(), stop.clone());

    commit_canary(&repo, &canary_yaml(&[50], "30s", 2), "canary for api-v2");
    let (_, message) = commit_by_meshcd(&repo, Duration::from_secs(60)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = load.await;
    assert!(
        message.starts_with("meshcd: roll back canary shop/api"),
        "{message}"
    );
    assert!(message.contains("successRate"), "{message}");
    let split = std::fs::read_to_string(repo.join("split.yaml")).unwrap();
    assert!(split.contains("weight: 100   # stable"), "{split}");
    mesh.stop().await;
}
