//! What a running mesh adds to a diff: access HEAD takes away while live traffic uses it
//! (with the observed rate), and split backends HEAD sends requests to that no running
//! workload serves.
//!
//! Pure: the running reconciler's `GET /status` and `GET /traffic` documents are parsed
//! into a [`LiveContext`] (plain data) at the CLI's edge and compared here.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::Peer;
use super::access::{AccessSet, GrantChanges, peer_covers};
use crate::control::traffic::TrafficDocument;
use crate::model::{Config, Identity};

/// A running reconciler's view of the mesh, as `meshcd diff --status-url` read it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveContext {
    /// Where it was read (the admin URL), for the report.
    pub source: String,
    /// The proxies connected to the reconciler: who runs which services.
    pub workloads: Vec<LiveWorkload>,
    /// The length of the traffic window, in seconds.
    pub window_seconds: u64,
    pub edges: Vec<LiveEdge>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveWorkload {
    pub identity: Identity,
    /// Services of the workload, in its own namespace.
    pub services: Vec<String>,
}

/// Calls from one identity to one backend of a service over the window.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEdge {
    pub source: Identity,
    pub namespace: String,
    /// The service the client called (a split's root).
    pub service: String,
    /// The service that received the calls (the root itself when it is not split).
    pub backend: String,
    pub requests: u64,
    pub requests_per_second: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("the status document is not meshcd's: {0}")]
    Status(serde_json::Error),
    #[error("the traffic document is not meshcd's: {0}")]
    Traffic(serde_json::Error),
}

// The admin API's documents, only the fields the diff reads.
#[derive(Deserialize)]
struct StatusDocument {
    #[serde(default)]
    proxies: Vec<ProxyDocument>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProxyDocument {
    namespace: String,
    /// Reconcilers before the typed status document wrote snake_case.
    #[serde(alias = "service_account")]
    service_account: String,
    #[serde(default)]
    services: Vec<String>,
}

impl LiveContext {
    /// Parses the bodies of `GET /status` and `GET /traffic` of the admin listener at `source`.
    pub fn from_documents(source: &str, status: &str, traffic: &str) -> Result<Self, LiveError> {
        let status: StatusDocument = serde_json::from_str(status).map_err(LiveError::Status)?;
        let traffic: TrafficDocument = serde_json::from_str(traffic).map_err(LiveError::Traffic)?;
        Ok(LiveContext {
            source: source.to_string(),
            workloads: status
                .proxies
                .into_iter()
                .map(|proxy| LiveWorkload {
                    identity: Identity {
                        namespace: proxy.namespace,
                        service_account: proxy.service_account,
                    },
                    services: proxy.services,
                })
                .collect(),
            window_seconds: traffic.window_seconds,
            edges: traffic
                .edges
                .into_iter()
                .map(|edge| LiveEdge {
                    source: edge.source,
                    backend: if edge.backend.is_empty() {
                        edge.service.clone()
                    } else {
                        edge.backend
                    },
                    namespace: edge.namespace,
                    service: edge.service,
                    requests: edge.requests,
                    requests_per_second: edge.requests_per_second,
                })
                .collect(),
        })
    }
}

/// What the running mesh says about HEAD.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveFindings {
    /// The admin URL the facts come from.
    pub source: String,
    pub window_seconds: u64,
    /// Access HEAD removes that live traffic uses, busiest first.
    pub cut_traffic: Vec<CutTraffic>,
    /// Backends HEAD gives a weight that no running workload serves.
    pub unserved_backends: Vec<UnservedBackend>,
}

impl LiveFindings {
    pub fn count(&self) -> usize {
        self.cut_traffic.len() + self.unserved_backends.len()
    }
}

/// Live calls from `source` to workloads running as `destination`, some or all of which
/// HEAD no longer admits.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CutTraffic {
    pub source: Peer,
    pub destination: Peer,
    /// The services (`namespace/name`) the calls went to.
    pub services: Vec<String>,
    pub requests: u64,
    pub requests_per_second: f64,
    /// HEAD still admits some traffic between the two: only the requests of the denied
    /// rows (see `access.denied`) are cut. The traffic report does not say which
    /// requests those are, so the whole observed rate is shown.
    pub partly: bool,
    /// The TrafficTargets (`namespace/name`) of BASE whose access HEAD removes.
    pub traffic_targets: Vec<String>,
}

/// A split backend with weight in HEAD and no running workload behind it: its share of the
/// root service's requests would fail.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnservedBackend {
    pub namespace: String,
    /// The root service clients call.
    pub service: String,
    /// The TrafficSplit's name.
    pub split: String,
    pub backend: String,
    /// Percent of the root service's (matching) requests HEAD sends to it.
    pub percent: f64,
}

