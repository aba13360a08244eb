//! The calls out of the mesh one caller's proxy may make: the Egress policies naming its
//! identity, with their HTTPRouteGroups' matches inlined.

use meshcd_schemas::proto;

use super::access::group_matches;
use crate::model::{Config, Egress, EgressProtocol, Identity};

/// The Egress rules of `caller`, in the config's order.
pub fn egress_rules(config: &Config, caller: &Identity) -> Vec<proto::EgressRule> {
    config
        .egresses
        .iter()
        .map(|egress| &egress.value)
        .filter(|egress| egress.applies_to(caller))
        .map(|egress| rule(config, egress))
        .collect()
}

/// One Egress as its sources' proxies get it.
pub fn rule(config: &Config, egress: &Egress) -> proto::EgressRule {
    let matches = egress
        .route_groups
        .iter()
        .flat_map(|name| group_matches(config, (&egress.namespace, name), None))
        .collect();
    proto::EgressRule {
        name: format!("{}/{}", egress.namespace, egress.name),
        hosts: egress.hosts.clone(),
        ip_ranges: egress.ip_ranges.iter().map(ToString::to_string).collect(),
        ports: egress
            .ports
            .iter()
            .map(|port| proto::EgressPort {
                number: u32::from(port.number),
                protocol: match port.protocol {
                    EgressProtocol::Http => proto::EgressProtocol::Http,
                    EgressProtocol::Https => proto::EgressProtocol::Https,
                    EgressProtocol::Tcp => proto::EgressProtocol::Tcp,
                } as i32,
            })
            .collect(),
        matches,
    }
}
