//! Compiles a validated config and the live inventory into one snapshot per proxy.
//!
//! Pure: `compile(&Config, &Inventory) -> Compiled`. Versions are content hashes, so
//! replicas compiling the same revision and inventory agree on them. Each proxy gets the
//! authorization rules that name its own identity and the meshed services it can use:
//! all of them under permissive policy, under deny policy those its identity may call
//! (`scope`). A call to any other service still reaches the destination's proxy and
//! gets its 403: the proxy looks the service up (`lookup`) when it first needs it.

pub mod access;
pub mod egress;
mod ingress;
pub mod lookup;
mod policies;
mod routes;
mod scope;
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

/// What one proxy gets besides the mesh settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyPart {
    pub workload: proto::Workload,
    /// Shared by every proxy of the same identity.
    pub inbound_rules: Arc<Vec<proto::InboundRule>>,
    /// Shared by every proxy of the same identity: what it does to its own calls.
    pub client_policies: Arc<Vec<proto::ClientPolicy>>,
    /// Shared by every proxy of the same identity: where it may call out of the mesh.
    pub egress: Arc<Vec<proto::EgressRule>>,
    /// The services it is sent, as indices into [`Compiled::services`]; `None`: all.
    pub scope: Option<Arc<Vec<usize>>>,
    pub version: String,
}

/// Snapshots in factored form: each service is built and hashed once, each identity's
/// rules and scope once, and a proxy's snapshot is only materialised when it is sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Compiled {
    pub mesh: proto::MeshSettings,
    /// Every meshed service.
    pub services: Arc<Vec<proto::Service>>,
    /// By workload id.
    pub proxies: BTreeMap<String, ProxyPart>,
    pub warnings: Vec<CompileWarning>,
    /// The roots every proxy trusts and the issuing one (see [`Compiled::with_trust`]).
    pub trust: Option<proto::TrustBundle>,
}

impl Compiled {
    /// The whole snapshot of one proxy.
    pub fn snapshot(&self, id: &str) -> Option<proto::Snapshot> {
        let part = self.proxies.get(id)?;
        let services = match &part.scope {
            None => self.services.as_ref().clone(),
            Some(scope) => scope.iter().map(|&i| self.services[i].clone()).collect(),
        };
        Some(proto::Snapshot {
            version: part.version.clone(),
            workload: Some(part.workload.clone()),
            mesh: Some(self.mesh.clone()),
            inbound_rules: part.inbound_rules.as_ref().clone(),
            services,
            client_policies: part.client_policies.as_ref().clone(),
            egress: part.egress.as_ref().clone(),
            trust: self.trust.clone(),
        })
    }

    /// Sends `trust` to every proxy: part of each snapshot, and of its version, so a
    /// change of roots reaches every proxy and its ACK says it trusts them.
    pub fn with_trust(mut self, trust: proto::TrustBundle) -> Self {
        let trust_hash = Sha256::digest(trust.encode_to_vec());
        for part in self.proxies.values_mut() {
            let mut hash = Sha256::new();
            hash.update(part.version.as_bytes());
            hash.update(trust_hash);
            part.version = hex::encode(&hash.finalize()[..8]);
        }
        self.trust = Some(trust);
        self
    }

    pub fn version(&self, id: &str) -> Option<&str> {
        self.proxies.get(id).map(|part| part.version.as_str())
    }

    /// The service a proxy in `own_namespace` means by `host` or `original`, whether
    /// or not its snapshot has it.
    pub fn lookup(
        &self,
        own_namespace: &str,
        host: &str,
        original: Option<std::net::SocketAddr>,
    ) -> Option<&proto::Service> {
        lookup::find(&self.services, own_namespace, host, original)
    }
}

