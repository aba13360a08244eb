//! The reconciler's admin HTTP listener: status for `meshcd status`, `sync`, `suspend`
//! and `resume` for the CLI, canary commands, the push webhook, Prometheus metrics, and
//! health probes. Probes, metrics and the (signed) webhook are open; every other route
//! needs a bearer token (see `auth` for which, and `gate` for how it is decided).

pub mod auth;
pub mod cluster_auth;
#[cfg(test)]
mod cluster_tests;
mod commands;
pub mod gate;
pub mod metrics;
pub mod status;
pub mod token_file;
mod webhook;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::sync::{Mutex, mpsc};

use crate::control::mesh::Mesh;
use crate::reconcile::{SourceStatus, Trigger};
pub use gate::Authenticator;
pub use status::{StatusDocument, status_document};
pub use webhook::Webhook;

#[derive(Clone)]
pub struct Admin {
    pub mesh: Arc<Mesh>,
    pub status: Arc<Mutex<SourceStatus>>,
    pub triggers: mpsc::Sender<Trigger>,
    /// What the admin listener refused.
    pub refusals: metrics::AdminMetrics,
    /// The whole `/metrics` exposition, composed where the reconciler is assembled.
    pub exposition: Arc<dyn Fn() -> String + Send + Sync>,
    /// `POST /webhook` exists only when a secret is configured.
    pub webhook: Option<Arc<Webhook>>,
    /// What was applied to the cluster, in Kubernetes mode.
    pub kubernetes: Option<Arc<Mutex<crate::kubernetes::sync::KubernetesStatus>>>,
    pub canaries: Arc<crate::canary::controller::CanaryController>,
    /// Decides on the bearer token of every protected route.
    pub authenticator: Authenticator,
    /// When the mesh CA expires, seconds since the epoch (for `meshcd check`).
    pub ca_not_after: Option<i64>,
}

async fn handle(
    admin: Admin,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if let auth::Guard::Protected(action) = auth::guard(request.method(), request.uri().path())
        && let Err(refusal) = admin.authenticator.admit(request.headers(), &action).await
    {
        // The reason and the route, never the token.
        tracing::info!(
            reason = refusal.reason.as_str(),
            method = %request.method(),
            path = request.uri().path(),
            "admin request refused"
        );
        admin.refusals.refused(refusal.reason);
        return Ok(gate::refused(&refusal));
    }
    Ok(route(admin, request).await)
}

/// Dispatches a request that [`handle`] admitted.
async fn route(admin: Admin, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    match (&method, path.as_str()) {
        (&Method::GET, "/status") => json(StatusCode::OK, &status_document(&admin).await),
        (&Method::GET, "/traffic") => match commands::traffic_window(request.uri().query()) {
            Ok(window) => json(StatusCode::OK, &commands::traffic_document(&admin, window)),
            Err(message) => text(StatusCode::BAD_REQUEST, format!("{message}\n")),
        },
        (&Method::GET, "/metrics") => {
            let mut response = Response::new(Full::new(Bytes::from((admin.exposition)())));
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            );
            response
        }
        (&Method::POST, "/webhook") => match admin.webhook.clone() {
            Some(hook) => webhook::receive_webhook(&admin, &hook, request).await,
            None => text(
                StatusCode::NOT_FOUND,
                "no webhook configured: start meshcd with --webhook-secret-file or --webhook-secret-env\n",
            ),
        },
        (&Method::POST, canary) if canary.starts_with("/canaries/") => {
            commands::canary_command(&admin, canary).await
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
        (_, path)
            if auth::OPEN_PATHS.contains(&path)
                || auth::PROTECTED_PATHS.contains(&path)
                || path == "/webhook" =>
        {
            text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// A plain-text answer: a `&'static str` is sent without a copy, a `String` as it is.
pub(crate) fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

fn json(status: StatusCode, value: &impl serde::Serialize) -> Response<Full<Bytes>> {
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

/// How long a connection may take to send a request's head, counted from when the
/// listener starts waiting for it (also between keep-alive requests). The CLI's `top`
/// polls every 2 s; probes and scrapes send their request at once.
const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// Serves until the task is dropped.
pub async fn serve(mut acceptor: crate::accept::Acceptor, admin: Admin) {
    loop {
        // Within the connection cap, pausing when accepting fails (accept.rs).
        let stream = acceptor.accept().await;
        let admin = admin.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| handle(admin.clone(), request));
            let mut builder =
                hyper_util::server::conn::auto::Builder::new(TokioExecutor::new()).http1_only();
            // HTTP/1.1 only, so that the header timer runs from the first byte awaited: a
            // client that never finishes a request (or idles past it between requests) gives
            // its slot of `--max-connections` back instead of holding it forever.
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT);
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
