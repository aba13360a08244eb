//! What a proxy's hello may register: the workload it describes, checked against what its
//! proven identity is entitled to.
//!
//! Local mode: the services its bootstrap token names. Cluster mode: its Pod, found by
//! the advertised IP, in its namespace, running as its service account; the workload
//! registered is the discovered one, so a hello can never add a pod to a Service its
//! EndpointSlices do not list.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use meshcd_schemas::proto;
use tonic::Status;

use crate::inventory::{Inventory, Protocol, Workload, WorkloadPort};
use crate::model::Identity;

/// A refused hello: what the proxy is told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotEntitled(String),
    /// Discovery has not seen the pod yet: the proxy retries.
    #[error("{0}")]
    NotYetDiscovered(String),
}

impl From<Refusal> for Status {
    fn from(refusal: Refusal) -> Status {
        match refusal {
            Refusal::Invalid(message) => Status::invalid_argument(message),
            Refusal::NotEntitled(message) => Status::permission_denied(message),
            Refusal::NotYetDiscovered(message) => Status::unavailable(message),
        }
    }
}

/// The registration key of a proxy: its id scoped by its proven identity, so one identity
/// can never replace another's registration by reusing its id.
pub fn registration_key(identity: &Identity, proxy_id: &str, inbound_address: &str) -> String {
    if proxy_id.is_empty() {
        format!(
            "{}/{}@{inbound_address}",
            identity.namespace, identity.service_account
        )
    } else {
        format!(
            "{}/{}/{proxy_id}",
            identity.namespace, identity.service_account
        )
    }
}

/// The workload a hello describes, as the proxy says it (nothing is checked against the
/// identity's entitlement here).
pub fn claimed(hello: &proto::Hello, identity: Identity) -> Result<Workload, Refusal> {
    let wire = hello
        .workload
        .as_ref()
        .ok_or_else(|| Refusal::Invalid("hello without a workload".into()))?;
    if wire.services.is_empty() {
        return Err(Refusal::Invalid(
            "a workload belongs to at least one service".into(),
        ));
    }
    if hello.inbound_address.parse::<SocketAddr>().is_err() {
        return Err(Refusal::Invalid(format!(
            "inbound address {:?} is not host:port",
            hello.inbound_address
        )));
    }
    let mut ports = Vec::new();
    for port in &wire.ports {
        let service_port = u16::try_from(port.service_port)
            .ok()
            .filter(|port| *port > 0)
            .ok_or_else(|| {
                Refusal::Invalid(format!("service port {} is not a port", port.service_port))
            })?;
        let protocol = match proto::Protocol::try_from(port.protocol) {
            Ok(proto::Protocol::Http) => Protocol::Http,
            Ok(proto::Protocol::Tcp) => Protocol::Tcp,
            Err(_) => return Err(Refusal::Invalid("unknown port protocol".into())),
        };
        ports.push(WorkloadPort {
            service_port,
            app_address: port.app_address.clone(),
            protocol,
        });
    }
    Ok(Workload {
        id: registration_key(&identity, &hello.proxy_id, &hello.inbound_address),
        identity,
        services: wire.services.clone(),
        ports,
        inbound_address: hello.inbound_address.clone(),
    })
}

/// Local mode: every claimed service must be one the token names.
pub fn by_token(claimed: Workload, allowed: &BTreeSet<String>) -> Result<Workload, Refusal> {
    if let Some(service) = claimed.services.iter().find(|s| !allowed.contains(*s)) {
        return Err(Refusal::NotEntitled(format!(
            "the token for {}/{} may serve {}, not {service:?}",
            claimed.identity.namespace,
            claimed.identity.service_account,
            list(allowed.iter()),
        )));
    }
    Ok(claimed)
}

/// Cluster mode: the pod at the claimed inbound IP, in the identity's namespace and
/// running as its service account, is the workload; claimed services that name a Service
/// of that namespace must be ones whose EndpointSlices list the pod (ready or not).
/// Claims that name no Service are hints that give nothing, since the registered
/// workload is the discovered one.
pub fn by_pod(claimed: &Workload, discovered: &Inventory) -> Result<Workload, Refusal> {
    let ip = host(&claimed.inbound_address);
    let at_ip: Vec<&Workload> = discovered
        .workloads
        .values()
        .filter(|pod| host(&pod.inbound_address) == ip)
        .collect();
    let Some(pod) = at_ip
        .iter()
        .find(|pod| pod.identity == claimed.identity)
        .copied()
    else {
        return Err(match at_ip.first() {
            Some(other) => Refusal::NotEntitled(format!(
                "the pod at {ip} runs as {}/{}, not {}/{}",
                other.identity.namespace,
                other.identity.service_account,
                claimed.identity.namespace,
                claimed.identity.service_account
            )),
            None => Refusal::NotYetDiscovered(format!(
                "no meshed pod of {}/{} at {ip} is known yet",
                claimed.identity.namespace, claimed.identity.service_account
            )),
        });
    };
    let backed = discovered.backing.get(&pod.id).cloned().unwrap_or_default();
    for service in &claimed.services {
        let exists = discovered
            .services
            .contains_key(&(pod.identity.namespace.clone(), service.clone()));
        if exists && !backed.contains(service) && !pod.services.contains(service) {
            return Err(Refusal::NotEntitled(format!(
                "the pod at {ip} backs {}, not {service:?}",
                list(pod.services.iter().chain(&backed).collect::<BTreeSet<_>>()),
            )));
        }
    }
    // The services its slices list, ready or not: a sidecar says hello before its pod
    // is Ready, and what it serves once it is counts for them (the stream keeps the
    // set it was admitted with).
    let mut admitted = pod.clone();
    for service in backed {
        if !admitted.services.contains(&service) {
            admitted.services.push(service);
        }
    }
    Ok(admitted)
}

fn host(address: &str) -> &str {
    address
        .rsplit_once(':')
        .map_or(address, |(host, _)| host)
        .trim_matches(['[', ']'])
}

fn list<'a>(names: impl IntoIterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.into_iter().map(String::as_str).collect();
    if names.is_empty() {
        "no service".into()
    } else {
        format!("[{}]", names.join(", "))
    }
}

#[cfg(test)]
#[path = "admission_tests.rs"]
mod tests;
