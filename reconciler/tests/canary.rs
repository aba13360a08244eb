//! Canary rollouts end to end: a real reconciler on a real Git repository, real proxies
//! and apps; the canary is judged from the proxies' traffic reports and its outcome is a
//! commit by meshcd in the repository.
//!
//! Needs `meshcd-proxy` next to the `meshcd` binary (`cargo build --workspace --bins`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use meshcd::cli::local_mesh::{Joined, LocalMesh, Workload};

const NAMESPACE: &str = "shop";

fn git(repo: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=operator",
            "-c",
            "user.email=operator@example.com",
        ])
        .args(args)
        .current_dir(repo)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn config_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        repo.join("mesh.yaml"),
        format!(
            r#"apiVersion: v1
kind: Namespace
metadata: {{name: {NAMESPACE}}}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {{name: everything, namespace: {NAMESPACE}}}
spec:
  matches: [{{name: all, pathRegex: /.*}}]
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {{name: frontend-to-api, namespace: {NAMESPACE}}}
spec:
  destination: {{kind: ServiceAccount, name: api}}
  rules: [{{kind: HTTPRouteGroup, name: everything}}]
  sources: [{{kind: ServiceAccount, name: frontend}}]
"#
        ),
    )
    .unwrap();
    std::fs::write(
        repo.join("split.yaml"),
        format!(
            r#"# the api rollout
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: {{name: api, namespace: {NAMESPACE}}}
spec:
  service: api
  backends:
  - service: api-v1
    weight: 80   # stable
  - service: api-v2
    weight: 20
"#
        ),
    )
    .unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "api at 80/20"]);
    repo
}

fn canary_yaml() -> String {
    format!(
        r#"apiVersion: meshcd.dev/v1alpha1
kind: Canary
metadata: {{name: api, namespace: {NAMESPACE}}}
spec:
  trafficSplit: api
  stable: api-v1
  canary: api-v2
  steps: {{weights: [50]}}
  interval: 1s
  progressDeadline: 30s
  analysis:
    successRate: {{min: 99}}
    minRequests: 5
    failureThreshold: 2
"#
    )
}

/// Sends requests from the frontend's proxy until stopped, like a steady client.
fn keep_calling(frontend: Arc<Joined>, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            let _ = frontend
                .request("GET", &format!("http://api.{NAMESPACE}/"))
                .await;
        }
    })
}

async fn eventually_commit_by_meshcd(repo: &Path, deadline: Duration) -> String {
    let start = Instant::now();
    loop {
        let author = git(repo, &["log", "-1", "--format=%an"]);
        if author == "meshcd" {
            return git(repo, &["log", "-1", "--format=%B"]);
        }
        assert!(
            start.elapsed() < deadline,
            "no commit by meshcd within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn mesh_with(repo: &Path, state: &Path, canary_status: u16) -> (LocalMesh, Arc<Joined>) {
    let meshcd = PathBuf::from(env!("CARGO_BIN_EXE_meshcd"));
    let mut mesh = LocalMesh::start_with(&meshcd, repo, state, "1s")
        .await
        .expect("reconciler starts");
    let frontend = mesh
        .add(Workload::new(NAMESPACE, "frontend", &["frontend"]))
        .await
        .expect("frontend joins");
    mesh.add(Workload::new(NAMESPACE, "api", &["api-v1", "api"]).named("api-v1"))
        .await
        .expect("api-v1 joins");
    mesh.add(
        Workload::new(NAMESPACE, "api", &["api-v2", "api"])
            .named("api-v2")
            .answering(canary_status),
    )
    .await
    .expect("api-v2 joins");
    mesh.wait_in_sync(None).await.expect("proxies in sync");
    (mesh, Arc::new(frontend))
}

async fn share_of(frontend: &Joined, app: &str, requests: usize) -> f64 {
    let mut hits = 0;
    for _ in 0..requests {
        let (_, body) = frontend
            .request("GET", &format!("http://api.{NAMESPACE}/"))
            .await
            .unwrap();
        if body.contains(&format!("\"app\":\"{app}\"")) {
            hits += 1;
        }
    }
    hits as f64 / requests as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_canary_is_rolled_back_and_the_rollback_is_committed_to_git() {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let (mesh, frontend) = mesh_with(&repo, &dir.path().join("state"), 500).await;
    let stop = Arc::new(AtomicBool::new(false));
    let load = keep_calling(frontend.clone(), stop.clone());

    std::fs::write(repo.join("canary.yaml"), canary_yaml()).unwrap();
    git(&repo, &["add", "canary.yaml"]);
    git(&repo, &["commit", "-q", "-m", "canary for api-v2"]);

    let message = eventually_commit_by_meshcd(&repo, Duration::from_secs(60)).await;
    stop.store(true, Ordering::Relaxed);
    let _ = load.await;
    assert!(
        message.starts_with("meshcd: roll back canary shop/api"),
        "{message}"
    );
    assert!(
        message.contains("successRate"),
        "the commit names the failing metric: {message}"
    );
    let split = std::fs::read_to_string(repo.join("split.yaml")).unwrap();
    assert!(
        split.contains("weight: 100   # stable"),
        "stable back to 100, comment kept: {split}"
    );
    assert!(
        split.contains("- service: api-v2\n    weight: 0\n"),
        "{split}"
    );
    assert!(split.starts_with("# the api rollout\n"));
    let canary = std::fs::read_to_string(repo.join("canary.yaml")).unwrap();
    assert!(canary.contains("phase: RolledBack"), "{canary}");

    let revision = git(&repo, &["rev-parse", "HEAD"]);
    mesh.wait_in_sync(Some(&revision))
        .await
        .expect("the rollback commit is applied");
    assert_eq!(
        share_of(&frontend, "api-v1", 40).await,
        1.0,
        "after the rollback every request goes to api-v1"
    );
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_canary_is_promoted_and_the_promotion_is_committed_to_git() {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let (mesh, frontend) = mesh_with(&repo, &dir.path().join("state"), 200).await;
    let stop = Arc::new(AtomicBool::new(false));
    let load = keep_calling(frontend.clone(), stop.clone());

    std::fs::write(repo.join("canary.yaml"), canary_yaml()).unwrap();
    git(&repo, &["add", "canary.yaml"]);
    git(&repo, &["commit", "-q", "-m", "canary for api-v2"]);

    let message = eventually_commit_by_meshcd(&repo, Duration::from_secs(60)).await;
    stop.store(true, Ordering::Relaxed);
    let _ = load.await;
    assert!(
        message.starts_with("meshcd: promote canary shop/api"),
        "{message}"
    );
    let split = std::fs::read_to_string(repo.join("split.yaml")).unwrap();
    assert!(split.contains("weight: 0   # stable"), "{split}");
    assert!(
        split.contains("- service: api-v2\n    weight: 100\n"),
        "{split}"
    );
    let canary = std::fs::read_to_string(repo.join("canary.yaml")).unwrap();
    assert!(canary.contains("phase: Promoted"), "{canary}");

    let revision = git(&repo, &["rev-parse", "HEAD"]);
    mesh.wait_in_sync(Some(&revision))
        .await
        .expect("the promotion commit is applied");
    assert_eq!(
        share_of(&frontend, "api-v2", 40).await,
        1.0,
        "after the promotion every request goes to api-v2"
    );
    mesh.stop().await;
}
