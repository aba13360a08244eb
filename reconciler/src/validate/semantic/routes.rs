//! Gateway API routes across documents: a Service is split by a TrafficSplit or routed by
//! routes, not both; a backendRef reaches into another namespace only where a
//! ReferenceGrant there lets it, or where the parent Service lives (a consumer route sending
//! to its producer's Services, as the Mesh profile does without a grant). (Field-level
//! checks run before conversion: `convert::gateway_checks`.)

use super::Index;
use crate::model::{HttpRoute, ReferenceGrant};
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
