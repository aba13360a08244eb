//! One HTTP request from the local app, through the outbound stack:
//! route (Host → service) → split (backend by weight) → balance (endpoint by load)
//! → pooled mTLS HTTP/2 to the peer proxy, with one retry elsewhere on connection
//! failure, the request timeout around it all, and metrics and the access log at the edge.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::header::LOCATION;
use http::{HeaderValue, Method, Request, Response, Uri};
use http_body_util::Either;
use hyper::body::Incoming;

use super::call_policy::call;
use super::error::ForwardError;
use super::pool::Alpn;
use super::select::{Decision, select};
use super::send::{Upstream, fail, send, within};
use super::{Outbound, balance, egress, mirror, retry, route, tcp};
use crate::http::access_log::HttpEntry;
use crate::http::headers;
use crate::http::hop::DESTINATION_HEADER;
use crate::http::path;
use crate::http::respond::{self, ResponseBody};
use crate::http::upgrade;
use crate::snapshot::route_filters::Redirect;
use crate::snapshot::routes::Rule;
use crate::snapshot::{Backend, CallPolicy, Service, Snapshot};
use meshcd_support::error_chain;

/// The service function of outbound HTTP connections.
pub async fn handle(
    outbound: Arc<Outbound>,
    original: Option<SocketAddr>,
    request: Request<Incoming>,
) -> Result<Response<ResponseBody>, Infallible> {
    let start = Instant::now();
    let Some(snapshot) = outbound.snapshots.current() else {
        return Ok(ForwardError::NoSnapshot.into_response());
    };
    Ok(handle_on(outbound, snapshot, original, request, start, true).await)
}

/// `handle` with the snapshot in force; `ask` when a service the snapshot lacks may be
/// looked up (once: the completed snapshot is final for this request).
async fn handle_on(
    outbound: Arc<Outbound>,
    snapshot: Arc<Snapshot>,
    original: Option<SocketAddr>,
    mut request: Request<Incoming>,
    start: Instant,
    ask: bool,
) -> Response<ResponseBody> {
    let logged = outbound
        .access_log
        .map(|_| (request.method().clone(), request.uri().clone()));
    let (service, port) = match route::resolve(&snapshot, original, &request) {
        Ok(found) => found,
        Err(route::RouteError::TcpPort { .. }) if request.method() == Method::CONNECT => {
            return tcp::connect_tunnel(outbound.clone(), snapshot.clone(), request).await;
        }
        Err(route::RouteError::NoService { authority, host }) => {
            let asked = (host, authority);
            return not_in_snapshot(
                outbound,
                snapshot,
                original,
                request,
                asked,
                (ask, logged, start),
            )
            .await;
        }
        Err(error) => {
            tracing::debug!(error = %meshcd_support::error_chain(&error), "outbound request not routed");
            return refused(&outbound, &snapshot, logged, error.into(), start);
        }
    };
    if request.method() == Method::CONNECT {
        let error = ForwardError::ConnectMethod(format!("{} port {port} is HTTP", service.name));
        return error.into_response();
    }
    // A request-target that is neither origin- nor absolute-form (a GET of an authority,
    // `*` on a method other than OPTIONS) has no path to forward: the app's mistake.
    if let Err(error) = path::check_form(request.method(), request.uri().path()) {
        return ForwardError::from(error).into_response();
    }
    let mode = snapshot.mesh.path_normalization;
    let ((backend, route_index, rule), matched) = match select(service, port, mode, &request) {
        Ok(Decision::Forward(selected, matched)) => (selected, matched),
        Ok(Decision::Redirect(rule, redirect, location)) => {
            let answer = (rule, redirect, location.as_str());
            return redirected(&outbound, &snapshot, logged, service, answer, start);
        }
        Err(error) => return refused(&outbound, &snapshot, logged, error, start),
    };
    if let Some((rule, chosen)) = rule {
        rule.modify_request(chosen, &mut request, matched.as_deref().unwrap_or_default());
        mirror::copy(&outbound, &snapshot, rule.mirrors(chosen), port, &request);
    }
    let metrics = &backend.metrics[route_index];
    metrics.request();
    let (response, injected) = call(
        &outbound,
        &snapshot,
        (service, backend),
        port,
        request,
        rule,
    )
    .await;
    let elapsed = start.elapsed();
    metrics.response(response.status(), elapsed);
    let route = match (rule, &service.split, route_index) {
        (Some((rule, _)), _, _) => &*rule.name,
        (None, Some(split), index) if index > 0 => &*split.matches[index - 1].name,
        _ => "",
    };
    log(
        &outbound,
        &snapshot,
        logged,
        (Some(service), Some(backend)),
        (route, injected.words()),
        &response,
        elapsed,
    );
    response
}

