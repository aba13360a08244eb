//! A mesh run the way a user runs it on one machine: a config repository, `meshcd run`
//! watching it, and workloads (a test app behind a `meshcd-proxy --join`) that proved
//! their identity with a bootstrap token. Scenarios change the mesh by committing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::binaries;
use crate::config_repo::ConfigRepo;
use crate::control_plane::{POLL_INTERVAL, Reconciler, Token};
use crate::eventually::{DEADLINE, eventually};
use crate::http::{self, Client};
use crate::mesh::TestMesh;
use crate::process::Process;
use crate::testapp::TestApp;

/// How long a joining proxy may take to print its listening line.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// The service port every workload of these scenarios serves HTTP on (`http://api.ns/`).
pub const HTTP_PORT: u16 = 80;

/// One scenario's mesh: its temp dir, config repository and reconciler.
pub struct LocalMesh {
    mesh: TestMesh,
    pub repo: ConfigRepo,
    pub reconciler: Reconciler,
    started: AtomicUsize,
}

/// An app and the proxy that joined the mesh for it.
pub struct Workload {
    pub app: TestApp,
    pub proxy: JoinedProxy,
}

impl LocalMesh {
    /// A repository made from examples-repo/ without the files `left_out` names, and the
    /// reconciler started on it with the first revision applied.
    pub async fn start(left_out: &[&str]) -> anyhow::Result<Self> {
        Self::start_polling_every(left_out, POLL_INTERVAL).await
    }

    /// [`LocalMesh::start`] with the reconciler polling the repository every
    /// `poll_interval` ("1h": only the file watch can notice a commit in time).
    pub async fn start_polling_every(
        left_out: &[&str],
        poll_interval: &str,
    ) -> anyhow::Result<Self> {
        let mesh = TestMesh::new()?;
        let repo = ConfigRepo::from_examples(&mesh.path().join("repo"), left_out).await?;
        let logs = mesh.path().join("reconciler");
        std::fs::create_dir_all(&logs).with_context(|| format!("create {}", logs.display()))?;
        let reconciler = Reconciler::start(
            repo.path(),
            &mesh.path().join("state"),
            &logs,
            poll_interval,
        )
        .await?;
        // Until a revision is applied the reconciler cannot know which namespaces are
        // onboarded; scenarios start from a known configuration.
        reconciler.await_applied(&repo.head().await?).await?;
        Ok(Self {
            mesh,
            repo,
            reconciler,
            started: AtomicUsize::new(0),
        })
    }

    /// The scenario's temp dir and its unrelated test CA ([`TestMesh::foreign_pki`]).
    pub fn test_mesh(&self) -> &TestMesh {
        &self.mesh
    }

    /// Starts an HTTP test app that answers with `name`.
    pub async fn app(&self, name: &str) -> anyhow::Result<TestApp> {
        self.mesh.app(name).await
    }

    /// Starts an app named after the first of `services` and joins it to the mesh as
    /// `namespace`/`service_account`, belonging to every one of `services`.
    pub async fn workload(
        &self,
        namespace: &str,
        service_account: &str,
        services: &[&str],
    ) -> anyhow::Result<Workload> {
        let name = services
            .first()
            .context("a workload belongs to a service")?;
        let app = self.app(name).await?;
        let mut join = self
            .join(namespace, service_account)
            .named(name)
            .serves_http(app.address);
        for service in services {
            join = join.service(service);
        }
        let proxy = join.start().await?;
        Ok(Workload { app, proxy })
    }

    /// Options of a proxy joining as `namespace`/`service_account`; finish with
    /// [`Join::start`] or [`Join::refused`].
    pub fn join(&self, namespace: &str, service_account: &str) -> Join<'_> {
        Join {
            mesh: self,
            name: service_account.to_owned(),
            namespace: namespace.to_owned(),
            service_account: service_account.to_owned(),
            services: Vec::new(),
            arguments: Vec::new(),
            token: None,
            ca_bundle: None,
        }
    }

    /// Waits until HEAD of the repository is applied and `proxies` proxies acknowledged it.
    pub async fn await_in_sync(&self, proxies: usize) -> anyhow::Result<Value> {
        let head = self.repo.head().await?;
        self.reconciler.await_in_sync(&head, proxies).await
    }

    fn folder(&self, name: &str) -> anyhow::Result<PathBuf> {
        let number = self.started.fetch_add(1, Ordering::SeqCst);
        let folder = self.mesh.path().join(format!("joined-{number:02}-{name}"));
        std::fs::create_dir_all(&folder).with_context(|| format!("create {}", folder.display()))?;
        Ok(folder)
    }
}

