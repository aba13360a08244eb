//! Grants merged back into the rows a reviewer reads: the methods of one (source,
//! destination, port, path) together, then the ports of otherwise identical rows, then
//! TCP plus every HTTP request on the same ports as "all traffic".

use std::collections::{BTreeMap, BTreeSet};

use super::access::{AccessSet, Attribution, Grant, GrantChanges, Request, any_path};
use super::{AccessChanges, AccessRow, GrantChange, HeaderMatch, Peer, Ports, Reach, Traffic};

/// (source, destination, port, what is sent but the method).
type RequestKey = (Peer, Peer, Option<u16>, Sent);

/// A request without its method: a stream, or HTTP's path and headers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Sent {
    Tcp,
    Tls,
    Http(Option<String>, Vec<(String, String)>),
}
/// The methods (`*`: every one) granted under one `RequestKey`, and by what.
type MethodSet = (BTreeSet<String>, Attribution);
/// The ports (`None`: every one) one (source, destination, traffic) is granted on, and by what.
type PortSet = (BTreeSet<Option<u16>>, Attribution);

impl GrantChanges {
    /// The rows a reviewer reads: every difference as rows newly allowed or denied, and
    /// for a source and a destination connected on both sides, the grant as it was and
    /// becomes (widened, narrowed), which renderers show instead of those pairs' rows.
    pub fn rows(&self, base: &AccessSet, head: &AccessSet) -> AccessChanges {
        let pair = |grant: &Grant| (grant.source.clone(), grant.destination.clone());
        let connected = |set: &AccessSet| -> BTreeSet<(Peer, Peer)> {
            set.grants().map(|(grant, _)| pair(grant)).collect()
        };
        let (before, after) = (connected(base), connected(head));
        let gained: BTreeSet<_> = self.allowed.iter().map(|(grant, _)| pair(grant)).collect();
        let lost: BTreeSet<_> = self.denied.iter().map(|(grant, _)| pair(grant)).collect();
        let changed_pairs: BTreeSet<(Peer, Peer)> = gained
            .union(&lost)
            .filter(|pair| before.contains(*pair) && after.contains(*pair))
            .cloned()
            .collect();
        let of_pair = |set: &AccessSet, wanted: &(Peer, Peer)| -> Vec<(Grant, Attribution)> {
            set.grants()
                .filter(|(grant, _)| pair(grant) == *wanted)
                .map(|(grant, attribution)| (grant.clone(), attribution.clone()))
                .collect()
        };
        let changed = changed_pairs
            .iter()
            .map(|wanted| GrantChange {
                source: wanted.0.clone(),
                destination: wanted.1.clone(),
                reach: match (gained.contains(wanted), lost.contains(wanted)) {
                    (true, false) => Reach::Widened,
                    (false, true) => Reach::Narrowed,
                    _ => Reach::Reshaped,
                },
                before: rows(&of_pair(base, wanted)),
                after: rows(&of_pair(head, wanted)),
            })
            .collect();
        AccessChanges {
            allowed: rows(&self.allowed),
            denied: rows(&self.denied),
            changed,
        }
    }
}

/// Grants folded into the rows a reviewer reads.
///
/// Long because the folding is three passes over one set of maps (methods, then paths,
/// then ports), numbered below; apart, each pass would need the others' keys.
fn rows(grants: &[(Grant, Attribution)]) -> Vec<AccessRow> {
    // 1. Methods: (source, destination, port, request without method) → methods.
    let mut by_request: BTreeMap<RequestKey, MethodSet> = BTreeMap::new();
    for (grant, attribution) in grants {
        let (key, method) = match &grant.request {
            Request::Tcp => (Sent::Tcp, None),
            Request::Tls => (Sent::Tls, None),
            Request::Http {
                method,
                path,
                headers,
            } => (
                Sent::Http(path.clone(), headers.clone()),
                Some(method.clone().unwrap_or_else(|| "*".into())),
            ),
        };
        let entry = by_request
            .entry((
                grant.source.clone(),
                grant.destination.clone(),
                grant.port,
                key,
            ))
            .or_default();
        entry.0.extend(method);
        merge(&mut entry.1, attribution);
    }
    // 2. Ports: identical (source, destination, traffic) → ports.
    let mut by_traffic: BTreeMap<(Peer, Peer, Traffic), PortSet> = BTreeMap::new();
    for ((source, destination, port, key), (mut methods, attribution)) in by_request {
        let traffic = match key {
            Sent::Tcp => Traffic::Tcp,
            Sent::Tls => Traffic::Tls,
            Sent::Http(path, headers) => {
                if methods.contains("*") {
                    methods = BTreeSet::from(["*".to_string()]);
                }
                Traffic::Http {
                    methods: methods.into_iter().collect(),
                    path,
                    headers: headers
                        .into_iter()
                        .map(|(name, value_regex)| HeaderMatch { name, value_regex })
                        .collect(),
                }
            }
        };
        let entry = by_traffic
            .entry((source, destination, traffic))
            .or_default();
        entry.0.insert(port);
        merge(&mut entry.1, &attribution);
    }
    let mut rows: Vec<AccessRow> = by_traffic
        .into_iter()
        .map(
            |((source, destination, traffic), (ports, attribution))| AccessRow {
                destination,
                source,
                traffic,
                ports: if ports.contains(&None) {
                    Ports::Any
                } else {
                    Ports::Only(ports.into_iter().flatten().collect())
                },
                traffic_targets: attribution.traffic_targets.into_iter().collect(),
                routes: attribution.routes.into_iter().collect(),
                ingress_backends: attribution.ingress_backends.into_iter().collect(),
                egresses: attribution.egresses.into_iter().collect(),
            },
        )
        .collect();
    // 3. TCP + any HTTP request on the same ports → all traffic.
    let unrestricted = |traffic: &Traffic| {
        matches!(traffic, Traffic::Http { methods, path, headers }
            if methods == &["*"] && any_path(path.as_deref()) && headers.is_empty())
    };
    let mut merged: Vec<AccessRow> = Vec::with_capacity(rows.len());
    for row in rows.drain(..) {
        if unrestricted(&row.traffic)
            && let Some(tcp) = merged.iter_mut().find(|other| {
                other.traffic == Traffic::Tcp
                    && other.source == row.source
                    && other.destination == row.destination
                    && other.ports == row.ports
            })
        {
            tcp.traffic = Traffic::All;
            for target in row.traffic_targets {
                if !tcp.traffic_targets.contains(&target) {
                    tcp.traffic_targets.push(target);
                }
            }
            tcp.routes.extend(row.routes);
            tcp.ingress_backends.extend(row.ingress_backends);
            tcp.egresses.extend(row.egresses);
            continue;
        }
        merged.push(row);
    }
    merged.sort();
    merged
}

fn merge(into: &mut Attribution, from: &Attribution) {
    into.traffic_targets
        .extend(from.traffic_targets.iter().cloned());
    into.routes.extend(from.routes.iter().cloned());
    into.ingress_backends
        .extend(from.ingress_backends.iter().cloned());
    into.egresses.extend(from.egresses.iter().cloned());
    if into.origin.is_none() {
        into.origin.clone_from(&from.origin);
    }
}