/// A request for a host the snapshot has no service for: asked of the control plane
/// once (`ask`), then, when no meshed service has it either, a call out of the mesh.
async fn not_in_snapshot(
    outbound: Arc<Outbound>,
    snapshot: Arc<Snapshot>,
    original: Option<SocketAddr>,
    request: Request<Incoming>,
    (host, authority): (String, String),
    (ask, logged, start): (bool, Option<(Method, Uri)>, Instant),
) -> Response<ResponseBody> {
    if ask && outbound.on_demand.is_some() {
        let completed = outbound.complete(&snapshot, &host, original).await;
        let snapshot = completed.unwrap_or(snapshot);
        return Box::pin(handle_on(
            outbound, snapshot, original, request, start, false,
        ))
        .await;
    }
    if snapshot.is_mesh_name(&host) {
        let error = route::RouteError::NoService { authority, host };
        return refused(&outbound, &snapshot, logged, error.into(), start);
    }
    let asked = (&*host, &*authority);
    let response = out_of_mesh(&outbound, snapshot.clone(), original, request, asked).await;
    let elapsed = start.elapsed();
    log(
        &outbound,
        &snapshot,
        logged,
        (None, None),
        ("", ""),
        &response,
        elapsed,
    );
    response
}

/// A request for a host no meshed service answers to: a CONNECT tunnel or an HTTP request
/// out of the mesh, as the Egress policies (or the Mesh's default) allow.
async fn out_of_mesh(
    outbound: &Arc<Outbound>,
    snapshot: Arc<Snapshot>,
    original: Option<SocketAddr>,
    request: Request<Incoming>,
    (host, authority): (&str, &str),
) -> Response<ResponseBody> {
    let port = crate::snapshot::parse_authority(authority).and_then(|parsed| parsed.port);
    if request.method() == Method::CONNECT {
        let Some(port) = port else {
            let error = ForwardError::ConnectMethod(format!("{authority:?} has no port"));
            return error.into_response();
        };
        let shared = (snapshot, outbound.metrics.clone());
        let target = (host.to_owned(), port);
        return egress::connect(outbound.egress.clone(), shared, target, request).await;
    }
    let timeout = snapshot
        .mesh
        .request_timeout
        .unwrap_or(outbound.request_timeout);
    let shared = (&*snapshot, &*outbound.metrics);
    egress::forward(
        &outbound.egress,
        shared,
        (host, port),
        original,
        request,
        timeout,
    )
    .await
}

/// The proxy's answer for a route rule that redirects, with the rule's response headers,
/// access-logged.
fn redirected(
    outbound: &Outbound,
    snapshot: &Snapshot,
    logged: Option<(Method, Uri)>,
    service: &Service,
    (rule, redirect, location): (&Rule, &Redirect, &str),
    start: Instant,
) -> Response<ResponseBody> {
    let mut response = respond::text(redirect.status, String::new());
    match HeaderValue::from_str(location) {
        Ok(value) => {
            response.headers_mut().insert(LOCATION, value);
        }
        Err(_) => {
            // A path or query the request had can make a Location HTTP cannot carry.
            let error = ForwardError::Location(location.to_owned());
            return refused(outbound, snapshot, logged, error, start);
        }
    }
    rule.modify_redirect_response(response.headers_mut());
    log(
        outbound,
        snapshot,
        logged,
        (Some(service), None),
        (&rule.name, ""),
        &response,
        start.elapsed(),
    );
    response
}

/// The proxy's own answer to a request it does not forward, access-logged.
#[cold]
fn refused(
    outbound: &Outbound,
    snapshot: &Snapshot,
    logged: Option<(Method, Uri)>,
    error: ForwardError,
    start: Instant,
) -> Response<ResponseBody> {
    let response = error.into_response();
    log(
        outbound,
        snapshot,
        logged,
        (None, None),
        ("", ""),
        &response,
        start.elapsed(),
    );
    response
}

