//! Checks across documents: references resolve, objects live in onboarded namespaces,
//! no duplicates, regexes compile, one split per root, canaries name real backends.
//!
//! Services and service accounts are not declared in the config repo, so a split backend
//! or an identity without a workload is not an error here: `compile` reports it.

use std::collections::{BTreeMap, BTreeSet};

use super::convert::Converted;
use super::report::{Object, Reporter};
use crate::model::{GatewayRouteKind, HttpRoute, HttpRouteGroup, ReferenceGrant, TrafficSplit};

mod access;
mod canaries;
mod policies;
mod regex;
mod roots;
mod routes;
mod splits;

use access::{http_route_group, traffic_target};
use canaries::{Driven, canary};
use regex::RegexChecks;
pub use regex::check_full_match;
use splits::traffic_split;

type Key = (String, String);

/// Objects present in the tree but reported invalid (schema or conversion), by kind and
/// (namespace, name): a reference to one resolves, so that it is not reported missing.
#[derive(Debug, Default)]
pub struct Invalid(BTreeMap<String, BTreeSet<Key>>);

impl Invalid {
    pub fn insert(&mut self, id: &crate::diagnostics::ObjectId) {
        self.0
            .entry(id.kind.clone())
            .or_default()
            .insert((id.namespace.clone().unwrap_or_default(), id.name.clone()));
    }

    fn contains(&self, kind: &str, key: &Key) -> bool {
        self.0.get(kind).is_some_and(|keys| keys.contains(key))
    }

    /// A cluster-scoped Namespace is keyed by its name alone.
    fn contains_namespace(&self, name: &str) -> bool {
        self.0
            .get("Namespace")
            .is_some_and(|keys| keys.iter().any(|(_, invalid)| invalid == name))
    }
}

