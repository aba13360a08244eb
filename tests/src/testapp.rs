//! Starting `meshcd-testapp`, the application scenarios put behind proxies, and reading
//! its replies.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

use crate::binaries;
use crate::netns::NetworkNamespace;
use crate::process::Process;

/// How long an app may take to print its listening line.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// A running test app.
pub struct TestApp {
    /// The name it puts in every reply, so a client can tell backends apart.
    pub name: String,
    pub address: SocketAddr,
    process: Process,
}

/// What the test app answers to every HTTP request (the JSON body).
#[derive(Clone, Debug, Deserialize)]
pub struct AppReply {
    pub name: String,
    pub method: String,
    pub path: String,
    pub query: String,
    /// Header names in lower case; repeated headers joined with ", ".
    pub headers: BTreeMap<String, String>,
    /// Sequence number of the TCP connection that carried the request, from 1: the
    /// highest one seen is the number of connections the app accepted so far.
    pub connection: u64,
    /// "HTTP/1.1" or "HTTP/2.0".
    pub version: String,
    pub body_bytes: usize,
}

/// How the test app serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// HTTP/1.1 and h2c echo server (upgrades echoed as raw bytes).
    Http,
    /// Echoes raw TCP bytes.
    TcpEcho,
    /// Answers every HTTP/1.1 request with its name, head and body in two writes and
    /// `TCP_NODELAY` off, as Python's http.server does.
    Naive,
    /// gRPC over h2c: every call echoed (`grpc_echo`).
    Grpc,
}

impl TestApp {
    /// Starts the app on a free loopback port, or inside `namespace`.
    pub async fn start(
        name: &str,
        mode: Mode,
        log_directory: &Path,
        namespace: Option<&NetworkNamespace>,
    ) -> anyhow::Result<Self> {
        let program = binaries::testapp()?;
        let mut command = match namespace {
            Some(namespace) => namespace.command(&program),
            None => std::process::Command::new(&program),
        };
        command.args(["--listen", "127.0.0.1:0", "--name", name]);
        match mode {
            Mode::Http => {}
            Mode::TcpEcho => {
                command.arg("--tcp-echo");
            }
            Mode::Naive => {
                command.arg("--naive");
            }
            Mode::Grpc => {
                command.arg("--grpc");
            }
        }
        let (process, listening) = Process::spawn(
            &format!("app-{name}"),
            command,
            log_directory,
            START_DEADLINE,
        )
        .await?;
        let address = listening["address"]
            .as_str()
            .context("listening line without address")?
            .parse()
            .context("app address")?;
        Ok(Self {
            name: name.to_owned(),
            address,
            process,
        })
    }

    /// The app's process (stderr, kill).
    pub fn process(&mut self) -> &mut Process {
        &mut self.process
    }

    /// Stops the app.
    pub fn kill(&mut self) {
        self.process.kill();
    }
}
