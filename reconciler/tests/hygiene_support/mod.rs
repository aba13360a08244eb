//! What the hygiene attacks need: `meshcd run` with its stderr kept (optionally under a
//! file-descriptor limit), its CPU time and memory read from /proc, keep-alive HTTP
//! connections held by the test, and misbehaving servers on loopback.

// Each test crate compiles this module and uses only part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};

const START_TIMEOUT: Duration = Duration::from_secs(20);

/// `meshcd run` on `repo`, listening on loopback ports it picks; killed on drop.
pub struct Meshcd {
    child: tokio::process::Child,
    pub admin: SocketAddr,
    pub control_plane: SocketAddr,
    stderr: PathBuf,
}

impl Meshcd {
    /// Starts it with `extra` flags; `open_files` caps its file descriptors (RLIMIT_NOFILE,
    /// through util-linux's `prlimit`, which execs meshcd in place).
    pub async fn start(dir: &Path, repo: &Path, extra: &[&str], open_files: Option<u32>) -> Meshcd {
        let stderr = dir.join("meshcd.stderr");
        let mut command = match open_files {
            Some(limit) => {
                let mut command = tokio::process::Command::new("prlimit");
                command
                    .arg(format!("--nofile={limit}:{limit}"))
                    .arg(env!("CARGO_BIN_EXE_meshcd"));
                command
            }
            None => tokio::process::Command::new(env!("CARGO_BIN_EXE_meshcd")),
        };
        command
            .arg("run")
            .arg("--repo")
            .arg(repo)
            .arg("--state-dir")
            .arg(dir.join("state"))
            .args([
                "--control-plane-addr",
                "127.0.0.1:0",
                "--admin-addr",
                "127.0.0.1:0",
            ])
            .args(["--poll-interval", "1m"])
            .args(extra)
            .env_remove("MESHCD_MAX_CONNECTIONS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("meshcd starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let listening = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line)
                    && value["event"] == "listening"
                {
                    return Some(value);
                }
            }
            None
        })
        .await
        .expect("meshcd listens in time")
        .unwrap_or_else(|| {
            panic!(
                "meshcd exited before listening: {}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            )
        });
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Meshcd {
            child,
            admin: listening["admin"].as_str().unwrap().parse().unwrap(),
            control_plane: listening["controlPlane"].as_str().unwrap().parse().unwrap(),
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("meshcd runs")
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// User plus system CPU time so far, in clock ticks (1/100 s on Linux).
    pub fn cpu_ticks(&self) -> u64 {
        cpu_ticks(self.pid())
    }
}

/// User plus system CPU time of `pid`, in clock ticks.
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the parenthesised command name; utime and stime are 14th and 15th.
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Resident memory of `pid` in KiB.
pub fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// The process whose command line holds `argument` (a test's own temp path).
pub fn pid_with_argument(argument: &Path) -> Option<u32> {
    let argument = argument.as_os_str().as_encoded_bytes();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let command_line = std::fs::read(entry.path().join("cmdline")).ok()?;
            command_line
                .split(|byte| *byte == 0)
                .any(|part| part == argument)
                .then_some(pid)
        })
}

/// One HTTP/1.1 connection kept open by the test, as a long-lived client holds it.
pub struct KeepAlive {
    sender: hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    address: SocketAddr,
}

impl KeepAlive {
    pub async fn connect(address: SocketAddr) -> Result<KeepAlive, String> {
        let stream = TcpStream::connect(address)
            .await
            .map_err(|e| e.to_string())?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        Ok(KeepAlive { sender, address })
    }

    /// `GET path` on this connection: the status and body.
    pub async fn get(&mut self, path: &str) -> Result<(u16, String), String> {
        let request = hyper::Request::get(path)
            .header(hyper::header::HOST, self.address.to_string())
            .body(Empty::new())
            .unwrap();
        let exchange = async {
            self.sender.ready().await.map_err(|e| e.to_string())?;
            let response = self
                .sender
                .send_request(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?;
            Ok((
                status,
                String::from_utf8_lossy(&body.to_bytes()).into_owned(),
            ))
        };
        tokio::time::timeout(Duration::from_secs(5), exchange)
            .await
            .map_err(|_| "no answer within 5s".to_string())?
    }
}

/// `GET path` on a new connection.
pub async fn get_new(address: SocketAddr, path: &str) -> Result<(u16, String), String> {
    KeepAlive::connect(address).await?.get(path).await
}

/// The value of a counter sample in a Prometheus text exposition.
pub fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

/// How a fake Prometheus misbehaves.
#[derive(Clone, Copy)]
pub enum Misbehaviour {
    /// 200, then a chunked body that never ends.
    EndlessBody,
    /// Reads the request and never answers.
    Silence,
}

/// A server on loopback that answers every request as `misbehaviour` says.
pub async fn misbehaving_server(misbehaviour: Misbehaviour) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => head.extend_from_slice(&buffer[..read]),
                    }
                }
                match misbehaviour {
                    Misbehaviour::EndlessBody => {
                        let _ = stream
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
                            .await;
                        let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
                        chunk.extend(std::iter::repeat_n(b' ', 64 * 1024));
                        chunk.extend_from_slice(b"\r\n");
                        while stream.write_all(&chunk).await.is_ok() {}
                    }
                    Misbehaviour::Silence => {
                        let _ = stream.read(&mut buffer).await;
                    }
                }
            });
        }
    });
    address
}
