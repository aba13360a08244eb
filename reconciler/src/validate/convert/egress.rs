//! OSM's Egress (`policy.openservicemesh.io/v1alpha1`) → model.

use meshcd_support::Cidr;

use super::{array, string};
use crate::model::{Egress, EgressPort, EgressProtocol, Identity};
use crate::validate::report::{Object, Reporter};

/// The HTTPRouteGroup `apiGroup`s an Egress's `matches` may name (OSM's is v1alpha4).
const ROUTE_GROUP_API: &str = "specs.smi-spec.io";

pub fn egress(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<Egress> {
    let value = &object.value;
    let namespace = object.id.namespace.clone().unwrap_or_default();
    let mut valid = true;
    let sources = array(value, "/spec/sources")
        .iter()
        .map(|source| Identity {
            namespace: source["namespace"].as_str().unwrap_or_default().to_string(),
            service_account: source["name"].as_str().unwrap_or_default().to_string(),
        })
        .collect();
    let mut hosts = Vec::new();
    for (index, host) in array(value, "/spec/hosts").iter().enumerate() {
        let text = host.as_str().unwrap_or_default();
        match host_pattern(text) {
            Ok(host) => hosts.push(host),
            Err(why) => {
                reporter
                    .error(object, &format!("/spec/hosts/{index}"), format!("host {text:?} {why}"))
                    .hint("a DNS name such as api.example.com, or *.example.com for every name below it; IP addresses go in ipAddresses");
                valid = false;
            }
        }
    }
    let mut ip_ranges = Vec::new();
    for (index, range) in array(value, "/spec/ipAddresses").iter().enumerate() {
        let text = range.as_str().unwrap_or_default();
        match text.parse::<Cidr>() {
            Ok(range) => ip_ranges.push(range),
            Err(error) => {
                reporter
                    .error(
                        object,
                        &format!("/spec/ipAddresses/{index}"),
                        format!("{text:?} is not a CIDR: {error}"),
                    )
                    .hint("an address range such as 203.0.113.0/24 (or 203.0.113.7/32 for one address)");
                valid = false;
            }
        }
    }
    if array(value, "/spec/hosts").is_empty() && array(value, "/spec/ipAddresses").is_empty() {
        reporter
            .error(
                object,
                "/spec",
                "the Egress names no destination: give `hosts`, `ipAddresses` or both",
            )
            .hint("`hosts: [api.example.com]` or `ipAddresses: [203.0.113.0/24]`");
        valid = false;
    }
    let ports = ports(object, reporter);
    let route_groups = route_groups(object, reporter);
    let (Some(ports), Some(route_groups)) = (ports, route_groups) else {
        return None;
    };
    if !route_groups.is_empty() && !ports.iter().any(|p| p.protocol == EgressProtocol::Http) {
        reporter
            .error(object, "/spec/matches", "HTTPRouteGroup matches apply to HTTP, and the Egress has no http port")
            .hint("HTTPS and TCP egress is passed through unread: only its destination is checked; drop `matches` or add an http port");
        valid = false;
    }
    valid.then(|| Egress {
        name: object.id.name.clone(),
        namespace,
        sources,
        hosts,
        ip_ranges,
        ports,
        route_groups,
    })
}

/// `ports`, each with a protocol meshcd enforces.
fn ports(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<Vec<EgressPort>> {
    let mut valid = true;
    let mut ports = Vec::new();
    for (index, port) in array(&object.value, "/spec/ports").iter().enumerate() {
        let word = port["protocol"].as_str().unwrap_or_default();
        let number = port["number"]
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .unwrap_or_default();
        match EgressProtocol::parse(&word.to_ascii_lowercase()) {
            Some(protocol) => ports.push(EgressPort { number, protocol }),
            None => {
                reporter
                    .error(
                        object,
                        &format!("/spec/ports/{index}/protocol"),
                        format!("egress protocol {word:?} is not http, https or tcp"),
                    )
                    .hint("http: requests read and matched; https: TLS passed through, its SNI checked against hosts; tcp: bytes passed through");
                valid = false;
            }
        }
    }
    ports.sort_unstable();
    ports.dedup();
    valid.then_some(ports)
}

/// `matches`: HTTPRouteGroups by name (whether they exist is checked across documents).
fn route_groups(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<Vec<String>> {
    let mut valid = true;
    let mut groups = Vec::new();
    for (index, reference) in array(&object.value, "/spec/matches").iter().enumerate() {
        let api_group = reference["apiGroup"].as_str().unwrap_or_default();
        let group = api_group.split('/').next().unwrap_or_default();
        if reference["kind"].as_str() != Some("HTTPRouteGroup") || group != ROUTE_GROUP_API {
            reporter
                .error(
                    object,
                    &format!("/spec/matches/{index}"),
                    format!(
                        "an Egress's matches name HTTPRouteGroups; meshcd does not apply {} {} to egress",
                        api_group,
                        reference["kind"].as_str().unwrap_or_default()
                    ),
                )
                .hint("`{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: reads}`");
            valid = false;
            continue;
        }
        groups.extend(string(reference, "/name"));
    }
    valid.then_some(groups)
}

/// A host as proxies match it: lower case, no trailing dot; `*.` only as the first label.
fn host_pattern(text: &str) -> Result<String, &'static str> {
    let host = text.trim_end_matches('.').to_ascii_lowercase();
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Err("is an IP address");
    }
    let name = host.strip_prefix("*.").unwrap_or(&host);
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        return Err("is not a DNS name (or *. followed by one)");
    }
    Ok(host)
}

#[cfg(test)]
#[path = "egress_tests.rs"]
mod tests;
