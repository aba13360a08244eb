//! The reconciler's admin HTTP listener: status for `meshcd status`, `sync`, `suspend`
//! and `resume` for the CLI, the push webhook, Prometheus metrics, and health probes.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::{Mutex, mpsc};

use crate::control::mesh::Mesh;
use crate::metrics::Metrics;
use crate::reconcile::{SourceStatus, Trigger};
use crate::source::credentials::Secret;
use crate::source::git::Reference;
use crate::source::webhook;

/// GitHub sends at most 25 MB; a push payload is far smaller, and nothing more is read.
const WEBHOOK_BODY_LIMIT: usize = 25 * 1024 * 1024;

#[derive(Clone)]
pub struct Admin {
    pub mesh: Arc<Mesh>,
    pub status: Arc<Mutex<SourceStatus>>,
    pub triggers: mpsc::Sender<Trigger>,
    pub metrics: Arc<Metrics>,
    /// `POST /webhook` exists only when a secret is configured.
    pub webhook: Option<Arc<Webhook>>,
    /// What was applied to the cluster, in Kubernetes mode.
    pub kubernetes: Option<Arc<Mutex<crate::kubernetes::sync::KubernetesStatus>>>,
    pub canaries: Arc<crate::canary::controller::CanaryController>,
}

/// What the webhook needs: the secret senders sign with, and what the reconciler follows.
pub struct Webhook {
    pub secret: Secret,
    pub reference: Reference,
}

/// The JSON document of `GET /status`.
pub async fn status_document(admin: &Admin) -> serde_json::Value {
    let source = admin.status.lock().await.clone();
    serde_json::json!({
        "version": crate::VERSION,
        "commit": crate::GIT_COMMIT,
        "source": source,
        "proxies": admin.mesh.proxies().await,
        "warnings": admin.mesh.warnings().await,
        "workloadsWithoutPolicy": admin.mesh.unreachable_workloads().await,
        "canaries": admin.canaries.rollouts().await,
        "kubernetes": match &admin.kubernetes {
            Some(status) => serde_json::to_value(&*status.lock().await).unwrap_or_default(),
            None => serde_json::Value::Null,
        },
    })
}

/// `POST /canaries/<namespace>/<name>/<promote|abort|pause|resume>`.
async fn canary_command(admin: &Admin, path: &str) -> Response<Full<Bytes>> {
    use crate::canary::controller::Command;
    let parts: Vec<&str> = path.trim_start_matches("/canaries/").split('/').collect();
    let [namespace, name, action] = parts.as_slice() else {
        return text(
            StatusCode::NOT_FOUND,
            "use /canaries/<namespace>/<name>/<promote|abort|pause|resume>\n",
        );
    };
    let command = match *action {
        "promote" => Command::Promote,
        "abort" => Command::Abort,
        "pause" => Command::Pause,
        "resume" => Command::Resume,
        _ => {
            return text(
                StatusCode::NOT_FOUND,
                "the action is promote, abort, pause or resume\n",
            );
        }
    };
    match admin.canaries.command(namespace, name, command).await {
        Ok(message) => owned_text(StatusCode::OK, format!("{message}\n")),
        Err(message) => owned_text(StatusCode::CONFLICT, format!("{message}\n")),
    }
}

/// The default window of `GET /traffic`: long enough to smooth one-second reports.
const TRAFFIC_WINDOW: std::time::Duration = std::time::Duration::from_secs(10);
/// Reports are kept ten minutes; a longer window would silently mean the same thing.
const TRAFFIC_WINDOW_MAX: std::time::Duration = std::time::Duration::from_secs(600);

/// `?window=SECONDS`, default [`TRAFFIC_WINDOW`].
fn traffic_window(query: Option<&str>) -> Result<std::time::Duration, String> {
    let Some(value) = query
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("window="))
    else {
        return Ok(TRAFFIC_WINDOW);
    };
    let seconds: u64 = value
        .parse()
        .map_err(|_| format!("window={value}: expected whole seconds, e.g. window=30"))?;
    let window = std::time::Duration::from_secs(seconds);
    if seconds == 0 || window > TRAFFIC_WINDOW_MAX {
        return Err(format!(
            "window={value}: must be between 1 and {} seconds",
            TRAFFIC_WINDOW_MAX.as_secs()
        ));
    }
    Ok(window)
}

/// The JSON document of `GET /traffic`: calls per (caller identity, backend) over a window.
pub fn traffic_document(admin: &Admin, window: std::time::Duration) -> serde_json::Value {
    serde_json::to_value(crate::control::traffic::TrafficDocument {
        window_seconds: window.as_secs(),
        edges: admin.mesh.traffic.edges(window),
    })
    .unwrap_or_default()
}

