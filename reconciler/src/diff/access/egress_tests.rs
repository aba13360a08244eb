//! Egress grants in `meshcd diff`: rows "source → external host", per port and traffic.

use crate::diff::tests::report_of;
use crate::diff::{AccessRow, Options, diff, render};
use crate::test_support::config;

const SHOP: &str = "apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: reads, namespace: shop}
spec:
  matches: [{name: get, methods: [GET]}]
";

fn with_egress(spec: &str) -> String {
    format!(
        "{SHOP}---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: Egress
metadata: {{name: payments, namespace: shop}}
spec:
  sources: [{{kind: ServiceAccount, name: frontend, namespace: shop}}]
{spec}"
    )
}

fn rows(rows: &[AccessRow]) -> Vec<String> {
    rows.iter()
        .map(|row| {
            format!(
                "{} -> {}: {} on {} via {:?}",
                row.source, row.destination, row.traffic, row.ports, row.egresses
            )
        })
        .collect()
}

#[test]
fn a_new_egress_allows_its_sources_each_host_on_each_port() {
    let head = with_egress(
        "  hosts: [api.pay.example]
  ipAddresses: [203.0.113.0/24]
  ports: [{number: 443, protocol: https}, {number: 5432, protocol: tcp}]
",
    );
    let changes = diff(&config(SHOP), &config(&head), &Options::default(), None);
    assert_eq!(
        rows(&changes.access.allowed),
        [
            "shop/frontend -> external 203.0.113.0/24: TCP streams on port 5432 via [\"shop/payments\"]",
            "shop/frontend -> external 203.0.113.0/24: TLS streams (by server name) on port 443 via [\"shop/payments\"]",
            "shop/frontend -> external api.pay.example: TCP streams on port 5432 via [\"shop/payments\"]",
            "shop/frontend -> external api.pay.example: TLS streams (by server name) on port 443 via [\"shop/payments\"]",
        ]
    );
    assert!(changes.access.denied.is_empty());
    let text = render::text(&report_of(changes), &|_, _| None);
    assert!(text.contains("external api.pay.example"), "{text}");
    assert!(text.contains("Egress shop/payments"), "{text}");
}

#[test]
fn narrowing_an_egress_to_its_route_group_denies_the_other_requests() {
    let any = with_egress("  hosts: [api.pay.example]\n  ports: [{number: 80, protocol: http}]\n");
    let reads = format!(
        "{any}  matches: [{{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: reads}}]\n"
    );
    let changes = diff(&config(&any), &config(&reads), &Options::default(), None);
    assert!(
        changes.access.allowed.is_empty(),
        "{:?}",
        changes.access.allowed
    );
    assert_eq!(
        rows(&changes.access.denied),
        [
            "shop/frontend -> external api.pay.example: HTTP any method any path on port 80 via [\"shop/payments\"]"
        ]
    );
    assert_eq!(changes.access.changed.len(), 1, "one grant narrowed");
}

#[test]
fn the_mesh_egress_default_is_a_row_of_its_own() {
    let allow = format!(
        "{SHOP}---
apiVersion: meshcd.dev/v1alpha1
kind: Mesh
metadata: {{name: meshcd}}
spec: {{egress: allow}}
"
    );
    let changes = diff(&config(SHOP), &config(&allow), &Options::default(), None);
    let allowed = rows(&changes.access.allowed);
    assert!(
        allowed.iter().any(|row| row.starts_with(
            "any meshed workload -> any host outside the mesh: all traffic (TCP and any HTTP request) on any port"
        )),
        "{allowed:#?}"
    );
    let setting: Vec<_> = changes
        .mesh
        .iter()
        .map(|m| (m.setting.as_str(), m.after.as_str(), m.risk.is_some()))
        .collect();
    assert_eq!(setting, [("egress", "allow", true)]);
    let text = render::text(&report_of(changes), &|_, _| None);
    assert!(text.contains("Mesh egress: allow"), "{text}");
}
