//! Canaries: the TrafficSplit or HTTPRoute they drive exists and holds both backends, an
//! HTTPRoute's driven weights are written where the outcome will be committed, and no
//! split or route rule is driven by two Canaries.

use std::collections::BTreeMap;

use super::{Index, Key};
use crate::model::{Canary, CanaryTarget, HttpRoute};
use crate::validate::convert::CanaryDraft;
use crate::validate::report::{Object, Reporter};

/// What each Canary drives, to refuse a second Canary on the same weights.
#[derive(Default)]
pub(super) struct Driven<'o, 'a> {
    /// (namespace, split) → the Canary driving it.
    splits: BTreeMap<Key, &'o Object<'a>>,
    /// (namespace, route, rule index) → the Canary driving it.
    rules: BTreeMap<(String, String, usize), &'o Object<'a>>,
}

pub(super) fn canary<'o, 'a>(
    object: &'o Object<'a>,
    draft: &CanaryDraft,
    index: &Index<'_, '_>,
    driven: &mut Driven<'o, 'a>,
    reporter: &mut Reporter<'_>,
) {
    let canary = &draft.canary;
    if canary.stable == canary.canary {
        reporter.error(
            object,
            "/spec/canary",
            "stable and canary are the same backend",
        );
        return;
    }
    match &canary.target {
        CanaryTarget::TrafficSplit(split) => {
            if split_target(object, canary, split, index, reporter) {
                let key = (canary.namespace.clone(), split.clone());
                if let Some(first) = driven.splits.get(&key) {
                    reporter
                        .error(
                            object,
                            "/spec/trafficSplit",
                            format!(
                                "TrafficSplit {split:?} is already driven by Canary {}",
                                first.id.name
                            ),
                        )
                        .hint("one Canary per TrafficSplit");
                } else {
                    driven.splits.insert(key, object);
                }
            }
        }
        CanaryTarget::HttpRoute { name, rule } => {
            let Some(rules) = route_target(object, canary, name, rule.as_deref(), index, reporter)
            else {
                return;
            };
            for rule in rules {
                let key = (canary.namespace.clone(), name.clone(), rule);
                if let Some(first) = driven.rules.get(&key) {
                    reporter
                        .error(
                            object,
                            "/spec/httpRoute",
                            format!(
                                "rule {rule} of HTTPRoute {name:?} is already driven by Canary {}",
                                first.id.name
                            ),
                        )
                        .hint("one Canary per route rule: name the rule each Canary drives (`httpRoute: {name, rule}`)");
                    return;
                }
                driven.rules.insert(key, object);
            }
        }
    }
}

