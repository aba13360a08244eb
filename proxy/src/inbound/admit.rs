//! From a request to an admission: the service port and app it is for, whether the caller
//! may make it, and the request as the app will get it; or the proxy's own answer (404,
//! 403, 400, 503) when it goes no further.

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use http::uri::PathAndQuery;
use http::{Method, Request, Response, StatusCode, Uri, Version};
use hyper::body::{Body, Incoming};

use super::Inbound;
use super::access_log::log;
use super::app_direct::Prepared;
use super::app_request::origin_form;
use super::authorize::{self, Call, Decision};
use super::body::InboundBody;
use super::caller::Caller;
use super::ingress::{self, Refusal};
use super::target::target;
use super::{NonMesh, Peer};
use crate::http::headers;
use crate::http::hop::DESTINATION_HEADER;
use crate::http::path::{self, PathError};
use crate::http::respond;
use crate::metrics::{PolicyEvent, RouteMetrics};
use crate::snapshot::limits::RateLimit;
use crate::snapshot::{InboundPort, MtlsMode, Protocol, Snapshot};

/// The route label of requests admitted without an HTTP match (shared: no allocation per
/// request).
static NO_ROUTE: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(""));

/// A request that is authorized and on its way to the app.
pub(super) struct Admitted {
    pub(super) service: Arc<str>,
    pub(super) route: Arc<str>,
    pub(super) metrics: Arc<RouteMetrics>,
    pub(super) app: InboundPort,
    pub(super) exchange: Exchange,
    /// Method and URI for the access log, when there is one.
    pub(super) logged: Option<(Method, Uri)>,
}

/// How the request reaches the app.
pub(super) enum Exchange {
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
pub(super) enum Admission {
    Forward(Admitted),
    Answer(Response<InboundBody>),
}

/// Routes and authorizes the request, one step each: which service port and app it is for
/// (`destination`), whether this caller may make it (`authorized_route`), its metrics, and
/// the request as the app will get it (`exchange`). The steps are inlined and their
/// refusals out of line: splitting them adds no work to the request path.
pub(super) fn admit(
    inbound: &Inbound,
    caller: &Caller,
    mut request: Request<Incoming>,
    start: Instant,
) -> Admission {
    let Some(snapshot) = inbound.snapshots.current() else {
        return Admission::Answer(no_snapshot());
    };
    let (port, http2, service, app) = match destination(&snapshot, &request) {
        Ok(found) => found,
        Err(unrouted) => return Admission::Answer(unrouted.response(&snapshot)),
    };
    // Rules and app see one path: the normalised one replaces what the caller sent.
    if let Err(error) = normalize_path(&snapshot, &mut request) {
        return refuse_path(inbound, &caller.peer, &service, &request, error, start);
    }
    let peer = &caller.peer;
    let route = match authorized_route(peer, &snapshot, (&service, port), &request) {
        Ok(route) => route,
        Err(denial) => {
            let response = deny(inbound, peer, &service, &request, &denial, start);
            return Admission::Answer(response);
        }
    };
    let metrics = caller.route_metrics(inbound, &service, &route);
    metrics.request();
    if let Some(limits) = snapshot.workload.rate_limits_of(&service)
        && let Some(limit) = limits.of_request(request.uri().path())
        && let Err(wait) = inbound.rate_limiters.take(limit, Instant::now())
    {
        let response = rate_limited(inbound, limit, wait);
        metrics.count(PolicyEvent::RateLimited);
        metrics.response(response.status(), start.elapsed());
        return Admission::Answer(response);
    }
    let logged = inbound
        .access_log
        .map(|_| (request.method().clone(), request.uri().clone()));
    let exchange = exchange(&snapshot, app, http2, request);
    Admission::Forward(Admitted {
        service,
        route,
        metrics,
        app: app.clone(),
        exchange,
        logged,
    })
}

/// The answer to a request over its service's local rate limit: the limit's status
/// (429 by default), Retry-After in whole seconds until the next fill, and its headers.
#[cold]
fn rate_limited(
    inbound: &Inbound,
    limit: &RateLimit,
    wait: std::time::Duration,
) -> Response<InboundBody> {
    inbound.metrics.rate_limited(&limit.setting);
    let mut response = respond::text(
        limit.status,
        format!(
            "meshcd: over the rate limit of UpstreamTrafficSetting {}",
            limit.setting
        ),
    );
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let headers = response.headers_mut();
    headers.insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from(seconds.max(1)),
    );
    for (name, value) in &limit.headers {
        headers.append(name.clone(), value.clone());
    }
    response
}

/// The service port the request is for (with whether the app speaks HTTP/2 and the
/// service's name), and the app serving it over HTTP.
#[inline]
fn destination<'s>(
    snapshot: &'s Snapshot,
    request: &Request<Incoming>,
) -> Result<(u16, bool, Arc<str>, &'s InboundPort), Unrouted> {
    let Some((port, http2, service)) = target(snapshot, request) else {
        return Err(Unrouted::NoSuchPort);
    };
    match snapshot
        .inbound_port(port)
        .filter(|app| app.protocol == Protocol::Http)
    {
        Some(app) => Ok((port, http2, service, app)),
        None => Err(Unrouted::NotHttp(port)),
    }
}

