//! Services, EndpointSlices and Pods of a cluster mapped into the mesh inventory.
//!
//! Pure. A workload is an injected pod (its proxy is its endpoint, `podIP:15003`); it
//! belongs to every Service whose EndpointSlices list it as ready, on the ports those
//! slices resolve. A port's protocol comes from `appProtocol`, then from the port name
//! (`http`, `http-*`, `grpc*`, `tcp*`), and is HTTP by default.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, Service, ServicePort};
use k8s_openapi::api::discovery::v1::EndpointSlice;

use super::INJECTED_ANNOTATION;
use crate::inventory::{Inventory, Protocol, ServiceInfo, Workload, WorkloadPort};
use crate::model::Identity;

/// The proxy's inbound (mTLS) port in a pod (design §9).
pub const INBOUND_PORT: u16 = 15003;
/// The label EndpointSlices carry naming their Service.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// The protocol of a Service port, as the proxy handles it.
pub fn protocol(port: &ServicePort) -> Protocol {
    if let Some(app_protocol) = port.app_protocol.as_deref() {
        return match app_protocol.to_ascii_lowercase().as_str() {
            "http" | "http2" | "h2c" | "grpc" | "kubernetes.io/h2c" | "kubernetes.io/ws" => {
                Protocol::Http
            }
            // `tcp`, and every protocol the proxy does not parse (tls, https from the
            // app's side, databases): opaque bytes.
            _ => Protocol::Tcp,
        };
    }
    let name = port
        .name
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let prefixed = |prefix: &str| name == prefix || name.starts_with(&format!("{prefix}-"));
    if prefixed("tcp") {
        Protocol::Tcp
    } else {
        // `http`, `http-*`, `http2`, `grpc`, `grpc-*`, and unnamed ports.
        Protocol::Http
    }
}

/// Builds the inventory from the cluster's current objects.
pub fn inventory<'a>(
    services: impl IntoIterator<Item = &'a Service>,
    slices: impl IntoIterator<Item = &'a EndpointSlice>,
    pods: impl IntoIterator<Item = &'a Pod>,
) -> Inventory {
    let mut inventory = Inventory::default();
    let service_ports = add_services(&mut inventory, services);
    let mut workloads = injected_workloads(pods);
    for slice in slices {
        add_slice(&mut inventory, &mut workloads, &service_ports, slice);
    }
    for (_, mut workload) in workloads {
        // A pod no Service selects is no endpoint of anything, but its proxy still gets
        // its snapshot (it can call out).
        workload.services.sort();
        workload.ports.sort();
        inventory.insert(workload);
    }
    inventory
}

/// (namespace, service) → its TCP ports.
type ServicePorts<'a> = BTreeMap<(String, String), Vec<&'a ServicePort>>;

/// Every Service with its cluster IPs into the inventory; their TCP ports returned.
fn add_services<'a>(
    inventory: &mut Inventory,
    services: impl IntoIterator<Item = &'a Service>,
) -> ServicePorts<'a> {
    let mut service_ports = ServicePorts::new();
    for service in services {
        let (Some(namespace), Some(name)) = (&service.metadata.namespace, &service.metadata.name)
        else {
            continue;
        };
        let spec = service.spec.as_ref();
        let cluster_ips = spec
            .and_then(|spec| {
                spec.cluster_ips
                    .clone()
                    .or_else(|| spec.cluster_ip.clone().map(|ip| vec![ip]))
            })
            .unwrap_or_default()
            .into_iter()
            .filter(|ip| ip != "None" && !ip.is_empty())
            .collect();
        inventory.services.insert(
            (namespace.clone(), name.clone()),
            ServiceInfo {
                cluster_ips,
                endpoint_addresses: Vec::new(),
            },
        );
        let ports = spec
            .and_then(|spec| spec.ports.as_ref())
            .map(|ports| {
                ports
                    .iter()
                    .filter(|port| port.protocol.as_deref().unwrap_or("TCP") == "TCP")
                    .collect()
            })
            .unwrap_or_default();
        service_ports.insert((namespace.clone(), name.clone()), ports);
    }

    service_ports
}