/// Whether the split exists and has both backends (else reported).
fn split_target(
    object: &Object<'_>,
    canary: &Canary,
    name: &str,
    index: &Index<'_, '_>,
    reporter: &mut Reporter<'_>,
) -> bool {
    let key = (canary.namespace.clone(), name.to_string());
    let Some((_, split)) = index.traffic_splits.get(&key) else {
        if !index.invalid.contains("TrafficSplit", &key) {
            reporter
                .error(
                    object,
                    "/spec/trafficSplit",
                    format!(
                        "Canary drives TrafficSplit {name:?}, which does not exist in namespace {:?}",
                        canary.namespace
                    ),
                )
                .hint("a Canary names a TrafficSplit of its own namespace");
        }
        return false;
    };
    let mut found = true;
    for (field, backend) in [("stable", &canary.stable), ("canary", &canary.canary)] {
        if !split.backends.iter().any(|b| &b.service == backend) {
            found = false;
            let known = split
                .backends
                .iter()
                .map(|b| b.service.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            reporter
                .error(
                    object,
                    &format!("/spec/{field}"),
                    format!(
                        "{field} backend {backend:?} is not a backend of TrafficSplit {:?}",
                        split.name
                    ),
                )
                .hint(format!("its backends are: {known}"));
        }
    }
    found
}

/// The indexes of the route rules the Canary drives, when the route can be driven (else
/// reported).
///
/// Long because each way a route cannot be driven gets its own diagnostic, pointing at
/// the field to fix.
fn route_target(
    object: &Object<'_>,
    canary: &Canary,
    name: &str,
    rule: Option<&str>,
    index: &Index<'_, '_>,
    reporter: &mut Reporter<'_>,
) -> Option<Vec<usize>> {
    let key = (canary.namespace.clone(), name.to_string());
    let Some((route_object, route)) = index.http_routes.get(&key) else {
        if !index.invalid.contains("HTTPRoute", &key) {
            reporter
                .error(
                    object,
                    "/spec/httpRoute/name",
                    format!(
                        "Canary drives HTTPRoute {name:?}, which does not exist in namespace {:?}",
                        canary.namespace
                    ),
                )
                .hint("a Canary names an HTTPRoute of its own namespace");
        }
        return None;
    };
    one_parent(object, route, reporter)?;
    let backends = [canary.stable.as_str(), canary.canary.as_str()];
    let rules: Vec<usize> = route
        .canary_rules(rule, &backends)
        .map(|(index, _)| index)
        .collect();
    match (rule, rules.first()) {
        (Some(rule), None) => {
            let names: Vec<&str> = route
                .rules
                .iter()
                .filter_map(|r| r.name.as_deref())
                .collect();
            reporter
                .error(
                    object,
                    "/spec/httpRoute/rule",
                    format!("HTTPRoute {name:?} has no rule named {rule:?}"),
                )
                .hint(if names.is_empty() {
                    "its rules have no names: add `name:` to the rule to drive, or leave `rule` out"
                        .to_string()
                } else {
                    format!("its named rules are: {}", names.join(", "))
                });
            return None;
        }
        (Some(_), Some(&index)) => {
            let mut found = true;
            for (field, backend) in [("stable", &canary.stable), ("canary", &canary.canary)] {
                if route.rules[index]
                    .backend_in(&route.namespace, backend)
                    .is_none()
                {
                    found = false;
                    reporter
                        .error(
                            object,
                            &format!("/spec/{field}"),
                            format!(
                                "{field} backend {backend:?} is not a backendRef of rule {index} of HTTPRoute {name:?}"
                            ),
                        )
                        .hint("stable and canary are backendRefs to Services of the route's namespace, in the rule the Canary drives");
                }
            }
            if !found {
                return None;
            }
        }
        (None, None) => {
            reporter
                .error(
                    object,
                    "/spec/httpRoute/name",
                    format!(
                        "no rule of HTTPRoute {name:?} has backendRefs to both {:?} and {:?}",
                        canary.stable, canary.canary
                    ),
                )
                .hint("list both Services in the backendRefs of the rule to roll out, with their weights");
            return None;
        }
        (None, Some(_)) => {}
    }
    weights_written(route_object, route, &rules, canary, reporter).then_some(rules)
}

/// Whether the driven backendRefs write their weights, where the outcome is committed
/// (each that does not is reported at its line of the route).
fn weights_written(
    route_object: &Object<'_>,
    route: &HttpRoute,
    rules: &[usize],
    canary: &Canary,
    reporter: &mut Reporter<'_>,
) -> bool {
    let value = route_object.document.value();
    let backends = [canary.stable.as_str(), canary.canary.as_str()];
    let mut written = true;
    for &rule in rules {
        for (position, backend) in route.rules[rule].backends.iter().enumerate() {
            let pointer = format!("/spec/rules/{rule}/backendRefs/{position}");
            if backend.namespace == route.namespace
                && backends.contains(&backend.name.as_str())
                && value.pointer(&format!("{pointer}/weight")).is_none()
            {
                written = false;
                reporter
                    .error(
                        route_object,
                        &pointer,
                        format!(
                            "backendRef {:?} has no weight, and Canary {} commits its outcome in this weight",
                            backend.name, canary.name
                        ),
                    )
                    .hint("write the weight (1 is what an unset weight means)");
            }
        }
    }
    written
}

/// A Canary judges one Service's traffic: the route must be bound to one Service of its
/// own namespace (on any number of ports).
fn one_parent(object: &Object<'_>, route: &HttpRoute, reporter: &mut Reporter<'_>) -> Option<()> {
    let mut parents: Vec<String> = route
        .parents
        .iter()
        .map(|parent| format!("{}/{}", parent.namespace, parent.name))
        .collect();
    parents.sort();
    parents.dedup();
    let own = route
        .parents
        .iter()
        .all(|parent| parent.namespace == route.namespace);
    if parents.len() == 1 && own {
        return Some(());
    }
    reporter
        .error(
            object,
            "/spec/httpRoute/name",
            format!(
                "HTTPRoute {:?} is bound to {}; a Canary drives a route bound to one Service of its own namespace",
                route.name,
                parents.join(", ")
            ),
        )
        .hint("split the route: one HTTPRoute for the Service whose rollout this Canary runs");
    None
}

#[cfg(test)]
#[path = "canaries_tests.rs"]
mod tests;
