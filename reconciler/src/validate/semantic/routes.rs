//! Gateway API routes across documents: a Service is split by a TrafficSplit or routed by
//! routes, not both; a backendRef reaches into another namespace only where a
//! ReferenceGrant there lets it, or where the parent Service lives (a consumer route sending
//! to its producer's Services, as the Mesh profile does without a grant). (Field-level
//! checks run before conversion: `convert::gateway_checks`.)

use super::Index;
use crate::model::{GatewayRouteKind, HttpRoute, ReferenceGrant};
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
    for (rule_position, rule) in route.rules.iter().enumerate() {
        for (position, backend) in rule.backends.iter().enumerate() {
            let namespace = &backend.namespace;
            if *namespace == route.namespace
                || route
                    .parents
                    .iter()
                    .any(|parent| parent.namespace == *namespace)
                || grants.iter().any(|grant| {
                    grant.allows("HTTPRoute", &route.namespace, namespace, &backend.name)
                })
            {
                continue;
            }
            reporter
                .error(
                    object,
                    &format!("/spec/rules/{rule_position}/backendRefs/{position}/namespace"),
                    format!(
                        "backendRef to Service {namespace}/{}: no ReferenceGrant in {namespace:?} lets HTTPRoutes of {:?} refer to it",
                        backend.name, route.namespace
                    ),
                )
                .hint(format!(
                    "add a ReferenceGrant in {namespace:?} with `from: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: {}}}]` and `to: [{{group: \"\", kind: Service, name: {}}}]`",
                    route.namespace, backend.name
                ));
        }
    }
}