/// Compares HEAD's access changes and splits with the running mesh.
pub fn findings(
    head: &Config,
    head_access: &AccessSet,
    changes: &GrantChanges,
    live: &LiveContext,
) -> LiveFindings {
    LiveFindings {
        source: live.source.clone(),
        window_seconds: live.window_seconds,
        cut_traffic: cut_traffic(head_access, changes, live),
        unserved_backends: unserved_backends(head, live),
    }
}

/// The identities whose workloads serve each (namespace, service).
fn servers(live: &LiveContext) -> BTreeMap<(&str, &str), BTreeSet<&Identity>> {
    let mut servers: BTreeMap<(&str, &str), BTreeSet<&Identity>> = BTreeMap::new();
    for workload in &live.workloads {
        for service in &workload.services {
            servers
                .entry((workload.identity.namespace.as_str(), service.as_str()))
                .or_default()
                .insert(&workload.identity);
        }
    }
    servers
}

/// Observed calls between two identities, summed over the backends they went to.
#[derive(Default)]
struct Observed {
    services: BTreeSet<String>,
    requests: u64,
    requests_per_second: f64,
}

fn cut_traffic(
    head_access: &AccessSet,
    changes: &GrantChanges,
    live: &LiveContext,
) -> Vec<CutTraffic> {
    if changes.denied.is_empty() {
        return Vec::new();
    }
    let servers = servers(live);
    // (source, destination) identities → what live traffic between them adds up to. A
    // backend served by several identities counts for each: the report does not say
    // which one answered.
    let mut observed: BTreeMap<(&Identity, &Identity), Observed> = BTreeMap::new();
    for edge in live.edges.iter().filter(|edge| edge.requests > 0) {
        let key = (edge.namespace.as_str(), edge.backend.as_str());
        for destination in servers.get(&key).into_iter().flatten() {
            let entry = observed.entry((&edge.source, destination)).or_default();
            entry
                .services
                .insert(format!("{}/{}", edge.namespace, edge.backend));
            entry.requests += edge.requests;
            entry.requests_per_second += edge.requests_per_second;
        }
    }
    let mut cut = Vec::new();
    for ((source, destination), calls) in observed {
        let (source, destination) = (Peer::from(source), Peer::from(destination));
        let between = |grant_source: &Peer, grant_destination: &Peer| {
            peer_covers(grant_source, &source) && peer_covers(grant_destination, &destination)
        };
        let denied: Vec<_> = changes
            .denied
            .iter()
            .filter(|(grant, _)| between(&grant.source, &grant.destination))
            .collect();
        if denied.is_empty() {
            continue;
        }
        let traffic_targets: BTreeSet<String> = denied
            .iter()
            .flat_map(|(_, attribution)| attribution.traffic_targets.iter().cloned())
            .collect();
        cut.push(CutTraffic {
            partly: head_access
                .grants()
                .any(|(grant, _)| between(&grant.source, &grant.destination)),
            source,
            destination,
            services: calls.services.into_iter().collect(),
            requests: calls.requests,
            requests_per_second: calls.requests_per_second,
            traffic_targets: traffic_targets.into_iter().collect(),
        });
    }
    cut.sort_by(|a, b| {
        b.requests_per_second
            .total_cmp(&a.requests_per_second)
            .then_with(|| (&a.source, &a.destination).cmp(&(&b.source, &b.destination)))
    });
    cut
}

fn unserved_backends(head: &Config, live: &LiveContext) -> Vec<UnservedBackend> {
    let servers = servers(live);
    let mut unserved = Vec::new();
    for split in head
        .traffic_splits
        .iter()
        .map(|s| &s.value)
        .filter(|s| head.namespaces.contains(&s.namespace))
    {
        let total: u64 = split.backends.iter().map(|b| b.weight).sum();
        for backend in split.backends.iter().filter(|b| b.weight > 0) {
            if servers.contains_key(&(split.namespace.as_str(), backend.service.as_str())) {
                continue;
            }
            unserved.push(UnservedBackend {
                namespace: split.namespace.clone(),
                service: split.service.clone(),
                split: split.name.clone(),
                backend: backend.service.clone(),
                percent: 100.0 * backend.weight as f64 / total as f64,
            });
        }
    }
    unserved.sort_by(|a, b| {
        (&a.namespace, &a.service, &a.backend).cmp(&(&b.namespace, &b.service, &b.backend))
    });
    unserved
}

#[cfg(test)]
mod tests;
