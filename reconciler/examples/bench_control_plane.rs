//! Benchmark (not a test): time from `git commit` to every connected proxy having
//! received and ACKed the new version, for 1, 10 and 100 proxies, and the compile time
//! of a config with 10,000 services and their policies.
//!
//! The proxies are lightweight clients of the real control plane: each joins with its own
//! bootstrap token over TLS and ACKs every snapshot, like `meshcd-proxy --join` does.
//! Run: `scripts/bench-control-plane.sh` (release build).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use meshcd::compile::compile;
use meshcd::identity::tokens::TokenStore;
use meshcd::inventory::{Inventory, Protocol, Workload, WorkloadPort};
use meshcd::model::Identity;
use meshcd_schemas::proto;
use meshcd_schemas::proto::control_plane_client::ControlPlaneClient;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

const COMMITS_PER_SIZE: usize = 30;
const NAMESPACE: &str = "bench";

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=bench", "-c", "user.email=bench@localhost"])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

fn split_yaml(weight: u32) -> String {
    format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {NAMESPACE}}}\n---\n\
         apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {{name: web, namespace: {NAMESPACE}}}\n\
         spec:\n  service: web\n  backends:\n  - {{service: web-v1, weight: {}}}\n  - {{service: web-v2, weight: {weight}}}\n",
        100 - weight
    )
}

