//! OSM's IngressBackend (`policy.openservicemesh.io/v1alpha1`) → model: backends (a Service
//! of the object's namespace, a port, protocol `http`) and sources (`IPRange`, `Service`).

use super::{array, string};
use crate::model::{IngressBackend, IngressBackendPort, IngressSource};
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
    Some(IngressBackend {
        name: object.id.name.clone(),
        namespace,
        backends: backends?,
        sources: sources?,
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
        let protocol = backend
            .pointer("/port/protocol")
            .and_then(|p| p.as_str())
            .unwrap_or_default();
        match protocol {
            "http" => {}
            "https" => {
                reporter
                    .error(object, &at("/port/protocol"), "protocol https (TLS from the ingress to the backend's proxy) is not implemented in meshcd yet")
                    .hint("use `protocol: http`: the backend's proxy admits the ingress's plaintext by its address");
                valid = false;
            }
            other => {
                reporter
                    .error(
                        object,
                        &at("/port/protocol"),
                        format!("protocol {other:?} is not one an IngressBackend serves"),
                    )
                    .hint("`http` (or, in OSM, `https`)");
                valid = false;
            }
        }
        if backend.get("tls").is_some() && protocol == "http" {
            reporter
                .error(object, &at("/tls"), "`tls` applies to protocol https only")
                .hint("remove `tls` from this plaintext backend");
            valid = false;
        }
        // The schema holds the number between 1 and 65535.
        let port = backend
            .pointer("/port/number")
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| u16::try_from(n).ok())
            .unwrap_or_default();
        backends.push(IngressBackendPort {
            service: service.to_string(),
            port,
        });
    }
    valid.then_some(backends)
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
            "AuthenticatedPrincipal" => {
                reporter
                    .error(object, &at("/kind"), "source kind AuthenticatedPrincipal (an ingress's client certificate) is not implemented in meshcd yet")
                    .hint("name the ingress by its addresses: `{kind: IPRange, name: 10.0.0.0/8}` or `{kind: Service, name: ingress-nginx, namespace: ingress}`");
                valid = false;
            }
            other => {
                reporter
                    .error(object, &at("/kind"), format!("{other:?} is not a kind of IngressBackend source"))
                    .hint("IPRange (a CIDR), Service (its endpoints' addresses) or AuthenticatedPrincipal");
                valid = false;
            }
        }
    }
    valid.then_some(sources)
}

#[cfg(test)]
#[path = "ingress_tests.rs"]
mod tests;
