//! The Gateway API kinds a mesh uses (HTTPRoute, GRPCRoute, ReferenceGrant): every route of
//! the upstream Mesh conformance suite (v1.6.1, `gateway-conformance/`) passes its schema,
//! the one experimental field meshcd implements (`retry`) is accepted, and the others are
//! refused by name.

mod support;

use support::{assert_invalid, assert_valid};

const CONFORMANCE: &[(&str, &str)] = &[
    (
        "grpcroute-weight.yaml",
        include_str!("gateway-conformance/grpcroute-weight.yaml"),
    ),
    (
        "httproute-303-redirect.yaml",
        include_str!("gateway-conformance/httproute-303-redirect.yaml"),
    ),
    (
        "httproute-307-redirect.yaml",
        include_str!("gateway-conformance/httproute-307-redirect.yaml"),
    ),
    (
        "httproute-308-redirect.yaml",
        include_str!("gateway-conformance/httproute-308-redirect.yaml"),
    ),
    (
        "httproute-matching.yaml",
        include_str!("gateway-conformance/httproute-matching.yaml"),
    ),
    (
        "httproute-named-rule.yaml",
        include_str!("gateway-conformance/httproute-named-rule.yaml"),
    ),
    (
        "httproute-query-param-matching.yaml",
        include_str!("gateway-conformance/httproute-query-param-matching.yaml"),
    ),
    (
        "httproute-redirect-host-and-status.yaml",
        include_str!("gateway-conformance/httproute-redirect-host-and-status.yaml"),
    ),
    (
        "httproute-redirect-path.yaml",
        include_str!("gateway-conformance/httproute-redirect-path.yaml"),
    ),
    (
        "httproute-redirect-port.yaml",
        include_str!("gateway-conformance/httproute-redirect-port.yaml"),
    ),
    (
        "httproute-redirect-scheme.yaml",
        include_str!("gateway-conformance/httproute-redirect-scheme.yaml"),
    ),
    (
        "httproute-request-header-modifier-backend.yaml",
        include_str!("gateway-conformance/httproute-request-header-modifier-backend.yaml"),
    ),
    (
        "httproute-request-header-modifier.yaml",
        include_str!("gateway-conformance/httproute-request-header-modifier.yaml"),
    ),
    (
        "httproute-rewrite-path.yaml",
        include_str!("gateway-conformance/httproute-rewrite-path.yaml"),
    ),
    (
        "httproute-simple-same-namespace.yaml",
        include_str!("gateway-conformance/httproute-simple-same-namespace.yaml"),
    ),
    (
        "httproute-weight.yaml",
        include_str!("gateway-conformance/httproute-weight.yaml"),
    ),
    (
        "mesh-consumer-route.yaml",
        include_str!("gateway-conformance/mesh-consumer-route.yaml"),
    ),
    (
        "mesh-frontend.yaml",
        include_str!("gateway-conformance/mesh-frontend.yaml"),
    ),
    (
        "mesh-ports.yaml",
        include_str!("gateway-conformance/mesh-ports.yaml"),
    ),
    (
        "mesh-split.yaml",
        include_str!("gateway-conformance/mesh-split.yaml"),
    ),
];

/// Every route document of `text`, as YAML text.
fn routes(text: &str) -> Vec<String> {
    text.split("\n---")
        .map(str::trim)
        .filter(|document| {
            document.contains("kind: HTTPRoute") || document.contains("kind: GRPCRoute")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn every_route_of_the_mesh_conformance_suite_passes_its_schema() {
    let mut checked = 0;
    for (file, text) in CONFORMANCE {
        for route in routes(text) {
            // The suite's manifests name their namespace in every object.
            assert!(route.contains("namespace:"), "{file}: {route}");
            assert_valid(&route);
            checked += 1;
        }
    }
    assert_eq!(
        checked, 21,
        "20 HTTPRoutes and 1 GRPCRoute in v1.6.1's mesh tests"
    );
}

const ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: shop}
spec:
  parentRefs: [{group: '', kind: Service, name: api, port: 80}]
  rules:
  - backendRefs: [{name: api-v1, port: 80}]
";

#[test]
fn both_served_versions_of_httproute_and_referencegrant_have_schemas() {
    assert_valid(ROUTE);
    assert_valid(&ROUTE.replace("/v1\n", "/v1beta1\n"));
    let grant = "apiVersion: gateway.networking.k8s.io/VERSION
kind: ReferenceGrant
metadata: {name: from-web, namespace: shop}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: web}]
  to: [{group: '', kind: Service}]
";
    assert_valid(&grant.replace("VERSION", "v1"));
    assert_valid(&grant.replace("VERSION", "v1beta1"));
}

#[test]
fn retry_is_accepted_and_other_experimental_fields_are_refused_by_name() {
    assert_valid(&format!(
        "{ROUTE}    retry: {{codes: [503], attempts: 2, backoff: 100ms}}\n"
    ));
    assert_invalid(
        &format!("{ROUTE}    retry: {{codes: [200]}}\n"),
        "/spec/rules/0/retry/codes/0",
    );
    assert_invalid(
        &format!("{ROUTE}    sessionPersistence: {{sessionName: s}}\n"),
        "sessionPersistence",
    );
    assert_invalid(
        &ROUTE.replace("spec:\n", "spec:\n  useDefaultGateways: All\n"),
        "useDefaultGateways",
    );
}

#[test]
fn a_misspelt_field_of_a_route_is_an_error() {
    assert_invalid(&ROUTE.replace("backendRefs", "backendRef"), "backendRef");
}