struct Index<'o, 'a> {
    invalid: &'o Invalid,
    namespaces: BTreeSet<String>,
    http_route_groups: BTreeMap<Key, (&'o Object<'a>, &'o HttpRouteGroup)>,
    tcp_routes: BTreeSet<Key>,
    udp_routes: BTreeSet<Key>,
    traffic_splits: BTreeMap<Key, (&'o Object<'a>, &'o TrafficSplit)>,
    /// (namespace, service) of every TrafficSplit root.
    split_roots: BTreeSet<Key>,
    reference_grants: Vec<&'o ReferenceGrant>,
    grpc_routes: Vec<&'o HttpRoute>,
    /// HTTPRoutes (not GRPCRoutes) by (namespace, name), for Canaries.
    http_routes: BTreeMap<Key, (&'o Object<'a>, &'o HttpRoute)>,
}

pub fn check(objects: &[(Object<'_>, Converted)], invalid: &Invalid, reporter: &mut Reporter<'_>) {
    duplicates(objects, reporter);
    roots::check(objects, reporter);
    let index = index(objects, invalid);
    let mut regexes = RegexChecks::default();
    let mut roots: BTreeMap<Key, &Object<'_>> = BTreeMap::new();
    let mut driven = Driven::default();
    let mut policies = policies::Policies::new(objects);
    for (object, converted) in objects {
        if let Some(namespace) = &object.id.namespace
            && !index.namespaces.contains(namespace)
            && !index.invalid.contains_namespace(namespace)
        {
            reporter
                .error(object, "/metadata/namespace", format!("namespace {namespace:?} is not onboarded"))
                .hint(format!("add a Namespace manifest for it (`meshcd namespace add {namespace}`), or move the object"));
        }
        match converted {
            Converted::TrafficTarget(target) => traffic_target(object, target, &index, reporter),
            Converted::HttpRouteGroup(group) => {
                http_route_group(object, group, &mut regexes, reporter)
            }
            Converted::TrafficSplit(split) => {
                traffic_split(object, split, &index, reporter);
                let root = (split.namespace.clone(), split.service.clone());
                if let Some(first) = roots.get(&root) {
                    let origin = reporter.origin(first.document);
                    reporter
                        .error(
                            object,
                            "/spec/service",
                            format!(
                                "service {}/{} is already split by TrafficSplit {} ({}:{})",
                                split.namespace,
                                split.service,
                                first.id.name,
                                origin.file.display(),
                                origin.line
                            ),
                        )
                        .hint("one TrafficSplit per root service: merge their backends into one");
                } else {
                    roots.insert(root, object);
                }
            }
            Converted::Canary(draft) => canary(object, draft, &index, &mut driven, reporter),
            Converted::HttpRoute(route) => routes::http_route(object, route, &index, reporter),
            converted => {
                match converted {
                    Converted::Fault(fault) => {
                        access::fault_routes(object, fault, &index, reporter)
                    }
                    Converted::UpstreamTrafficSetting(setting) => {
                        access::setting_paths(object, setting, &mut regexes, reporter)
                    }
                    Converted::Egress(egress) => {
                        access::egress_route_groups(object, egress, &index, reporter)
                    }
                    _ => {}
                }
                policies.check(object, converted, reporter)
            }
        }
    }
}

fn duplicates(objects: &[(Object<'_>, Converted)], reporter: &mut Reporter<'_>) {
    let mut seen: BTreeMap<(String, Option<String>, String), &Object<'_>> = BTreeMap::new();
    let mut mesh: Option<&Object<'_>> = None;
    for (object, converted) in objects {
        if matches!(converted, Converted::Mesh(_)) {
            if let Some(first) = mesh {
                let origin = reporter.origin(first.document);
                reporter
                    .error(
                        object,
                        "/kind",
                        format!(
                            "a second Mesh (the first, {:?}, is at {}:{})",
                            first.id.name,
                            origin.file.display(),
                            origin.line
                        ),
                    )
                    .hint("a config repository holds at most one Mesh; merge them");
                continue;
            }
            mesh = Some(object);
        }
        let key = (
            object.id.kind.clone(),
            object.id.namespace.clone(),
            object.id.name.clone(),
        );
        if let Some(first) = seen.get(&key) {
            let origin = reporter.origin(first.document);
            reporter
                .error(
                    object,
                    "/metadata/name",
                    format!(
                        "duplicate {} (first defined at {}:{})",
                        object.id,
                        origin.file.display(),
                        origin.line
                    ),
                )
                .hint("kind, namespace and name identify an object; rename or delete one of them");
        } else {
            seen.insert(key, object);
        }
    }
}

fn index<'o, 'a>(objects: &'o [(Object<'a>, Converted)], invalid: &'o Invalid) -> Index<'o, 'a> {
    let mut index = Index {
        invalid,
        namespaces: BTreeSet::new(),
        http_route_groups: BTreeMap::new(),
        tcp_routes: BTreeSet::new(),
        udp_routes: BTreeSet::new(),
        traffic_splits: BTreeMap::new(),
        split_roots: BTreeSet::new(),
        reference_grants: Vec::new(),
        grpc_routes: Vec::new(),
        http_routes: BTreeMap::new(),
    };
    for (object, converted) in objects {
        match converted {
            Converted::Namespace(name) => {
                index.namespaces.insert(name.clone());
            }
            Converted::HttpRouteGroup(group) => {
                index
                    .http_route_groups
                    .entry((group.namespace.clone(), group.name.clone()))
                    .or_insert((object, group));
            }
            Converted::TcpRoute(route) => {
                index
                    .tcp_routes
                    .insert((route.namespace.clone(), route.name.clone()));
            }
            Converted::UdpRoute(route) => {
                index
                    .udp_routes
                    .insert((route.namespace.clone(), route.name.clone()));
            }
            Converted::TrafficSplit(split) => {
                index
                    .split_roots
                    .insert((split.namespace.clone(), split.service.clone()));
                index
                    .traffic_splits
                    .entry((split.namespace.clone(), split.name.clone()))
                    .or_insert((object, split));
            }
            Converted::ReferenceGrant(grant) => index.reference_grants.push(grant),
            Converted::HttpRoute(route) if route.kind == GatewayRouteKind::Grpc => {
                index.grpc_routes.push(route);
            }
            Converted::HttpRoute(route) => {
                index
                    .http_routes
                    .entry((route.namespace.clone(), route.name.clone()))
                    .or_insert((object, route));
            }
            _ => {}
        }
    }
    index
}
