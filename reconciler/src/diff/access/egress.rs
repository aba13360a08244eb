//! Calls out of the mesh as access grants: each Egress source → each host or address
//! range it names, per port, as the proxy reads it (`snapshot/egress.rs`): HTTP requests
//! (any, or its HTTPRouteGroups' matches), TLS streams, TCP streams; and the Mesh's
//! `egress: allow` as every meshed workload → any host outside the mesh.

use super::{AccessSet, Grant, Peer, Request};
use meshcd_schemas::proto;

use crate::compile;
use crate::diagnostics::ObjectId;
use crate::model::{Config, Egress, EgressProtocol};

/// Adds the egress grants of `config` to `set`.
pub(super) fn add(set: &mut AccessSet, config: &Config) {
    if config.mesh.allows_egress() {
        for request in [Request::Tcp, Request::any_http()] {
            let grant = Grant {
                source: Peer::AnyMeshedWorkload,
                destination: Peer::AnyExternal,
                port: None,
                request,
            };
            set.insert(grant, None, None, None);
        }
    }
    for located in &config.egresses {
        let egress = &located.value;
        let name = format!("{}/{}", egress.namespace, egress.name);
        let object = ObjectId {
            kind: "Egress".into(),
            namespace: Some(egress.namespace.clone()),
            name: egress.name.clone(),
        };
        let onboarded = |namespace: &str| config.namespaces.contains(namespace);
        for source in egress.sources.iter().filter(|s| onboarded(&s.namespace)) {
            for host in egress.destinations() {
                for port in &egress.ports {
                    for (request, route) in requests(config, egress, port.protocol) {
                        let grant = Grant {
                            source: source.into(),
                            destination: Peer::External { host: host.clone() },
                            port: Some(port.number),
                            request,
                        };
                        let origin = Some((&located.origin, &object));
                        set.insert(grant.clone(), None, route.as_deref(), origin);
                        if let Some(attribution) = set.grants.get_mut(&grant) {
                            attribution.egresses.insert(name.clone());
                        }
                    }
                }
            }
        }
    }
}

/// What one port of `egress` lets through, each HTTP request with the route match
/// (`group/match`) that admits it: HTTP as an inbound rule with the same matches reads.
fn requests(
    config: &Config,
    egress: &Egress,
    protocol: EgressProtocol,
) -> Vec<(Request, Option<String>)> {
    match protocol {
        EgressProtocol::Tcp => vec![(Request::Tcp, None)],
        EgressProtocol::Https => vec![(Request::Tls, None)],
        EgressProtocol::Http => {
            let matches = compile::egress::rule(config, egress).matches;
            let rule = proto::InboundRule {
                http: (!matches.is_empty()).then_some(proto::HttpMatches { matches }),
                ..proto::InboundRule::default()
            };
            let (_, requests) = super::expand(&rule);
            requests
                .into_iter()
                .map(|(request, route)| (request, route.map(str::to_string)))
                .collect()
        }
    }
}

#[cfg(test)]
#[path = "egress_tests.rs"]
mod tests;
