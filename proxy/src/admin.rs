//! The admin listener: `/metrics` (Prometheus text), `/ready` (200 once a snapshot is in
//! force), `/live`, and `/config` (the snapshot in force as protobuf JSON, its version,
//! and the local TCP listeners).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use crate::accept::Acceptor;
use crate::metrics::Metrics;
use crate::outbound::tcp::TcpListeners;
use crate::shutdown::Drain;
use crate::snapshot::SnapshotStore;

pub struct Admin {
    pub snapshots: Arc<SnapshotStore>,
    pub metrics: Arc<Metrics>,
    pub tcp: Arc<TcpListeners>,
}

pub async fn serve(mut acceptor: Acceptor, admin: Arc<Admin>, mut drain: Drain) {
    loop {
        let (stream, slot) = tokio::select! {
            accepted = acceptor.accept() => accepted,
            () = drain.signaled() => return,
        };
        let admin = admin.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let admin = admin.clone();
                async move { Ok::<_, Infallible>(handle(&admin, &request)) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
            drop(slot);
        });
    }
}

fn handle(admin: &Admin, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "GET only\n");
    }
    match request.uri().path() {
        "/metrics" => respond(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            admin.metrics.encode(),
        ),
        "/live" => text(StatusCode::OK, "live\n"),
        "/ready" => match admin.snapshots.current() {
            Some(snapshot) => text(
                StatusCode::OK,
                format!("ready: snapshot {}\n", snapshot.version),
            ),
            None => text(
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: no snapshot loaded\n",
            ),
        },
        "/config" => {
            let snapshot = admin.snapshots.current();
            let body = serde_json::json!({
                "version": snapshot.as_ref().map(|s| s.version.to_string()),
                "snapshot": snapshot.as_ref().map(|s| s.config_json.clone()),
                "tcp": admin.tcp.addresses(),
            });
            respond(StatusCode::OK, "application/json", body.to_string())
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found; try /metrics, /ready, /live or /config\n",
        ),
    }
}

fn text(status: StatusCode, body: impl Into<String>) -> Response<Full<Bytes>> {
    respond(status, "text/plain; charset=utf-8", body.into())
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
