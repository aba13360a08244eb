//! A real Kubernetes cluster for the opt-in scenarios on real pods: `kubectl` against
//! `MESHCD_TEST_KUBECONFIG`, and a `git daemon` on the node's address that pods reach.
//!
//! Nothing here fakes a part: the scenarios install meshcd with `meshcd install`, run the
//! images `scripts/images.sh --testapp` loaded into the node, and call from inside pods.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

/// Where the real-cluster scenarios find their cluster; unset: they are skipped.
pub const KUBECONFIG: &str = "MESHCD_TEST_KUBECONFIG";
/// The kubectl to run (default: `kubectl` beside the kubeconfig's `bin/`, else on PATH).
pub const KUBECTL: &str = "MESHCD_TEST_KUBECTL";
/// The tag of the images `scripts/images.sh` loaded (default: the crate version).
pub const IMAGE_TAG: &str = "MESHCD_TEST_IMAGE_TAG";

pub struct Kube {
    kubectl: PathBuf,
    kubeconfig: PathBuf,
}

/// What a command printed, and whether it succeeded.
#[derive(Debug)]
pub struct Output {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Kube {
    /// The cluster `MESHCD_TEST_KUBECONFIG` names, or why the scenario is skipped.
    pub fn from_environment() -> Result<Kube, String> {
        let kubeconfig = std::env::var_os(KUBECONFIG)
            .map(PathBuf::from)
            .ok_or_else(|| {
                format!("{KUBECONFIG} is not set (no Kubernetes cluster with a node)")
            })?;
        let kubectl = match std::env::var_os(KUBECTL) {
            Some(path) => PathBuf::from(path),
            None => {
                let beside = kubeconfig
                    .parent()
                    .map(|dir| dir.join("bin/kubectl"))
                    .filter(|path| path.is_file());
                beside.unwrap_or_else(|| PathBuf::from("kubectl"))
            }
        };
        Ok(Kube {
            kubectl,
            kubeconfig,
        })
    }

    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// Runs kubectl with `args` (and `stdin`), whatever its exit status.
    pub async fn run(&self, args: &[&str], stdin: Option<&str>) -> anyhow::Result<Output> {
        let mut command = tokio::process::Command::new(&self.kubectl);
        command
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .with_context(|| format!("run {} {args:?}", self.kubectl.display()))?;
        if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
            use tokio::io::AsyncWriteExt as _;
            input.write_all(text.as_bytes()).await?;
        }
        let output = child.wait_with_output().await?;
        Ok(Output {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    /// Runs kubectl and returns its stdout; a failure is an error with its stderr.
    pub async fn ok(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = self.run(args, None).await?;
        if !output.success {
            bail!("kubectl {}: {}", args.join(" "), output.stderr.trim());
        }
        Ok(output.stdout)
    }

    /// `kubectl apply --server-side` of a YAML stream.
    pub async fn apply(&self, yaml: &str) -> anyhow::Result<()> {
        let output = self
            .run(
                &["apply", "--server-side", "--force-conflicts", "-f", "-"],
                Some(yaml),
            )
            .await?;
        if !output.success {
            bail!("kubectl apply: {}", output.stderr.trim());
        }
        Ok(())
    }

    /// Runs `script` with `sh -c` in `container` of the first pod of `deployment`.
    pub async fn exec(
        &self,
        namespace: &str,
        target: &str,
        container: &str,
        script: &str,
    ) -> anyhow::Result<Output> {
        self.run(
            &[
                "-n", namespace, "exec", target, "-c", container, "--", "sh", "-c", script,
            ],
            None,
        )
        .await
    }

    /// Deletes namespaces and waits until they are gone.
    pub async fn delete_namespaces(&self, names: &[&str]) -> anyhow::Result<()> {
        let mut args = vec![
            "delete",
            "namespace",
            "--ignore-not-found",
            "--wait=true",
            "--timeout=180s",
        ];
        args.extend_from_slice(names);
        self.ok(&args).await.map(drop)
    }

    /// The node's InternalIP: the address pods reach the host on.
    pub async fn node_address(&self) -> anyhow::Result<String> {
        let address = self
            .ok(&[
                "get",
                "nodes",
                "-o",
                r#"jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}"#,
            ])
            .await?;
        let address = address.trim().to_owned();
        anyhow::ensure!(!address.is_empty(), "the node has no InternalIP");
        Ok(address)
    }
}

/// The images' tag.
pub fn image_tag() -> String {
    std::env::var(IMAGE_TAG).unwrap_or_else(|_| env!("CARGO_PKG_VERSION").to_owned())
}

/// A `git daemon` serving the bare repositories of a folder over git:// (fetch and
/// push), listening on one address; stopped on drop.
pub struct GitDaemon {
    child: Child,
    pub port: u16,
    pub address: String,
}

impl GitDaemon {
    pub fn start(base: &Path, address: &str) -> anyhow::Result<GitDaemon> {
        let port = std::net::TcpListener::bind((address, 0))
            .and_then(|listener| listener.local_addr())
            .with_context(|| format!("a free port on {address}"))?
            .port();
        let child = Command::new("git")
            .arg("daemon")
            .arg("--reuseaddr")
            .arg("--export-all")
            .arg("--enable=receive-pack")
            .arg(format!("--base-path={}", base.display()))
            .arg(format!("--listen={address}"))
            .arg(format!("--port={port}"))
            .arg(base)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start git daemon")?;
        Ok(GitDaemon {
            child,
            port,
            address: address.to_owned(),
        })
    }

    pub fn url(&self, repository: &str) -> String {
        format!("git://{}:{}/{repository}", self.address, self.port)
    }

    /// Waits until the daemon answers for `repository`.
    pub async fn wait_ready(&self, repository: &str) -> anyhow::Result<()> {
        let url = self.url(repository);
        crate::eventually(Duration::from_secs(10), || async {
            let status = tokio::process::Command::new("git")
                .args(["ls-remote", &url])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .await?;
            anyhow::ensure!(status.success(), "git ls-remote {url} failed");
            Ok(())
        })
        .await
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs git with `args` in `dir`; its stdout.
pub async fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = tokio::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "operator")
        .env("GIT_AUTHOR_EMAIL", "operator@example.com")
        .env("GIT_COMMITTER_NAME", "operator")
        .env("GIT_COMMITTER_EMAIL", "operator@example.com")
        .output()
        .await
        .with_context(|| format!("git {args:?}"))?;
    if !output.status.success() {
        bail!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
