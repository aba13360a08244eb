//! Concurrent request load through a client, with a tally of what clients saw: statuses,
//! errors, which app answered and over which of its connections.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::Request;
use http_body_util::Full;

use crate::http::{Client, Connection};

/// Makes each request of a load (a request is consumed by sending it).
pub type RequestFactory = Arc<dyn Fn() -> Request<Full<Bytes>> + Send + Sync>;

/// How many error messages a report keeps verbatim.
const KEPT_ERRORS: usize = 20;

/// What the clients of a load saw.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    /// Requests that got a response or an error.
    pub completed: u64,
    /// Responses by status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no response at all (connection errors, timeouts).
    pub errors: u64,
    /// The first few error messages.
    pub error_messages: Vec<String>,
    /// Successful responses by the name of the app that sent them.
    pub by_app: BTreeMap<String, u64>,
    /// Per app, the connection numbers it reported (how many upstream connections served
    /// the load).
    pub app_connections: BTreeMap<String, BTreeSet<u64>>,
}

impl LoadReport {
    /// Requests answered with a status other than 2xx, or not answered.
    pub fn failures(&self) -> u64 {
        self.errors
            + self
                .statuses
                .iter()
                .filter(|(status, _)| !(200..300).contains(*status))
                .map(|(_, count)| count)
                .sum::<u64>()
    }

    /// Share of successful responses sent by `app`, in percent.
    pub fn percent_from(&self, app: &str) -> f64 {
        let total: u64 = self.by_app.values().sum();
        if total == 0 {
            return 0.0;
        }
        100.0 * *self.by_app.get(app).unwrap_or(&0) as f64 / total as f64
    }

    /// The highest connection number `app` reported: how many connections it accepted
    /// by the time of its last reply.
    pub fn connections_accepted_by(&self, app: &str) -> u64 {
        self.app_connections
            .get(app)
            .and_then(|numbers| numbers.last().copied())
            .unwrap_or(0)
    }

    fn record(&mut self, outcome: anyhow::Result<crate::http::Response>) {
        self.completed += 1;
        match outcome {
            Ok(response) => {
                *self.statuses.entry(response.status.as_u16()).or_default() += 1;
                if response.status.is_success() {
                    if let Ok(reply) = response.app() {
                        *self.by_app.entry(reply.name.clone()).or_default() += 1;
                        self.app_connections
                            .entry(reply.name)
                            .or_default()
                            .insert(reply.connection);
                    }
                } else if self.error_messages.len() < KEPT_ERRORS {
                    self.error_messages
                        .push(format!("{}: {}", response.status, response.text()));
                }
            }
            Err(error) => {
                self.errors += 1;
                if self.error_messages.len() < KEPT_ERRORS {
                    self.error_messages.push(format!("{error:#}"));
                }
            }
        }
    }
}

/// Sends `total` requests over `concurrency` persistent HTTP/1.1 connections and reports.
pub async fn run(
    client: Client,
    make_request: RequestFactory,
    total: u64,
    concurrency: usize,
) -> LoadReport {
    let remaining = Arc::new(AtomicU64::new(total));
    let report = Arc::new(Mutex::new(LoadReport::default()));
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let remaining = remaining.clone();
            let next = move || {
                remaining
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                        left.checked_sub(1)
                    })
                    .is_ok()
            };
            tokio::spawn(worker(client, make_request.clone(), next, report.clone()))
        })
        .collect();
    finish(workers, &report).await
}

/// Load that runs until stopped: `concurrency` clients each sending one request after
/// another.
pub struct Load {
    stop: Arc<AtomicBool>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    report: Arc<Mutex<LoadReport>>,
}

impl Load {
    /// Starts the clients.
    pub fn start(client: Client, make_request: RequestFactory, concurrency: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let report = Arc::new(Mutex::new(LoadReport::default()));
        let workers = (0..concurrency)
            .map(|_| {
                let stop = stop.clone();
                let next = move || !stop.load(Ordering::SeqCst);
                tokio::spawn(worker(client, make_request.clone(), next, report.clone()))
            })
            .collect();
        Self {
            stop,
            workers,
            report,
        }
    }

    /// What the clients saw so far.
    pub fn report(&self) -> LoadReport {
        lock(&self.report).clone()
    }

    /// Lets every client finish its current request, then reports.
    pub async fn stop(self) -> LoadReport {
        self.stop.store(true, Ordering::SeqCst);
        finish(self.workers, &self.report).await
    }
}

async fn finish(
    workers: Vec<tokio::task::JoinHandle<()>>,
    report: &Mutex<LoadReport>,
) -> LoadReport {
    for worker in workers {
        if let Err(error) = worker.await {
            let mut report = lock(report);
            report.errors += 1;
            report
                .error_messages
                .push(format!("load client failed: {error}"));
        }
    }
    lock(report).clone()
}

fn lock(report: &Mutex<LoadReport>) -> std::sync::MutexGuard<'_, LoadReport> {
    report
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One client: a persistent connection, re-opened only after it failed or the server
/// closed it (each failure is counted: an app would have seen it).
async fn worker(
    client: Client,
    make_request: RequestFactory,
    mut next: impl FnMut() -> bool,
    report: Arc<Mutex<LoadReport>>,
) {
    let mut connection: Option<Connection> = None;
    while next() {
        if connection.as_ref().is_none_or(|open| !open.is_open()) {
            connection = None;
            match client.connect().await {
                Ok(opened) => connection = Some(opened),
                Err(error) => {
                    lock(&report).record(Err(error.context("open client connection")));
                    continue;
                }
            }
        }
        let Some(open) = connection.as_mut() else {
            continue;
        };
        let outcome = open.send(make_request()).await;
        if outcome.is_err() {
            connection = None;
        }
        lock(&report).record(outcome);
    }
}