/// The route the snapshot's rules admit the call on (`""` for a rule without HTTP
/// matches, the IngressBackend's name for a non-mesh caller it lets in), or why they
/// refuse it.
#[inline]
fn authorized_route(
    peer: &Peer,
    snapshot: &Snapshot,
    (service, port): (&Arc<str>, u16),
    request: &Request<Incoming>,
) -> Result<Arc<str>, Refusal> {
    // A plaintext caller under permissive mTLS in a workload no IngressBackend names: the
    // SMI rules alone decide, without building a refusal first.
    let ingress_decides = |caller: NonMesh| {
        !snapshot.workload.ingress.is_empty()
            || matches!(caller, NonMesh::Principal)
            || snapshot.mesh.mtls == MtlsMode::Strict
    };
    if let Some(caller) = peer.non_mesh.filter(|caller| ingress_decides(*caller)) {
        let call = || format!("{} {}", request.method(), request.uri().path());
        let identity = (caller, &*peer.identity);
        match ingress::authorize(&snapshot.workload, identity, service, port, call) {
            Ok(rule) => return Ok(rule.name.clone()),
            // Permissive mTLS: the SMI rules decide for a plaintext caller, as for any
            // `unauthenticated` one. A principal is never a mesh identity.
            Err(_)
                if matches!(caller, NonMesh::Plaintext(_))
                    && snapshot.mesh.mtls == MtlsMode::Permissive => {}
            Err(denial) => return Err(Refusal::Ingress(denial)),
        }
    }
    let call = Call::Http {
        port,
        method: request.method(),
        path: request.uri().path(),
        headers: request.headers(),
    };
    match authorize::authorize(snapshot, &peer.identity, &call) {
        Decision::Allow { route } => Ok(route.unwrap_or_else(|| NO_ROUTE.clone())),
        Decision::Deny(denial) => Err(Refusal::Rules(denial)),
    }
}

/// The request as the app will get it (the mesh's own header gone, hop-by-hop headers
/// dropped, HTTP/2 cookies joined for an HTTP/1.1 app), and the way it gets there.
#[inline]
fn exchange(
    snapshot: &Arc<Snapshot>,
    app: &InboundPort,
    http2: bool,
    mut request: Request<Incoming>,
) -> Exchange {
    request.headers_mut().remove(&DESTINATION_HEADER);
    if request.version() == Version::HTTP_2 && !http2 {
        headers::join_cookies(request.headers_mut());
    }
    if headers::is_upgrade(&request) {
        return Exchange::Upgrade {
            snapshot: snapshot.clone(),
            request: Box::new(request),
        };
    }
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
}

#[cold]
#[inline(never)]
fn no_snapshot() -> Response<InboundBody> {
    respond::text(
        StatusCode::SERVICE_UNAVAILABLE,
        "meshcd-proxy has no snapshot loaded yet",
    )
}

/// Why a request names no HTTP service port of this workload.
enum Unrouted {
    NoSuchPort,
    NotHttp(u16),
}

impl Unrouted {
    /// The 404 that says so.
    #[cold]
    #[inline(never)]
    fn response(self, snapshot: &Snapshot) -> Response<InboundBody> {
        let identity = &snapshot.workload.identity;
        let text = match self {
            Unrouted::NoSuchPort => format!(
                "this workload ({identity}) serves no such port; send {} or a Host with one of its ports",
                DESTINATION_HEADER.as_str()
            ),
            Unrouted::NotHttp(port) => {
                format!("this workload ({identity}) serves no HTTP on service port {port}")
            }
        };
        respond::text(StatusCode::NOT_FOUND, text)
    }
}

/// The 403 for a call the rules refuse, counted and logged.
#[cold]
#[inline(never)]
fn deny(
    inbound: &Inbound,
    peer: &Peer,
    service: &str,
    request: &Request<Incoming>,
    denial: &Refusal,
    start: Instant,
) -> Response<InboundBody> {
    inbound.metrics.denied(&peer.identity, "http");
    tracing::info!(%denial, "inbound request denied");
    let refused = Refused {
        inbound,
        peer,
        service,
        request,
        start,
    };
    refused.answer(StatusCode::FORBIDDEN, denial.to_string())
}

/// A request the proxy answers itself, before it reaches any route.
struct Refused<'a> {
    inbound: &'a Inbound,
    peer: &'a Peer,
    service: &'a str,
    request: &'a Request<Incoming>,
    start: Instant,
}

impl Refused<'_> {
    /// The answer, in the access log like any other.
    fn answer(&self, status: StatusCode, text: String) -> Response<InboundBody> {
        let response = respond::text(status, text);
        let request = (self.request.method(), self.request.uri());
        log(
            self.inbound,
            self.peer,
            self.service,
            "",
            request,
            &response,
            self.start,
        );
        response
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
    let refused = Refused {
        inbound,
        peer,
        service,
        request,
        start,
    };
    Admission::Answer(refused.answer(StatusCode::BAD_REQUEST, error.to_string()))
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
