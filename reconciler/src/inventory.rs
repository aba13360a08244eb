//! The live inventory: which workloads exist, who they run as, which services they serve.
//!
//! In local mode proxies register their workloads; in a cluster it comes from Services,
//! EndpointSlices and Pods. Services are not declared in the config repository.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::Identity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Http,
    Tcp,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WorkloadPort {
    /// The port clients use to reach the service.
    pub service_port: u16,
    /// Where the application listens, behind the workload's proxy.
    pub app_address: String,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    /// Unique per proxy (chosen by the proxy, or the pod's UID).
    pub id: String,
    pub identity: Identity,
    /// The services this workload belongs to, one or more.
    pub services: Vec<String>,
    pub ports: Vec<WorkloadPort>,
    /// host:port of the proxy's inbound (mTLS) listener: the workload's endpoint.
    pub inbound_address: String,
}

/// Extra facts about a service that only a cluster knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceInfo {
    pub cluster_ips: Vec<String>,
    /// The addresses of its ready endpoints, meshed or not (its EndpointSlices'): what
    /// an IngressBackend's `Service` source lets in, such as an ingress controller's pods.
    pub endpoint_addresses: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// By workload id.
    pub workloads: BTreeMap<String, Workload>,
    /// By (namespace, service name).
    pub services: BTreeMap<(String, String), ServiceInfo>,
    /// Cluster mode, by workload id: every Service whose EndpointSlices list the pod,
    /// ready or not yet: what its proxy may claim while it starts.
    pub backing: BTreeMap<String, BTreeSet<String>>,
}

impl Inventory {
    /// Adds or replaces a workload; whether that changed the inventory.
    pub fn insert(&mut self, workload: Workload) -> bool {
        if self.workloads.get(&workload.id) == Some(&workload) {
            return false;
        }
        self.workloads.insert(workload.id.clone(), workload);
        true
    }

    pub fn remove(&mut self, id: &str) -> Option<Workload> {
        self.workloads.remove(id)
    }
}
