//! The meshed services every proxy can address: ports, endpoints, and splits.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use meshcd_schemas::proto;

use super::access::http_match;
use super::routes;
use super::{CompileWarning, protocol, spiffe_id};
use crate::inventory::{Inventory, Protocol, Workload};
use crate::model::{Config, HttpRouteGroup, Located, TrafficSplit};

#[derive(Default)]
struct ServiceBuild {
    /// Port → protocol; the first workload to declare a port decides its protocol.
    ports: BTreeMap<u16, Protocol>,
    endpoints: Vec<proto::Endpoint>,
}

type Table = BTreeMap<(String, String), ServiceBuild>;

pub fn services(
    config: &Config,
    inventory: &Inventory,
    warnings: &mut Vec<CompileWarning>,
) -> Vec<proto::Service> {
    let mut table = served(config, inventory);
    add_split_roots(config, &mut table);
    add_route_parents(config, &mut table);
    let splits: BTreeMap<(&str, &str), &Located<TrafficSplit>> = config
        .traffic_splits
        .iter()
        .map(|s| ((s.value.namespace.as_str(), s.value.service.as_str()), s))
        .collect();
    let groups: Groups<'_> = config
        .http_route_groups
        .iter()
        .map(|g| {
            (
                (g.value.namespace.as_str(), g.value.name.as_str()),
                &g.value,
            )
        })
        .collect();
    let bound = routes::by_parent(&config.http_routes);
    let mut services = Vec::new();
    for ((namespace, name), build) in &table {
        let split = splits
            .get(&(namespace.as_str(), name.as_str()))
            .map(|located| split(located, &table, &groups, warnings));
        services.push(proto::Service {
            name: name.clone(),
            namespace: namespace.clone(),
            extra_hostnames: Vec::new(),
            cluster_ips: inventory
                .services
                .get(&(namespace.clone(), name.clone()))
                .map(|info| info.cluster_ips.clone())
                .unwrap_or_default(),
            ports: build
                .ports
                .iter()
                .map(|(port, proto_protocol)| proto::ServicePort {
                    port: u32::from(*port),
                    protocol: protocol(*proto_protocol) as i32,
                    local_port: 0,
                })
                .collect(),
            endpoints: build.endpoints.clone(),
            split,
            routes: bound
                .get(&(namespace.as_str(), name.as_str()))
                .map(|routes| {
                    let ports: Vec<u16> = build.ports.keys().copied().collect();
                    routes::tables(routes, namespace, &ports, &|namespace, service| {
                        endpoints_of(&table, namespace, service)
                    })
                })
                .unwrap_or_default(),
        });
    }
    services
}

/// The endpoints of Service `namespace`/`service`: none when no workload serves it.
fn endpoints_of(table: &Table, namespace: &str, service: &str) -> Vec<proto::Endpoint> {
    table
        .get(&(namespace.to_string(), service.to_string()))
        .map(|build| build.endpoints.clone())
        .unwrap_or_default()
}

/// HTTPRouteGroups by (namespace, name).
type Groups<'a> = BTreeMap<(&'a str, &'a str), &'a HttpRouteGroup>;

/// The services workloads of onboarded namespaces serve, with their ports and endpoints.
fn served(config: &Config, inventory: &Inventory) -> Table {
    let trust_domain = &config.mesh.trust_domain;
    let mut table = Table::new();
    for workload in inventory.workloads.values() {
        let namespace = &workload.identity.namespace;
        if !config.namespaces.contains(namespace) {
            continue;
        }
        for service in &workload.services {
            let build = table
                .entry((namespace.clone(), service.clone()))
                .or_default();
            for port in &workload.ports {
                build
                    .ports
                    .entry(port.service_port)
                    .or_insert(port.protocol);
            }
            build.endpoints.push(proto::Endpoint {
                address: workload.inbound_address.clone(),
                identity: spiffe_id(trust_domain, &workload.identity),
                direct: direct_addresses(workload),
            });
        }
    }
    for build in table.values_mut() {
        build
            .endpoints
            .sort_by(|a, b| (&a.address, &a.identity).cmp(&(&b.address, &b.identity)));
        build.endpoints.dedup();
    }
    table
}

/// Where callers may address the workload itself rather than a Service (Gateway API's
/// MeshFrontend): each HTTP app port, on the workload's own IP when the app listens on
/// loopback or on every address (a pod: its IP is the inbound listener's), else where it
/// listens (local mode, every app on its own loopback port). One service port per address.
fn direct_addresses(workload: &Workload) -> Vec<proto::DirectAddress> {
    let own_ip = workload
        .inbound_address
        .parse::<SocketAddr>()
        .ok()
        .map(|address| address.ip())
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified());
    let mut direct: Vec<proto::DirectAddress> = Vec::new();
    for port in workload
        .ports
        .iter()
        .filter(|p| p.protocol == Protocol::Http)
    {
        let Ok(app) = port.app_address.parse::<SocketAddr>() else {
            continue;
        };
        let address = match own_ip {
            Some(ip) if app.ip().is_loopback() || app.ip().is_unspecified() => {
                SocketAddr::new(ip, app.port())
            }
            _ if app.ip().is_unspecified() => continue,
            _ => app,
        };
        let address = address.to_string();
        if !direct.iter().any(|d| d.address == address) {
            direct.push(proto::DirectAddress {
                address,
                port: u32::from(port.service_port),
            });
        }
    }
    direct
}

