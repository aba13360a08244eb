//! Which meshed service and port a request from the local app is for: the original
//! destination's ClusterIP in transparent mode, else the Host (absolute-form URI,
//! `:authority` or `Host` header) in any of the forms of design §2. A workload's own
//! address (pod IP and app port) resolves to that workload alone, as a service of one
//! endpoint with no route or split (Gateway API's MeshFrontend).

use std::net::{IpAddr, SocketAddr};

use http::Request;
use http::header::HOST;

use crate::snapshot::{Protocol, Service, Snapshot, parse_authority};

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("the request names no host (no absolute URI, :authority or Host header)")]
    MissingHost,
    /// A known service, but not on this port (or no port given and none by default).
    #[error("no meshed service {0:?}")]
    Unknown(String),
    /// No service of the snapshot answers to `host` (lower case, no port): one left out
    /// of it may, so it is worth asking the control plane.
    #[error("no meshed service {authority:?}")]
    NoService { authority: String, host: String },
    #[error("{service} port {port} is a TCP port; connect to its local TCP listener instead")]
    TcpPort { service: String, port: u16 },
}

/// The service and service port a request is for.
pub fn resolve<'s, B>(
    snapshot: &'s Snapshot,
    original: Option<SocketAddr>,
    request: &Request<B>,
) -> Result<(&'s Service, u16), RouteError> {
    // A ClusterIP, else a workload's own address (to that workload, without routes).
    if let Some(found) = original.and_then(|o| snapshot.service_by_address(&o)) {
        return http_port(found.0, found.1);
    }
    let authority = authority(request).ok_or(RouteError::MissingHost)?;
    let unknown = || RouteError::Unknown(authority.to_owned());
    let parsed = parse_authority(authority).ok_or_else(unknown)?;
    if let Some(service) = snapshot.service_by_host(&parsed.host) {
        let port = match parsed.port {
            Some(port) => port,
            None => service.default_http_port().ok_or_else(unknown)?,
        };
        return match service.port(port) {
            Some(_) => http_port(service, port),
            None => Err(unknown()),
        };
    }
    // An explicit-proxy request for a ClusterIP:port, or a workload's own address.
    if let (Ok(ip), Some(port)) = (parsed.host.parse::<IpAddr>(), parsed.port) {
        let address = SocketAddr::new(ip, port);
        if let Some((service, port)) = snapshot.service_by_address(&address) {
            return http_port(service, port);
        }
    }
    Err(RouteError::NoService {
        authority: authority.to_owned(),
        host: parsed.host.into_owned(),
    })
}

/// The authority a request names: its absolute-form URI's (or `:authority`), else its
/// Host header's.
pub(super) fn authority<B>(request: &Request<B>) -> Option<&str> {
    match request.uri().authority() {
        Some(authority) => Some(authority.as_str()),
        None => request.headers().get(HOST)?.to_str().ok(),
    }
}

