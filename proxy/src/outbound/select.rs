//! Which backend a request to a service port goes to: by the port's Gateway API routes
//! when it has some (404 without a matching rule, 500 without a weighted backend), else
//! by the service's TrafficSplit (its matches, then its weights), else the service itself.

use http::Request;
use http::uri::Authority;

use super::error::ForwardError;
use super::route::authority;
use crate::http::path::{self, PathNormalization};
use crate::snapshot::route_filters::Redirect;
use crate::snapshot::routes::{RouteTable, Rule};
use crate::snapshot::{Backend, Service};

/// Where a request goes: the backend, the index of its metric handles, and the route rule
/// that chose it with the backend's index among the rule's (for the rule's filters).
pub type Selected<'s> = (&'s Backend, usize, Option<(&'s Rule, usize)>);

/// What becomes of a request to a service port.
pub enum Decision<'s> {
    /// Sent to the selected backend; with the path as it was matched when the route
    /// rule's filters rewrite it (`None` otherwise).
    Forward(Selected<'s>, Option<String>),
    /// A route rule redirects it: the proxy answers with this Location.
    Redirect(&'s Rule, &'s Redirect, String),
}

/// The backend a request to `service` on `port` goes to: by the port's Gateway API routes
/// when it has some, else by the service's split. With the metrics index and the route
/// rule's name.
#[inline]
pub fn select<'s, B>(
    service: &'s Service,
    port: u16,
    mode: PathNormalization,
    request: &Request<B>,
) -> Result<Decision<'s>, ForwardError> {
    match service.routes.iter().find(|table| table.port == port) {
        Some(table) => by_route(service, table, mode, request),
        None => Ok(Decision::Forward(
            choose_backend(service, mode, request),
            None,
        )),
    }
}

/// The split's weighted choice for requests it covers, else the service itself. The
/// second value indexes `Backend::metrics` (0: default route, i + 1: split match i).
pub(super) fn choose_backend<'s, B>(
    service: &'s Service,
    mode: PathNormalization,
    request: &Request<B>,
) -> Selected<'s> {
    let Some(split) = &service.split else {
        return (&service.own, 0, None);
    };
    if split.matches.is_empty() {
        return (&split.backends[split.weights.pick()], 0, None);
    }
    // Matched on the path the destination's proxy will authorize and forward; a path it
    // will refuse (400) matches nothing here and takes the service's own route.
    let Ok(path) = path::normalize(request.method(), request.uri().path(), mode) else {
        return (&service.own, 0, None);
    };
    match split
        .matches
        .iter()
        .position(|m| m.matches(request.method(), &path, request.headers()))
    {
        Some(index) => (&split.backends[split.weights.pick()], index + 1, None),
        None => (&service.own, 0, None),
    }
}

/// A port with Gateway API routes: the rule of the first match decides, and redirects or
/// lets its weighted backends share the requests. Matched on the path the destination's
/// proxy will see.
fn by_route<'s, B>(
    service: &'s Service,
    table: &'s RouteTable,
    mode: PathNormalization,
    request: &Request<B>,
) -> Result<Decision<'s>, ForwardError> {
    let path = path::normalize(request.method(), request.uri().path(), mode)?;
    let uri = request.uri();
    let Some(rule) = table.find(request.method(), &path, request.headers(), uri.query()) else {
        return Err(ForwardError::NoRule {
            service: service.name.clone(),
            port: table.port,
            method: request.method().clone(),
            path: path.into_owned(),
            grpc: table.grpc,
        });
    };
    if let Some(redirect) = &rule.redirect {
        let host = request_host(request).unwrap_or_default();
        let location = redirect.location(&host, table.port, &path, uri.query());
        return Ok(Decision::Redirect(rule, redirect, location));
    }
    let Some(weights) = &rule.weights else {
        return Err(ForwardError::NoWeightedBackend {
            rule: rule.name.clone(),
            grpc: table.grpc,
        });
    };
    let chosen = weights.pick();
    // Only a rewrite needs the matched path past this point: no copy otherwise.
    let matched = rule.rewrites_path().then(|| path.into_owned());
    Ok(Decision::Forward(
        (&rule.backends[chosen], 0, Some((rule, chosen))),
        matched,
    ))
}

/// The host a request names, without a port.
#[cold]
fn request_host<B>(request: &Request<B>) -> Option<String> {
    let authority: Authority = authority(request)?.parse().ok()?;
    Some(authority.host().to_owned())
}
