//! Compiles a protobuf `Snapshot` into the proxy's routing and authorization tables.
//!
//! This is a function with a context rather than a plain `TryFrom`: endpoint handles
//! come from the connection pool (so an endpoint present in the old and the new snapshot
//! keeps its connection, load and ejection state) and per-route metric handles from the
//! registry (so the hot path never looks labels up). The context-free parts are `TryFrom`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http::uri::Authority;
use meshcd_schemas::proto;

use super::hosts::host_forms;
use super::matcher::{HttpMatch, InvalidMatch};
use super::{
    Backend, Destination, InboundPort, Mesh, MtlsMode, Protocol, Rule, Service, ServicePort,
    Snapshot, Split, TrafficPolicy, Workload,
};
use crate::hop;
use crate::metrics::{Direction, Metrics, RouteLabels};
use crate::outbound::endpoint::EndpointRegistry;
use crate::outbound::split::WeightedChoice;

/// What a snapshot is compiled against.
pub struct CompileContext<'a> {
    pub endpoints: &'a EndpointRegistry,
    pub metrics: &'a Metrics,
}

#[derive(Debug, thiserror::Error)]
pub enum InvalidSnapshot {
    #[error("the snapshot names no workload")]
    MissingWorkload,
    #[error("{field}: unknown enum value {value}")]
    UnknownEnum { field: &'static str, value: i32 },
    #[error("{context}: port {port} is not between 1 and 65535")]
    Port { context: String, port: u32 },
    #[error("workload port {port}: app address {address:?} is not host:port")]
    AppAddress { port: u16, address: String },
    #[error("traffic target {traffic_target:?}: {source}")]
    Rule {
        traffic_target: String,
        source: InvalidMatch,
    },
    #[error("service {service}: cluster IP {address:?} is not an IP address")]
    ClusterIp { service: String, address: String },
    #[error("service {service}: traffic split {split:?}: {source}")]
    SplitMatch {
        service: String,
        split: String,
        source: InvalidMatch,
    },
    #[error("service {service}: traffic split {split:?} has no backend with a non-zero weight")]
    NoWeight { service: String, split: String },
}

pub fn compile(
    snapshot: proto::Snapshot,
    context: &CompileContext<'_>,
) -> Result<Snapshot, InvalidSnapshot> {
    // Serialising a prost message with pbjson cannot fail; `Null` would only hide a bug
    // in the admin page, never in routing.
    let config_json = serde_json::to_value(&snapshot).unwrap_or(serde_json::Value::Null);
    let mesh = Mesh::try_from(snapshot.mesh.unwrap_or_default())?;
    let workload = compile_workload(
        snapshot.workload.ok_or(InvalidSnapshot::MissingWorkload)?,
        &mesh,
    )?;
    let rules = snapshot
        .inbound_rules
        .into_iter()
        .map(Rule::try_from)
        .collect::<Result<Vec<_>, _>>()?;

    let mut services = Vec::with_capacity(snapshot.services.len());
    let mut hosts = HashMap::new();
    let mut cluster_ips = HashMap::new();
    for service in snapshot.services {
        let index = services.len();
        for form in host_forms(&service.name, &service.namespace, &workload.namespace) {
            hosts.entry(form.into_boxed_str()).or_insert(index);
        }
        for extra in &service.extra_hostnames {
            let extra = extra.trim_end_matches('.').to_ascii_lowercase();
            hosts.entry(extra.into_boxed_str()).or_insert(index);
        }
        let compiled = compile_service(service, &workload, context, &mut cluster_ips, index)?;
        services.push(compiled);
    }

    Ok(Snapshot {
        version: snapshot.version.into(),
        workload,
        mesh,
        rules,
        services,
        hosts,
        cluster_ips,
        config_json,
    })
}

fn port(context: impl FnOnce() -> String, port: u32) -> Result<u16, InvalidSnapshot> {
    match u16::try_from(port) {
        Ok(port) if port != 0 => Ok(port),
        _ => Err(InvalidSnapshot::Port {
            context: context(),
            port,
        }),
    }
}

fn protocol(value: i32) -> Result<Protocol, InvalidSnapshot> {
    match proto::Protocol::try_from(value) {
        Ok(proto::Protocol::Http) => Ok(Protocol::Http),
        Ok(proto::Protocol::Tcp) => Ok(Protocol::Tcp),
        Err(_) => Err(InvalidSnapshot::UnknownEnum {
            field: "protocol",
            value,
        }),
    }
}

impl TryFrom<proto::MeshSettings> for Mesh {
    type Error = InvalidSnapshot;

