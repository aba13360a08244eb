//! Compiles a validated config and the live inventory into one snapshot per proxy.
//!
//! Pure: `compile(&Config, &Inventory) -> Compiled`. Every proxy gets every meshed service
//! it can address (so that a call the policy denies still reaches the destination's proxy
//! and gets its 403) and the authorization rules that name its own identity.

mod access;
mod services;

use std::collections::BTreeMap;

use meshcd_schemas::proto;
use prost::Message;
use sha2::{Digest, Sha256};

use crate::inventory::{Inventory, Protocol, Workload};
use crate::model::{Config, Identity, MtlsMode, Origin, TrafficPolicy};

/// Something the inventory makes questionable but that is not a config error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileWarning {
    pub origin: Option<Origin>,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Compiled {
    /// By workload id.
    pub snapshots: BTreeMap<String, proto::Snapshot>,
    pub warnings: Vec<CompileWarning>,
}

pub fn compile(config: &Config, inventory: &Inventory) -> Compiled {
    let mut warnings = Vec::new();
    let services = services::services(config, inventory, &mut warnings);
    let mesh = mesh_settings(config);
    let mut snapshots = BTreeMap::new();
    for workload in inventory.workloads.values() {
        if !config.namespaces.contains(&workload.identity.namespace) {
            continue;
        }
        let mut snapshot = proto::Snapshot {
            version: String::new(),
            workload: Some(workload_message(config, workload)),
            mesh: Some(mesh.clone()),
            inbound_rules: access::inbound_rules(config, &workload.identity),
            services: services.clone(),
        };
        snapshot.version = version_of(&snapshot);
        snapshots.insert(workload.id.clone(), snapshot);
    }
    Compiled { snapshots, warnings }
}

/// `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`.
pub fn spiffe_id(trust_domain: &str, identity: &Identity) -> String {
    format!(
        "spiffe://{trust_domain}/ns/{}/sa/{}",
        identity.namespace, identity.service_account
    )
}

/// A content hash, so replicas compiling the same revision agree on versions.
pub fn version_of(snapshot: &proto::Snapshot) -> String {
    let mut unversioned = snapshot.clone();
    unversioned.version.clear();
    let digest = Sha256::digest(unversioned.encode_to_vec());
    hex::encode(&digest[..8])
}

fn mesh_settings(config: &Config) -> proto::MeshSettings {
    proto::MeshSettings {
        name: config.mesh.name.clone(),
        trust_domain: config.mesh.trust_domain.clone(),
        traffic_policy: match config.mesh.traffic_policy {
            TrafficPolicy::Deny => proto::TrafficPolicy::Deny,
            TrafficPolicy::Permissive => proto::TrafficPolicy::Permissive,
        } as i32,
        mtls: match config.mesh.mtls {
            MtlsMode::Strict => proto::MtlsMode::Strict,
            MtlsMode::Permissive => proto::MtlsMode::Permissive,
        } as i32,
        connect_timeout_ms: 0,
        request_timeout_ms: 0,
    }
}

fn workload_message(config: &Config, workload: &Workload) -> proto::Workload {
    proto::Workload {
        namespace: workload.identity.namespace.clone(),
        service_account: workload.identity.service_account.clone(),
        identity: spiffe_id(&config.mesh.trust_domain, &workload.identity),
        services: workload.services.clone(),
        ports: workload
            .ports
            .iter()
            .map(|port| proto::InboundPort {
                service_port: u32::from(port.service_port),
                app_address: port.app_address.clone(),
                protocol: protocol(port.protocol) as i32,
            })
            .collect(),
    }
}

fn protocol(protocol: Protocol) -> proto::Protocol {
    match protocol {
        Protocol::Http => proto::Protocol::Http,
        Protocol::Tcp => proto::Protocol::Tcp,
    }
}

#[cfg(test)]
mod tests;
