//! The built `meshcd run`, as an operator starts it: its output captured line by line,
//! its admin API read the way `meshcd status` and a Git host's webhook use it.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::process::{Child, Command};

use super::{DEADLINE, eventually};

pub struct Reconciler {
    pub admin: SocketAddr,
    pub state_dir: PathBuf,
    /// Everything the process printed, stdout and stderr.
    output: Arc<Mutex<String>>,
    _child: Child,
}

/// Builds the command line of one reconciler.
pub struct Builder {
    args: Vec<OsString>,
    envs: Vec<(String, String)>,
    state_dir: PathBuf,
}

impl Reconciler {
    /// `meshcd run --repo <repo>` with its state under `state_dir`, on free ports.
    pub fn builder(repo: &str, state_dir: &Path) -> Builder {
        Builder {
            args: vec![
                "run".into(),
                "--repo".into(),
                repo.into(),
                "--state-dir".into(),
                state_dir.into(),
                "--control-plane-addr".into(),
                "127.0.0.1:0".into(),
                "--admin-addr".into(),
                "127.0.0.1:0".into(),
            ],
            envs: Vec::new(),
            state_dir: state_dir.to_path_buf(),
        }
    }

    pub fn output(&self) -> String {
        self.output.lock().expect("lock").clone()
    }

    /// Sends one request to the admin listener.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> anyhow::Result<(u16, String)> {
        let stream = tokio::net::TcpStream::connect(self.admin).await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, self.admin.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::copy_from_slice(body)))?;
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// The bearer header of the admin token `meshcd run` wrote to its state directory.
    pub fn authorization(&self) -> anyhow::Result<String> {
        let file = self.state_dir.join("admin-token");
        let token = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        Ok(format!("Bearer {}", token.trim()))
    }

    /// `GET /status`, as the operator (with the admin token).
    pub async fn status(&self) -> anyhow::Result<Value> {
        let authorization = self.authorization()?;
        let headers = [("authorization", authorization.as_str())];
        let (code, body) = self.request("GET", "/status", &headers, b"").await?;
        anyhow::ensure!(code == 200, "status answered {code}: {body}");
        Ok(serde_json::from_str(&body)?)
    }

    pub async fn metrics(&self) -> anyhow::Result<String> {
        let (code, body) = self.request("GET", "/metrics", &[], b"").await?;
        anyhow::ensure!(code == 200, "metrics answered {code}: {body}");
        Ok(body)
    }

    /// The `source` part of the status once `check` accepts it.
    pub async fn wait_for(
        &self,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        let check = &check;
        eventually(DEADLINE, || async move {
            let status = self.status().await?;
            let source = status["source"].clone();
            anyhow::ensure!(
                check(&source),
                "waiting for {what}; source status: {source:#}"
            );
            Ok(source)
        })
        .await
        .with_context(|| format!("output:\n{}", self.output()))
    }

    /// Waits until `revision` is the applied one.
    pub async fn wait_applied(&self, revision: &str) -> anyhow::Result<Value> {
        self.wait_for(&format!("{revision} applied"), |source| {
            source["applied"]["id"] == revision
        })
        .await
    }

    /// `meshcd status` against this reconciler, as a person reads it.
    pub async fn status_text(&self) -> anyhow::Result<String> {
        let output = Command::new(env!("CARGO_BIN_EXE_meshcd"))
            .args(["status", "--server", &format!("http://{}", self.admin)])
            .arg("--state-dir")
            .arg(&self.state_dir)
            .env_remove("MESHCD_SERVER")
            .output()
            .await?;
        anyhow::ensure!(output.status.success(), "meshcd status failed: {output:?}");
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Fails when any of `secrets` shows in the output, the status, the metrics or
    /// `meshcd status`.
    pub async fn assert_never_shows(&self, secrets: &[&str]) -> anyhow::Result<()> {
        let seen = [
            ("output", self.output()),
            ("status", self.status().await?.to_string()),
            ("metrics", self.metrics().await?),
            ("meshcd status", self.status_text().await?),
        ];
        for secret in secrets {
            for (place, text) in &seen {
                anyhow::ensure!(
                    !text.contains(secret),
                    "a secret shows in the {place}:\n{text}"
                );
            }
        }
        Ok(())
    }
}

impl Builder {
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I: Into<OsString>>(mut self, args: impl IntoIterator<Item = I>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Polls every `interval` (the default, 15 s, is too slow for a test).
    pub fn poll_interval(self, interval: &str) -> Self {
        self.args(["--poll-interval", interval])
    }

    /// An environment variable for the reconciler only (never the test's own).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.envs.push((name.into(), value.into()));
        self
    }

    pub async fn start(self) -> anyhow::Result<Reconciler> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_meshcd"));
        command
            .args(&self.args)
            .env("MESHCD_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (name, value) in &self.envs {
            command.env(name, value);
        }
        let mut child = command.spawn().context("starting meshcd")?;
        let output = Arc::new(Mutex::new(String::new()));
        let (listening, mut listening_line) = tokio::sync::mpsc::channel(1);
        collect(
            child.stdout.take().context("stdout")?,
            output.clone(),
            Some(listening),
        );
        collect(child.stderr.take().context("stderr")?, output.clone(), None);
        let line = tokio::time::timeout(Duration::from_secs(30), listening_line.recv())
            .await
            .ok()
            .flatten()
            .with_context(|| {
                format!(
                    "meshcd did not start listening; output:\n{}",
                    output.lock().expect("lock")
                )
            })?;
        let admin = line["admin"]
            .as_str()
            .context("listening line names the admin address")?
            .parse()?;
        Ok(Reconciler {
            admin,
            state_dir: self.state_dir,
            output,
            _child: child,
        })
    }
}

/// Appends every line of `stream` to `output`; the first `listening` JSON line goes to
/// `listening`.
fn collect(
    stream: impl AsyncRead + Unpin + Send + 'static,
    output: Arc<Mutex<String>>,
    mut listening: Option<tokio::sync::mpsc::Sender<Value>>,
) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(sender) = &listening
                && let Ok(value) = serde_json::from_str::<Value>(&line)
                && value["event"] == "listening"
            {
                let _ = sender.send(value).await;
                listening = None;
            }
            let mut output = output.lock().expect("lock");
            output.push_str(&line);
            output.push('\n');
        }
    });
}
