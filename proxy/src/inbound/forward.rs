//! One HTTP request from a peer (or a plaintext client in permissive mTLS): admitted
//! (`admit`), then forwarded to the local app and answered, with metrics and access log.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use http::header::HeaderValue;
use http::{Request, Response, StatusCode, Uri};
use hyper::body::Incoming;
use tokio::net::TcpStream;

use super::Inbound;
use super::access_log::log;
use super::admit::{Admission, Admitted, Exchange, admit};
use super::app_direct::{DirectError, Prepared};
use super::app_pool::AppError;
use super::app_request::{for_app, keep_host, origin_form};
use super::body::{self, InboundBody};
use super::caller::Caller;
use crate::http::headers;
use crate::http::hop::{APP_UNAVAILABLE, PROXY_ERROR_HEADER};
use crate::http::respond;
use crate::http::upgrade;
use crate::snapshot::{InboundPort, Snapshot};

/// Handles one request. Everything that needs no waiting (routing, authorization, and for
/// a request without a body the whole head the app will get) happens before the returned
/// future is first polled: hyper reads from the caller's connection again before it polls
/// that future, and a request still holding the head it parsed would make it allocate a
/// new read buffer each time.
pub fn handle(
    inbound: Arc<Inbound>,
    caller: Arc<Caller>,
    request: Request<Incoming>,
) -> impl Future<Output = Result<Response<InboundBody>, Infallible>> + Send {
    let start = Instant::now();
    let admitted = admit(&inbound, &caller, request, start);
    async move {
        let admitted = match admitted {
            Admission::Forward(admitted) => admitted,
            Admission::Answer(response) => return Ok(response),
        };
        let Admitted {
            service,
            route,
            metrics,
            app,
            exchange,
            logged,
        } = admitted;
        let response = match exchange {
            Exchange::Direct(prepared) => direct(&inbound, &app, &prepared).await,
            Exchange::Pooled { http2, request } => to_app(&inbound, &app, http2, *request).await,
            Exchange::Upgrade { snapshot, request } => {
                to_app_upgrade(&inbound, &snapshot, &app, *request, caller.clone()).await
            }
        };
        metrics.response(response.status(), start.elapsed());
        if let Some((method, uri)) = &logged {
            let peer = &caller.peer;
            log(
                &inbound,
                peer,
                &service,
                &route,
                (method, uri),
                &response,
                start,
            );
        }
        Ok(response)
    }
}

/// A request without a body, to the app over `app_direct`; the response's hop-by-hop
/// headers are left out as it is read.
async fn direct(
    inbound: &Inbound,
    app: &InboundPort,
    prepared: &Prepared,
) -> Response<InboundBody> {
    match inbound.apps.direct.send(&app.app_address, prepared).await {
        Ok(response) => body::from_app_direct(response),
        Err(error @ DirectError::Connect(_)) => app_unavailable(app, &error),
        Err(error) => app_failed(app, &error),
    }
}

async fn to_app(
    inbound: &Inbound,
    app: &InboundPort,
    http2: bool,
    mut request: Request<Incoming>,
) -> Response<InboundBody> {
    let response = if http2 {
        for_app(app, true, &mut request);
        match inbound.apps.http2.request(request).await {
            Ok(response) => body::from_hyper(response),
            Err(error) if error.is_connect() => return app_unavailable(app, &error),
            Err(error) => return app_failed(app, &error),
        }
    } else {
        origin_form(app, &mut request);
        match inbound.apps.http1.send(&app.app_address, request).await {
            Ok(response) => body::from_app(response),
            Err(error @ AppError::Connect(_)) => return app_unavailable(app, &error),
            Err(AppError::Request(error)) => return app_failed(app, &error),
        }
    };
    let mut response = response;
    headers::strip_hop_by_hop(response.headers_mut());
    response
}

fn app_failed(
    app: &InboundPort,
    error: &(dyn std::error::Error + 'static),
) -> Response<InboundBody> {
    respond::text(
        StatusCode::BAD_GATEWAY,
        format!(
            "app {} of service port {} failed: {}",
            app.app_address,
            app.service_port,
            meshcd_support::error_chain(error)
        ),
    )
}

fn app_unavailable(app: &InboundPort, error: &dyn std::fmt::Display) -> Response<InboundBody> {
    let mut response = respond::text(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "app {} of service port {} is unavailable: {error}",
            app.app_address, app.service_port
        ),
    );
    response.headers_mut().insert(
        &PROXY_ERROR_HEADER,
        HeaderValue::from_static(APP_UNAVAILABLE),
    );
    response
}

async fn to_app_upgrade(
    inbound: &Inbound,
    snapshot: &Snapshot,
    app: &InboundPort,
    mut request: Request<Incoming>,
    caller: Arc<Caller>,
) -> Response<InboundBody> {
    let timeout = snapshot.connect_timeout(inbound.connect_timeout);
    let stream = match tokio::time::timeout(timeout, TcpStream::connect(&*app.app_address)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => return app_unavailable(app, &error),
        Err(_) => return app_unavailable(app, &format!("no answer within {timeout:?}")),
    };
    let _ = stream.set_nodelay(true);
    if let Some(path) = request.uri().path_and_query().cloned()
        && request.uri().authority().is_some()
    {
        keep_host(&mut request);
        *request.uri_mut() = Uri::from(path);
    }
    match upgrade::forward(stream, request, caller).await {
        Ok(response) => body::from_hyper(response),
        Err(error) => respond::text(
            StatusCode::BAD_GATEWAY,
            format!(
                "app {} upgrade failed: {}",
                app.app_address,
                meshcd_support::error_chain(&error)
            ),
        ),
    }
}
