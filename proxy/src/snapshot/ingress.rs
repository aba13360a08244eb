//! IngressBackends as a backend's proxy keeps them: the non-mesh addresses it serves
//! plaintext to, the certificate names it serves TLS to, and the service ports each may
//! reach (see `IngressRule` in mesh.proto).

use std::net::IpAddr;
use std::sync::Arc;

use meshcd_schemas::proto;
use meshcd_support::Cidr;

/// One IngressBackend, for this workload's service ports it names.
#[derive(Debug)]
pub struct IngressRule {
    /// `namespace/name`: the route label of what it admits, and named in refusals.
    pub name: Arc<str>,
    pub backends: Vec<IngressPort>,
    pub sources: Vec<Cidr>,
    /// AuthenticatedPrincipal names: a DNS or URI SAN of a verified client certificate.
    pub principals: Vec<Box<str>>,
}

/// A service port an IngressBackend opens.
#[derive(Debug, Clone)]
pub struct IngressPort {
    /// `name.namespace`.
    pub service: Arc<str>,
    pub port: u16,
    /// `https`: for callers over TLS with a principal's certificate; else plaintext.
    pub tls: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum InvalidIngress {
    #[error("IngressBackend {name:?}: a source")]
    Source {
        name: String,
        source: Box<meshcd_support::cidr::CidrError>,
    },
    #[error("IngressBackend {name:?}: port {port} is not between 1 and 65535")]
    Port { name: String, port: u32 },
}

impl IngressRule {
    /// Compiles one rule; `qualify` turns a service name into `name.namespace`.
    pub fn compile(
        rule: proto::IngressRule,
        qualify: impl Fn(&str) -> Arc<str>,
    ) -> Result<Self, InvalidIngress> {
        let name = rule.ingress_backend;
        let backends = rule
            .backends
            .iter()
            .map(|backend| match u16::try_from(backend.port) {
                Ok(port) if port > 0 => Ok(IngressPort {
                    service: qualify(&backend.service),
                    port,
                    tls: backend.protocol == proto::IngressProtocol::Https as i32,
                }),
                _ => Err(InvalidIngress::Port {
                    name: name.clone(),
                    port: backend.port,
                }),
            })
            .collect::<Result<_, _>>()?;
        let sources = rule
            .sources
            .into_iter()
            .map(|text| {
                text.parse().map_err(|source| InvalidIngress::Source {
                    name: name.clone(),
                    source: Box::new(source),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(IngressRule {
            name: name.into(),
            backends,
            sources,
            principals: rule
                .principals
                .into_iter()
                .map(String::into_boxed_str)
                .collect(),
        })
    }

    /// Whether a caller at `address` is one of its sources.
    pub fn lets_in(&self, address: IpAddr) -> bool {
        self.sources.iter().any(|range| range.contains(address))
    }

    /// Whether it opens `port` of `service` to plaintext callers (`tls: false`) or to
    /// callers with a principal's certificate (`tls: true`).
    pub fn opens(&self, service: &str, port: u16, tls: bool) -> bool {
        self.backends
            .iter()
            .any(|opened| &*opened.service == service && opened.port == port && opened.tls == tls)
    }
}
