//! The grants of IngressBackends: non-mesh sources to Service ports, beside the SMI
//! grants between service accounts.

use super::{AccessSet, Grant, Request};
use crate::diagnostics::ObjectId;
use crate::diff::Peer;
use crate::model::{Config, IngressProtocol, IngressSource};

impl AccessSet {
    /// The grants of the IngressBackends of onboarded namespaces: any HTTP request from
    /// each source to each backend's port (the proxy's reading, `inbound/ingress.rs`).
    pub(super) fn insert_ingress(&mut self, config: &Config) {
        for located in &config.ingress_backends {
            let ingress = &located.value;
            if !config.namespaces.contains(&ingress.namespace) {
                continue;
            }
            let name = format!("{}/{}", ingress.namespace, ingress.name);
            let object = ObjectId {
                kind: "IngressBackend".into(),
                namespace: Some(ingress.namespace.clone()),
                name: ingress.name.clone(),
            };
            for source in &ingress.sources {
                // An address reaches the plaintext backends, a certificate the TLS ones.
                let https = !source.by_address();
                let source = Peer::NonMesh {
                    source: match source {
                        IngressSource::IpRange(range) => range.to_string(),
                        IngressSource::Service { namespace, name } => {
                            format!("Service {namespace}/{name}")
                        }
                        IngressSource::AuthenticatedPrincipal(name) => format!("principal {name}"),
                    },
                };
                for backend in &ingress.backends {
                    if (backend.protocol == IngressProtocol::Https) != https {
                        continue;
                    }
                    let grant = Grant {
                        source: source.clone(),
                        destination: Peer::Service {
                            namespace: ingress.namespace.clone(),
                            name: backend.service.clone(),
                        },
                        port: Some(backend.port),
                        request: Request::any_http(),
                    };
                    self.insert(grant.clone(), None, None, Some((&located.origin, &object)));
                    if let Some(attribution) = self.grants.get_mut(&grant) {
                        attribution.ingress_backends.insert(name.clone());
                    }
                }
            }
        }
    }
}