/// Options of one joining proxy.
pub struct Join<'a> {
    mesh: &'a LocalMesh,
    name: String,
    namespace: String,
    service_account: String,
    services: Vec<String>,
    arguments: Vec<String>,
    token: Option<Token>,
    ca_bundle: Option<PathBuf>,
}

impl Join<'_> {
    /// The name of the proxy's log files (default: its service account).
    pub fn named(mut self, name: &str) -> Self {
        name.clone_into(&mut self.name);
        self
    }

    /// `--service NAME`: the workload belongs to `service` too.
    pub fn service(mut self, service: &str) -> Self {
        self.services.push(service.to_owned());
        self
    }

    /// `--port 80=APP/http`: the workload's app serves HTTP at `app`.
    pub fn serves_http(self, app: SocketAddr) -> Self {
        self.serves_http_on(HTTP_PORT, app)
    }

    /// `--port PORT=APP/http`: service port `port` is the app's HTTP at `app`.
    pub fn serves_http_on(mut self, port: u16, app: SocketAddr) -> Self {
        self.arguments
            .extend(["--port".to_owned(), format!("{port}={app}/http")]);
        self
    }

    /// Further command-line arguments of the proxy.
    pub fn arguments(mut self, arguments: &[&str]) -> Self {
        self.arguments
            .extend(arguments.iter().map(|argument| (*argument).to_owned()));
        self
    }

    /// `--advertise ADDR`: peers are told to dial `address` instead of the inbound listener.
    pub fn advertise(mut self, address: SocketAddr) -> Self {
        self.arguments
            .extend(["--advertise".to_owned(), address.to_string()]);
        self
    }

    /// `--proxy-id ID`: the id the proxy registers under (default: derived from its
    /// identity and inbound address).
    pub fn proxy_id(mut self, id: &str) -> Self {
        self.arguments
            .extend(["--proxy-id".to_owned(), id.to_owned()]);
        self
    }

    /// Presents `token` (default: a new token for the proxy's own identity and services).
    pub fn token(mut self, token: &Token) -> Self {
        self.token = Some(token.clone());
        self
    }

    /// Trusts the control plane with `ca_bundle` (default: the mesh's).
    pub fn ca_bundle(mut self, ca_bundle: &Path) -> Self {
        self.ca_bundle = Some(ca_bundle.to_owned());
        self
    }

    /// Starts the proxy and waits for its listening line: it has its certificate and its
    /// first snapshot.
    pub async fn start(self) -> anyhow::Result<JoinedProxy> {
        let (command, token, directory) = self.command().await?;
        let name = format!("proxy-{}", self.name);
        let (process, listening) =
            Process::spawn(&name, command, &directory, START_DEADLINE).await?;
        let address = |key: &str| -> anyhow::Result<SocketAddr> {
            listening[key]
                .as_str()
                .with_context(|| format!("listening line without {key}: {listening}"))?
                .parse()
                .with_context(|| format!("{key} address in {listening}"))
        };
        Ok(JoinedProxy {
            outbound: address("outbound")?,
            inbound: address("inbound")?,
            admin: address("admin")?,
            token,
            process,
        })
    }

    /// Starts the proxy expecting the control plane (or the proxy itself) to refuse the
    /// join, and returns how it exited. Fails if the proxy is still running at the deadline.
    pub async fn refused(self) -> anyhow::Result<Refusal> {
        let (mut command, _, directory) = self.command().await?;
        let stdout_path = directory.join("stdout");
        let stderr_path = directory.join("stderr");
        let file = |path: &Path| {
            std::fs::File::create(path).with_context(|| format!("create {}", path.display()))
        };
        command
            .stdin(Stdio::null())
            .stdout(file(&stdout_path)?)
            .stderr(file(&stderr_path)?);
        let mut child = command.spawn().context("start the proxy")?;
        let exited = eventually(DEADLINE, || {
            let status = child.try_wait().ok().flatten();
            async move { status.context("the proxy is still running") }
        })
        .await;
        let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
        match exited {
            Ok(status) => Ok(Refusal {
                status,
                stdout: read(&stdout_path),
                stderr: read(&stderr_path),
            }),
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "{error:#}: it was let in; stdout:\n{}\nstderr:\n{}",
                    read(&stdout_path),
                    read(&stderr_path)
                )
            }
        }
    }

    /// The `meshcd-proxy --join` command line, the token it presents (given to it in its
    /// environment, as `meshcd token create` suggests, not on the command line), and the
    /// proxy's folder.
    async fn command(&self) -> anyhow::Result<(std::process::Command, Token, PathBuf)> {
        let token = match &self.token {
            Some(token) => token.clone(),
            None => {
                let services: Vec<&str> = self.services.iter().map(String::as_str).collect();
                self.mesh
                    .reconciler
                    .create_token(&self.namespace, &self.service_account, &services)
                    .await?
            }
        };
        let reconciler = &self.mesh.reconciler;
        let ca_bundle = self.ca_bundle.as_ref().unwrap_or(&reconciler.ca_bundle);
        let mut command = std::process::Command::new(binaries::proxy()?);
        command
            .arg("--join")
            .arg(reconciler.control_plane.to_string())
            .arg("--ca-bundle")
            .arg(ca_bundle)
            .args(["--namespace", &self.namespace])
            .args(["--service-account", &self.service_account])
            .args(["--outbound", "127.0.0.1:0"])
            .args(["--inbound", "127.0.0.1:0"])
            .args(["--admin", "127.0.0.1:0"])
            .env("MESHCD_PROXY_TOKEN", &token.secret);
        for service in &self.services {
            command.args(["--service", service]);
        }
        command.args(&self.arguments);
        let directory = self.mesh.folder(&self.name)?;
        Ok((command, token, directory))
    }
}

