//! The world of the canary outcome tests (remote repositories, restarts): the config of a
//! mesh with an `api` split between api-v1 and api-v2, real proxies and apps started by
//! `LocalMesh`, a steady client, and the reconciler's `/status` as `meshcd status` reads it.

// Each test crate uses part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::rt::TokioIo;
use meshcd::cli::local_mesh::{Joined, LocalMesh, Workload};
use serde_json::Value;

pub const NAMESPACE: &str = "shop";

/// The mesh's files: routes, access and the split (80/20, with comments to keep).
/// `with_namespace` adds the Namespace object (for repositories that do not onboard it
/// elsewhere).
pub fn mesh_files(with_namespace: bool) -> Vec<(String, String)> {
    let namespace = if with_namespace {
        format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {NAMESPACE}}}\n---\n")
    } else {
        String::new()
    };
    vec![
        (
            "mesh.yaml".into(),
            format!(
                r#"{namespace}apiVersion: specs.smi-spec.io/v1alpha4
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
        ),
        (
            "split.yaml".into(),
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
        ),
    ]
}

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
    let frontend = mesh
        .add(Workload::new(NAMESPACE, "frontend", &["frontend"]))
        .await
        .expect("frontend joins");
    mesh.add(Workload::new(NAMESPACE, "api", &["api-v1", "api"]).named("api-v1"))
        .await
        .expect("api-v1 joins");
    mesh.add(Workload::new(NAMESPACE, "api", &["api-v2", "api"]).named("api-v2"))
        .await
        .expect("api-v2 joins");
    Arc::new(frontend)
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
        let running = stop.clone();
        let task = tokio::spawn(async move {
            while !running.load(Ordering::Relaxed) {
                let _ = frontend
                    .request("GET", &format!("http://api.{NAMESPACE}/"))
                    .await;
            }
        });
        Load { stop, task }
    }

    pub async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
    }
}

/// `GET /status` of the reconciler's admin listener.
pub async fn status(admin: SocketAddr) -> anyhow::Result<Value> {
    let stream = tokio::net::TcpStream::connect(admin).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let request = hyper::Request::get("/status")
        .header(hyper::header::HOST, admin.to_string())
        .body(Empty::<Bytes>::new())?;
    let response = sender.send_request(request).await?;
    anyhow::ensure!(response.status() == 200, "status {}", response.status());
    let body = response.into_body().collect().await?.to_bytes();
    Ok(serde_json::from_slice(&body)?)
}

/// The rollout of canary shop/api in a status, if one runs.
pub fn rollout(status: &Value) -> Option<Value> {
    status["canaries"]
        .as_array()?
        .iter()
        .find(|rollout| rollout["namespace"] == NAMESPACE && rollout["name"] == "api")
        .cloned()
}

/// Runs `check` until it holds, failing after `deadline`; returns its value.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let start = std::time::Instant::now();
    loop {
        match check().await {
            Ok(value) => return value,
            Err(error) if start.elapsed() > deadline => {
                panic!("{what}: still not so after {deadline:?}: {error:#}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
