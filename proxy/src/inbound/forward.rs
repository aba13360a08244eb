//! One HTTP request from a peer (or a plaintext client in permissive mTLS): find the
//! service port it is for, authorize it, and forward it to the local app.

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Instant;

use http::header::{HOST, HeaderValue};
use http::uri::{PathAndQuery, Scheme};
use http::{Method, Request, Response, StatusCode, Uri, Version};
use hyper::body::{Body, Incoming};
use tokio::net::TcpStream;

use super::app_direct::{DirectError, Prepared};
use super::app_pool::AppError;
use super::authorize::{self, Call, Decision};
use super::body::{self, InboundBody};
use super::{Inbound, Peer};
use crate::accept::Slot;
use crate::http::access_log::HttpEntry;
use crate::http::headers;
use crate::http::hop::{self, APP_UNAVAILABLE, DESTINATION_HEADER, PROXY_ERROR_HEADER};
use crate::http::path::{self, PathError};
use crate::http::respond;
use crate::http::upgrade;
use crate::metrics::{Direction, RouteLabels, RouteMetrics};
use crate::snapshot::{InboundPort, Protocol, Snapshot};

/// The route label of requests admitted without an HTTP match (shared: no allocation per
/// request).
static NO_ROUTE: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(""));

/// One inbound connection's caller, and the metric handles of the route its last request
/// took: a connection's requests nearly always take the same route, and the handles are
/// then found without hashing the five labels in the shared map.
pub struct Caller {
    pub peer: Peer,
    last_route: Mutex<Option<LastRoute>>,
    /// The connection's place under the listener's cap; an upgraded stream outlives the
    /// HTTP connection, so it holds the caller until it ends.
    _slot: Slot,
}

struct LastRoute {
    service: Arc<str>,
    route: Arc<str>,
    metrics: Arc<RouteMetrics>,
}

impl Caller {
    pub fn new(peer: Peer, slot: Slot) -> Arc<Self> {
        Arc::new(Self {
            peer,
            last_route: Mutex::new(None),
            _slot: slot,
        })
    }

    fn route_metrics(
        &self,
        inbound: &Inbound,
        service: &Arc<str>,
        route: &Arc<str>,
    ) -> Arc<RouteMetrics> {
        let mut last = self.last_route.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(last) = &*last
            && last.service == *service
            && last.route == *route
        {
            return last.metrics.clone();
        }
        let metrics = inbound.metrics.route(RouteLabels {
            direction: Direction::Inbound,
            source: self.peer.identity.clone(),
            destination: service.clone(),
            backend: service.clone(),
            route: route.clone(),
        });
        *last = Some(LastRoute {
            service: service.clone(),
            route: route.clone(),
            metrics: metrics.clone(),
        });
        metrics
    }
}

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

/// A request that is authorized and on its way to the app.
struct Admitted {
    service: Arc<str>,
    route: Arc<str>,
    metrics: Arc<RouteMetrics>,
    app: InboundPort,
    exchange: Exchange,
    /// Method and URI for the access log, when there is one.
    logged: Option<(Method, Uri)>,
}

/// How the request reaches the app.
enum Exchange {
    /// No body: its head, ready to write (`app_direct`).
    Direct(Prepared),
    /// A body to stream, or HTTP/2 to the app (gRPC): hyper's clients. Boxed, like the
    /// upgrade: the common case should not move a whole request around.
    Pooled {
        http2: bool,
        request: Box<Request<Incoming>>,
    },
    Upgrade {
        snapshot: Arc<Snapshot>,
        request: Box<Request<Incoming>>,
    },
}

/// What becomes of a request: on to the app, or answered by the proxy.
enum Admission {
    Forward(Admitted),
    Answer(Response<InboundBody>),
}