fn http_port(service: &Service, port: u16) -> Result<(&Service, u16), RouteError> {
    match service.port(port).map(|p| p.protocol) {
        Some(Protocol::Http) => Ok((service, port)),
        Some(Protocol::Tcp) => Err(RouteError::TcpPort {
            service: service.name.to_string(),
            port,
        }),
        None => Err(RouteError::Unknown(format!("{}:{port}", service.name))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::compile_for_tests;
    use meshcd_schemas::proto;

    fn service(name: &str, namespace: &str, ports: &[(u32, proto::Protocol)]) -> proto::Service {
        proto::Service {
            name: name.into(),
            namespace: namespace.into(),
            cluster_ips: vec![format!("10.96.0.{}", ports[0].0 % 250)],
            ports: ports
                .iter()
                .map(|&(port, protocol)| proto::ServicePort {
                    port,
                    protocol: protocol as i32,
                    local_port: 0,
                })
                .collect(),
            ..Default::default()
        }
    }

    fn snapshot() -> Snapshot {
        compile_for_tests(proto::Snapshot {
            workload: Some(proto::Workload {
                namespace: "shop".into(),
                ..Default::default()
            }),
            services: vec![
                service(
                    "api",
                    "shop",
                    &[(80, proto::Protocol::Http), (9090, proto::Protocol::Http)],
                ),
                service("admin", "ops", &[(8080, proto::Protocol::Http)]),
                service("db", "shop", &[(5432, proto::Protocol::Tcp)]),
            ],
            ..Default::default()
        })
    }

    fn resolved(snapshot: &Snapshot, host: &str) -> Result<(String, u16), String> {
        let request = Request::builder().header(HOST, host).body(()).unwrap();
        resolve(snapshot, None, &request)
            .map(|(service, port)| (service.name.to_string(), port))
            .map_err(|error| error.to_string())
    }

    #[test]
    fn every_host_form_reaches_the_service_on_port_80_by_default() {
        let snapshot = snapshot();
        for host in [
            "api",
            "api.shop",
            "api.shop.svc",
            "api.shop.svc.cluster.local",
            "api.shop.svc.cluster.local.",
            "API.shop:80",
        ] {
            assert_eq!(
                resolved(&snapshot, host),
                Ok(("api.shop".into(), 80)),
                "{host}"
            );
        }
        assert_eq!(
            resolved(&snapshot, "api.shop:9090"),
            Ok(("api.shop".into(), 9090))
        );
    }

    #[test]
    fn a_service_with_one_http_port_takes_hosts_without_a_port() {
        assert_eq!(
            resolved(&snapshot(), "admin.ops"),
            Ok(("admin.ops".into(), 8080))
        );
    }

    #[test]
    fn the_bare_name_only_resolves_in_the_own_namespace() {
        assert_eq!(
            resolved(&snapshot(), "admin"),
            Err("no meshed service \"admin\"".into())
        );
    }

    #[test]
    fn unknown_hosts_and_ports_are_not_meshed_services() {
        let snapshot = snapshot();
        assert_eq!(
            resolved(&snapshot, "nope.shop"),
            Err("no meshed service \"nope.shop\"".into())
        );
        assert_eq!(
            resolved(&snapshot, "api.shop:81"),
            Err("no meshed service \"api.shop:81\"".into())
        );
        assert!(
            resolved(&snapshot, "db.shop:5432")
                .unwrap_err()
                .contains("TCP port")
        );
    }

    #[test]
    fn names_of_the_mesh_dns_are_unknown_services_and_others_are_outside() {
        let snapshot = snapshot();
        for host in [
            "nope.shop",
            "nope.ops",
            "x.other.svc",
            "x.other.svc.cluster.local",
        ] {
            assert!(snapshot.is_mesh_name(host), "{host}");
        }
        for host in ["localhost", "api.example.com", "nope.elsewhere", "10.0.0.1"] {
            assert!(!snapshot.is_mesh_name(host), "{host}");
        }
    }

    #[test]
    fn absolute_form_uris_win_over_the_host_header() {
        let request = Request::builder()
            .uri("http://api.shop:9090/x")
            .header(HOST, "ignored")
            .body(())
            .unwrap();
        let snapshot = snapshot();
        let (service, port) = resolve(&snapshot, None, &request).unwrap();
        assert_eq!((&*service.name, port), ("api.shop", 9090));
    }

    #[test]
    fn a_redirected_connection_is_routed_by_cluster_ip_whatever_its_host() {
        let snapshot = snapshot();
        let request = Request::builder()
            .header(HOST, "example.com")
            .body(())
            .unwrap();
        let original = "10.96.0.80:9090".parse().unwrap();
        let (service, port) = resolve(&snapshot, Some(original), &request).unwrap();
        assert_eq!((&*service.name, port), ("api.shop", 9090));
        let elsewhere = "192.0.2.1:80".parse().unwrap();
        assert!(resolve(&snapshot, Some(elsewhere), &request).is_err());
    }

    #[test]
    fn a_workload_address_reaches_that_workload_alone_and_a_cluster_ip_still_wins() {
        let mut api = service("api", "shop", &[(80, proto::Protocol::Http)]);
        api.endpoints = vec![proto::Endpoint {
            address: "10.1.0.7:15006".into(),
            identity: "spiffe://cluster.local/ns/shop/sa/api".into(),
            direct: vec![proto::DirectAddress {
                address: "10.1.0.7:8080".into(),
                port: 80,
            }],
        }];
        let snapshot = compile_for_tests(proto::Snapshot {
            workload: Some(proto::Workload {
                namespace: "shop".into(),
                ..Default::default()
            }),
            services: vec![api],
            ..Default::default()
        });
        let to = |uri: &str, original: Option<SocketAddr>| {
            let request = Request::builder().uri(uri).body(()).unwrap();
            resolve(&snapshot, original, &request)
                .map(|(service, port)| (service.name.to_string(), port, service.routes.len()))
                .map_err(|error| error.to_string())
        };
        assert_eq!(
            to("http://10.1.0.7:8080/", None),
            Ok(("api.shop".into(), 80, 0))
        );
        let intercepted = "10.1.0.7:8080".parse().ok();
        assert_eq!(to("/", intercepted), Ok(("api.shop".into(), 80, 0)));
        let direct = snapshot
            .service_by_workload_address(&"10.1.0.7:8080".parse().unwrap())
            .unwrap();
        assert_eq!(direct.0.own.endpoints.len(), 1, "that workload alone");
        assert!(
            to("http://10.1.0.7:9999/", None).is_err(),
            "not an app port"
        );
        let cluster_ip = "10.96.0.80:80".parse().ok();
        assert_eq!(to("/", cluster_ip), Ok(("api.shop".into(), 80, 0)));
    }
}