pub fn compile(config: &Config, inventory: &Inventory) -> Compiled {
    let mut warnings = Vec::new();
    let services = services::services(config, inventory, &mut warnings);
    warnings.extend(ingress::warnings(config, inventory));
    let mesh = mesh_settings(config);
    let mesh_hash = Sha256::digest(mesh.encode_to_vec());
    let service_hashes: Vec<_> = services
        .iter()
        .map(|service| Sha256::digest(service.encode_to_vec()))
        .collect();
    let all_services = {
        let mut hash = Sha256::new();
        service_hashes.iter().for_each(|h| hash.update(h));
        hash.finalize()
    };
    let index = access::RuleIndex::new(config);
    let workloads: Vec<&Workload> = inventory
        .workloads
        .values()
        .filter(|workload| config.namespaces.contains(&workload.identity.namespace))
        .collect();
    // Per identity, however many proxies share it: its rules (with their hash) and scope.
    let mut rules: BTreeMap<String, Arc<Vec<proto::InboundRule>>> = BTreeMap::new();
    for workload in &workloads {
        let identity = spiffe_id(&config.mesh.trust_domain, &workload.identity);
        rules
            .entry(identity)
            .or_insert_with(|| Arc::new(index.inbound_rules(&workload.identity)));
    }
    let scoped = config.mesh.traffic_policy == TrafficPolicy::Deny;
    let scopes = if scoped {
        scope::Scopes::new(&services, &rules)
    } else {
        scope::Scopes::default()
    };
    let mut identities: BTreeMap<String, IdentityPart> = BTreeMap::new();
    let mut proxies = BTreeMap::new();
    for workload in workloads {
        let workload_message = workload_message(config, inventory, workload);
        let identity = identities
            .entry(workload_message.identity.clone())
            .or_insert_with_key(|identity| {
                let rules = rules[identity].clone();
                let scope = scoped.then(|| Arc::new(scopes.of(identity)));
                let client_policies =
                    Arc::new(policies::client_policies(config, &workload.identity));
                let egress = Arc::new(egress::egress_rules(config, &workload.identity));
                let mut part = IdentityPart {
                    rules,
                    client_policies,
                    egress,
                    scope,
                    hash: [0; 32],
                };
                part.hash = part.digest(&mesh_hash, &service_hashes, &all_services);
                part
            });
        let mut hash = Sha256::new();
        hash.update(identity.hash);
        hash.update(workload_message.encode_to_vec());
        let version = hex::encode(&hash.finalize()[..8]);
        proxies.insert(
            workload.id.clone(),
            ProxyPart {
                workload: workload_message,
                inbound_rules: identity.rules.clone(),
                client_policies: identity.client_policies.clone(),
                egress: identity.egress.clone(),
                scope: identity.scope.clone(),
                version,
            },
        );
    }
    Compiled {
        mesh,
        services: Arc::new(services),
        proxies,
        warnings,
        trust: None,
    }
}

/// What every proxy of one identity shares.
struct IdentityPart {
    rules: Arc<Vec<proto::InboundRule>>,
    client_policies: Arc<Vec<proto::ClientPolicy>>,
    egress: Arc<Vec<proto::EgressRule>>,
    scope: Option<Arc<Vec<usize>>>,
    hash: [u8; 32],
}

impl IdentityPart {
    /// What every proxy of the identity gets: the mesh settings, its rules and policies
    /// and the services in its scope (each by its own hash).
    fn digest(&self, mesh: &[u8], services: &[impl AsRef<[u8]>], all: &[u8]) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(mesh);
        for rule in self.rules.iter() {
            hash.update(rule.encode_to_vec());
        }
        for policy in self.client_policies.iter() {
            hash.update(policy.encode_to_vec());
        }
        for rule in self.egress.iter() {
            hash.update(rule.encode_to_vec());
        }
        match &self.scope {
            None => hash.update(all),
            Some(scope) => scope
                .iter()
                .for_each(|&i| hash.update(services[i].as_ref())),
        }
        hash.finalize().into()
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
        retry_budget: Some(proto::RetryBudget {
            percent: config.mesh.retry_budget_percent,
            min_per_second: config.mesh.retry_budget_min_per_second,
        }),
        egress: if config.mesh.allows_egress() {
            proto::EgressDefault::Allow
        } else {
            proto::EgressDefault::Deny
        } as i32,
    }
}

fn workload_message(
    config: &Config,
    inventory: &Inventory,
    workload: &Workload,
) -> proto::Workload {
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
        rate_limits: policies::rate_limits(config, workload),
        ingress: ingress::rules(config, inventory, workload),
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
