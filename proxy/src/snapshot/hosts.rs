//! Host names of meshed services: the forms a service answers to (design §2) and the
//! parsing of a request's authority into the lookup key.

use std::borrow::Cow;

/// The cluster DNS domain in `name.ns.svc.<domain>`.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// The host forms of a service, lower case. The bare `name` only resolves from the
/// service's own namespace, like Kubernetes' DNS search path.
pub fn host_forms(name: &str, namespace: &str, own_namespace: &str) -> Vec<String> {
    let name = name.to_ascii_lowercase();
    let namespace = namespace.to_ascii_lowercase();
    let mut forms = vec![
        format!("{name}.{namespace}"),
        format!("{name}.{namespace}.svc"),
        format!("{name}.{namespace}.svc.{CLUSTER_DOMAIN}"),
    ];
    if namespace.eq_ignore_ascii_case(own_namespace) {
        forms.push(name);
    }
    forms
}

/// A request authority split into a normalised host (lower case, no trailing dot) and
/// an optional port.
#[derive(Debug, PartialEq, Eq)]
pub struct Authority<'a> {
    pub host: Cow<'a, str>,
    pub port: Option<u16>,
}

/// Parses `host`, `host:port`, `host.:port` and `[v6]:port`. `None` when the port is
/// not a number or the host is empty.
pub fn parse_authority(text: &str) -> Option<Authority<'_>> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let end = rest.find(']')?;
        let port = match &rest[end + 1..] {
            "" => None,
            tail => Some(tail.strip_prefix(':')?),
        };
        (&rest[..end], port)
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port = match port {
        Some(digits) => Some(digits.parse::<u16>().ok()?),
        None => None,
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return None;
    }
    // Clients send lower case almost always; only mixed case pays for a copy.
    let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    };
    Some(Authority { host, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Option<(String, Option<u16>)> {
        parse_authority(text).map(|a| (a.host.into_owned(), a.port))
    }

    #[test]
    fn every_documented_host_form_parses_with_and_without_port_and_trailing_dot() {
        for host in [
            "api",
            "api.shop",
            "api.shop.svc",
            "api.shop.svc.cluster.local",
        ] {
            assert_eq!(parsed(host), Some((host.to_owned(), None)));
            assert_eq!(parsed(&format!("{host}.")), Some((host.to_owned(), None)));
            assert_eq!(
                parsed(&format!("{host}:8080")),
                Some((host.to_owned(), Some(8080)))
            );
            assert_eq!(
                parsed(&format!("{host}.:80")),
                Some((host.to_owned(), Some(80)))
            );
        }
    }

    #[test]
    fn hosts_are_case_insensitive() {
        assert_eq!(
            parsed("API.Shop:80"),
            Some(("api.shop".to_owned(), Some(80)))
        );
    }

    #[test]
    fn ipv6_and_ipv4_literals_keep_their_port() {
        assert_eq!(parsed("[::1]:8080"), Some(("::1".to_owned(), Some(8080))));
        assert_eq!(parsed("[::1]"), Some(("::1".to_owned(), None)));
        assert_eq!(
            parsed("10.0.0.1:80"),
            Some(("10.0.0.1".to_owned(), Some(80)))
        );
    }

    #[test]
    fn bad_ports_and_empty_hosts_are_rejected() {
        assert_eq!(parsed("api:http"), None);
        assert_eq!(parsed("api:99999"), None);
        assert_eq!(parsed(":80"), None);
        assert_eq!(parsed(""), None);
    }

    #[test]
    fn the_bare_name_is_only_a_form_in_the_own_namespace() {
        let forms = host_forms("api", "shop", "shop");
        assert_eq!(
            forms,
            [
                "api.shop",
                "api.shop.svc",
                "api.shop.svc.cluster.local",
                "api"
            ]
        );
        assert!(!host_forms("api", "shop", "web").contains(&"api".to_owned()));
    }
}
