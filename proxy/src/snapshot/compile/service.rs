//! One meshed service compiled: its ports (and ClusterIP entries), its own endpoints, and
//! its TrafficSplit if it is a split's root.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use meshcd_schemas::proto;

use super::{CompileContext, InvalidSnapshot, port, protocol, qualified};
use crate::http::hop;
use crate::metrics::{Direction, RouteLabels};
use crate::snapshot::matcher::HttpMatch;
use crate::snapshot::routes::{RouteTable, for_client};
use crate::snapshot::{Backend, Destination, Protocol, Service, ServicePort, Split, Workload};
use crate::upstream::endpoint::Endpoint;
use crate::upstream::split::WeightedChoice;

pub(super) fn compile_service(
    service: proto::Service,
    workload: &Workload,
    context: &CompileContext<'_>,
    cluster_ips: &mut HashMap<SocketAddr, (usize, u16)>,
    index: usize,
) -> Result<Service, InvalidSnapshot> {
    let name: Arc<str> = format!("{}.{}", service.name, service.namespace).into();
    let mut ports = Vec::with_capacity(service.ports.len());
    for service_port in &service.ports {
        ports.push(ServicePort {
            port: port(|| format!("service {name}"), service_port.port)?,
            protocol: protocol(service_port.protocol)?,
            local_port: u16::try_from(service_port.local_port).map_err(|_| {
                InvalidSnapshot::Port {
                    context: format!("service {name} local port"),
                    port: service_port.local_port,
                }
            })?,
        });
    }
    for address in &service.cluster_ips {
        let ip: IpAddr = address.parse().map_err(|_| InvalidSnapshot::ClusterIp {
            service: name.to_string(),
            address: address.clone(),
        })?;
        for service_port in &ports {
            cluster_ips.insert(
                SocketAddr::new(ip, service_port.port),
                (index, service_port.port),
            );
        }
    }

    let (split, route_names) = match service.split {
        Some(split) => {
            let builder = BackendBuilder {
                context,
                workload,
                root: &name,
                ports: &ports,
                routes: &[],
            };
            let (split, routes) = compile_split(split, &service.namespace, builder)?;
            (Some(split), routes)
        }
        None => (None, Vec::new()),
    };
    let own = BackendBuilder {
        context,
        workload,
        root: &name,
        ports: &ports,
        routes: &route_names,
    }
    .build(name.clone(), &service.endpoints);
    let namespace = service.namespace.clone();
    let routes = for_client(service.routes, &workload.namespace)
        .into_iter()
        .map(|table| {
            let port = u16::try_from(table.port).unwrap_or_default();
            RouteTable::compile(table, |backend, rule| {
                let to = RouteBackend {
                    context,
                    workload,
                    root: &name,
                    port,
                };
                to.build(backend, &namespace, rule)
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| InvalidSnapshot::Route {
            service: name.to_string(),
            source: Box::new(source),
        })?;

    Ok(Service {
        name,
        ports,
        own,
        split,
        routes,
    })
}

/// The workload addresses of `service`'s endpoints not seen yet, each as a service of its
/// one endpoint, named after `service` and called on the port the app serves there.
pub(super) fn add_workload_addresses(
    service: &proto::Service,
    workload: &Workload,
    context: &CompileContext<'_>,
    direct: &mut HashMap<SocketAddr, (usize, u16)>,
    direct_services: &mut Vec<Service>,
) -> Result<(), InvalidSnapshot> {
    let name: Arc<str> = format!("{}.{}", service.name, service.namespace).into();
    for endpoint in &service.endpoints {
        for address in &endpoint.direct {
            let parsed: SocketAddr =
                address
                    .address
                    .parse()
                    .map_err(|_| InvalidSnapshot::ClusterIp {
                        service: name.to_string(),
                        address: address.address.clone(),
                    })?;
            if direct.contains_key(&parsed) {
                continue;
            }
            let ports = [ServicePort {
                port: port(|| format!("service {name} workload address"), address.port)?,
                protocol: Protocol::Http,
                local_port: 0,
            }];
            let own = BackendBuilder {
                context,
                workload,
                root: &name,
                ports: &ports,
                routes: &[],
            }
            .build(name.clone(), std::slice::from_ref(endpoint));
            direct.insert(parsed, (direct_services.len(), ports[0].port));
            direct_services.push(Service {
                name: name.clone(),
                ports: ports.to_vec(),
                own,
                split: None,
                routes: Vec::new(),
            });
        }
    }
    Ok(())
}

/// `endpoints` as the registry's shared endpoints (one connection pool and health each).
fn registered(context: &CompileContext<'_>, endpoints: &[proto::Endpoint]) -> Vec<Arc<Endpoint>> {
    endpoints
        .iter()
        .map(|endpoint| {
            context
                .endpoints
                .endpoint(&endpoint.address, &endpoint.identity)
        })
        .collect()
}

/// A route rule's backend: called on its own port, whichever port of the parent the
/// request was addressed to; its metrics carry the rule's name as the route.
struct RouteBackend<'a> {
    context: &'a CompileContext<'a>,
    workload: &'a Workload,
    root: &'a Arc<str>,
    /// The parent's port the route table is for.
    port: u16,
}

impl RouteBackend<'_> {
    /// `namespace`: the parent Service's, where the backend is unless it names its own.
    fn build(&self, backend: proto::Backend, namespace: &str, rule: &Arc<str>) -> Backend {
        let namespace = match backend.namespace.as_str() {
            "" => namespace,
            own => own,
        };
        let service = qualified(&backend.service, namespace);
        let to_port = u16::try_from(backend.port)
            .ok()
            .filter(|port| *port > 0)
            .unwrap_or(self.port);
        let endpoints = registered(self.context, &backend.endpoints);
        let metrics = self.context.metrics.route(RouteLabels {
            direction: Direction::Outbound,
            source: self.workload.identity.clone(),
            destination: self.root.clone(),
            backend: service.clone(),
            route: rule.clone(),
        });
        Backend {
            destinations: vec![Destination {
                port: self.port,
                http1: hop::destination_value(&service, to_port, false),
                http2: hop::destination_value(&service, to_port, true),
            }],
            service,
            endpoints,
            metrics: vec![metrics],
        }
    }
}

struct BackendBuilder<'a> {
    context: &'a CompileContext<'a>,
    workload: &'a Workload,
    root: &'a Arc<str>,
    ports: &'a [ServicePort],
    routes: &'a [Arc<str>],
}

