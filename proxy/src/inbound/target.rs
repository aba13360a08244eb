//! Which service port of this workload a request is for: the mesh's destination header,
//! else (plaintext and ingress callers) the Host's port, port 80, or the only HTTP port.

use std::sync::Arc;

use http::Request;
use http::header::HOST;

use crate::http::headers;
use crate::http::hop::{self, DESTINATION_HEADER};
use crate::snapshot::{Protocol, Snapshot};

/// (service port, app needs HTTP/2, service name) from the destination header; for
/// plaintext clients without it, the Host's port, else port 80, else the workload's only
/// HTTP port (the same defaults as the outbound side's Host routing).
pub(super) fn target<B>(
    snapshot: &Snapshot,
    request: &Request<B>,
) -> Option<(u16, bool, Arc<str>)> {
    let workload = &snapshot.workload;
    let service_named = |name: &str| -> Arc<str> {
        workload
            .services
            .iter()
            .find(|s| &***s == name)
            .cloned()
            .unwrap_or_else(|| Arc::from(name))
    };
    if let Some(value) = request.headers().get(&DESTINATION_HEADER) {
        let destination = hop::parse_destination(value.as_bytes())?;
        return Some((
            destination.port,
            destination.http2,
            service_named(destination.service),
        ));
    }
    let default_service = || {
        workload
            .services
            .first()
            .cloned()
            .unwrap_or_else(|| workload.identity.clone())
    };
    let host_port = request
        .uri()
        .authority()
        .map(|a| a.as_str())
        .or_else(|| request.headers().get(HOST).and_then(|h| h.to_str().ok()))
        .and_then(port_of)
        .filter(|port| snapshot.inbound_port(*port).is_some());
    let port = host_port.or_else(|| {
        let mut http = workload
            .ports
            .iter()
            .filter(|p| p.protocol == Protocol::Http);
        if http.clone().any(|p| p.service_port == 80) {
            return Some(80);
        }
        match (http.next(), http.next()) {
            (Some(only), None) => Some(only.service_port),
            _ => None,
        }
    })?;
    Some((port, headers::is_grpc(request), default_service()))
}

/// The port an authority (`host:port`, `[v6]:port`) names; the host does not matter here.
fn port_of(authority: &str) -> Option<u16> {
    authority.rsplit_once(':')?.1.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::port_of;

    #[test]
    fn the_port_of_an_authority_is_read_for_names_and_addresses_of_both_families() {
        assert_eq!(port_of("api.shop:8080"), Some(8080));
        assert_eq!(port_of("127.0.0.1:80"), Some(80));
        assert_eq!(port_of("[::1]:9090"), Some(9090));
        assert_eq!(port_of("[::1]"), None);
        assert_eq!(port_of("api.shop"), None);
        assert_eq!(port_of("api.shop:http"), None);
    }
}
