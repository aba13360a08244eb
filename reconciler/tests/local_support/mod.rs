//! Shared by the tests that run a local mesh: a config repository made in code (namespace
//! `shop`, frontend may call api, api split 80/20 between api-v1 and api-v2, with comments
//! that in-place edits must keep), the mesh with those three workloads, a frontend that
//! keeps calling api, and the reconciler's admin documents.

// Each test crate compiles this module and uses only part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::rt::TokioIo;
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

/// A local repository on `main` holding [`mesh_files`] with the Namespace.
pub fn config_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for (name, text) in mesh_files(true) {
        std::fs::write(repo.join(name), text).unwrap();
    }
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
    let frontend = add_workloads(&mut mesh, canary_status).await;
    mesh.wait_in_sync(None).await.expect("proxies in sync");
    (mesh, frontend)
}

/// Adds the frontend, api-v1 and api-v2 (answering `canary_status`) to `mesh`.
pub async fn add_workloads(mesh: &mut LocalMesh, canary_status: u16) -> Arc<Joined> {
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
    Arc::new(frontend)
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

/// Polls `check` until it returns `Ok`, failing with the last `Err` text at the deadline
/// (the workspace's one `eventually`, for checks that describe with a `String`).
pub async fn eventually<T, F, Fut>(deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    meshcd_testkit::eventually(deadline, || {
        let attempt = check();
        async move { attempt.await.map_err(anyhow::Error::msg) }
    })
    .await
    .unwrap_or_else(|last| panic!("not within {deadline:?}; last seen:\n{last:#}"))
}

/// The reconciler's admin API as its operator reaches it: the address and the admin
/// token `meshcd run` wrote to its state directory.
#[derive(Clone)]
pub struct AdminApi {
    pub address: SocketAddr,
    token: String,
}

impl AdminApi {
    pub fn of(mesh: &LocalMesh) -> AdminApi {
        let file = mesh.admin_token_file();
        let token = std::fs::read_to_string(&file)
            .unwrap_or_else(|error| panic!("reading {}: {error}", file.display()));
        AdminApi {
            address: mesh.admin,
            token: token.trim().to_string(),
        }
    }

    /// `GET path` with the admin token, as JSON.
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value, String> {
        let text = get_text_as(self.address, path, Some(&self.token)).await?;
        serde_json::from_str(&text).map_err(|e| e.to_string())
    }
}

/// `GET http://address/path` as JSON.
pub async fn get_json(address: SocketAddr, path: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(&get_text(address, path).await?).map_err(|e| e.to_string())
}

/// `GET http://address/path`: the body of a 200 answer.
pub async fn get_text(address: SocketAddr, path: &str) -> Result<String, String> {
    get_text_as(address, path, None).await
}

/// `GET http://address/path` with `token` as bearer credentials: the body of a 200 answer.
async fn get_text_as(
    address: SocketAddr,
    path: &str,
    token: Option<&str>,
) -> Result<String, String> {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let mut request = hyper::Request::get(path).header(hyper::header::HOST, address.to_string());
    if let Some(token) = token {
        request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&body.to_bytes()).into_owned();
    if status != 200 {
        return Err(format!("GET {path}: {status}: {text}"));
    }
    Ok(text)
}

/// The rollout of canary `shop/api` in a `/status` document, if one runs.
pub fn rollout_in(status: &serde_json::Value) -> Option<serde_json::Value> {
    status["canaries"]
        .as_array()?
        .iter()
        .find(|rollout| rollout["namespace"] == NAMESPACE && rollout["name"] == "api")
        .cloned()
}
