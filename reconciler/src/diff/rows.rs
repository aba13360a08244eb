//! Grants merged back into the rows a reviewer reads: the methods of one (source,
//! destination, port, path) together, then the ports of otherwise identical rows, then
//! TCP plus every HTTP request on the same ports as "all traffic".

use std::collections::{BTreeMap, BTreeSet};

use super::access::{Attribution, Grant, GrantChanges, Request, any_path};
use super::{AccessChanges, AccessRow, HeaderMatch, Peer, Ports, Traffic};

/// (source, destination, port, HTTP path and headers or `None` for TCP).
type RequestKey = (
    Peer,
    Peer,
    Option<u16>,
    Option<(Option<String>, Vec<(String, String)>)>,
);
/// The methods (`*`: every one) granted under one `RequestKey`, and by what.
type MethodSet = (BTreeSet<String>, Attribution);
/// The ports (`None`: every one) one (source, destination, traffic) is granted on, and by what.
type PortSet = (BTreeSet<Option<u16>>, Attribution);

impl GrantChanges {
    pub fn rows(&self) -> AccessChanges {
        AccessChanges {
            allowed: rows(&self.allowed),
            denied: rows(&self.denied),
        }
    }
}

fn rows(grants: &[(Grant, Attribution)]) -> Vec<AccessRow> {
    // 1. Methods: (source, destination, port, request without method) → methods.
    let mut by_request: BTreeMap<RequestKey, MethodSet> = BTreeMap::new();
    for (grant, attribution) in grants {
        let (key, method) = match &grant.request {
            Request::Tcp => (None, None),
            Request::Http {
                method,
                path,
                headers,
            } => (
                Some((path.clone(), headers.clone())),
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
            None => Traffic::Tcp,
            Some((path, headers)) => {
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
    if into.origin.is_none() {
        into.origin.clone_from(&from.origin);
    }
}
