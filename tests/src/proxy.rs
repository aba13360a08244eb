//! Starting `meshcd-proxy` with a snapshot file and certificates from files, reading the
//! addresses it prints, and driving it: new snapshots, `/config`, `/metrics`.
//!
//! The contract this module relies on: `meshcd-proxy --snapshot FILE --cert FILE --key
//! FILE --ca-bundle FILE [--outbound ADDR] [--inbound ADDR] [--admin ADDR] [--access-log]
//! [--connect-timeout DUR] [--request-timeout DUR] [--max-connections N]` prints one
//! JSON line
//! `{"event":"listening","outbound":..,"inbound":..,"admin":..,"tcp":{"svc.ns:port":..}}`
//! once bound, and reloads the snapshot file when it changes.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use meshcd_schemas::proto::Snapshot;
use serde_json::Value;

use crate::binaries;
use crate::eventually::{DEADLINE, eventually};
use crate::http::Client;
use crate::netns::NetworkNamespace;
use crate::pki::Identity;
use crate::process::Process;

/// How long a proxy may take to print its listening line.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// Options of one proxy, then [`ProxyBuilder::start`].
pub struct ProxyBuilder<'a> {
    name: String,
    identity: Identity,
    directory: PathBuf,
    snapshot: Snapshot,
    namespace: Option<&'a NetworkNamespace>,
    arguments: Vec<String>,
}

impl<'a> ProxyBuilder<'a> {
    /// A proxy named `name` (for logs) with `identity`'s certificate, starting on
    /// `snapshot`, keeping its files in `directory`.
    pub fn new(name: &str, identity: &Identity, snapshot: Snapshot, directory: &Path) -> Self {
        Self {
            name: name.to_owned(),
            identity: identity.clone(),
            directory: directory.to_owned(),
            snapshot,
            namespace: None,
            arguments: Vec::new(),
        }
    }

    /// `--outbound ADDR` (default: a free loopback port).
    pub fn outbound(mut self, address: &str) -> Self {
        self.arguments
            .extend(["--outbound".to_owned(), address.to_owned()]);
        self
    }

    /// `--admin ADDR` (default: a free loopback port).
    pub fn admin(mut self, address: &str) -> Self {
        self.arguments
            .extend(["--admin".to_owned(), address.to_owned()]);
        self
    }

    /// `--connect-timeout DUR`, e.g. "200ms".
    pub fn connect_timeout(mut self, duration: &str) -> Self {
        self.arguments
            .extend(["--connect-timeout".to_owned(), duration.to_owned()]);
        self
    }

    /// `--request-timeout DUR`, e.g. "500ms".
    pub fn request_timeout(mut self, duration: &str) -> Self {
        self.arguments
            .extend(["--request-timeout".to_owned(), duration.to_owned()]);
        self
    }

    /// `--max-connections N`: connections each listener holds open at most.
    pub fn max_connections(mut self, connections: u32) -> Self {
        self.arguments
            .extend(["--max-connections".to_owned(), connections.to_string()]);
        self
    }

    /// `--access-log`.
    pub fn access_log(mut self) -> Self {
        self.arguments.push("--access-log".to_owned());
        self
    }

    /// Runs the proxy inside `namespace` (`ip netns exec`).
    pub fn in_namespace(mut self, namespace: &'a NetworkNamespace) -> Self {
        self.namespace = Some(namespace);
        self
    }

    /// Writes the snapshot, starts the proxy and waits for its listening line.
    pub async fn start(self) -> anyhow::Result<Proxy> {
        std::fs::create_dir_all(&self.directory)
            .with_context(|| format!("create {}", self.directory.display()))?;
        let snapshot_path = self.directory.join("snapshot.json");
        write_snapshot(&snapshot_path, &self.snapshot)?;

        let program = binaries::proxy()?;
        let mut command = match self.namespace {
            Some(namespace) => namespace.command(&program),
            None => std::process::Command::new(&program),
        };
        command
            .arg("--snapshot")
            .arg(&snapshot_path)
            .arg("--cert")
            .arg(&self.identity.certificate)
            .arg("--key")
            .arg(&self.identity.key)
            .arg("--ca-bundle")
            .arg(&self.identity.ca_bundle);
        let has = |flag: &str| self.arguments.iter().any(|argument| argument == flag);
        for (flag, default) in [
            ("--outbound", "127.0.0.1:0"),
            ("--inbound", "127.0.0.1:0"),
            ("--admin", "127.0.0.1:0"),
        ] {
            if !has(flag) {
                command.args([flag, default]);
            }
        }
        command.args(&self.arguments);

        let (process, listening) = Process::spawn(
            &format!("proxy-{}", self.name),
            command,
            &self.directory,
            START_DEADLINE,
        )
        .await?;
        let address = |key: &str| -> anyhow::Result<SocketAddr> {
            listening[key]
                .as_str()
                .with_context(|| format!("listening line without {key}: {listening}"))?
                .parse()
                .with_context(|| format!("{key} address in {listening}"))
        };
        let mut tcp = BTreeMap::new();
        if let Some(ports) = listening["tcp"].as_object() {
            for (service, local) in ports {
                let local = local
                    .as_str()
                    .context("tcp port address")?
                    .parse()
                    .context("tcp port address")?;
                tcp.insert(service.clone(), local);
            }
        }
        Ok(Proxy {
            outbound: address("outbound")?,
            inbound: address("inbound")?,
            admin: address("admin")?,
            tcp,
            identity: self.identity,
            snapshot_path,
            process,
        })
    }
}