async fn handle(
    admin: Admin,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = match (&method, path.as_str()) {
        (&Method::GET, "/status") => json(StatusCode::OK, &status_document(&admin).await),
        (&Method::GET, "/traffic") => match traffic_window(request.uri().query()) {
            Ok(window) => json(StatusCode::OK, &traffic_document(&admin, window)),
            Err(message) => owned_text(StatusCode::BAD_REQUEST, format!("{message}\n")),
        },
        (&Method::GET, "/metrics") => {
            let mut response = Response::new(Full::new(Bytes::from(admin.metrics.encode())));
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            );
            response
        }
        (&Method::POST, "/webhook") => match admin.webhook.clone() {
            Some(hook) => receive_webhook(&admin, &hook, request).await,
            None => text(
                StatusCode::NOT_FOUND,
                "no webhook configured: start meshcd with --webhook-secret-file or --webhook-secret-env\n",
            ),
        },
        (&Method::POST, canary) if canary.starts_with("/canaries/") => {
            canary_command(&admin, canary).await
        }
        (&Method::GET, "/healthz") | (&Method::GET, "/livez") => text(StatusCode::OK, "ok\n"),
        (&Method::GET, "/readyz") => match admin.mesh.applied().await {
            Some(_) => text(StatusCode::OK, "ready\n"),
            None => text(
                StatusCode::SERVICE_UNAVAILABLE,
                "no valid revision applied yet\n",
            ),
        },
        (&Method::POST, "/sync") => {
            let _ = admin.triggers.try_send(Trigger::Sync);
            text(StatusCode::ACCEPTED, "sync requested\n")
        }
        (&Method::POST, "/suspend") => {
            admin.status.lock().await.suspended = true;
            text(
                StatusCode::OK,
                "suspended: new revisions are validated but not applied\n",
            )
        }
        (&Method::POST, "/resume") => {
            admin.status.lock().await.suspended = false;
            let _ = admin.triggers.try_send(Trigger::Resume);
            text(StatusCode::OK, "resumed\n")
        }
        (
            _,
            "/status" | "/traffic" | "/healthz" | "/livez" | "/readyz" | "/sync" | "/suspend"
            | "/resume" | "/metrics" | "/webhook",
        ) => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    };
    Ok(response)
}

/// Verifies the signature over the raw body first; only a signed delivery is read.
async fn receive_webhook(
    admin: &Admin,
    hook: &Webhook,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, WEBHOOK_BODY_LIMIT).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "payload too large\n"),
    };
    let signature = parts
        .headers
        .get(webhook::SIGNATURE_HEADER)
        .map(|value| value.as_bytes());
    if let Err(error) = webhook::verify(hook.secret.expose().as_bytes(), signature, &body) {
        tracing::warn!(%error, "webhook delivery refused");
        let code = match error {
            webhook::WebhookError::Unsigned => StatusCode::UNAUTHORIZED,
            _ => StatusCode::FORBIDDEN,
        };
        return owned_text(code, format!("refused: {error}\n"));
    }
    let event = parts
        .headers
        .get(webhook::EVENT_HEADER)
        .and_then(|value| value.to_str().ok());
    match webhook::parse(event, &body) {
        Ok(webhook::Event::Ping) => text(StatusCode::OK, "pong\n"),
        Ok(webhook::Event::Other(name)) => {
            owned_text(StatusCode::OK, format!("ignored: {name} event\n"))
        }
        Ok(webhook::Event::Push { reference }) => {
            let followed = admin.status.lock().await.followed.clone();
            if webhook::concerns(&hook.reference, followed.as_deref(), &reference) {
                tracing::info!(pushed = %reference, "webhook: push received; fetching");
                // A full channel already holds a pending trigger: nothing is lost.
                let _ = admin.triggers.try_send(Trigger::Webhook);
                owned_text(
                    StatusCode::ACCEPTED,
                    format!("sync requested: push to {reference}\n"),
                )
            } else {
                owned_text(
                    StatusCode::OK,
                    format!("ignored: push to {reference}, which is not followed\n"),
                )
            }
        }
        Err(error) => owned_text(StatusCode::BAD_REQUEST, format!("{error}\n")),
    }
}

fn owned_text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(
        serde_json::to_vec_pretty(value).unwrap_or_default(),
    )));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// Serves until the task is dropped.
pub async fn serve(mut acceptor: crate::accept::Acceptor, admin: Admin) {
    loop {
        // Within the connection cap, pausing when accepting fails (accept.rs).
        let stream = acceptor.accept().await;
        let admin = admin.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| handle(admin.clone(), request));
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
