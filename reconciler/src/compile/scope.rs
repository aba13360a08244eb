//! Which services each proxy is sent: under deny policy only those its identity may
//! call (a TrafficTarget names it as a source of an identity serving the service, one of
//! its split's backends or one of its routes' backends), so a mesh of 10,000 services does not send 10,000 services
//! to each of its proxies. A call to a service left out still gets the answer it always
//! got: the proxy asks the control plane for it (`Lookup`) and routes it to the
//! destination, whose 403 names the reason.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use meshcd_schemas::proto;

/// The services (indices into the service table) each source identity (SPIFFE ID) may
/// use, and the ones every proxy gets.
#[derive(Debug, Default)]
pub struct Scopes {
    by_source: BTreeMap<String, Vec<usize>>,
    everyone: Vec<usize>,
}

impl Scopes {
    /// `rules` are the inbound rules of every destination identity (SPIFFE ID).
    pub fn new(
        services: &[proto::Service],
        rules: &BTreeMap<String, Arc<Vec<proto::InboundRule>>>,
    ) -> Self {
        let mut scopes = Scopes::default();
        for (index, service) in services.iter().enumerate() {
            // A TCP port is opened as a local listener (local mode) from the snapshot
            // itself: a proxy that lacked the service would refuse the connection
            // instead of letting the destination deny it.
            let tcp = proto::Protocol::Tcp as i32;
            if service.ports.iter().any(|port| port.protocol == tcp) {
                scopes.everyone.push(index);
                continue;
            }
            let destinations = service
                .endpoints
                .iter()
                .chain(
                    service
                        .split
                        .iter()
                        .flat_map(|split| &split.backends)
                        .flat_map(|backend| &backend.endpoints),
                )
                .chain(
                    service
                        .routes
                        .iter()
                        .flat_map(|table| &table.rules)
                        .flat_map(|rule| &rule.backends)
                        .flat_map(|backend| &backend.endpoints),
                )
                .map(|endpoint| endpoint.identity.as_str());
            let sources: BTreeSet<&str> = destinations
                .filter_map(|destination| rules.get(destination))
                .flat_map(|rules| rules.iter())
                .flat_map(|rule| &rule.sources)
                .map(String::as_str)
                .collect();
            for source in sources {
                scopes
                    .by_source
                    .entry(source.to_owned())
                    .or_default()
                    .push(index);
            }
        }
        scopes
    }

    /// The services `identity` gets, in table order.
    pub fn of(&self, identity: &str) -> Vec<usize> {
        let mut indices: Vec<usize> = self
            .everyone
            .iter()
            .chain(self.by_source.get(identity).into_iter().flatten())
            .copied()
            .collect();
        indices.sort_unstable();
        indices
    }
}