/// Forwards `request` to `backend`, within the request timeout: the route rule's when it
/// sets one (`0s`: none), else the Mesh's. A rule's per-attempt timeout and retries apply
/// inside it; without them, an OSM Retry policy's. An UpstreamTrafficSetting's
/// `connectTimeout` replaces the Mesh's.
pub(super) async fn forward(
    outbound: &Outbound,
    snapshot: &Snapshot,
    backend: &Backend,
    port: u16,
    mut request: Request<Incoming>,
    (rule, policy): (Option<&Rule>, CallPolicy<'_>),
) -> Result<Response<ResponseBody>, ForwardError> {
    let client_retry = policy.retry;
    let upstream = Upstream {
        connect_timeout: policy
            .limits
            .and_then(|limits| limits.connect_timeout)
            .unwrap_or_else(|| snapshot.connect_timeout(outbound.connect_timeout)),
        limits: policy.limits,
        attempt_timeout: None,
    };
    let request_timeout = match rule.and_then(|rule| rule.request_timeout) {
        Some(timeout) if timeout.is_zero() => None,
        Some(timeout) => Some(timeout),
        None => Some(snapshot.request_timeout(outbound.request_timeout)),
    };
    if let Some(value) = backend.destination_header(port, headers::is_grpc(&request)) {
        request
            .headers_mut()
            .insert(&DESTINATION_HEADER, value.clone());
    }
    if headers::is_upgrade(&request) {
        let upgraded = upgrade_request(outbound, backend, upstream, request);
        return within(request_timeout, backend, upgraded)
            .await
            .map(respond::relayed);
    }
    headers::strip_hop_by_hop(request.headers_mut());
    let by_rule = rule.filter(|rule| rule.retry.is_some() || rule.backend_timeout.is_some());
    let resilience = match (by_rule, client_retry) {
        (Some(rule), _) => Some((rule.retry.as_ref(), rule.backend_timeout)),
        (None, Some(retry)) => Some((Some(retry), retry.per_try_timeout)),
        (None, None) => None,
    };
    let response = match resilience {
        Some((retry, attempt_timeout)) => {
            let budget = snapshot.mesh.retry_budget;
            let sent = retry::send_resilient(
                outbound,
                (backend, upstream),
                request,
                attempt_timeout,
                retry.map(|retry| (retry, budget)),
            );
            // Boxed: its retry state would otherwise enlarge every request's future.
            within(request_timeout, backend, Box::pin(sent)).await
        }
        None => {
            let sent = send(outbound, backend, upstream, request.map(Either::Left));
            within(request_timeout, backend, sent).await
        }
    };
    response.map(respond::relayed)
}

/// An upgrade gets its own HTTP/1.1 connection to the peer: the upgraded stream will
/// own it.
async fn upgrade_request(
    outbound: &Outbound,
    backend: &Backend,
    upstream: Upstream<'_>,
    request: Request<Incoming>,
) -> Result<Response<Incoming>, ForwardError> {
    let endpoint =
        balance::choose(&backend.endpoints, None).ok_or_else(|| ForwardError::NoEndpoints {
            backend: backend.service.clone(),
        })?;
    let stream = outbound
        .pool
        .stream(endpoint, Alpn::Http1, upstream.connect_timeout)
        .await
        .map_err(|source| {
            fail(outbound, backend, endpoint, upstream);
            ForwardError::Connect {
                backend: backend.service.clone(),
                source,
            }
        })?;
    endpoint.succeeded();
    // The outbound listener's slot is not carried here: it is released when the app's
    // HTTP connection hands the upgrade over (see README, connection caps).
    upgrade::forward(stream, request, ())
        .await
        .map_err(|error| ForwardError::Upstream {
            backend: backend.service.clone(),
            endpoint: endpoint.address.clone(),
            message: error_chain(&error),
        })
}

fn log(
    outbound: &Outbound,
    snapshot: &Snapshot,
    logged: Option<(Method, Uri)>,
    target: (Option<&Service>, Option<&Backend>),
    (route, injected): (&str, &'static str),
    response: &Response<ResponseBody>,
    elapsed: Duration,
) {
    let (Some(access_log), Some((method, uri))) = (outbound.access_log, logged) else {
        return;
    };
    let destination = target.0.map_or("", |service| &*service.name);
    let backend = target.1.map_or("", |backend| &*backend.service);
    access_log.write(&HttpEntry {
        direction: "outbound",
        source: &snapshot.workload.identity,
        destination,
        backend,
        route,
        method: method.as_str(),
        path: uri.path(),
        status: response.status().as_u16(),
        duration_ms: elapsed,
        injected,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::select::choose_backend;
    use crate::snapshot::compile_for_tests;
    use meshcd_schemas::proto;

    fn endpoint(port: u16) -> proto::Endpoint {
        proto::Endpoint {
            address: format!("127.0.0.1:{port}"),
            identity: "spiffe://cluster.local/ns/shop/sa/api".into(),
            ..Default::default()
        }
    }

    fn snapshot(weights: [u32; 2], matches: Vec<proto::HttpMatch>) -> Snapshot {
        compile_for_tests(proto::Snapshot {
            workload: Some(proto::Workload {
                namespace: "shop".into(),
                ..Default::default()
            }),
            services: vec![proto::Service {
                name: "api".into(),
                namespace: "shop".into(),
                ports: vec![proto::ServicePort {
                    port: 80,
                    ..Default::default()
                }],
                endpoints: vec![endpoint(1)],
                split: Some(proto::Split {
                    traffic_split: "shop/api".into(),
                    backends: vec![
                        proto::Backend {
                            service: "api-v1".into(),
                            weight: weights[0],
                            endpoints: vec![endpoint(2)],
                            port: 0,
                            ..Default::default()
                        },
                        proto::Backend {
                            service: "api-v2".into(),
                            weight: weights[1],
                            endpoints: vec![endpoint(3)],
                            port: 0,
                            ..Default::default()
                        },
                    ],
                    matches,
                }),
                ..Default::default()
            }],
            ..Default::default()
        })
    }

    fn chosen(snapshot: &Snapshot, request: &Request<()>) -> (String, usize) {
        let mode = snapshot.mesh.path_normalization;
        let (backend, route, _) = choose_backend(&snapshot.services[0], mode, request);
        (backend.service.to_string(), route)
    }

    #[test]
    fn a_split_without_matches_covers_every_request_and_weight_zero_gets_none() {
        let snapshot = snapshot([0, 1], vec![]);
        let request = Request::builder().uri("/anything").body(()).unwrap();
        for _ in 0..1000 {
            assert_eq!(chosen(&snapshot, &request), ("api-v2.shop".into(), 0));
        }
    }

    #[test]
    fn ab_matches_send_matching_requests_to_the_split_and_the_rest_to_the_root() {
        let canary = proto::HttpMatch {
            name: "ab/firefox".into(),
            headers: vec![proto::HeaderMatch {
                name: "user-agent".into(),
                value_regex: ".*Firefox.*".into(),
            }],
            ..Default::default()
        };
        let snapshot = snapshot([0, 1], vec![canary]);
        let firefox = Request::builder()
            .header("User-Agent", "Mozilla/5.0 Firefox/120")
            .body(())
            .unwrap();
        let curl = Request::builder()
            .header("User-Agent", "curl/8")
            .body(())
            .unwrap();
        assert_eq!(chosen(&snapshot, &firefox), ("api-v2.shop".into(), 1));
        assert_eq!(chosen(&snapshot, &curl), ("api.shop".into(), 0));
    }

    #[test]
    fn split_matches_see_the_normalised_path_and_refused_paths_match_nothing() {
        let beta = proto::HttpMatch {
            name: "ab/beta".into(),
            path_regex: "/beta/.*".into(),
            ..Default::default()
        };
        let snapshot = snapshot([0, 1], vec![beta]);
        let to = |uri: &str| Request::builder().uri(uri).body(()).unwrap();
        assert_eq!(chosen(&snapshot, &to("/beta/x")), ("api-v2.shop".into(), 1));
        assert_eq!(
            chosen(&snapshot, &to("/beta/../stable")),
            ("api.shop".into(), 0)
        );
        assert_eq!(
            chosen(&snapshot, &to("/stable/%2e%2e/beta/x")),
            ("api-v2.shop".into(), 1)
        );
        assert_eq!(
            chosen(&snapshot, &to("/beta/..%2Fx")),
            ("api.shop".into(), 0)
        );
    }
}
