//! The Prometheus metric source end to end: the test starts a real Prometheus (Debian's
//! `prometheus` package, see scripts/install-test-deps.sh) scraping the proxies' admin
//! `/metrics` every second, and `meshcd run --canary-metrics prometheus=URL` judges the
//! canary with PromQL over that server's HTTP API. A Prometheus that cannot be reached
//! makes each interval wait: never a pass, never a failed analysis.
//!
//! Needs `meshcd-proxy` next to the `meshcd` binary (`cargo build --workspace --bins`).

mod canary_support;
mod local_support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use canary_support::{Load, Watcher, canary_yaml, commit_by_meshcd, commit_canary};
use local_support::{eventually, get_json, get_text, mesh_with};

/// A free port on 127.0.0.1 for a server the test starts next.
fn free_port() -> u16 {
    reserve_port().local_addr().unwrap().port()
}

/// A port on 127.0.0.1 held until the listener is dropped: while the mesh starts (many
/// sockets, outgoing connections on ephemeral ports), no one else can take it.
fn reserve_port() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

/// A Prometheus server scraping `targets` every second, stopped on drop.
struct Prometheus {
    address: SocketAddr,
    _process: tokio::process::Child,
}

impl Prometheus {
    /// Starts on the port `reserved` holds, released just before Prometheus binds it.
    async fn start(
        dir: &Path,
        reserved: std::net::TcpListener,
        targets: &[SocketAddr],
    ) -> Prometheus {
        let port = reserved.local_addr().unwrap().port();
        let binary = which("prometheus").expect(
            "the prometheus binary is on PATH (Debian package `prometheus`; run scripts/install-test-deps.sh)",
        );
        let targets: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n- job_name: meshcd-proxies\n  metrics_path: /metrics\n  static_configs:\n  - targets: [{}]\n",
                targets.join(", ")
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
        let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        drop(reserved);
        let process = tokio::process::Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={address}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("prometheus starts");
        let prometheus = Prometheus {
            address,
            _process: process,
        };
        // Ready, and every proxy scraped at least once.
        let expected = targets.len() as f64;
        let log = dir.join("prometheus.log");
        eventually(Duration::from_secs(20), || async {
            let answer = get_json(address, "/api/v1/query?query=sum(up)")
                .await
                .map_err(|e| {
                    format!("{e}\n{}", std::fs::read_to_string(&log).unwrap_or_default())
                })?;
            let up: f64 = answer["data"]["result"][0]["value"][1]
                .as_str()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0);
            if up == expected {
                Ok(())
            } else {
                Err(format!("{up} of {expected} targets up: {answer}"))
            }
        })
        .await;
        prometheus
    }

    /// How many queries Prometheus answered on `/api/v1/query`, from its own `/metrics`.
    async fn queries_answered(&self) -> f64 {
        let text = get_text(self.address, "/metrics").await.unwrap();
        text.lines()
            .filter(|line| {
                line.starts_with("prometheus_http_requests_total{")
                    && line.contains(r#"handler="/api/v1/query""#)
                    && line.contains(r#"code="200""#)
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

fn which(binary: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(binary))
        .find(|path| path.is_file())
}

/// A mesh whose reconciler reads canary traffic from a Prometheus on `port` (3 s of
/// history per analysis: three scrapes), and that Prometheus, scraping every proxy.
async fn mesh_judged_by_prometheus(
    dir: &Path,
    canary_status: u16,
) -> (
    meshcd::cli::local_mesh::LocalMesh,
    std::sync::Arc<meshcd::cli::local_mesh::Joined>,
    Prometheus,
) {
    let repo = local_support::config_repo(dir);
    let reserved = reserve_port();
    let port = reserved.local_addr().unwrap().port();
    let source = format!("prometheus=http://127.0.0.1:{port}");
    let (mesh, frontend) = mesh_with(
        &repo,
        &dir.join("state"),
        canary_status,
        &[
            "--canary-metrics",
            &source,
            "--canary-prometheus-window",
            "3s",
        ],
    )
    .await;
    let prometheus = Prometheus::start(dir, reserved, mesh.proxy_admin_addresses()).await;
    (mesh, frontend, prometheus)
}

/// What one rollout judged by Prometheus came to.
struct Outcome {
    /// The message of the commit meshcd wrote (promotion or rollback).
    message: String,
    /// The repository's working tree after that commit.
    repo: std::path::PathBuf,
    /// The steady client's responses during the rollout.
    responses: Vec<canary_support::Response>,
    /// Queries Prometheus answered during the rollout.
    answered: f64,
}

/// Runs a one-step (50 %) canary whose api-v2 answers `canary_status`, judged by
/// Prometheus, under load, until meshcd commits its outcome and the mesh applies it.
async fn rollout_judged_by_prometheus(dir: &Path, canary_status: u16) -> Outcome {
    let (mesh, frontend, prometheus) = mesh_judged_by_prometheus(dir, canary_status).await;
    let repo = dir.join("repo");
    let load = Load::start(&frontend, 2);

    let before = prometheus.queries_answered().await;
    commit_canary(&repo, &canary_yaml(&[50], "30s", 2), "canary for api-v2");
    let (outcome, message) = commit_by_meshcd(&repo, Duration::from_secs(30)).await;
    mesh.wait_in_sync(Some(&outcome))
        .await
        .expect("the outcome commit is applied");
    let responses = load.stop().await;
    let answered = prometheus.queries_answered().await - before;
    mesh.stop().await;
    Outcome {
        message,
        repo,
        responses,
        answered,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_answering_500_is_rolled_back_on_prometheus_figures() {
    let dir = tempfile::tempdir().unwrap();
    let Outcome {
        message,
        repo,
        answered,
        ..
    } = rollout_judged_by_prometheus(dir.path(), 500).await;

    assert!(
        message.starts_with("meshcd: roll back canary shop/api"),
        "{message}"
    );
    assert!(
        message.contains("successRate 0.00% (threshold >= 99%), 2 failed analyses"),
        "{message}"
    );
    let canary = std::fs::read_to_string(repo.join("canary.yaml")).unwrap();
    assert!(canary.contains("phase: RolledBack"), "{canary}");
    // Two analyses, four queries each, at the least.
    assert!(
        answered >= 8.0,
        "Prometheus answered {answered} queries during the rollout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_canary_is_promoted_on_prometheus_figures() {
    let dir = tempfile::tempdir().unwrap();
    let Outcome {
        message,
        repo,
        responses,
        answered,
    } = rollout_judged_by_prometheus(dir.path(), 200).await;

    assert!(
        message.starts_with("meshcd: promote canary shop/api"),
        "{message}"
    );
    assert!(
        message.contains("success rate 100.00%"),
        "the evidence is Prometheus' figure: {message}"
    );
    assert!(responses.iter().all(|r| r.status == Some(200)));
    let split = std::fs::read_to_string(repo.join("split.yaml")).unwrap();
    assert!(
        split.contains("- service: api-v2\n    weight: 100\n"),
        "{split}"
    );
    assert!(
        answered >= 8.0,
        "Prometheus answered {answered} queries during the rollout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_prometheus_down_a_failing_canary_waits_and_never_counts_a_failed_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let repo = local_support::config_repo(dir.path());
    // Nothing listens there.
    let url = format!("http://127.0.0.1:{}", free_port());
    let (mesh, frontend) = mesh_with(
        &repo,
        &dir.path().join("state"),
        500,
        &["--canary-metrics", &format!("prometheus={url}")],
    )
    .await;
    let watcher = Watcher::start(local_support::AdminApi::of(&mesh));
    let load = Load::start(&frontend, 1);

    commit_canary(&repo, &canary_yaml(&[50], "4s", 1), "canary for api-v2");
    let (rollback, message) = commit_by_meshcd(&repo, Duration::from_secs(30)).await;
    mesh.wait_in_sync(Some(&rollback))
        .await
        .expect("the rollback commit is applied");
    load.stop().await;
    let sightings = watcher.stop().await;

    let waiting =
        format!("waiting: the metric source is unavailable: connecting to Prometheus at {url}");
    assert!(
        sightings.iter().any(|s| s.rollout["message"]
            .as_str()
            .is_some_and(|m| m.starts_with(&waiting))),
        "/status says why the interval waits: {:?}",
        sightings.last().map(|s| &s.rollout["message"])
    );
    assert!(
        sightings.iter().all(|s| s.rollout["failures"] == 0),
        "an unreadable interval is no failed analysis, though the canary answers 500"
    );
    assert!(
        message.contains("(progressDeadline): the metric source is unavailable"),
        "{message}"
    );
    mesh.stop().await;
}
