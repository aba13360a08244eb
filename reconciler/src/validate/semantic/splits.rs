//! TrafficSplits and Canaries: a root split once, backends and splits that exist.

use super::Index;
use crate::validate::report::{Object, Reporter};
use std::collections::BTreeSet;

use crate::model::TrafficSplit;
use crate::validate::convert::CanaryDraft;

pub(super) fn traffic_split(
    object: &Object<'_>,
    split: &TrafficSplit,
    index: &Index<'_, '_>,
    reporter: &mut Reporter<'_>,
) {
    for (position, name) in split.matches.iter().enumerate() {
        let key = (split.namespace.clone(), name.clone());
        if !index.http_route_groups.contains_key(&key)
            && !index.invalid.contains("HTTPRouteGroup", &key)
        {
            reporter
                .error(object, &format!("/spec/matches/{position}/name"), format!(
                    "matches names HTTPRouteGroup {name:?}, which does not exist in namespace {:?}", split.namespace
                ))
                .hint("A/B matches refer to HTTPRouteGroups of the split's namespace");
        }
    }
    let mut seen = BTreeSet::new();
    for (position, backend) in split.backends.iter().enumerate() {
        if !seen.insert(&backend.service) {
            reporter
                .error(
                    object,
                    &format!("/spec/backends/{position}/service"),
                    format!("backend {:?} is listed twice", backend.service),
                )
                .hint("list each backend once and add up its weights");
        }
        if backend.service == split.service {
            reporter
                .warning(
                    object,
                    &format!("/spec/backends/{position}/service"),
                    format!("the root service {:?} is also a backend", split.service),
                )
                .hint("the root selects every version; split over version-specific services");
        }
    }
}

pub(super) fn canary(
    object: &Object<'_>,
    draft: &CanaryDraft,
    index: &Index<'_, '_>,
    reporter: &mut Reporter<'_>,
) {
    let canary = &draft.canary;
    let key = (canary.namespace.clone(), canary.traffic_split.clone());
    let Some((_, split)) = index.traffic_splits.get(&key) else {
        if index.invalid.contains("TrafficSplit", &key) {
            return;
        }
        reporter
            .error(
                object,
                "/spec/trafficSplit",
                format!(
                    "Canary drives TrafficSplit {:?}, which does not exist in namespace {:?}",
                    canary.traffic_split, canary.namespace
                ),
            )
            .hint("a Canary names a TrafficSplit of its own namespace");
        return;
    };
    if canary.stable == canary.canary {
        reporter.error(
            object,
            "/spec/canary",
            "stable and canary are the same backend",
        );
        return;
    }
    for (field, backend) in [("stable", &canary.stable), ("canary", &canary.canary)] {
        if !split.backends.iter().any(|b| &b.service == backend) {
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
}
