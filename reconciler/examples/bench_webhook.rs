//! Benchmark (not a test): webhook-triggered propagation. From the start of a `git push`
//! to a remote (git daemon on loopback) to every one of 10 real `meshcd-proxy --join`
//! processes having ACKed the pushed revision, as the reconciler's status reports it.
//! Each push is followed by the signed webhook a Git host sends; the poll interval is an
//! hour, so nothing but the webhook makes the reconciler fetch.
//! Run: `scripts/bench-webhook.sh` (release build). Target: p99 under 500 ms.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use meshcd::identity::tokens::TokenStore;
use meshcd::model::Identity;
use meshcd::source::webhook;

const PROXIES: usize = 10;
const PUSHES: usize = 50;
const NAMESPACE: &str = "bench";
const SECRET: &str = "bench-webhook-secret";

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=bench", "-c", "user.email=bench@localhost"])
        .args(args)
        .current_dir(dir)
        .stderr(Stdio::null())
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A split whose weights change every proxy's snapshot.
fn config(weight: u32) -> String {
    format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {NAMESPACE}}}\n---\n\
         apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {{name: web, namespace: {NAMESPACE}}}\n\
         spec:\n  service: web\n  backends:\n  - {{service: web-v1, weight: {}}}\n  - {{service: web-v2, weight: {weight}}}\n",
        100 - weight
    )
}

/// One HTTP/1.1 exchange with the admin listener; returns status and body.
fn http(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("admin reachable");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    stream.write_all(body).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("receive");
    let code = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (code, body)
}

/// Whether every proxy reports `revision` ACKed and nothing pending.
fn all_acked(admin: &str, revision: &str) -> bool {
    let (_, body) = http(admin, "GET", "/status", &[], b"");
    // A chunked body would need decoding; hyper sends this one with a length.
    let Ok(status) = serde_json::from_str::<serde_json::Value>(&body) else {
        return false;
    };
    let proxies = status["proxies"].as_array().cloned().unwrap_or_default();
    proxies.len() == PROXIES
        && proxies
            .iter()
            .all(|p| p["ackedRevision"] == revision && p["inSync"] == true)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn main() {
    let binaries: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("current exe");
            exe.parent()
                .and_then(Path::parent)
                .expect("target dir")
                .to_path_buf()
        });
    let (meshcd, proxy) = (binaries.join("meshcd"), binaries.join("meshcd-proxy"));
    assert!(
        meshcd.exists() && proxy.exists(),
        "meshcd and meshcd-proxy not found in {}",
        binaries.display()
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let (served, work, state) = (
        dir.path().join("served"),
        dir.path().join("work"),
        dir.path().join("state"),
    );
    let bare = served.join("config.git");
    std::fs::create_dir_all(&bare).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    git(&bare, &["init", "-q", "--bare", "-b", "main"]);
    git(&work, &["init", "-q", "-b", "main"]);
    std::fs::write(work.join("mesh.yaml"), config(0)).unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "start"]);
    git(&work, &["push", "-q", bare.to_str().unwrap(), "main"]);
    let secret_file = dir.path().join("webhook-secret");
    std::fs::write(&secret_file, SECRET).unwrap();

    let mut children = Children(Vec::new());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let daemon = Path::new(&git(dir.path(), &["--exec-path"])).join("git-daemon");
    children.0.push(
        Command::new(daemon)
            .args(["--export-all", "--reuseaddr", "--listen=127.0.0.1"])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", served.display()))
            .arg(&served)
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon starts"),
    );
    let mut reconciler = Command::new(&meshcd)
        .args([
            "run",
            "--repo",
            &format!("git://127.0.0.1:{port}/config.git"),
            "--branch",
            "main",
        ])
        .arg("--state-dir")
        .arg(&state)
        .args([
            "--control-plane-addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0",
        ])
        .args(["--poll-interval", "1h", "--webhook-secret-file"])
        .arg(&secret_file)
        .env("MESHCD_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("meshcd starts");
    let mut line = String::new();
    BufReader::new(reconciler.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    children.0.push(reconciler);
    let listening: serde_json::Value = serde_json::from_str(&line).expect("listening line");
    let admin = listening["admin"].as_str().unwrap().to_string();

    let tokens = TokenStore::new(&state);
    for index in 0..PROXIES {
        let service = if index % 2 == 0 { "web-v1" } else { "web-v2" };
        let (_, token) = tokens
            .create(
                &Identity {
                    namespace: NAMESPACE.into(),
                    service_account: "web".into(),
                },
                &[service.to_string()],
                meshcd::identity::tokens::DEFAULT_TTL,
            )
            .unwrap();
        children.0.push(
            Command::new(&proxy)
                .args(["--join", listening["controlPlane"].as_str().unwrap()])
                .args(["--ca-bundle", listening["caBundle"].as_str().unwrap()])
                .args([
                    "--token",
                    &token,
                    "--namespace",
                    NAMESPACE,
                    "--service-account",
                    "web",
                ])
                .args(["--service", service, "--port", "80=127.0.0.1:9/http"])
                .args([
                    "--outbound",
                    "127.0.0.1:0",
                    "--inbound",
                    "127.0.0.1:0",
                    "--admin",
                    "127.0.0.1:0",
                ])
                .args(["--log", "warn"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("meshcd-proxy starts"),
        );
    }
    let first = git(&work, &["rev-parse", "HEAD"]);
    let settle = Instant::now();
    while !all_acked(&admin, &first) {
        assert!(
            settle.elapsed() < Duration::from_secs(60),
            "the proxies never converged"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let mut latencies = Vec::new();
    for push in 1..=PUSHES {
        std::fs::write(work.join("mesh.yaml"), config((push % 100) as u32)).unwrap();
        git(&work, &["commit", "-q", "-am", &format!("weight {push}")]);
        let revision = git(&work, &["rev-parse", "HEAD"]);
        let body = format!(r#"{{"ref":"refs/heads/main","after":"{revision}"}}"#);
        let signature = webhook::sign(SECRET.as_bytes(), body.as_bytes());
        let pushed = Instant::now();
        git(&work, &["push", "-q", bare.to_str().unwrap(), "main"]);
        let (code, answer) = http(
            &admin,
            "POST",
            "/webhook",
            &[
                ("X-GitHub-Event", "push"),
                ("X-Hub-Signature-256", &signature),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        );
        assert_eq!(code, 202, "webhook refused: {answer}");
        while !all_acked(&admin, &revision) {
            assert!(
                pushed.elapsed() < Duration::from_secs(30),
                "push {push} never propagated"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        latencies.push(pushed.elapsed());
    }
    latencies.sort();
    println!(
        "git push + signed webhook → all {PROXIES} meshcd-proxy ACKed ({PUSHES} pushes; target p99 < 500 ms)"
    );
    println!(
        "p50 {:.1} ms   p99 {:.1} ms   max {:.1} ms",
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().unwrap().as_secs_f64() * 1000.0
    );
}
