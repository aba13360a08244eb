//! A proxy's question about a service its snapshot lacks: which meshed service a host
//! or a ClusterIP:port names, by the same rules the proxy routes with (design §2).

use std::net::{IpAddr, SocketAddr};

use meshcd_schemas::proto;

/// The cluster DNS domain in `name.ns.svc.<domain>` (meshcd-proxy's too).
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// The service `host` (lower case, no port, no trailing dot) or `original` (a
/// transparent-mode destination) names for a proxy in `own_namespace`.
pub fn find<'s>(
    services: &'s [proto::Service],
    own_namespace: &str,
    host: &str,
    original: Option<SocketAddr>,
) -> Option<&'s proto::Service> {
    // The original destination first, as the proxy routes.
    if let Some(original) = original
        && let Some(found) = services
            .iter()
            .find(|service| has_cluster_ip(service, original.ip(), Some(original.port())))
    {
        return Some(found);
    }
    let host = host.to_ascii_lowercase();
    let host_ip = host.parse::<IpAddr>().ok();
    services.iter().find(|service| {
        (!host.is_empty() && answers_to(service, own_namespace, &host))
            || host_ip.is_some_and(|ip| has_cluster_ip(service, ip, None))
    })
}

fn answers_to(service: &proto::Service, own_namespace: &str, host: &str) -> bool {
    let name = service.name.to_ascii_lowercase();
    let namespace = service.namespace.to_ascii_lowercase();
    let qualified = format!("{name}.{namespace}");
    host == qualified
        || host == format!("{qualified}.svc")
        || host == format!("{qualified}.svc.{CLUSTER_DOMAIN}")
        || (host == name && namespace.eq_ignore_ascii_case(own_namespace))
        || service
            .extra_hostnames
            .iter()
            .any(|extra| extra.trim_end_matches('.').eq_ignore_ascii_case(host))
}

fn has_cluster_ip(service: &proto::Service, ip: IpAddr, port: Option<u16>) -> bool {
    service
        .cluster_ips
        .iter()
        .any(|text| text.parse::<IpAddr>() == Ok(ip))
        && port.is_none_or(|port| service.ports.iter().any(|p| p.port == u32::from(port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(name: &str, namespace: &str) -> proto::Service {
        let api = name == "api";
        proto::Service {
            name: name.into(),
            namespace: namespace.into(),
            extra_hostnames: api.then(|| "API.example.com".into()).into_iter().collect(),
            cluster_ips: vec![if api { "10.96.0.7" } else { "10.96.0.9" }.into()],
            ports: vec![proto::ServicePort {
                port: 80,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn every_host_form_a_proxy_routes_finds_the_service() {
        let services = [service("web", "front"), service("api", "shop")];
        for host in [
            "api.shop",
            "api.shop.svc",
            "api.shop.svc.cluster.local",
            "API.Shop",
            "api.example.com",
            "10.96.0.7",
        ] {
            assert_eq!(
                find(&services, "other", host, None).map(|s| &*s.name),
                Some("api"),
                "{host}"
            );
        }
        // The bare name only from the service's own namespace.
        assert!(find(&services, "other", "api", None).is_none());
        assert_eq!(
            find(&services, "shop", "api", None).map(|s| &*s.name),
            Some("api")
        );
        assert!(find(&services, "shop", "nope.shop", None).is_none());
        assert!(find(&services, "shop", "", None).is_none());
    }

    #[test]
    fn a_transparent_destination_needs_the_cluster_ip_and_a_service_port() {
        let services = [service("api", "shop")];
        let at = |text: &str| Some(text.parse().unwrap());
        assert!(find(&services, "x", "", at("10.96.0.7:80")).is_some());
        assert!(find(&services, "x", "", at("10.96.0.7:81")).is_none());
        assert!(find(&services, "x", "", at("10.96.0.8:80")).is_none());
    }
}
