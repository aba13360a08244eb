//! `meshcd-proxy wait-ready`: returns once the proxy's admin port answers `/ready` with
//! 200. Where Kubernetes has no native sidecars, the injected proxy is an ordinary
//! container listed first with this as its postStart hook: the kubelet starts the app's
//! containers only after the hook returns, so the app never runs before its proxy.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use http::{Request, StatusCode};
use http_body_util::Empty;
use tokio::net::TcpStream;

/// Wait until the proxy is ready (its snapshot is in force).
#[derive(Debug, Parser)]
#[command(name = "meshcd-proxy wait-ready")]
pub struct WaitReady {
    /// The proxy's admin address.
    #[arg(long, default_value = "127.0.0.1:15000")]
    pub admin: SocketAddr,
    /// Give up (exit 1) after this long.
    #[arg(long, default_value = "120s", value_parser = crate::config::parse_duration)]
    pub timeout: Duration,
}

/// Time between two tries: the proxy is usually ready within a few of them.
const RETRY: Duration = Duration::from_millis(100);

impl WaitReady {
    pub async fn run(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + self.timeout;
        let mut last = String::from("no answer yet");
        while Instant::now() < deadline {
            match ready(self.admin).await {
                Ok(StatusCode::OK) => return Ok(()),
                Ok(status) => last = format!("/ready answered {status}"),
                Err(error) => last = meshcd_support::error_chain(&*error),
            }
            tokio::time::sleep(RETRY).await;
        }
        anyhow::bail!(
            "the proxy at {} was not ready within {:?}: {last}",
            self.admin,
            self.timeout
        )
    }
}

async fn ready(admin: SocketAddr) -> anyhow::Result<StatusCode> {
    let stream = tokio::time::timeout(Duration::from_secs(1), TcpStream::connect(admin)).await??;
    let request = Request::get("/ready")
        .header(http::header::HOST, admin.to_string())
        .body(Empty::<Bytes>::new())?;
    tokio::time::timeout(
        Duration::from_secs(1),
        crate::app_probe::status_of(stream, request),
    )
    .await?
}
