//! TrafficTargets → the inbound authorization rules of one destination identity.

use std::collections::BTreeMap;

use meshcd_schemas::proto;

use super::spiffe_id;
use crate::model::{
    Config, HttpMatch, HttpRouteGroup, Identity, PortRoute, RouteKind, TrafficTarget,
};

type Key<'c> = (&'c str, &'c str);

/// TrafficTargets by destination and routes by name, so that each proxy's rules cost
/// only its own targets.
pub struct RuleIndex<'c> {
    trust_domain: &'c str,
    targets: BTreeMap<&'c Identity, Vec<&'c TrafficTarget>>,
    http_route_groups: BTreeMap<Key<'c>, &'c HttpRouteGroup>,
    tcp_routes: BTreeMap<Key<'c>, &'c PortRoute>,
}

impl<'c> RuleIndex<'c> {
    pub fn new(config: &'c Config) -> Self {
        let mut targets: BTreeMap<&Identity, Vec<&TrafficTarget>> = BTreeMap::new();
        for target in &config.traffic_targets {
            targets
                .entry(&target.value.destination)
                .or_default()
                .push(&target.value);
        }
        RuleIndex {
            trust_domain: &config.mesh.trust_domain,
            targets,
            http_route_groups: config
                .http_route_groups
                .iter()
                .map(|g| {
                    (
                        (g.value.namespace.as_str(), g.value.name.as_str()),
                        &g.value,
                    )
                })
                .collect(),
            tcp_routes: config
                .tcp_routes
                .iter()
                .map(|r| {
                    (
                        (r.value.namespace.as_str(), r.value.name.as_str()),
                        &r.value,
                    )
                })
                .collect(),
        }
    }

    /// The rules of every TrafficTarget whose destination is `identity`, flattened. A
    /// target that can admit nothing (only UDPRoutes, or disjoint port limits) yields no rule.
    pub fn inbound_rules(&self, identity: &Identity) -> Vec<proto::InboundRule> {
        self.targets
            .get(identity)
            .into_iter()
            .flatten()
            .filter_map(|target| self.rule(target))
            .collect()
    }

    fn rule(&self, target: &TrafficTarget) -> Option<proto::InboundRule> {
        let trust_domain = self.trust_domain;
        let mut tcp_ports: Option<Vec<u16>> = None;
        let mut tcp_all_ports = false;
        let mut http: Option<Vec<proto::HttpMatch>> = None;
        for rule in &target.rules {
            match rule.kind {
                RouteKind::Tcp => {
                    let Some(route) = self
                        .tcp_routes
                        .get(&(target.namespace.as_str(), rule.name.as_str()))
                    else {
                        continue;
                    };
                    let ports = tcp_ports.get_or_insert_with(Vec::new);
                    if route.ports.is_empty() {
                        tcp_all_ports = true;
                    }
                    ports.extend(&route.ports);
                }
                RouteKind::Http => {
                    let Some(group) = self
                        .http_route_groups
                        .get(&(target.namespace.as_str(), rule.name.as_str()))
                    else {
                        continue;
                    };
                    let matches = http.get_or_insert_with(Vec::new);
                    for item in &group.matches {
                        let listed = rule
                            .matches
                            .as_ref()
                            .is_none_or(|names| names.contains(&item.name));
                        if listed {
                            matches.push(http_match(&group.name, item));
                        }
                    }
                }
                RouteKind::Udp => {}
            }
        }
        if tcp_ports.is_none() && http.is_none() {
            // Only UDP rules, or rules naming nothing: this target admits no traffic.
            return None;
        }
        // A TCP rule with no ports admits every port; an empty PortMatch says exactly that.
        let mut ports = tcp_ports.map(|mut ports| {
            if tcp_all_ports {
                ports.clear();
            }
            ports.sort_unstable();
            ports.dedup();
            ports
        });
        if let Some(port) = target.destination_port {
            ports = match ports {
                None => Some(vec![port]),
                Some(list) if list.is_empty() || list.contains(&port) => Some(vec![port]),
                Some(_) => return None,
            };
        }
        Some(proto::InboundRule {
            traffic_target: format!("{}/{}", target.namespace, target.name),
            sources: target
                .sources
                .iter()
                .map(|source| spiffe_id(trust_domain, source))
                .collect(),
            ports: ports.map(|ports| proto::PortMatch {
                ports: ports.into_iter().map(u32::from).collect(),
            }),
            http: http.map(|matches| proto::HttpMatches { matches }),
        })
    }
}

/// The matches of HTTPRouteGroup `namespace/name` (those named in `only`, else all),
/// compiled; none when the group does not exist (validation reports that).
pub fn group_matches(
    config: &Config,
    (namespace, name): (&str, &str),
    only: Option<&Vec<String>>,
) -> Vec<proto::HttpMatch> {
    let group = config
        .http_route_groups
        .iter()
        .map(|group| &group.value)
        .find(|group| group.namespace == namespace && group.name == name);
    group
        .iter()
        .flat_map(|group| &group.matches)
        .filter(|item| only.is_none_or(|names| names.contains(&item.name)))
        .map(|item| http_match(name, item))
        .collect()
}

pub fn http_match(group: &str, item: &HttpMatch) -> proto::HttpMatch {
    proto::HttpMatch {
        name: format!("{group}/{}", item.name),
        path_regex: item.path_regex.clone().unwrap_or_default(),
        methods: item.methods.clone(),
        headers: item
            .headers
            .iter()
            .map(|(name, value_regex)| proto::HeaderMatch {
                name: name.clone(),
                value_regex: value_regex.clone(),
            })
            .collect(),
    }
}
