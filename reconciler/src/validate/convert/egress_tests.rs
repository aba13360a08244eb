//! Reading OSM's Egress.

use super::host_pattern;
use crate::model::{EgressPort, EgressProtocol, Identity};
use crate::test_support::{config, diagnostics};

fn egress(spec: &str) -> String {
    format!(
        "apiVersion: v1
kind: Namespace
metadata: {{name: shop}}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {{name: reads, namespace: shop}}
spec:
  matches: [{{name: get, methods: [GET]}}]
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: Egress
metadata: {{name: payments, namespace: shop}}
spec:
  sources: [{{kind: ServiceAccount, name: frontend, namespace: shop}}]
{spec}"
    )
}

#[test]
fn an_osm_egress_is_read_as_written() {
    let config = config(&egress(
        "  hosts: [API.Pay.example., '*.cdn.example']
  ipAddresses: [203.0.113.0/24]
  ports: [{number: 443, protocol: https}, {number: 80, protocol: http}]
  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: reads}]
",
    ));
    let egress = &config.egresses[0].value;
    assert_eq!(
        egress.sources,
        [Identity {
            namespace: "shop".into(),
            service_account: "frontend".into()
        }]
    );
    assert_eq!(egress.hosts, ["api.pay.example", "*.cdn.example"]);
    assert_eq!(egress.ip_ranges[0].to_string(), "203.0.113.0/24");
    let port = |number, protocol| EgressPort { number, protocol };
    assert_eq!(
        egress.ports,
        [
            port(80, EgressProtocol::Http),
            port(443, EgressProtocol::Https)
        ]
    );
    assert_eq!(egress.route_groups, ["reads"]);
}

#[test]
fn bad_hosts_ranges_protocols_and_matches_are_errors_at_their_line() {
    let found = diagnostics(&egress(
        "  hosts: ['*', 10.0.0.1]
  ipAddresses: [10.1.2.3/8]
  ports: [{number: 443, protocol: udp}]
  matches: [{apiGroup: policy.openservicemesh.io/v1alpha1, kind: UpstreamTrafficSetting, name: x}]
",
    ));
    for expected in [
        "16: host \"*\" is not a DNS name",
        "16: host \"10.0.0.1\" is an IP address",
        "17: \"10.1.2.3/8\" is not a CIDR: \"10.1.2.3/8\" has bits set past its /8 prefix",
        "18: egress protocol \"udp\" is not http, https or tcp",
        "19: an Egress's matches name HTTPRouteGroups",
    ] {
        assert!(
            found.iter().any(|d| d.starts_with(expected)),
            "{expected:?} not in {found:#?}"
        );
    }
}

#[test]
fn an_egress_needs_a_destination_and_http_for_its_matches_and_groups_that_exist() {
    let found = diagnostics(&egress("  ports: [{number: 80, protocol: http}]\n"));
    assert!(
        found
            .iter()
            .any(|d| d.contains("the Egress names no destination")),
        "{found:#?}"
    );
    let found = diagnostics(&egress(
        "  hosts: [db.example]
  ports: [{number: 5432, protocol: tcp}]
  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: reads}]
",
    ));
    assert!(
        found
            .iter()
            .any(|d| d.contains("the Egress has no http port")),
        "{found:#?}"
    );
    let found = diagnostics(&egress(
        "  hosts: [api.example]
  ports: [{number: 80, protocol: http}]
  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: writes}]
",
    ));
    assert!(
        found.iter().any(|d| d.starts_with(
            "18: the Egress names HTTPRouteGroup \"writes\", which does not exist in namespace \"shop\""
        )),
        "{found:#?}"
    );
}

#[test]
fn hosts_are_names_or_one_leading_wildcard() {
    assert_eq!(
        host_pattern("API.Example.com."),
        Ok("api.example.com".into())
    );
    assert_eq!(host_pattern("*.example.com"), Ok("*.example.com".into()));
    for bad in [
        "",
        "*",
        "a.*.com",
        "ex ample.com",
        "10.0.0.1",
        "-a.com",
        "a..com",
    ] {
        assert!(host_pattern(bad).is_err(), "{bad}");
    }
}
