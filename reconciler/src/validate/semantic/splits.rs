//! TrafficSplits: A/B matches that exist, each backend once.

use super::Index;
use crate::validate::report::{Object, Reporter};
use std::collections::BTreeSet;

use crate::model::TrafficSplit;

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
