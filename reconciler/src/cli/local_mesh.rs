//! A local mesh made of real processes: the reconciler, and for each workload a demo app
//! behind a `meshcd-proxy` that joined with its own bootstrap token. Used by `meshcd demo`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::Full;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::http_client::{HttpClient, Limits};
use crate::identity::tokens::{DEFAULT_TTL, TokenStore};
use crate::model::Identity;

const START_TIMEOUT: Duration = Duration::from_secs(15);
const SYNC_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Workload {
    namespace: String,
    service_account: String,
    services: Vec<String>,
    label: String,
    status: u16,
}

impl Workload {
    pub fn new(namespace: &str, service_account: &str, services: &[&str]) -> Self {
        Workload {
            namespace: namespace.into(),
            service_account: service_account.into(),
            services: services.iter().map(|s| s.to_string()).collect(),
            label: services[0].to_string(),
            status: 200,
        }
    }

    /// The HTTP status its app answers every request with (default 200).
    pub fn answering(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The name the app answers with (default: its first service).
    pub fn named(mut self, label: &str) -> Self {
        self.label = label.into();
        self
    }
}

/// A workload that joined: its proxy's outbound listener is where its app sends requests.
/// Clones share the connection pool.
#[derive(Clone)]
pub struct Joined {
    pub label: String,
    pub outbound: SocketAddr,
    /// Pooled connections to the outbound listener, as an app keeps them.
    client: HttpClient,
}

/// The demo apps answer a line of text; a proxy stuck for longer is a failed request.
const REQUEST_LIMITS: Limits = Limits {
    timeout: Duration::from_secs(10),
    body: 1024 * 1024,
};

impl Joined {
    /// Sends one request through this workload's proxy, as its app would: to the
    /// outbound listener, routed by the Host header the URL names.
    pub async fn request(&self, method: &str, url: &str) -> anyhow::Result<(u16, String)> {
        let uri: hyper::Uri = url.parse()?;
        let host = uri.authority().map(|a| a.to_string()).unwrap_or_default();
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let request = hyper::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.outbound))
            .header(hyper::header::HOST, host)
            .body(Full::new(Bytes::new()))?;
        let answer = self.client.send(request, REQUEST_LIMITS).await?;
        Ok((
            answer.status.as_u16(),
            String::from_utf8_lossy(&answer.body).into_owned(),
        ))
    }
}

pub struct LocalMesh {
    meshcd: PathBuf,
    pub admin: SocketAddr,
    control_plane: SocketAddr,
    state_dir: PathBuf,
    /// The reconciler's admin token, written before it said it was listening.
    credentials: super::admin_token::Credentials,
    children: Vec<Child>,
    proxies: usize,
    /// Each proxy's admin listener (`/metrics`), in the order the workloads joined.
    proxy_admins: Vec<SocketAddr>,
}

fn sibling_binary(meshcd: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let exe = meshcd;
    let path = exe.with_file_name(name);
    if !path.exists() {
        bail!(
            "{} not found next to {}: build it with `cargo build --bins`",
            name,
            exe.display()
        );
    }
    Ok(path)
}

/// Spawns a process and waits for the JSON `listening` line it prints on stdout.
async fn spawn_listening(
    command: &mut Command,
    what: &str,
) -> anyhow::Result<(Child, serde_json::Value)> {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let stdout = child.stdout.take().context("stdout is piped")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(START_TIMEOUT, async {
        while let Some(line) = lines.next_line().await? {
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line)
                && value["event"] == "listening"
            {
                return Ok::<_, std::io::Error>(Some(value));
            }
        }
        Ok(None)
    })
    .await
    .with_context(|| format!("{what} did not start within {START_TIMEOUT:?}"))??;
    let value = line.with_context(|| format!("{what} exited before listening"))?;
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, value))
}

fn address(value: &serde_json::Value, field: &str) -> anyhow::Result<SocketAddr> {
    value[field]
        .as_str()
        .with_context(|| format!("no {field} in {value}"))?
        .parse()
        .with_context(|| format!("{field} is not an address"))
}

impl LocalMesh {
    /// Starts `meshcd run` on `repo` (the running binary is meshcd, as in `meshcd demo`).
    pub async fn start(repo: &Path, state_dir: &Path) -> anyhow::Result<LocalMesh> {
        Self::start_with(&std::env::current_exe()?, repo, state_dir, "5s").await
    }

    /// Starts the given meshcd binary (tests pass theirs); `meshcd-proxy` must be next to it.
    pub async fn start_with(
        meshcd: &Path,
        repo: &Path,
        state_dir: &Path,
        poll_interval: &str,
    ) -> anyhow::Result<LocalMesh> {
        Self::start_with_args(meshcd, repo, state_dir, poll_interval, &[]).await
    }

