//! IngressBackends compiled for the workloads that serve their backends: which service
//! ports of the workload open to which non-mesh addresses, with the `Service` sources
//! resolved to their endpoints' addresses from the inventory.

use std::net::{IpAddr, SocketAddr};

use meshcd_schemas::proto;
use meshcd_support::Cidr;

use super::CompileWarning;
use crate::inventory::{Inventory, Protocol, Workload};
use crate::model::{Config, IngressBackend, IngressProtocol, IngressSource};

/// The IngressBackends that open a service port of `workload`, each with only those ports.
pub fn rules(
    config: &Config,
    inventory: &Inventory,
    workload: &Workload,
) -> Vec<proto::IngressRule> {
    let mut rules = Vec::new();
    for ingress in config.ingress_backends.iter().map(|located| &located.value) {
        if ingress.namespace != workload.identity.namespace {
            continue;
        }
        let backends: Vec<proto::IngressBackendPort> = ingress
            .backends
            .iter()
            .filter(|backend| workload.services.contains(&backend.service))
            .map(|backend| proto::IngressBackendPort {
                service: backend.service.clone(),
                port: u32::from(backend.port),
                protocol: match backend.protocol {
                    IngressProtocol::Http => proto::IngressProtocol::Http,
                    IngressProtocol::Https => proto::IngressProtocol::Https,
                } as i32,
            })
            .collect();
        if backends.is_empty() {
            continue;
        }
        let sources = ingress
            .sources
            .iter()
            .flat_map(|source| addresses(inventory, source))
            .map(|range| range.to_string())
            .collect();
        let principals = ingress
            .sources
            .iter()
            .filter_map(|source| match source {
                IngressSource::AuthenticatedPrincipal(name) => Some(name.clone()),
                _ => None,
            })
            .collect();
        rules.push(proto::IngressRule {
            ingress_backend: format!("{}/{}", ingress.namespace, ingress.name),
            backends,
            sources,
            principals,
        });
    }
    rules
}

/// The ranges a source stands for: an IPRange itself; a Service, the address of each
/// workload the inventory has serving it (none: nothing is let in for it); a principal,
/// none (it is matched by its certificate).
fn addresses(inventory: &Inventory, source: &IngressSource) -> Vec<Cidr> {
    match source {
        IngressSource::AuthenticatedPrincipal(_) => Vec::new(),
        IngressSource::IpRange(range) => vec![*range],
        IngressSource::Service { namespace, name } => {
            // Its meshed workloads' hosts, and in a cluster every ready endpoint of it
            // (an ingress controller outside the mesh has no workload).
            let known = inventory
                .services
                .get(&(namespace.clone(), name.clone()))
                .map(|info| info.endpoint_addresses.as_slice())
                .unwrap_or_default()
                .iter()
                .filter_map(|address| address.parse::<IpAddr>().ok());
            let mut addresses: Vec<Cidr> = endpoints(inventory, namespace, name)
                .filter_map(|workload| workload.inbound_address.parse::<SocketAddr>().ok())
                .map(|address| address.ip())
                .chain(known)
                .map(Cidr::host)
                .collect();
            addresses.sort();
            addresses.dedup();
            addresses
        }
    }
}

fn endpoints<'i>(
    inventory: &'i Inventory,
    namespace: &'i str,
    service: &'i str,
) -> impl Iterator<Item = &'i Workload> + 'i {
    inventory.workloads.values().filter(move |workload| {
        workload.identity.namespace == namespace && workload.services.iter().any(|s| s == service)
    })
}

/// What the inventory makes questionable in the IngressBackends: a backend no workload
/// serves, or serves without that HTTP port, and a Service source without endpoints.
pub fn warnings(config: &Config, inventory: &Inventory) -> Vec<CompileWarning> {
    let mut warnings = Vec::new();
    for located in &config.ingress_backends {
        let ingress: &IngressBackend = &located.value;
        let mut warn = |message: String| {
            warnings.push(CompileWarning {
                origin: Some(located.origin.clone()),
                message: format!(
                    "IngressBackend {}/{}: {message}",
                    ingress.namespace, ingress.name
                ),
            });
        };
        for backend in &ingress.backends {
            let serving: Vec<&Workload> =
                endpoints(inventory, &ingress.namespace, &backend.service).collect();
            if serving.is_empty() {
                warn(format!(
                    "backend Service {:?} has no workload: nothing is let in to it",
                    backend.service
                ));
                continue;
            }
            let port = serving
                .iter()
                .flat_map(|workload| &workload.ports)
                .find(|port| port.service_port == backend.port);
            match port {
                None => warn(format!(
                    "backend Service {:?} serves no port {}: nothing is let in to it",
                    backend.service, backend.port
                )),
                Some(port) if port.protocol != Protocol::Http => warn(format!(
                    "port {} of backend Service {:?} is TCP, and an ingress is let in to HTTP ports only",
                    backend.port, backend.service
                )),
                Some(_) => {}
            }
        }
        for source in &ingress.sources {
            if let IngressSource::Service { namespace, name } = source
                && addresses(inventory, source).is_empty()
            {
                warn(format!(
                    "source Service {namespace}/{name} has no endpoint: it lets no address in"
                ));
            }
        }
    }
    warnings
}

#[cfg(test)]
#[path = "ingress_tests.rs"]
mod tests;
