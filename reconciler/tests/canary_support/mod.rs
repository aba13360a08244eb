//! What the canary end-to-end tests watch: every response the frontend gets (which app
//! answered, when, with which status), the rollout as `/status` shows it over time, and
//! the commits meshcd lands in the repository.

// Each test crate compiles this module and uses only part of it.
#![allow(dead_code)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use meshcd::cli::local_mesh::Joined;

use crate::local_support::{AdminApi, NAMESPACE, git, rollout_in};

/// A Canary for split `api` (api-v1 → api-v2) judged every second.
pub fn canary_yaml(weights: &[u32], progress_deadline: &str, failure_threshold: u32) -> String {
    let weights: Vec<String> = weights.iter().map(u32::to_string).collect();
    format!(
        r#"# the api-v2 rollout
apiVersion: meshcd.dev/v1alpha1
kind: Canary
metadata: {{name: api, namespace: {NAMESPACE}}}
spec:
  trafficSplit: api
  stable: api-v1
  canary: api-v2
  steps: {{weights: [{}]}}
  interval: 1s
  progressDeadline: {progress_deadline}
  analysis:
    successRate: {{min: 99}}
    minRequests: 5
    failureThreshold: {failure_threshold}
"#,
        weights.join(", ")
    )
}

/// Commits `canary.yaml` as an operator would.
pub fn commit_canary(repo: &Path, yaml: &str, message: &str) -> String {
    std::fs::write(repo.join("canary.yaml"), yaml).unwrap();
    git(repo, &["add", "canary.yaml"]);
    git(repo, &["commit", "-q", "-m", message]);
    git(repo, &["rev-parse", "HEAD"])
}

/// Waits for HEAD to be a commit by meshcd; returns (id, full message).
pub async fn commit_by_meshcd(repo: &Path, deadline: Duration) -> (String, String) {
    let start = Instant::now();
    loop {
        if git(repo, &["log", "-1", "--format=%an"]) == "meshcd" {
            return (
                git(repo, &["rev-parse", "HEAD"]),
                git(repo, &["log", "-1", "--format=%B"]),
            );
        }
        assert!(
            start.elapsed() < deadline,
            "no commit by meshcd within {deadline:?}; last: {}",
            git(repo, &["log", "-1", "--format=%an: %s"])
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The rollout `shop/api` as `/status` shows it, if one runs.
pub async fn rollout(admin: &AdminApi) -> Option<serde_json::Value> {
    rollout_in(&admin.get_json("/status").await.ok()?)
}

/// One response the frontend got.
#[derive(Debug, Clone)]
pub struct Response {
    pub sent: Instant,
    pub received: Instant,
    /// HTTP status, or `None` when the request failed without one.
    pub status: Option<u16>,
    /// The app that answered (`api-v1`, `api-v2`), when the body says.
    pub app: Option<String>,
}

/// Several callers sending requests from the frontend's proxy without pause, recording
/// every response.
pub struct Load {
    stop: Arc<AtomicBool>,
    responses: Arc<Mutex<Vec<Response>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    pub fn start(frontend: &Joined, callers: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let responses = Arc::new(Mutex::new(Vec::new()));
        let tasks = (0..callers)
            .map(|_| {
                let frontend = frontend.clone();
                let (stop, responses) = (stop.clone(), responses.clone());
                tokio::spawn(async move {
                    let url = format!("http://api.{NAMESPACE}/");
                    while !stop.load(Ordering::Relaxed) {
                        let sent = Instant::now();
                        let answer = frontend.request("GET", &url).await;
                        let received = Instant::now();
                        let response = match answer {
                            Ok((status, body)) => Response {
                                sent,
                                received,
                                status: Some(status),
                                app: serde_json::from_str::<serde_json::Value>(&body)
                                    .ok()
                                    .and_then(|v| v["app"].as_str().map(str::to_string)),
                            },
                            Err(_) => Response {
                                sent,
                                received,
                                status: None,
                                app: None,
                            },
                        };
                        responses.lock().unwrap().push(response);
                    }
                })
            })
            .collect();
        Load {
            stop,
            responses,
            tasks,
        }
    }

    pub fn responses(&self) -> Vec<Response> {
        self.responses.lock().unwrap().clone()
    }

    pub async fn stop(self) -> Vec<Response> {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            let _ = task.await;
        }
        self.responses.lock().unwrap().clone()
    }
}

/// One look at the rollout through `/status`.
#[derive(Debug, Clone)]
pub struct Sighting {
    pub at: Instant,
    pub rollout: serde_json::Value,
}

/// Polls `/status` every 25 ms and keeps every sighting of the rollout.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    sightings: Arc<Mutex<Vec<Sighting>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Watcher {
    pub fn start(admin: AdminApi) -> Watcher {
        let stop = Arc::new(AtomicBool::new(false));
        let sightings = Arc::new(Mutex::new(Vec::new()));
        let task = {
            let (stop, sightings) = (stop.clone(), sightings.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(rollout) = rollout(&admin).await {
                        let at = Instant::now();
                        sightings.lock().unwrap().push(Sighting { at, rollout });
                    }
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
            })
        };
        Watcher {
            stop,
            sightings,
            task,
        }
    }

    pub fn sightings(&self) -> Vec<Sighting> {
        self.sightings.lock().unwrap().clone()
    }

    pub async fn stop(self) -> Vec<Sighting> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        self.sightings.lock().unwrap().clone()
    }
}

/// A stretch of time during which `/status` showed one canary weight.
#[derive(Debug, Clone)]
pub struct Stretch {
    pub weight: u64,
    pub phase: String,
    pub from: Instant,
    pub until: Instant,
}

/// Cuts the sightings into stretches of equal canary weight.
pub fn stretches(sightings: &[Sighting]) -> Vec<Stretch> {
    let mut out: Vec<Stretch> = Vec::new();
    for sighting in sightings {
        let weight = sighting.rollout["canaryWeight"].as_u64().unwrap_or(0);
        let phase = sighting.rollout["phase"].as_str().unwrap_or("").to_string();
        match out.last_mut() {
            Some(last) if last.weight == weight => last.until = sighting.at,
            _ => out.push(Stretch {
                weight,
                phase,
                from: sighting.at,
                until: sighting.at,
            }),
        }
    }
    out
}

/// The share of responses from `app` among those sent and received within
/// [`from`, `until`], and their number.
pub fn share(responses: &[Response], app: &str, from: Instant, until: Instant) -> (f64, usize) {
    let within: Vec<&Response> = responses
        .iter()
        .filter(|r| r.sent >= from && r.received <= until)
        .collect();
    let hits = within
        .iter()
        .filter(|r| r.app.as_deref() == Some(app))
        .count();
    (hits as f64 / within.len().max(1) as f64, within.len())
}
