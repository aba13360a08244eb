//! Shared by the tests that run a local mesh: a config repository made in code (namespace
//! `shop`, frontend may call api, api split 80/20 between api-v1 and api-v2), the mesh
//! with those three workloads, and a frontend that keeps calling api.

// Each test crate compiles this module and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use meshcd::cli::local_mesh::{Joined, LocalMesh, Workload};

pub const NAMESPACE: &str = "shop";

pub fn git(repo: &Path, args: &[&str]) -> String {
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

pub fn config_repo(dir: &Path) -> PathBuf {
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
            r#"apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: {{name: api, namespace: {NAMESPACE}}}
spec:
  service: api
  backends:
  - service: api-v1
    weight: 80
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

/// The reconciler (with `extra` flags) and frontend, api-v1, api-v2 (answering
/// `canary_status`), every proxy in sync.
pub async fn mesh_with(
    repo: &Path,
    state: &Path,
    canary_status: u16,
    extra: &[&str],
) -> (LocalMesh, Arc<Joined>) {
    let meshcd = PathBuf::from(env!("CARGO_BIN_EXE_meshcd"));
    let mut mesh = LocalMesh::start_with_args(&meshcd, repo, state, "1s", extra)
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

/// Sends requests from the frontend's proxy until stopped, like a steady client.
pub fn keep_calling(frontend: Arc<Joined>, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            let _ = frontend
                .request("GET", &format!("http://api.{NAMESPACE}/"))
                .await;
        }
    })
}

/// Polls `check` until it returns `Some`, failing with the last `Err` text at the deadline.
pub async fn eventually<T, F, Fut>(deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let start = Instant::now();
    loop {
        match check().await {
            Ok(value) => return value,
            Err(last) if start.elapsed() > deadline => {
                panic!("not within {deadline:?}; last seen:\n{last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