/// Routes and authorizes the request.
fn admit(
    inbound: &Inbound,
    caller: &Caller,
    mut request: Request<Incoming>,
    start: Instant,
) -> Admission {
    let peer = &caller.peer;
    let Some(snapshot) = inbound.snapshots.current() else {
        return Admission::Answer(respond::text(
            StatusCode::SERVICE_UNAVAILABLE,
            "meshcd-proxy has no snapshot loaded yet",
        ));
    };
    let target = target(&snapshot, &request);
    let Some((port, http2, service)) = target else {
        return Admission::Answer(respond::text(
            StatusCode::NOT_FOUND,
            format!(
                "this workload ({}) serves no such port; send {} or a Host with one of its ports",
                snapshot.workload.identity,
                DESTINATION_HEADER.as_str()
            ),
        ));
    };
    let Some(app) = snapshot
        .inbound_port(port)
        .filter(|app| app.protocol == Protocol::Http)
    else {
        return Admission::Answer(respond::text(
            StatusCode::NOT_FOUND,
            format!(
                "this workload ({}) serves no HTTP on service port {port}",
                snapshot.workload.identity
            ),
        ));
    };

    // Rules and app see one path: the normalised one replaces what the caller sent.
    if let Err(error) = normalize_path(&snapshot, &mut request) {
        return refuse_path(inbound, peer, &service, &request, error, start);
    }
    let decision = authorize::authorize(
        &snapshot,
        &peer.identity,
        &Call::Http {
            port,
            method: request.method(),
            path: request.uri().path(),
            headers: request.headers(),
        },
    );
    let route: Arc<str> = match decision {
        Decision::Allow { route } => route.unwrap_or_else(|| NO_ROUTE.clone()),
        Decision::Deny(denial) => {
            inbound.metrics.denied(&peer.identity, "http");
            tracing::info!(%denial, "inbound request denied");
            let response = respond::text(StatusCode::FORBIDDEN, denial.to_string());
            log(
                inbound,
                peer,
                &service,
                "",
                (request.method(), request.uri()),
                &response,
                start,
            );
            return Admission::Answer(response);
        }
    };
    let metrics = caller.route_metrics(inbound, &service, &route);
    metrics.request();
    let logged = inbound
        .access_log
        .map(|_| (request.method().clone(), request.uri().clone()));

    request.headers_mut().remove(&DESTINATION_HEADER);
    if request.version() == Version::HTTP_2 && !http2 {
        headers::join_cookies(request.headers_mut());
    }
    let exchange = if headers::is_upgrade(&request) {
        Exchange::Upgrade {
            snapshot: snapshot.clone(),
            request: Box::new(request),
        }
    } else {
        headers::strip_hop_by_hop(request.headers_mut());
        if !http2 && request.body().is_end_stream() && request.method() != Method::CONNECT {
            origin_form(app, &mut request);
            Exchange::Direct(Prepared::new(&request))
        } else {
            Exchange::Pooled {
                http2,
                request: Box::new(request),
            }
        }
    };
    Admission::Forward(Admitted {
        service,
        route,
        metrics,
        app: app.clone(),
        exchange,
        logged,
    })
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

/// The 400 for a path the mesh's path normalisation refuses; out of line, as it is rare.
#[cold]
#[inline(never)]
fn refuse_path(
    inbound: &Inbound,
    peer: &Peer,
    service: &str,
    request: &Request<Incoming>,
    error: PathError,
    start: Instant,
) -> Admission {
    tracing::info!(error = %meshcd_support::error_chain(&error), source = %peer.identity, "inbound request with a refused path");
    let response = respond::text(StatusCode::BAD_REQUEST, error.to_string());
    log(
        inbound,
        peer,
        service,
        "",
        (request.method(), request.uri()),
        &response,
        start,
    );
    Admission::Answer(response)
}

/// Replaces the request's path by its normal form under the mesh's path normalisation
/// (the query is kept as sent). Untouched, without allocating, when it is already normal.
#[inline]
fn normalize_path<B>(snapshot: &Snapshot, request: &mut Request<B>) -> Result<(), PathError> {
    let mode = snapshot.mesh.path_normalization;
    match path::normalize(request.method(), request.uri().path(), mode)? {
        Cow::Borrowed(_) => Ok(()),
        Cow::Owned(normal) => set_path(request, normal),
    }
}

#[inline(never)]
fn set_path<B>(request: &mut Request<B>, normal: String) -> Result<(), PathError> {
    let mut target = normal;
    if let Some(query) = request.uri().query() {
        target.push('?');
        target.push_str(query);
    }
    let mut parts = request.uri().clone().into_parts();
    parts.path_and_query =
        Some(PathAndQuery::try_from(target).map_err(|_| PathError::MalformedPercent)?);
    *request.uri_mut() = Uri::from_parts(parts).map_err(|_| PathError::MalformedPercent)?;
    Ok(())
}

/// (service port, app needs HTTP/2, service name) from the destination header; for
/// plaintext clients without it, the Host's port, else port 80, else the workload's only
/// HTTP port (the same defaults as the outbound side's Host routing).
fn target<B>(snapshot: &Snapshot, request: &Request<B>) -> Option<(u16, bool, Arc<str>)> {
    let workload = &snapshot.workload;
    let service_named = |name: &str| -> Arc<str> {
        workload
            .services
            .iter()
            .find(|s| &***s == name)
            .cloned()
            .unwrap_or_else(|| Arc::from(name))
    };
    if let Some(value) = request.headers().get(&DESTINATION_HEADER) {
        let destination = hop::parse_destination(value.as_bytes())?;
        return Some((
            destination.port,
            destination.http2,
            service_named(destination.service),
        ));
    }
    let default_service = || {
        workload
            .services
            .first()
            .cloned()
            .unwrap_or_else(|| workload.identity.clone())
    };
    let host_port = request
        .uri()
        .authority()
        .map(|a| a.as_str())
        .or_else(|| request.headers().get(HOST).and_then(|h| h.to_str().ok()))
        .and_then(port_of)
        .filter(|port| snapshot.inbound_port(*port).is_some());
    let port = host_port.or_else(|| {
        let mut http = workload
            .ports
            .iter()
            .filter(|p| p.protocol == Protocol::Http);
        if http.clone().any(|p| p.service_port == 80) {
            return Some(80);
        }
        match (http.next(), http.next()) {
            (Some(only), None) => Some(only.service_port),
            _ => None,
        }
    })?;
    Some((port, headers::is_grpc(request), default_service()))
}

/// The port an authority (`host:port`, `[v6]:port`) names; the host does not matter here.
fn port_of(authority: &str) -> Option<u16> {
    authority.rsplit_once(':')?.1.parse().ok()
}

/// The request as the app gets it: origin-form path on the app's address, the caller's
/// Host kept (taken from `:authority` when the caller spoke HTTP/2).
fn for_app(app: &InboundPort, http2: bool, request: &mut Request<Incoming>) {
    keep_host(request);
    let path = request
        .uri()
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let mut parts = http::uri::Parts::default();
    parts.scheme = Some(Scheme::HTTP);
    parts.authority = Some(app.app_authority.clone());
    parts.path_and_query = Some(path);
    if let Ok(uri) = Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
    *request.version_mut() = if http2 {
        Version::HTTP_2
    } else {
        Version::HTTP_11
    };
}

/// An HTTP/2 caller names the host in `:authority` only; the app gets it as `Host`.
fn keep_host<B>(request: &mut Request<B>) {
    if !request.headers().contains_key(HOST)
        && let Some(authority) = request.uri().authority()
        && let Ok(host) = HeaderValue::from_str(authority.as_str())
    {
        request.headers_mut().insert(HOST, host);
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

/// The request as the app gets it over HTTP/1.1: origin-form path, and the caller's Host
/// (from `:authority` when the caller spoke HTTP/2; the app's address when it named none).
fn origin_form(app: &InboundPort, request: &mut Request<Incoming>) {
    keep_host(request);
    if !request.headers().contains_key(HOST)
        && let Ok(host) = HeaderValue::from_str(app.app_authority.as_str())
    {
        request.headers_mut().insert(HOST, host);
    }
    let path = request
        .uri()
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    *request.uri_mut() = Uri::from(path);
    *request.version_mut() = Version::HTTP_11;
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

/// One access-log line for an inbound request, when there is an access log.
fn log(
    inbound: &Inbound,
    peer: &Peer,
    service: &str,
    route: &str,
    (method, uri): (&Method, &Uri),
    response: &Response<InboundBody>,
    start: Instant,
) {
    if let Some(access_log) = inbound.access_log {
        access_log.write(&HttpEntry {
            direction: "inbound",
            source: &peer.identity,
            destination: service,
            backend: service,
            route,
            method: method.as_str(),
            path: uri.path(),
            status: response.status().as_u16(),
            duration_ms: start.elapsed(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::port_of;

    #[test]
    fn the_port_of_an_authority_is_read_for_names_and_addresses_of_both_families() {
        assert_eq!(port_of("api.shop:8080"), Some(8080));
        assert_eq!(port_of("127.0.0.1:80"), Some(80));
        assert_eq!(port_of("[::1]:9090"), Some(9090));
        assert_eq!(port_of("[::1]"), None);
        assert_eq!(port_of("api.shop"), None);
        assert_eq!(port_of("api.shop:http"), None);
    }
}