/// A proxy that ACKs everything and publishes the version it holds.
async fn fake_proxy(
    channel: tonic::transport::Channel,
    token: String,
    index: usize,
    versions: watch::Sender<String>,
) {
    let (sender, receiver) = mpsc::channel(4);
    let hello = proto::ProxyMessage {
        message: Some(proto::proxy_message::Message::Hello(proto::Hello {
            proxy_id: format!("bench-{index}"),
            token,
            workload: Some(proto::Workload {
                namespace: NAMESPACE.into(),
                service_account: "web".into(),
                identity: String::new(),
                services: vec![if index.is_multiple_of(2) {
                    "web-v1".into()
                } else {
                    "web-v2".into()
                }],
                ports: vec![proto::InboundPort {
                    service_port: 80,
                    app_address: "127.0.0.1:9".into(),
                    protocol: proto::Protocol::Http as i32,
                }],
            }),
            inbound_address: format!("127.0.0.1:{}", 20000 + index),
            version: String::new(),
        })),
    };
    sender.send(hello).await.expect("hello");
    let mut stream = ControlPlaneClient::new(channel)
        .stream(ReceiverStream::new(receiver))
        .await
        .expect("stream opens")
        .into_inner();
    while let Ok(Some(message)) = stream.message().await {
        if let Some(proto::control_message::Message::Snapshot(snapshot)) = message.message {
            let version = snapshot.version.clone();
            let _ = sender
                .send(proto::ProxyMessage {
                    message: Some(proto::proxy_message::Message::Ack(proto::Ack {
                        version: version.clone(),
                    })),
                })
                .await;
            let _ = versions.send(version);
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn propagation(meshcd: &Path, proxies: usize) -> Vec<Duration> {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path().join("repo");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("mesh.yaml"), split_yaml(0)).unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "start"]);

    let tokens = TokenStore::new(&state);
    let mut child = Command::new(meshcd)
        .args(["run", "--repo"])
        .arg(&repo)
        .arg("--state-dir")
        .arg(&state)
        .args([
            "--control-plane-addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0",
            "--poll-interval",
            "60s",
        ])
        .env("MESHCD_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("meshcd starts");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let listening: serde_json::Value = serde_json::from_str(&line).expect("listening line");
    let control_plane = listening["controlPlane"].as_str().unwrap().to_string();
    let bundle = std::fs::read_to_string(listening["caBundle"].as_str().unwrap()).unwrap();

    let channel = Endpoint::from_shared(format!("https://{control_plane}"))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(&bundle))
                .domain_name("localhost"),
        )
        .unwrap()
        .connect()
        .await
        .expect("control plane reachable");
    let mut receivers = Vec::new();
    for index in 0..proxies {
        let (_, token) = tokens
            .create(
                &Identity {
                    namespace: NAMESPACE.into(),
                    service_account: "web".into(),
                },
                &["web-v1".to_string(), "web-v2".to_string()],
                meshcd::identity::tokens::DEFAULT_TTL,
            )
            .unwrap();
        let (sender, receiver) = watch::channel(String::new());
        tokio::spawn(fake_proxy(channel.clone(), token, index, sender));
        receivers.push(receiver);
    }
    // Proxies joining change everyone's snapshot: wait until the reconciler reports every
    // proxy connected and in sync.
    let admin = listening["admin"].as_str().unwrap().to_string();
    let settle = Instant::now();
    loop {
        let output = Command::new(meshcd)
            .args([
                "status",
                "--format",
                "json",
                "--server",
                &format!("http://{admin}"),
            ])
            .output()
            .expect("meshcd status runs");
        let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
        let connected = status["proxies"].as_array().cloned().unwrap_or_default();
        if connected.len() == proxies && connected.iter().all(|p| p["inSync"] == true) {
            break;
        }
        assert!(
            settle.elapsed() < Duration::from_secs(60),
            "proxies never converged: {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut latencies = Vec::new();
    for commit in 1..=COMMITS_PER_SIZE {
        let before: Vec<String> = receivers.iter().map(|r| r.borrow().clone()).collect();
        std::fs::write(repo.join("mesh.yaml"), split_yaml((commit % 100) as u32)).unwrap();
        // From the start of `git commit`: the reconciler may act before the command exits.
        let committed = Instant::now();
        git(&repo, &["commit", "-q", "-am", &format!("weight {commit}")]);
        for (receiver, old) in receivers.iter_mut().zip(&before) {
            let old = old.clone();
            let _ = tokio::time::timeout(Duration::from_secs(30), receiver.wait_for(|v| *v != old))
                .await;
        }
        latencies.push(committed.elapsed());
    }
    let _ = child.kill();
    let _ = child.wait();
    latencies.sort();
    latencies
}

fn compile_time() -> (usize, usize, Duration) {
    const SERVICES: usize = 10_000;
    let mut yaml = String::new();
    for namespace in 0..100 {
        yaml.push_str(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: ns{namespace}}}\n---\n"
        ));
    }
    let mut inventory = Inventory::default();
    for service in 0..SERVICES {
        let namespace = format!("ns{}", service % 100);
        yaml.push_str(&format!(
            "apiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata: {{name: svc{service}, namespace: {namespace}}}\n\
             spec: {{matches: [{{name: read, pathRegex: /api/.*, methods: [GET]}}]}}\n---\n\
             apiVersion: access.smi-spec.io/v1alpha3\nkind: TrafficTarget\nmetadata: {{name: svc{service}, namespace: {namespace}}}\n\
             spec:\n  destination: {{kind: ServiceAccount, name: svc{service}}}\n  rules: [{{kind: HTTPRouteGroup, name: svc{service}}}]\n  sources: [{{kind: ServiceAccount, name: svc{}}}]\n---\n",
            (service + 1) % SERVICES
        ));
        inventory.insert(Workload {
            id: format!("w{service}"),
            identity: Identity {
                namespace: namespace.clone(),
                service_account: format!("svc{service}"),
            },
            services: vec![format!("svc{service}")],
            ports: vec![WorkloadPort {
                service_port: 80,
                app_address: "127.0.0.1:9".into(),
                protocol: Protocol::Http,
            }],
            inbound_address: format!("10.0.{}.{}:15003", service / 250, service % 250),
        });
    }
    let loaded = meshcd::load::load_files(vec![("bench.yaml".into(), yaml)]);
    let config = meshcd::validate::validate(&loaded).config.expect("valid");
    // One full compile of the whole mesh: the shared service table and every
    // workload's own part (rules, version); snapshots are materialised only when sent.
    let started = Instant::now();
    let compiled = compile(&config, &inventory);
    (SERVICES, compiled.proxies.len(), started.elapsed())
}

#[tokio::main]
async fn main() {
    let meshcd = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::current_exe()
                .unwrap()
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .join("meshcd")
        });
    assert!(
        meshcd.exists(),
        "meshcd binary not found at {}",
        meshcd.display()
    );
    println!(
        "commit → every proxy ACKed ({COMMITS_PER_SIZE} commits per row; target p99 < 250 ms at 100 proxies)"
    );
    println!("{:>8} {:>10} {:>10} {:>10}", "proxies", "p50", "p99", "max");
    for proxies in [1, 10, 100] {
        let latencies = propagation(&meshcd, proxies).await;
        println!(
            "{proxies:>8} {:>8.1}ms {:>8.1}ms {:>8.1}ms",
            percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
            latencies.last().unwrap().as_secs_f64() * 1000.0
        );
    }
    let (services, snapshots, elapsed) = compile_time();
    println!(
        "compile: {services} services with their policies → {snapshots} snapshots in {:.0} ms (target < 500 ms)",
        elapsed.as_secs_f64() * 1000.0
    );
}
