//! Benchmark (not a test): one reconciler serving a fleet of 100, 1,000 and 10,000
//! proxies, each with its own identity and service, plus a real `meshcd-proxy` pair with
//! traffic between them. Per row: time to sync the fleet, reconciler RSS, idle CPU (30 s),
//! commit → every affected proxy ACKed for one-TrafficTarget commits and the bytes they
//! sent against a full push, and a restart of the reconciler → every proxy re-synced
//! while the real pair serves requests (failures counted). Then the compile time of
//! 10,000 services.
//!
//! The fleet's proxies are lightweight clients of the real control plane: each holds its
//! own TLS connection, joins with its own bootstrap token, ACKs every snapshot and, like
//! `meshcd-proxy --join`, reconnects with backoff saying which version it serves.
//! Run: `scripts/bench-control-plane.sh [PROXIES...]` (release build).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use meshcd::compile::compile;
use meshcd::identity::tokens::{DEFAULT_TTL, TokenStore};
use meshcd::inventory::{Inventory, Protocol, Workload, WorkloadPort};
use meshcd::model::Identity;
use meshcd_schemas::proto;
use meshcd_schemas::proto::control_plane_client::ControlPlaneClient;
use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

const NAMESPACES: usize = 10;
const COMMITS: usize = 10;
const PAIR: &str = "pair";

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

fn namespace(service: usize) -> String {
    format!("ns{}", service % NAMESPACES)
}

/// Service `i` is served by identity `svc{i}` and may be called by `svc{i+1}`; commit
/// `extra[i]` adds a second source to target `i`.
fn target_yaml(proxies: usize, service: usize, extra: Option<usize>) -> String {
    let source = |j: usize| {
        format!(
            "  - {{kind: ServiceAccount, name: svc{j}, namespace: {}}}\n",
            namespace(j)
        )
    };
    let mut yaml = format!(
        "apiVersion: access.smi-spec.io/v1alpha3\nkind: TrafficTarget\nmetadata: {{name: svc{service}, namespace: {}}}\n\
         spec:\n  destination: {{kind: ServiceAccount, name: svc{service}}}\n  rules: [{{kind: HTTPRouteGroup, name: read}}]\n  sources:\n",
        namespace(service)
    );
    yaml.push_str(&source((service + 1) % proxies));
    if let Some(extra) = extra {
        yaml.push_str(&source(extra));
    }
    yaml
}

fn write_repo(repo: &Path, proxies: usize) {
    let mut yaml = String::new();
    for ns in (0..NAMESPACES)
        .map(|n| format!("ns{n}"))
        .chain([PAIR.to_string()])
    {
        yaml.push_str(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n---\n\
             apiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata: {{name: read, namespace: {ns}}}\n\
             spec: {{matches: [{{name: all, pathRegex: '/.*'}}]}}\n---\n"
        ));
    }
    yaml.push_str(&format!(
        "apiVersion: access.smi-spec.io/v1alpha3\nkind: TrafficTarget\nmetadata: {{name: api, namespace: {PAIR}}}\n\
         spec:\n  destination: {{kind: ServiceAccount, name: api}}\n  rules: [{{kind: HTTPRouteGroup, name: read}}]\n\
         \x20 sources: [{{kind: ServiceAccount, name: frontend}}]\n"
    ));
    std::fs::write(repo.join("mesh.yaml"), yaml).unwrap();
    let targets = repo.join("targets");
    std::fs::create_dir_all(&targets).unwrap();
    for service in 0..proxies {
        std::fs::write(
            targets.join(format!("svc{service}.yaml")),
            target_yaml(proxies, service, None),
        )
        .unwrap();
    }
}

/// What the fleet has received, summed over its proxies.
#[derive(Default)]
struct Fleet {
    bytes: AtomicU64,
    snapshots: AtomicU64,
    /// The version each proxy serves.
    versions: Vec<Mutex<String>>,
    /// Streams open now.
    connected: AtomicUsize,
}

impl Fleet {
    fn version(&self, index: usize) -> String {
        self.versions[index].lock().unwrap().clone()
    }
}

fn hello(index: usize, token: &str, version: String) -> proto::ProxyMessage {
    proto::ProxyMessage {
        message: Some(proto::proxy_message::Message::Hello(proto::Hello {
            certificate_root: String::new(),
            proxy_id: format!("bench-{index}"),
            token: token.to_owned(),
            workload: Some(proto::Workload {
                namespace: namespace(index),
                service_account: format!("svc{index}"),
                identity: String::new(),
                services: vec![format!("svc{index}")],
                ports: vec![proto::InboundPort {
                    service_port: 80,
                    app_address: "127.0.0.1:9".into(),
                    protocol: proto::Protocol::Http as i32,
                }],
                rate_limits: Vec::new(),
                ingress: Vec::new(),
            }),
            inbound_address: format!(
                "10.{}.{}.{}:15003",
                index >> 16,
                (index >> 8) & 255,
                index & 255
            ),
            version,
        })),
    }
}