    fn try_from(value: proto::MeshSettings) -> Result<Self, Self::Error> {
        let traffic_policy = match proto::TrafficPolicy::try_from(value.traffic_policy) {
            Ok(proto::TrafficPolicy::Deny) => TrafficPolicy::Deny,
            Ok(proto::TrafficPolicy::Permissive) => TrafficPolicy::Permissive,
            Err(_) => {
                return Err(InvalidSnapshot::UnknownEnum {
                    field: "mesh.trafficPolicy",
                    value: value.traffic_policy,
                });
            }
        };
        let mtls = match proto::MtlsMode::try_from(value.mtls) {
            Ok(proto::MtlsMode::Strict) => MtlsMode::Strict,
            Ok(proto::MtlsMode::Permissive) => MtlsMode::Permissive,
            Err(_) => {
                return Err(InvalidSnapshot::UnknownEnum {
                    field: "mesh.mtls",
                    value: value.mtls,
                });
            }
        };
        let nonzero = |ms: u32| (ms > 0).then(|| Duration::from_millis(ms.into()));
        Ok(Self {
            name: non_empty(value.name, "meshcd").into(),
            trust_domain: non_empty(value.trust_domain, "cluster.local").into(),
            traffic_policy,
            mtls,
            connect_timeout: nonzero(value.connect_timeout_ms),
            request_timeout: nonzero(value.request_timeout_ms),
        })
    }
}

fn non_empty(value: String, default: &str) -> String {
    if value.is_empty() { default.to_owned() } else { value }
}

fn compile_workload(value: proto::Workload, mesh: &Mesh) -> Result<Workload, InvalidSnapshot> {
    let service_account = non_empty(value.service_account, "default");
    let identity = if value.identity.is_empty() {
        format!(
            "spiffe://{}/ns/{}/sa/{service_account}",
            mesh.trust_domain, value.namespace
        )
    } else {
        value.identity
    };
    let namespace = value.namespace;
    let services = value
        .services
        .iter()
        .map(|name| qualified(name, &namespace))
        .collect();
    let mut ports = Vec::with_capacity(value.ports.len());
    for inbound in value.ports {
        let service_port = port(|| "workload port".to_owned(), inbound.service_port)?;
        let app_authority = inbound
            .app_address
            .parse::<Authority>()
            .ok()
            .filter(|authority| authority.port_u16().is_some())
            .ok_or_else(|| InvalidSnapshot::AppAddress {
                port: service_port,
                address: inbound.app_address.clone(),
            })?;
        ports.push(InboundPort {
            service_port,
            app_address: inbound.app_address.into(),
            app_authority,
            protocol: protocol(inbound.protocol)?,
        });
    }
    Ok(Workload {
        namespace: namespace.into(),
        identity: identity.into(),
        services,
        ports,
    })
}

/// `name.namespace`, unless the name already carries a namespace.
fn qualified(name: &str, namespace: &str) -> Arc<str> {
    if name.contains('.') {
        name.into()
    } else {
        format!("{name}.{namespace}").into()
    }
}

impl TryFrom<proto::InboundRule> for Rule {
    type Error = InvalidSnapshot;

    fn try_from(value: proto::InboundRule) -> Result<Self, Self::Error> {
        let traffic_target = value.traffic_target;
        let ports = match value.ports {
            Some(ports) => Some(
                ports
                    .ports
                    .into_iter()
                    .map(|p| port(|| format!("traffic target {traffic_target:?}"), p))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        let http = match value.http {
            Some(http) => Some(
                http.matches
                    .into_iter()
                    .map(HttpMatch::try_from)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|source| InvalidSnapshot::Rule {
                        traffic_target: traffic_target.clone(),
                        source,
                    })?,
            ),
            None => None,
        };
        Ok(Self {
            traffic_target: traffic_target.into(),
            sources: value.sources.into_iter().map(String::into_boxed_str).collect(),
            ports,
            http,
        })
    }
}

fn compile_service(
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
            let matches = split
                .matches
                .into_iter()
                .map(HttpMatch::try_from)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|source| InvalidSnapshot::SplitMatch {
                    service: name.to_string(),
                    split: split.traffic_split.clone(),
                    source,
                })?;
            let route_names: Vec<Arc<str>> = matches.iter().map(|m| m.name.clone()).collect();
            let weights = WeightedChoice::new(split.backends.iter().map(|b| b.weight)).ok_or_else(
                || InvalidSnapshot::NoWeight {
                    service: name.to_string(),
                    split: split.traffic_split.clone(),
                },
            )?;
            let builder = BackendBuilder {
                context,
                workload,
                root: &name,
                ports: &ports,
                routes: &route_names,
            };
            let backends = split
                .backends
                .into_iter()
                .map(|backend| {
                    let service = qualified(&backend.service, &service.namespace);
                    builder.build(service, &backend.endpoints)
                })
                .collect();
            (
                Some(Split {
                    name: split.traffic_split.into(),
                    backends,
                    weights,
                    matches,
                }),
                route_names,
            )
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

    Ok(Service {
        name,
        ports,
        own,
        split,
    })
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
        let endpoints = endpoints
            .iter()
            .map(|endpoint| self.context.endpoints.endpoint(&endpoint.address, &endpoint.identity))
            .collect();
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
