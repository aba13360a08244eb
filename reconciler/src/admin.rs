//! The reconciler's admin HTTP listener: status for `meshcd status`, `sync`, `suspend`
//! and `resume` for the CLI, and health probes.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::{Mutex, mpsc};

use crate::control::mesh::Mesh;
use crate::reconcile::{SourceStatus, Trigger};

#[derive(Clone)]
pub struct Admin {
    pub mesh: Arc<Mesh>,
    pub status: Arc<Mutex<SourceStatus>>,
    pub triggers: mpsc::Sender<Trigger>,
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
    })
}

async fn handle(
    admin: Admin,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = match (request.method(), request.uri().path()) {
        (&Method::GET, "/status") => json(StatusCode::OK, &status_document(&admin).await),
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
        (_, "/status" | "/healthz" | "/livez" | "/readyz" | "/sync" | "/suspend" | "/resume") => {
            text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    };
    Ok(response)
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
pub async fn serve(listener: tokio::net::TcpListener, admin: Admin) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let admin = admin.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| handle(admin.clone(), request));
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