/// How a refused proxy exited.
#[derive(Debug)]
pub struct Refusal {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Refusal {
    /// Whether the proxy ever said it was listening (it must not have).
    pub fn listened(&self) -> bool {
        self.stdout.contains("\"listening\"")
    }

    /// Asserts the proxy failed without ever serving, and that its error says `reason`.
    pub fn assert_says(&self, reason: &str) {
        assert!(
            !self.status.success(),
            "the proxy exited successfully: {self:?}"
        );
        assert!(!self.listened(), "the proxy started serving: {self:?}");
        assert!(
            self.stderr.contains(reason),
            "stderr does not say {reason:?}:\n{}",
            self.stderr
        );
    }
}

/// A running proxy that joined the mesh.
pub struct JoinedProxy {
    /// Where its app sends outbound calls.
    pub outbound: SocketAddr,
    /// Its mTLS listener.
    pub inbound: SocketAddr,
    pub admin: SocketAddr,
    /// The token it joined with.
    pub token: Token,
    process: Process,
}

impl JoinedProxy {
    /// CPU time the proxy process has used so far.
    pub fn cpu_time(&self) -> anyhow::Result<std::time::Duration> {
        self.process.cpu_time()
    }

    /// The proxy's app as a client: requests go to the outbound listener.
    pub fn client(&self) -> Client {
        Client::new(self.outbound)
    }

    /// `/config` of the admin listener: the snapshot in force.
    pub async fn config(&self) -> anyhow::Result<Value> {
        let response = self.admin_get("/config").await?;
        serde_json::from_slice(&response.body)
            .with_context(|| format!("/config is not JSON: {}", response.text()))
    }

    /// `/metrics` text (Prometheus exposition).
    pub async fn metrics(&self) -> anyhow::Result<String> {
        Ok(self.admin_get("/metrics").await?.text())
    }

    /// GET `path` on the admin listener; a non-2xx status is an error.
    async fn admin_get(&self, path: &str) -> anyhow::Result<http::Response> {
        let mut request = http::get(path);
        request
            .headers_mut()
            .insert(::http::header::HOST, "localhost".parse()?);
        let response = Client::new(self.admin).send(request).await?;
        anyhow::ensure!(
            response.status.is_success(),
            "GET {path}: {} {}",
            response.status,
            response.text()
        );
        Ok(response)
    }

    /// The last lines of its stderr, for assertion messages.
    pub fn stderr_tail(&self) -> String {
        self.process.stderr_tail()
    }
}