/// One lightweight proxy: its own TLS connection and stream, reconnecting with
/// meshcd-proxy's backoff (100 ms doubling to 5 s, ±20%) whenever the stream ends.
async fn fleet_proxy(endpoint: Endpoint, token: String, index: usize, fleet: Arc<Fleet>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        if let Ok(channel) = endpoint.connect().await {
            let (sender, receiver) = mpsc::channel(4);
            let _ = sender
                .send(hello(index, &token, fleet.version(index)))
                .await;
            if let Ok(response) = ControlPlaneClient::new(channel)
                .stream(ReceiverStream::new(receiver))
                .await
            {
                backoff = Duration::from_millis(100);
                fleet.connected.fetch_add(1, Ordering::Relaxed);
                let mut stream = response.into_inner();
                while let Ok(Some(message)) = stream.message().await {
                    if let Some(proto::control_message::Message::Snapshot(snapshot)) =
                        &message.message
                    {
                        fleet
                            .bytes
                            .fetch_add(message.encoded_len() as u64, Ordering::Relaxed);
                        fleet.snapshots.fetch_add(1, Ordering::Relaxed);
                        let version = snapshot.version.clone();
                        *fleet.versions[index].lock().unwrap() = version.clone();
                        let ack = proto::proxy_message::Message::Ack(proto::Ack {
                            version,
                            certificate_root: String::new(),
                        });
                        let _ = sender
                            .send(proto::ProxyMessage { message: Some(ack) })
                            .await;
                    }
                }
                fleet.connected.fetch_sub(1, Ordering::Relaxed);
            }
        }
        tokio::time::sleep(backoff.mul_f64(0.8 + rand::random::<f64>() * 0.4)).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

struct Reconciler {
    child: Child,
    control_plane: String,
    admin: String,
    bundle: PathBuf,
}

fn start_reconciler(
    meshcd: &Path,
    repo: &Path,
    state: &Path,
    addresses: Option<(&str, &str)>,
    proxies: usize,
) -> Reconciler {
    let (control_plane, admin) = addresses.unwrap_or(("127.0.0.1:0", "127.0.0.1:0"));
    let mut child = Command::new(meshcd)
        .args(["run", "--repo"])
        .arg(repo)
        .arg("--state-dir")
        .arg(state)
        .args(["--control-plane-addr", control_plane, "--admin-addr", admin])
        .args(["--poll-interval", "1h"])
        .args(["--max-connections", &(proxies + 100).to_string()])
        .env("MESHCD_LOG", "error")
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
    Reconciler {
        child,
        control_plane: listening["controlPlane"].as_str().unwrap().to_string(),
        admin: listening["admin"].as_str().unwrap().to_string(),
        bundle: PathBuf::from(listening["caBundle"].as_str().unwrap()),
    }
}

impl Reconciler {
    fn stat(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// User + system CPU time so far.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        Duration::from_millis(ticks * 10)
    }

    /// (connected, in sync) proxies by `meshcd status`.
    fn in_sync(&self, meshcd: &Path, state: &Path) -> (usize, usize) {
        let output = Command::new(meshcd)
            .args(["status", "--format", "json", "--server"])
            .arg(format!("http://{}", self.admin))
            .arg("--admin-token-file")
            .arg(state.join("admin-token"))
            .output()
            .expect("meshcd status runs");
        let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
        let proxies = status["proxies"].as_array().cloned().unwrap_or_default();
        let synced = proxies.iter().filter(|p| p["inSync"] == true).count();
        (proxies.len(), synced)
    }

    fn stop(mut self) {
        // SIGTERM, as a rolling restart would.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Reconciler {
    /// Also when the bench fails: no reconciler is left behind.
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn wait_in_sync(reconciler: &Reconciler, meshcd: &Path, state: &Path, total: usize) {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(300);
    let mut progress = started;
    loop {
        let (connected, synced) = reconciler.in_sync(meshcd, state);
        if connected == total && synced == total {
            return;
        }
        if progress.elapsed() >= Duration::from_secs(10) {
            progress = Instant::now();
            eprintln!(
                "  … {:>3.0} s: {connected} connected, {synced} in sync of {total}",
                started.elapsed().as_secs_f64()
            );
        }
        assert!(
            Instant::now() < deadline,
            "not in sync: {synced}/{connected} of {total}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A real pair: demo-app behind api's proxy, and frontend's proxy calling it.
struct Pair {
    children: Vec<Child>,
    outbound: String,
}

// The child goes back to the caller, whose `Drop` reaps it.
#[allow(clippy::zombie_processes)]
fn spawn_listening(command: &mut Command) -> (Child, serde_json::Value) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut reader, &mut line).unwrap_or(0) == 0 {
            let _ = child.kill();
            let status = child.wait();
            panic!("exited without a listening line: {status:?}");
        }
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line)
            && value["event"] == "listening"
        {
            // Keep draining so the child never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
            return (child, value);
        }
    }
}

fn start_pair(meshcd: &Path, proxy: &Path, reconciler: &Reconciler, tokens: &TokenStore) -> Pair {
    let (app, listening) = spawn_listening(Command::new(meshcd).args([
        "demo-app",
        "--name",
        "api",
        "--listen",
        "127.0.0.1:0",
    ]));
    let app_address = listening["address"].as_str().unwrap().to_string();
    // Held from the first child on, so a failure below still reaps what started.
    let mut pair = Pair {
        children: vec![app],
        outbound: String::new(),
    };
    for (account, port) in [("api", Some(&app_address)), ("frontend", None)] {
        let (_, token) = tokens
            .create(
                &Identity {
                    namespace: PAIR.into(),
                    service_account: account.into(),
                },
                &[account.to_string()],
                DEFAULT_TTL,
            )
            .unwrap();
        let mut command = Command::new(proxy);
        command
            .args(["--join", &reconciler.control_plane, "--ca-bundle"])
            .arg(&reconciler.bundle)
            .args([
                "--namespace",
                PAIR,
                "--service-account",
                account,
                "--service",
                account,
            ])
            .args([
                "--outbound",
                "127.0.0.1:0",
                "--inbound",
                "127.0.0.1:0",
                "--admin",
                "127.0.0.1:0",
            ])
            .env("MESHCD_PROXY_TOKEN", token)
            .env("MESHCD_PROXY_LOG", "error");
        if let Some(app) = port {
            command.args(["--port", &format!("80={app}/http")]);
        }
        let (child, listening) = spawn_listening(&mut command);
        pair.outbound = listening["outbound"].as_str().unwrap().to_string();
        pair.children.push(child);
    }
    pair
}

impl Drop for Pair {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Calls api through frontend's proxy until `stop`; counts (requests, failures).
async fn load(outbound: String, stop: Arc<std::sync::atomic::AtomicBool>) -> (u64, u64) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let (mut requests, mut failures) = (0, 0);
    while !stop.load(Ordering::Relaxed) {
        let request = http::Request::get(format!("http://{outbound}/"))
            .header(http::header::HOST, format!("api.{PAIR}"))
            .body(Empty::new())
            .unwrap();
        requests += 1;
        match client.request(request).await {
            Ok(response) if response.status().is_success() => {}
            _ => failures += 1,
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (requests, failures)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
}

async fn fleet_row(meshcd: &Path, proxy: &Path, proxies: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path().join("repo");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    write_repo(&repo, proxies);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "start"]);

    let reconciler = start_reconciler(meshcd, &repo, &state, None, proxies);
    let tokens = TokenStore::new(&state);
    let bundle = std::fs::read_to_string(&reconciler.bundle).unwrap();
    let endpoint = Endpoint::from_shared(format!("https://{}", reconciler.control_plane))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(&bundle))
                .domain_name("localhost"),
        )
        .unwrap()
        .connect_timeout(Duration::from_secs(10));
    let fleet = Arc::new(Fleet {
        versions: (0..proxies).map(|_| Mutex::default()).collect(),
        ..Fleet::default()
    });
    // The pair first: a proxy whose first join times out (a control plane busy with
    // 10,000 handshakes) exits, as it should.
    let pair = start_pair(meshcd, proxy, &reconciler, &tokens);
    let started = Instant::now();
    let grants: Vec<(Identity, Vec<String>)> = (0..proxies)
        .map(|index| {
            let identity = Identity {
                namespace: namespace(index),
                service_account: format!("svc{index}"),
            };
            (identity, vec![format!("svc{index}")])
        })
        .collect();
    let created = tokens.create_all(&grants, DEFAULT_TTL).unwrap();
    for (index, (_, token)) in created.into_iter().enumerate() {
        tokio::spawn(fleet_proxy(endpoint.clone(), token, index, fleet.clone()));
    }
    wait_in_sync(&reconciler, meshcd, &state, proxies + 2).await;
    let synced = started.elapsed();
    let full_push = fleet.bytes.load(Ordering::Relaxed);
    let rss_mib = reconciler.stat("VmRSS:") as f64 / 1024.0;

    // Idle: nothing changes for 30 s, one round of the control stream's keepalive pings.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cpu_before = reconciler.cpu();
    tokio::time::sleep(Duration::from_secs(30)).await;
    let idle_cpu = reconciler.cpu() - cpu_before;

    // One-TrafficTarget commits: each changes the snapshots of two proxies.
    let mut latencies = Vec::new();
    let mut commit_bytes = Vec::new();
    for commit in 0..COMMITS {
        let service = commit * proxies / COMMITS;
        let extra = (service + 2) % proxies;
        let affected = [service, extra];
        let before: Vec<String> = affected.iter().map(|&i| fleet.version(i)).collect();
        let bytes_before = fleet.bytes.load(Ordering::Relaxed);
        std::fs::write(
            repo.join("targets").join(format!("svc{service}.yaml")),
            target_yaml(proxies, service, Some(extra)),
        )
        .unwrap();
        let committed = Instant::now();
        git(
            &repo,
            &[
                "commit",
                "-q",
                "-am",
                &format!("svc{extra} may call svc{service}"),
            ],
        );
        let deadline = committed + Duration::from_secs(60);
        while affected
            .iter()
            .zip(&before)
            .any(|(&i, old)| fleet.version(i) == *old)
        {
            assert!(
                Instant::now() < deadline,
                "commit {commit} never reached its proxies"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        latencies.push(committed.elapsed());
        // Anything else sent for this commit goes out in the same publish.
        tokio::time::sleep(Duration::from_millis(500)).await;
        commit_bytes.push(fleet.bytes.load(Ordering::Relaxed) - bytes_before);
    }
    wait_in_sync(&reconciler, meshcd, &state, proxies + 2).await;
    latencies.sort();
    let one_commit = commit_bytes.iter().sum::<u64>() / COMMITS as u64;
    let peak_mib = reconciler.stat("VmHWM:") as f64 / 1024.0;

    // Restart under load: every proxy re-synced, the pair's calls never failing.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let traffic = tokio::spawn(load(pair.outbound.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (control_plane, admin) = (reconciler.control_plane.clone(), reconciler.admin.clone());
    let restarted = Instant::now();
    reconciler.stop();
    let reconciler = start_reconciler(
        meshcd,
        &repo,
        &state,
        Some((&control_plane, &admin)),
        proxies,
    );
    wait_in_sync(&reconciler, meshcd, &state, proxies + 2).await;
    let resynced = restarted.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let (requests, failures) = traffic.await.unwrap();
    drop(pair);
    reconciler.stop();

    println!(
        "{proxies:>7} | {:>8} | {:>6.0} MiB ({:.0} peak) | {:>6} in 30 s | {:>7} / {:<7} | {:>9} B of {:>10} B ({:.3} %) | {:>8}, {failures} of {requests} calls failed",
        ms(synced),
        rss_mib,
        peak_mib,
        ms(idle_cpu),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        one_commit,
        full_push,
        one_commit as f64 * 100.0 / full_push as f64,
        ms(resynced),
    );
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
    // One full compile of the whole mesh: every service, every identity's rules and
    // scope, every workload's version; snapshots are materialised only when sent.
    let started = Instant::now();
    let compiled = compile(&config, &inventory);
    (SERVICES, compiled.proxies.len(), started.elapsed())
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let meshcd = PathBuf::from(
        args.next()
            .expect("usage: bench_control_plane MESHCD PROXY [N...]"),
    );
    let proxy = PathBuf::from(
        args.next()
            .expect("usage: bench_control_plane MESHCD PROXY [N...]"),
    );
    let sizes: Vec<usize> = args.map(|n| n.parse().expect("a fleet size")).collect();
    let sizes = if sizes.is_empty() {
        vec![100, 1_000, 10_000]
    } else {
        sizes
    };
    println!(
        "one reconciler, N lightweight proxies (own TLS connection, identity and service each) + a real meshcd-proxy pair under load"
    );
    println!(
        "goals at 10,000: RSS < 1 GiB, commit → ACKed p99 < 2 s, one-policy commit < 1 % of a full push, restart → re-synced < 30 s with 0 failed calls"
    );
    println!(
        "{:>7} | {:>8} | {:>22} | {:>13} | {:>17} | {:>36} | restart → all re-synced",
        "proxies",
        "synced",
        "reconciler RSS",
        "idle CPU",
        "commit→ACK p50/p99",
        "bytes per one-TrafficTarget commit"
    );
    for proxies in sizes {
        fleet_row(&meshcd, &proxy, proxies).await;
    }
    let (services, snapshots, elapsed) = compile_time();
    println!(
        "compile: {services} services with their policies → {snapshots} proxies' parts in {:.0} ms (target < 500 ms)",
        elapsed.as_secs_f64() * 1000.0
    );
}