/// A split's root is addressable even when no workload serves it directly: on the ports
/// of its backends.
fn add_split_roots(config: &Config, table: &mut Table) {
    for split in config.traffic_splits.iter().map(|s| &s.value) {
        let root = (split.namespace.clone(), split.service.clone());
        let mut ports = BTreeMap::new();
        for backend in &split.backends {
            if let Some(build) = table.get(&(split.namespace.clone(), backend.service.clone())) {
                ports.extend(
                    build
                        .ports
                        .iter()
                        .map(|(port, protocol)| (*port, *protocol)),
                );
            }
        }
        let build = table.entry(root).or_default();
        for (port, protocol) in ports {
            build.ports.entry(port).or_insert(protocol);
        }
    }
}

/// A route's parent Service is addressable even when no workload serves it directly: on
/// the port its routes name, else on the ports of their backends.
fn add_route_parents(config: &Config, table: &mut Table) {
    for route in config.http_routes.iter().map(|r| &r.value) {
        let backend_ports: Vec<u16> = route
            .rules
            .iter()
            .flat_map(|rule| &rule.backends)
            .map(|backend| backend.port)
            .filter(|port| *port > 0)
            .collect();
        for parent in &route.parents {
            let build = table
                .entry((parent.namespace.clone(), parent.name.clone()))
                .or_default();
            let ports = match parent.port {
                Some(port) => vec![port],
                None if build.ports.is_empty() => backend_ports.clone(),
                None => Vec::new(),
            };
            for port in ports {
                build.ports.entry(port).or_insert(Protocol::Http);
            }
        }
    }
}

/// One TrafficSplit compiled: its backends with their endpoints and weights, and the
/// HTTP matches it applies to. A weighted backend nothing serves is warned about.
fn split(
    located: &Located<TrafficSplit>,
    table: &Table,
    groups: &Groups<'_>,
    warnings: &mut Vec<CompileWarning>,
) -> proto::Split {
    let split = &located.value;
    let namespace = &split.namespace;
    let backends = split
        .backends
        .iter()
        .map(|backend| {
            let endpoints = endpoints_of(table, namespace, &backend.service);
            if endpoints.is_empty() && backend.weight > 0 {
                warnings.push(CompileWarning {
                    origin: Some(located.origin.clone()),
                    message: format!(
                        "TrafficSplit {namespace}/{}: backend {:?} has weight {} but no workload serves it",
                        split.name, backend.service, backend.weight
                    ),
                });
            }
            proto::Backend {
                service: backend.service.clone(),
                weight: u32::try_from(backend.weight).unwrap_or(u32::MAX),
                endpoints,
                ..Default::default()
            }
        })
        .collect();
    let matches = split
        .matches
        .iter()
        .filter_map(|group_name| groups.get(&(namespace.as_str(), group_name.as_str())))
        .flat_map(|group| {
            group
                .matches
                .iter()
                .map(|item| http_match(&group.name, item))
        })
        .collect();
    proto::Split {
        traffic_split: format!("{namespace}/{}", split.name),
        backends,
        matches,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::WorkloadPort;
    use crate::model::Identity;

    fn workload(inbound: &str, apps: &[(u16, &str, Protocol)]) -> Workload {
        Workload {
            id: "w".into(),
            identity: Identity {
                namespace: "shop".into(),
                service_account: "api".into(),
            },
            services: vec!["api".into()],
            ports: apps
                .iter()
                .map(|&(service_port, app, protocol)| WorkloadPort {
                    service_port,
                    app_address: app.into(),
                    protocol,
                })
                .collect(),
            inbound_address: inbound.into(),
        }
    }

    fn addresses(workload: &Workload) -> Vec<(String, u32)> {
        direct_addresses(workload)
            .into_iter()
            .map(|d| (d.address, d.port))
            .collect()
    }

    #[test]
    fn a_pods_apps_are_addressed_on_its_ip_and_local_apps_where_they_listen() {
        let pod = workload(
            "10.1.0.7:15006",
            &[
                (80, "127.0.0.1:8080", Protocol::Http),
                (8080, "127.0.0.1:8080", Protocol::Http),
                (5432, "127.0.0.1:5432", Protocol::Tcp),
            ],
        );
        assert_eq!(addresses(&pod), [("10.1.0.7:8080".to_string(), 80)]);
        let local = workload(
            "127.0.0.1:41000",
            &[
                (80, "127.0.0.1:41001", Protocol::Http),
                (81, "0.0.0.0:41002", Protocol::Http),
            ],
        );
        assert_eq!(addresses(&local), [("127.0.0.1:41001".to_string(), 80)]);
    }
}
