//! OSM's IngressBackend (`policy.openservicemesh.io/v1alpha1`) → model: backends (a Service
//! of the object's namespace, a port, protocol `http` or `https`) and sources (`IPRange`,
//! `Service`, `AuthenticatedPrincipal`), every backend reachable by some source.

use serde_json::Value;

use super::{array, string};
use crate::model::{IngressBackend, IngressBackendPort, IngressProtocol, IngressSource};
use crate::validate::report::{Object, Reporter};

pub fn ingress_backend(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<IngressBackend> {
    let namespace = object.id.namespace.clone().unwrap_or_default();
    // OSM's `matches` points an IngressBackend at an UpstreamTrafficSetting for its rate
    // limits; refused by name rather than read and ignored.
    if !array(&object.value, "/spec/matches").is_empty() {
        reporter
            .error(object, "/spec/matches", "an IngressBackend's `matches` is not implemented in meshcd")
            .hint("leave it out: a Service's rate limits are its UpstreamTrafficSetting's, for every caller");
    }
    let backends = backends(object, reporter);
    let sources = sources(object, reporter, &namespace);
    let (backends, sources) = (backends?, sources?);
    reachable(object, reporter, &backends, &sources).then(|| IngressBackend {
        name: object.id.name.clone(),
        namespace,
        backends,
        sources,
    })
}

/// `spec.backends`; `None` when one is invalid (reported).
fn backends(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<Vec<IngressBackendPort>> {
    let entries = array(&object.value, "/spec/backends");
    if entries.is_empty() {
        reporter
            .error(object, "/spec/backends", "an IngressBackend needs at least one backend")
            .hint("`backends: [{name: api, port: {number: 80, protocol: http}}]`: a Service of this namespace and one of its ports");
        return None;
    }
    let mut valid = true;
    let mut backends = Vec::new();
    for (index, backend) in entries.iter().enumerate() {
        let at = |field: &str| format!("/spec/backends/{index}{field}");
        let service = backend["name"].as_str().unwrap_or_default();
        if service.is_empty() || service.contains('.') || service.contains('/') {
            reporter
                .error(object, &at("/name"), format!("backend {service:?} is not the name of a Service"))
                .hint("a backend is a Service of the IngressBackend's own namespace, by its name alone (`api`)");
            valid = false;
        }
        let protocol = match backend
            .pointer("/port/protocol")
            .and_then(Value::as_str)
            .unwrap_or_default()
        {
            "http" => IngressProtocol::Http,
            "https" => IngressProtocol::Https,
            other => {
                reporter
                    .error(object, &at("/port/protocol"), format!("protocol {other:?} is not one an IngressBackend serves"))
                    .hint("`http` (plaintext from an IPRange or Service source) or `https` (TLS from an AuthenticatedPrincipal)");
                valid = false;
                IngressProtocol::Http
            }
        };
        valid &= tls(object, reporter, backend, index, protocol);
        // The schema holds the number between 1 and 65535.
        let port = backend
            .pointer("/port/number")
            .and_then(Value::as_u64)
            .and_then(|n| u16::try_from(n).ok())
            .unwrap_or_default();
        backends.push(IngressBackendPort {
            service: service.to_string(),
            port,
            protocol,
        });
    }
    valid.then_some(backends)
}

/// `tls` of backend `index`: only for `https`, and only what meshcd does (the client
/// certificate verified against the mesh's roots); whether it is valid (else reported).
fn tls(
    object: &Object<'_>,
    reporter: &mut Reporter<'_>,
    backend: &Value,
    index: usize,
    protocol: IngressProtocol,
) -> bool {
    let at = |field: &str| format!("/spec/backends/{index}/tls{field}");
    let Some(tls) = backend.get("tls") else {
        return true;
    };
    if protocol == IngressProtocol::Http {
        reporter
            .error(object, &at(""), "`tls` applies to protocol https only")
            .hint("remove `tls` from this plaintext backend");
        return false;
    }
    let mut valid = true;
    if tls["skipClientCertValidation"].as_bool() == Some(true) {
        reporter
            .error(object, &at("/skipClientCertValidation"), "skipClientCertValidation is not implemented in meshcd: an ingress's certificate must chain to the mesh's roots")
            .hint("issue the ingress's certificate from the mesh CA, and set `skipClientCertValidation: false`");
        valid = false;
    }
    if tls["sniHosts"]
        .as_array()
        .is_some_and(|hosts| !hosts.is_empty())
    {
        reporter
            .error(
                object,
                &at("/sniHosts"),
                "sniHosts is not implemented in meshcd",
            )
            .hint("leave it out: the backend's proxy answers whatever name the ingress sends");
        valid = false;
    }
    valid
}

/// `spec.sources`; `None` when one is invalid (reported).
fn sources(
    object: &Object<'_>,
    reporter: &mut Reporter<'_>,
    namespace: &str,
) -> Option<Vec<IngressSource>> {
    let entries = array(&object.value, "/spec/sources");
    if entries.is_empty() {
        reporter
            .error(object, "/spec/sources", "an IngressBackend needs at least one source")
            .hint("`sources: [{kind: IPRange, name: 10.0.0.0/8}]` or `[{kind: Service, name: ingress-nginx, namespace: ingress}]`");
        return None;
    }
    let mut valid = true;
    let mut sources = Vec::new();
    for (index, source) in entries.iter().enumerate() {
        let at = |field: &str| format!("/spec/sources/{index}{field}");
        let name = string(source, "/name").unwrap_or_default();
        match source["kind"].as_str().unwrap_or_default() {
            "IPRange" => match name.parse() {
                Ok(range) => sources.push(IngressSource::IpRange(range)),
                Err(error) => {
                    reporter
                        .error(object, &at("/name"), format!("IPRange {name:?}: {error}"))
                        .hint("a CIDR range such as 10.0.0.0/8 or 192.0.2.7/32, or one address");
                    valid = false;
                }
            },
            "Service" => sources.push(IngressSource::Service {
                namespace: string(source, "/namespace").unwrap_or_else(|| namespace.to_string()),
                name,
            }),
            "AuthenticatedPrincipal" if !name.is_empty() && !name.starts_with("spiffe://") => {
                sources.push(IngressSource::AuthenticatedPrincipal(name));
            }
            "AuthenticatedPrincipal" => {
                reporter
                    .error(object, &at("/name"), format!("AuthenticatedPrincipal {name:?} is not a name an ingress's certificate may carry"))
                    .hint("a DNS or URI SAN such as ingress.example.com; a SPIFFE identity is a mesh peer, which TrafficTargets govern");
                valid = false;
            }
            other => {
                reporter
                    .error(object, &at("/kind"), format!("{other:?} is not a kind of IngressBackend source"))
                    .hint("IPRange (a CIDR), Service (its endpoints' addresses) or AuthenticatedPrincipal (a client certificate's name)");
                valid = false;
            }
        }
    }
    valid.then_some(sources)
}

/// Whether every backend can be reached by some source: an `http` one by an address
/// (IPRange, Service), an `https` one by a certificate (AuthenticatedPrincipal); else
/// reported at the backend's protocol.
fn reachable(
    object: &Object<'_>,
    reporter: &mut Reporter<'_>,
    backends: &[IngressBackendPort],
    sources: &[IngressSource],
) -> bool {
    let mut valid = true;
    for (index, backend) in backends.iter().enumerate() {
        let https = backend.protocol == IngressProtocol::Https;
        if sources.iter().any(|source| source.by_address() != https) {
            continue;
        }
        let (needed, example) = if https {
            (
                "an AuthenticatedPrincipal source (the certificate the ingress presents)",
                "`{kind: AuthenticatedPrincipal, name: ingress.example.com}`",
            )
        } else {
            (
                "an IPRange or Service source (the address plaintext comes from)",
                "`{kind: IPRange, name: 10.0.0.0/8}`",
            )
        };
        reporter
            .error(
                object,
                &format!("/spec/backends/{index}/port/protocol"),
                format!(
                    "protocol {} needs {needed}: no source reaches backend {:?}",
                    backend.protocol.as_str(),
                    backend.service
                ),
            )
            .hint(example);
        valid = false;
    }
    valid
}

#[cfg(test)]
#[path = "ingress_tests.rs"]
mod tests;
