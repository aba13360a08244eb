//! Gateway API routes across documents: a Service is split by a TrafficSplit or routed by
//! routes, not both; a backendRef reaches into another namespace only where a
//! ReferenceGrant there lets it, or where every parent Service lives (a consumer route
//! sending to its producer's Services, as the Mesh profile does without a grant). (Field-level
//! checks run before conversion: `convert::gateway_checks`.)

use super::Index;
use crate::model::{GatewayRouteKind, HttpFilter, HttpRoute, Mirror, ReferenceGrant};
use crate::validate::report::{Object, Reporter};

pub(super) fn http_route(
    object: &Object<'_>,
    route: &HttpRoute,
    index: &Index<'_, '_>,
    reporter: &mut Reporter<'_>,
) {
    for parent in &route.parents {
        if index
            .split_roots
            .contains(&(parent.namespace.clone(), parent.name.clone()))
        {
            reporter
                .error(
                    object,
                    &format!("/spec/parentRefs/{}", parent.position),
                    format!(
                        "Service {}/{} is the root of a TrafficSplit and the parent of this route: which one decides would be unclear",
                        parent.namespace, parent.name
                    ),
                )
                .hint("move the split into the route's weighted backendRefs, or drop the route");
        }
    }
    backend_namespaces(object, route, &index.reference_grants, reporter);
    if route.kind == GatewayRouteKind::Http {
        grpc_conflicts(object, route, &index.grpc_routes, reporter);
    }
}

/// Every Service a route's rules send to, backendRefs and mirrors, with the pointer of its
/// reference (in the order they are written).
fn service_refs(route: &HttpRoute) -> Vec<(String, &str, &str)> {
    let mut refs = Vec::new();
    for (rule_position, rule) in route.rules.iter().enumerate() {
        let at = format!("/spec/rules/{rule_position}");
        for (position, backend) in rule.backends.iter().enumerate() {
            let pointer = format!("{at}/backendRefs/{position}/namespace");
            refs.push((pointer, backend.namespace.as_str(), backend.name.as_str()));
            let filters = format!("{at}/backendRefs/{position}/filters");
            for (index, mirror) in mirrors(&backend.filters) {
                let pointer = format!("{filters}/{index}/requestMirror/backendRef");
                refs.push((pointer, mirror.namespace.as_str(), mirror.name.as_str()));
            }
        }
        for (index, mirror) in mirrors(&rule.filters) {
            let pointer = format!("{at}/filters/{index}/requestMirror/backendRef");
            refs.push((pointer, mirror.namespace.as_str(), mirror.name.as_str()));
        }
    }
    refs
}

/// The RequestMirror filters of a list, with their positions in it.
fn mirrors(filters: &[HttpFilter]) -> impl Iterator<Item = (usize, &Mirror)> {
    filters
        .iter()
        .enumerate()
        .filter_map(|(index, filter)| match filter {
            HttpFilter::Mirror(mirror) => Some((index, mirror)),
            _ => None,
        })
}

/// An HTTPRoute and a GRPCRoute of one namespace on one Service port: GEP-1294 gives the
/// port to the GRPCRoute, and routes of the two kinds are never merged, so the HTTPRoute
/// would do nothing there. Refused rather than silently ignored.
fn grpc_conflicts(
    object: &Object<'_>,
    route: &HttpRoute,
    grpc_routes: &[&HttpRoute],
    reporter: &mut Reporter<'_>,
) {
    for parent in &route.parents {
        let conflicting = grpc_routes.iter().find(|grpc| {
            grpc.namespace == route.namespace
                && grpc.parents.iter().any(|other| {
                    other.namespace == parent.namespace
                        && other.name == parent.name
                        && (other.port.is_none()
                            || parent.port.is_none()
                            || other.port == parent.port)
                })
        });
        if let Some(grpc) = conflicting {
            reporter
                .error(
                    object,
                    &format!("/spec/parentRefs/{}", parent.position),
                    format!(
                        "GRPCRoute {} binds Service {}/{} on a port of this route too: the GRPCRoute would win it",
                        grpc.name, parent.namespace, parent.name
                    ),
                )
                .hint("bind the two kinds to different ports (`port`), or route the port with one kind");
        }
    }
}

fn backend_namespaces(
    object: &Object<'_>,
    route: &HttpRoute,
    grants: &[&ReferenceGrant],
    reporter: &mut Reporter<'_>,
) {
    // The parent's namespace needs no grant only when every parent is there: a rule
    // applies to every parent, so one parent elsewhere would send its callers across.
    let allowed = |namespace: &str, name: &str| {
        namespace == route.namespace
            || (!route.parents.is_empty()
                && route
                    .parents
                    .iter()
                    .all(|parent| parent.namespace == namespace))
            || grants
                .iter()
                .any(|grant| grant.allows(route.kind.as_str(), &route.namespace, namespace, name))
    };
    let refuse = |reporter: &mut Reporter<'_>, pointer: String, namespace: &str, name: &str| {
        reporter
            .error(
                object,
                &pointer,
                format!(
                    "backendRef to Service {namespace}/{name}: no ReferenceGrant in {namespace:?} lets {}s of {:?} refer to it",
                    route.kind.as_str(),
                    route.namespace
                ),
            )
            .hint(format!(
                "add a ReferenceGrant in {namespace:?} with `from: [{{group: gateway.networking.k8s.io, kind: {}, namespace: {}}}]` and `to: [{{group: \"\", kind: Service, name: {name}}}]`",
                route.kind.as_str(),
                route.namespace
            ));
    };
    for (pointer, namespace, name) in service_refs(route) {
        if !allowed(namespace, name) {
            refuse(reporter, pointer, namespace, name);
        }
    }
}
