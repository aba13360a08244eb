//! The world of the canary outcome tests (remote repositories, restarts): the config of a
//! mesh with an `api` split between api-v1 and api-v2, real proxies and apps started by
//! `LocalMesh`, a steady client, and the reconciler's `/status` as `meshcd status` reads it.

// Each test crate uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use meshcd::cli::local_mesh::{Joined, LocalMesh};
use serde_json::Value;

pub use crate::local_support::{NAMESPACE, mesh_files};

/// `canary.yaml`: api-v2 through `weights`, one analysis per `interval`.
pub fn canary_file(weights: &[u32], interval: &str) -> (String, String) {
    let weights: Vec<String> = weights.iter().map(u32::to_string).collect();
    (
        "canary.yaml".into(),
        format!(
            r#"# api-v2 goes out gradually
apiVersion: meshcd.dev/v1alpha1
kind: Canary
metadata: {{name: api, namespace: {NAMESPACE}}}
spec:
  trafficSplit: api
  stable: api-v1
  canary: api-v2   # the new version
  steps: {{weights: [{}]}}
  interval: {interval}
  progressDeadline: 60s
  analysis:
    successRate: {{min: 99}}
    minRequests: 5
    failureThreshold: 2
"#,
            weights.join(", ")
        ),
    )
}

pub fn meshcd_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_meshcd"))
}

/// Adds the frontend, api-v1 and api-v2 (answering 200) to `mesh`.
pub async fn add_workloads(mesh: &mut LocalMesh) -> Arc<Joined> {
    crate::local_support::add_workloads(mesh, 200).await
}

/// `meshcd run --repo <repo> [extra...]` with the three workloads.
pub async fn start_mesh(repo: &str, state: &Path, extra: &[&str]) -> (LocalMesh, Arc<Joined>) {
    let mut mesh =
        LocalMesh::start_with_args(&meshcd_binary(), Path::new(repo), state, "1s", extra)
            .await
            .expect("reconciler starts");
    let frontend = add_workloads(&mut mesh).await;
    (mesh, frontend)
}

/// Sends requests from the frontend's proxy until stopped, like a steady client.
pub struct Load {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Load {
    pub fn start(frontend: Arc<Joined>) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let task = crate::local_support::keep_calling(frontend, stop.clone());
        Load { stop, task }
    }

    pub async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
    }
}

/// `GET /status` of the reconciler's admin listener.
pub async fn status(admin: &crate::local_support::AdminApi) -> anyhow::Result<Value> {
    admin.get_json("/status").await.map_err(anyhow::Error::msg)
}

/// The rollout of canary shop/api in a status, if one runs.
pub fn rollout(status: &Value) -> Option<Value> {
    crate::local_support::rollout_in(status)
}

/// Runs `check` until it holds, failing after `deadline` with `what` and its last error;
/// `local_support::eventually` for checks that speak `anyhow`.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    crate::local_support::eventually(deadline, || {
        let attempt = check();
        async move { attempt.await.map_err(|error| format!("{what}: {error:#}")) }
    })
    .await
}