/// Injected, running pods by (namespace, name): the workloads, not yet in any Service.
fn injected_workloads<'a>(
    pods: impl IntoIterator<Item = &'a Pod>,
) -> BTreeMap<(String, String), Workload> {
    let mut workloads = BTreeMap::new();
    for pod in pods {
        let metadata = &pod.metadata;
        let injected = metadata
            .annotations
            .as_ref()
            .is_some_and(|annotations| annotations.contains_key(INJECTED_ANNOTATION));
        let ip = pod
            .status
            .as_ref()
            .and_then(|status| status.pod_ip.as_ref());
        let (Some(namespace), Some(name), Some(uid), Some(ip), true) = (
            &metadata.namespace,
            &metadata.name,
            &metadata.uid,
            ip,
            injected,
        ) else {
            continue;
        };
        if metadata.deletion_timestamp.is_some() {
            continue;
        }
        let service_account = pod
            .spec
            .as_ref()
            .and_then(|spec| spec.service_account_name.clone())
            .filter(|account| !account.is_empty())
            .unwrap_or_else(|| "default".to_string());
        workloads.insert(
            (namespace.clone(), name.clone()),
            Workload {
                id: uid.clone(),
                identity: Identity {
                    namespace: namespace.clone(),
                    service_account,
                },
                services: Vec::new(),
                ports: Vec::new(),
                inbound_address: inbound_address(ip),
            },
        );
    }

    workloads
}

/// One EndpointSlice: its pods back its Service, and the ready ones serve it on the ports
/// the slice resolves.
fn add_slice(
    inventory: &mut Inventory,
    workloads: &mut BTreeMap<(String, String), Workload>,
    service_ports: &ServicePorts<'_>,
    slice: &EndpointSlice,
) {
    let Some(namespace) = &slice.metadata.namespace else {
        return;
    };
    let Some(service) = slice
        .metadata
        .labels
        .as_ref()
        .and_then(|labels| labels.get(SERVICE_NAME_LABEL))
    else {
        return;
    };
    let Some(ports) = service_ports.get(&(namespace.clone(), service.clone())) else {
        return;
    };
    for endpoint in &slice.endpoints {
        let ready = endpoint
            .conditions
            .as_ref()
            .and_then(|conditions| conditions.ready)
            .unwrap_or(true);
        if ready
            && let Some(info) = inventory
                .services
                .get_mut(&(namespace.clone(), service.clone()))
        {
            for address in &endpoint.addresses {
                if !info.endpoint_addresses.contains(address) {
                    info.endpoint_addresses.push(address.clone());
                }
            }
        }
        let Some(target) = endpoint
            .target_ref
            .as_ref()
            .filter(|target| target.kind.as_deref() == Some("Pod"))
        else {
            continue;
        };
        let pod_name = target.name.clone().unwrap_or_default();
        let Some(workload) = workloads.get_mut(&(namespace.clone(), pod_name)) else {
            continue;
        };
        inventory
            .backing
            .entry(workload.id.clone())
            .or_default()
            .insert(service.clone());
        if !ready {
            continue;
        }
        if !workload.services.contains(service) {
            workload.services.push(service.clone());
        }
        for service_port in ports {
            // The slice resolves a named or numeric targetPort into the pod's port,
            // matched to the Service port by name.
            let Some(target_port) = slice
                .ports
                .iter()
                .flatten()
                .find(|port| {
                    port.name.as_deref().unwrap_or_default()
                        == service_port.name.as_deref().unwrap_or_default()
                })
                .and_then(|port| port.port)
            else {
                continue;
            };
            let port = WorkloadPort {
                service_port: u16::try_from(service_port.port).unwrap_or_default(),
                app_address: format!("127.0.0.1:{target_port}"),
                protocol: protocol(service_port),
            };
            if !workload.ports.contains(&port) {
                workload.ports.push(port);
            }
        }
    }
}

fn inbound_address(ip: &str) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{INBOUND_PORT}")
    } else {
        format!("{ip}:{INBOUND_PORT}")
    }
}

#[cfg(test)]
#[path = "workloads_tests.rs"]
mod tests;