impl BackendBuilder<'_> {
    fn build(&self, service: Arc<str>, endpoints: &[proto::Endpoint]) -> Backend {
        let endpoints = registered(self.context, endpoints);
        let destinations = self
            .ports
            .iter()
            .map(|port| Destination {
                port: port.port,
                http1: hop::destination_value(&service, port.port, false),
                http2: hop::destination_value(&service, port.port, true),
            })
            .collect();
        let default_route: Arc<str> = Arc::from("");
        let metrics = std::iter::once(&default_route)
            .chain(self.routes.iter())
            .map(|route| {
                self.context.metrics.route(RouteLabels {
                    direction: Direction::Outbound,
                    source: self.workload.identity.clone(),
                    destination: self.root.clone(),
                    backend: service.clone(),
                    route: route.clone(),
                })
            })
            .collect();
        Backend {
            service,
            endpoints,
            destinations,
            metrics,
        }
    }
}

/// A TrafficSplit: its matches, weights and backends (each with its endpoints and the
/// metric handles of every route the split's matches name).
fn compile_split(
    split: proto::Split,
    namespace: &str,
    builder: BackendBuilder<'_>,
) -> Result<(Split, Vec<Arc<str>>), InvalidSnapshot> {
    let name = builder.root;
    let matches = split
        .matches
        .into_iter()
        .map(HttpMatch::try_from)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| InvalidSnapshot::SplitMatch {
            service: name.to_string(),
            split: split.traffic_split.clone(),
            source: Box::new(source),
        })?;
    let route_names: Vec<Arc<str>> = matches.iter().map(|m| m.name.clone()).collect();
    let weights =
        WeightedChoice::new(split.backends.iter().map(|b| b.weight)).ok_or_else(|| {
            InvalidSnapshot::NoWeight {
                service: name.to_string(),
                split: split.traffic_split.clone(),
            }
        })?;
    let builder = BackendBuilder {
        routes: &route_names,
        ..builder
    };
    let backends = split
        .backends
        .into_iter()
        .map(|backend| builder.build(qualified(&backend.service, namespace), &backend.endpoints))
        .collect();
    let split = Split {
        name: split.traffic_split.into(),
        backends,
        weights,
        matches,
    };
    Ok((split, route_names))
}
