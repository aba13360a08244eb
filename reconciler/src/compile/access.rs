//! TrafficTargets → the inbound authorization rules of one destination identity.

use meshcd_schemas::proto;

use super::spiffe_id;
use crate::model::{Config, HttpMatch, Identity, RouteKind};

/// The rules of every TrafficTarget whose destination is `identity`, flattened. A target
/// that can admit nothing (only UDPRoutes, or disjoint port limits) yields no rule.
pub fn inbound_rules(config: &Config, identity: &Identity) -> Vec<proto::InboundRule> {
    let trust_domain = &config.mesh.trust_domain;
    let mut rules = Vec::new();
    for target in config.traffic_targets.iter().map(|t| &t.value) {
        if &target.destination != identity {
            continue;
        }
        let mut tcp_ports: Option<Vec<u16>> = None;
        let mut tcp_all_ports = false;
        let mut http: Option<Vec<proto::HttpMatch>> = None;
        for rule in &target.rules {
            match rule.kind {
                RouteKind::Tcp => {
                    let Some(route) = config
                        .tcp_routes
                        .iter()
                        .map(|r| &r.value)
                        .find(|r| r.namespace == target.namespace && r.name == rule.name)
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
                    let Some(group) = config
                        .http_route_groups
                        .iter()
                        .map(|g| &g.value)
                        .find(|g| g.namespace == target.namespace && g.name == rule.name)
                    else {
                        continue;
                    };
                    let matches = http.get_or_insert_with(Vec::new);
                    for item in &group.matches {
                        let listed = rule.matches.as_ref().is_none_or(|names| names.contains(&item.name));
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
            continue;
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
                Some(_) => continue,
            };
        }
        rules.push(proto::InboundRule {
            traffic_target: format!("{}/{}", target.namespace, target.name),
            sources: target.sources.iter().map(|source| spiffe_id(trust_domain, source)).collect(),
            ports: ports.map(|ports| proto::PortMatch {
                ports: ports.into_iter().map(u32::from).collect(),
            }),
            http: http.map(|matches| proto::HttpMatches { matches }),
        });
    }
    rules
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