    /// Like [`LocalMesh::start_with`], with more `meshcd run` flags (e.g. `--canary-webhook`).
    pub async fn start_with_args(
        meshcd: &Path,
        repo: &Path,
        state_dir: &Path,
        poll_interval: &str,
        extra: &[&str],
    ) -> anyhow::Result<LocalMesh> {
        let (child, listening) = spawn_listening(
            Command::new(meshcd)
                .arg("run")
                .arg("--repo")
                .arg(repo)
                .arg("--state-dir")
                .arg(state_dir)
                .args([
                    "--control-plane-addr",
                    "127.0.0.1:0",
                    "--admin-addr",
                    "127.0.0.1:0",
                    "--poll-interval",
                    poll_interval,
                ])
                .args(extra),
            "the reconciler",
        )
        .await?;
        Ok(LocalMesh {
            meshcd: meshcd.to_path_buf(),
            admin: address(&listening, "admin")?,
            control_plane: address(&listening, "controlPlane")?,
            state_dir: state_dir.to_path_buf(),
            credentials: super::admin_token::Credentials::from_file(
                crate::admin::token_file::path(state_dir),
            )?,
            children: vec![child],
            proxies: 0,
            proxy_admins: Vec::new(),
        })
    }

    /// The control plane's gRPC (TLS) address, trusted with `ca-bundle.pem` in the state
    /// directory.
    pub fn control_plane(&self) -> SocketAddr {
        self.control_plane
    }

    pub fn proxy_count(&self) -> usize {
        self.proxies
    }

    /// The proxies' admin listeners, where Prometheus scrapes `/metrics`.
    pub fn proxy_admin_addresses(&self) -> &[SocketAddr] {
        &self.proxy_admins
    }

    pub async fn add(&mut self, workload: Workload) -> anyhow::Result<Joined> {
        let (app, listening) = spawn_listening(
            Command::new(&self.meshcd).args([
                "demo-app",
                "--name",
                &workload.label,
                "--listen",
                "127.0.0.1:0",
                "--status",
                &workload.status.to_string(),
            ]),
            &format!("app {}", workload.label),
        )
        .await?;
        self.children.push(app);
        let app_address = address(&listening, "address")?;

        let (_, token) = TokenStore::new(&self.state_dir).create(
            &Identity {
                namespace: workload.namespace.clone(),
                service_account: workload.service_account.clone(),
            },
            &workload.services,
            DEFAULT_TTL,
        )?;
        let mut command = Command::new(sibling_binary(&self.meshcd, "meshcd-proxy")?);
        command
            .arg("--join")
            .arg(self.control_plane.to_string())
            .arg("--ca-bundle")
            .arg(self.state_dir.join("ca-bundle.pem"))
            .args([
                "--namespace",
                &workload.namespace,
                "--service-account",
                &workload.service_account,
            ])
            .args([
                "--outbound",
                "127.0.0.1:0",
                "--inbound",
                "127.0.0.1:0",
                "--admin",
                "127.0.0.1:0",
            ])
            .args(["--port", &format!("80={app_address}/http")])
            .env("MESHCD_PROXY_TOKEN", token);
        for service in &workload.services {
            command.args(["--service", service]);
        }
        let (proxy, listening) =
            spawn_listening(&mut command, &format!("the proxy of {}", workload.label)).await?;
        self.children.push(proxy);
        self.proxies += 1;
        self.proxy_admins.push(address(&listening, "admin")?);
        Ok(Joined {
            label: format!("{}/{}", workload.namespace, workload.label),
            outbound: address(&listening, "outbound")?,
            client: HttpClient::plain(),
        })
    }

    /// Waits until the reconciler applied `revision` (if given) and every proxy ACKed
    /// the snapshot it was last sent.
    pub async fn wait_in_sync(&self, revision: Option<&str>) -> anyhow::Result<()> {
        let deadline = Instant::now() + SYNC_TIMEOUT;
        loop {
            let status = self.status().await?;
            let applied = status.source.applied.as_ref().map(|r| r.id.as_str());
            let proxies = &status.proxies;
            let revision_ok = revision.is_none_or(|r| applied == Some(r));
            let proxies_ok = proxies.len() == self.proxies
                && proxies.iter().all(|p| {
                    p.in_sync && revision.is_none_or(|r| p.acked_revision.as_deref() == Some(r))
                });
            if revision_ok && proxies_ok {
                return Ok(());
            }
            if let Some(rejected) = &status.source.rejected
                && revision
                    .is_some_and(|r| rejected.revision.as_ref().map(|id| id.id.as_str()) == Some(r))
            {
                bail!(
                    "the reconciler rejected revision {}: {}",
                    revision.unwrap_or_default(),
                    serde_json::to_string(&rejected.errors).unwrap_or_default()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "the mesh did not converge within {SYNC_TIMEOUT:?}: {}",
                    serde_json::to_string(&status).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// One request to the reconciler's admin API with the admin token of its state
    /// directory, as `meshcd status` sends it.
    pub async fn admin_call(&self, method: &str, path: &str) -> anyhow::Result<(u16, String)> {
        super::http::call(
            method,
            &format!("http://{}{path}", self.admin),
            &self.credentials,
        )
        .await
    }

    /// `GET /status`, read into the document the reconciler serves.
    pub async fn status(&self) -> anyhow::Result<crate::admin::StatusDocument> {
        let (code, body) = self.admin_call("GET", "/status").await?;
        anyhow::ensure!(code == 200, "GET /status answered {code}: {body}");
        Ok(serde_json::from_str(&body)?)
    }

    /// The file holding the reconciler's admin token, for the CLI's `--admin-token-file`.
    pub fn admin_token_file(&self) -> std::path::PathBuf {
        crate::admin::token_file::path(&self.state_dir)
    }

    pub async fn stop(mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }
}
