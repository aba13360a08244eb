//! Gateway API routes across documents: a Service is split by a TrafficSplit or routed by
//! routes, not both. (Field-level checks run before conversion: `convert::gateway_checks`.)

use super::Index;
use crate::model::HttpRoute;
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
}