/// A running proxy.
pub struct Proxy {
    /// Where its app sends outbound calls.
    pub outbound: SocketAddr,
    /// Where peers connect with mTLS; the address other snapshots list as its endpoint.
    pub inbound: SocketAddr,
    pub admin: SocketAddr,
    /// `"<service>.<namespace>:<port>"` → local outbound port of each TCP service.
    pub tcp: BTreeMap<String, SocketAddr>,
    pub identity: Identity,
    snapshot_path: PathBuf,
    process: Process,
}

impl Proxy {
    /// The proxy's app as a client: requests go to the outbound listener.
    pub fn client(&self) -> Client {
        Client::new(self.outbound)
    }

    /// The local outbound port of TCP service `key` (`"echo.shop:7000"`).
    pub fn tcp_port(&self, key: &str) -> anyhow::Result<SocketAddr> {
        self.tcp
            .get(key)
            .copied()
            .with_context(|| format!("no local port for {key}; the proxy listed {:?}", self.tcp))
    }

    /// Replaces the snapshot file (atomically, by rename, as config-map updates do) and
    /// waits until `/config` serves its version.
    pub async fn apply(&self, snapshot: &Snapshot) -> anyhow::Result<()> {
        write_snapshot(&self.snapshot_path, snapshot)?;
        self.await_version(&snapshot.version).await
    }

    /// Replaces the snapshot file with `text` as it is (to feed the proxy a broken one).
    pub fn write_snapshot_text(&self, text: &str) -> anyhow::Result<()> {
        replace_file(&self.snapshot_path, text)
    }

    /// Waits until `/config` reports `version`.
    pub async fn await_version(&self, version: &str) -> anyhow::Result<()> {
        let serving = eventually(DEADLINE, || async {
            let current = self.config_version().await?;
            anyhow::ensure!(
                current == version,
                "serving version {current:?}, want {version:?}"
            );
            Ok(())
        })
        .await;
        serving.with_context(|| {
            format!(
                "proxy {} stderr:\n{}",
                self.process.name(),
                self.process.stderr_tail()
            )
        })
    }

    /// The `version` field of `/config`.
    pub async fn config_version(&self) -> anyhow::Result<String> {
        let config = self.config().await?;
        config["version"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("/config without version: {config}"))
    }

    /// `/config` as JSON.
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
    pub async fn admin_get(&self, path: &str) -> anyhow::Result<crate::http::Response> {
        let mut request = crate::http::get(path);
        request
            .headers_mut()
            .insert(http::header::HOST, "localhost".parse()?);
        let response = Client::new(self.admin).send(request).await?;
        if !response.status.is_success() {
            bail!("admin {path}: {} {}", response.status, response.text());
        }
        Ok(response)
    }

    /// The proxy's process (stderr, stdout lines).
    pub fn process(&mut self) -> &mut Process {
        &mut self.process
    }

    /// The last lines of its stderr, for assertion messages.
    pub fn stderr_tail(&self) -> String {
        self.process.stderr_tail()
    }

    /// Kills the proxy at once (SIGKILL), as a crashed workload disappears.
    pub fn kill(&mut self) {
        self.process.kill();
    }
}

/// Writes `snapshot` in protobuf JSON mapping to a temporary file beside `path`, then
/// renames it over `path`, so a reader never sees half a snapshot.
pub fn write_snapshot(path: &Path, snapshot: &Snapshot) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(snapshot).context("snapshot to JSON")?;
    replace_file(path, &text)
}

fn replace_file(path: &Path, text: &str) -> anyhow::Result<()> {
    let temporary = path.with_extension("json.tmp");
    std::fs::write(&temporary, text).with_context(|| format!("write {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("rename onto {}", path.display()))
}
