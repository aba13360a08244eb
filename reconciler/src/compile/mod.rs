//! Compiles a validated config and the live inventory into one snapshot per proxy.
//!
//! Pure: `compile(&Config, &Inventory) -> Compiled`. Versions are content hashes, so
//! replicas compiling the same revision and inventory agree on them. Every proxy gets every meshed service
//! it can address (so that a call the policy denies still reaches the destination's proxy
//! and gets its 403) and the authorization rules that name its own identity.

pub mod access;
mod services;

use std::collections::BTreeMap;
use std::sync::Arc;

use meshcd_schemas::proto;
use prost::Message;
use sha2::{Digest, Sha256};

use crate::inventory::{Inventory, Protocol, Workload};
use crate::model::{Config, Identity, MtlsMode, Origin, PathNormalization, TrafficPolicy};

/// Something the inventory makes questionable but that is not a config error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileWarning {
    pub origin: Option<Origin>,
    pub message: String,
}

/// What one proxy gets besides the shared service table.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyPart {
    pub workload: proto::Workload,
    pub inbound_rules: Vec<proto::InboundRule>,
    pub version: String,
}

/// Snapshots in factored form: the service table is the same for every proxy, so it is
/// built and hashed once and only materialised per proxy when sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Compiled {
    pub mesh: proto::MeshSettings,
    pub services: Arc<Vec<proto::Service>>,
    /// By workload id.
    pub proxies: BTreeMap<String, ProxyPart>,
    pub warnings: Vec<CompileWarning>,
}

impl Compiled {
    /// The whole snapshot of one proxy.
    pub fn snapshot(&self, id: &str) -> Option<proto::Snapshot> {
        let part = self.proxies.get(id)?;
        Some(proto::Snapshot {
            version: part.version.clone(),
            workload: Some(part.workload.clone()),
            mesh: Some(self.mesh.clone()),
            inbound_rules: part.inbound_rules.clone(),
            services: self.services.as_ref().clone(),
        })
    }

    pub fn version(&self, id: &str) -> Option<&str> {
        self.proxies.get(id).map(|part| part.version.as_str())
    }
}

pub fn compile(config: &Config, inventory: &Inventory) -> Compiled {
    let mut warnings = Vec::new();
    let services = services::services(config, inventory, &mut warnings);
    let mesh = mesh_settings(config);
    let mut shared = Sha256::new();
    shared.update(mesh.encode_to_vec());
    for service in &services {
        shared.update(service.encode_to_vec());
    }
    let shared = shared.finalize();
    let rules = access::RuleIndex::new(config);
    let mut proxies = BTreeMap::new();
    for workload in inventory.workloads.values() {
        if !config.namespaces.contains(&workload.identity.namespace) {
            continue;
        }
        let workload_message = workload_message(config, workload);
        let inbound_rules = rules.inbound_rules(&workload.identity);
        let mut hash = Sha256::new();
        hash.update(shared);
        hash.update(workload_message.encode_to_vec());
        for rule in &inbound_rules {
            hash.update(rule.encode_to_vec());
        }
        let version = hex::encode(&hash.finalize()[..8]);
        proxies.insert(
            workload.id.clone(),
            ProxyPart {
                workload: workload_message,
                inbound_rules,
                version,
            },
        );
    }
    Compiled {
        mesh,
        services: Arc::new(services),
        proxies,
        warnings,
    }
}

/// `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`.
pub fn spiffe_id(trust_domain: &str, identity: &Identity) -> String {
    format!(
        "spiffe://{trust_domain}/ns/{}/sa/{}",
        identity.namespace, identity.service_account
    )
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
        path_normalization: match config.mesh.path_normalization {
            PathNormalization::None => proto::PathNormalization::None,
            PathNormalization::Base => proto::PathNormalization::Base,
            PathNormalization::MergeSlashes => proto::PathNormalization::MergeSlashes,
            PathNormalization::DecodeAndMergeSlashes => {
                proto::PathNormalization::DecodeAndMergeSlashes
            }
        } as i32,
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
