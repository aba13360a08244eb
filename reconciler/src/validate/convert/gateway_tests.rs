use std::time::Duration;

use crate::load::load_files;
use crate::model::{HttpFilter, PathMatch, PathModifier};
use crate::test_support::config;
use crate::validate::validate;

const NAMESPACES: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n";

#[test]
fn an_httproute_bound_to_a_service_is_read_with_every_crd_default() {
    let config = config(&format!(
        "{NAMESPACES}apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: api, namespace: shop}}
spec:
  parentRefs: [{{group: '', kind: Service, name: api, port: 80}}]
  rules:
  - name: v2-for-testers
    matches:
    - path: {{type: Exact, value: /v2}}
      headers: [{{name: x-tester, value: 'yes'}}]
      method: GET
    - queryParams: [{{type: RegularExpression, name: q, value: '[0-9]+'}}]
    filters:
    - type: URLRewrite
      urlRewrite: {{path: {{type: ReplacePrefixMatch, replacePrefixMatch: /}}}}
    backendRefs: [{{name: api-v2, port: 8080}}]
    timeouts: {{request: 1m30s, backendRequest: 500ms}}
    retry: {{codes: [503], attempts: 2, backoff: 100ms}}
  - backendRefs: [{{name: api-v1, port: 8080, weight: 90}}, {{name: api-v2, port: 8080, weight: 0}}]
"
    ));
    let route = &config.http_routes[0].value;
    assert_eq!(route.parents[0].port, Some(80));
    assert_eq!(route.parents[0].namespace, "shop");
    let tested = &route.rules[0];
    assert_eq!(tested.name.as_deref(), Some("v2-for-testers"));
    assert_eq!(tested.matches[0].path, PathMatch::Exact("/v2".into()));
    assert_eq!(tested.matches[0].method.as_deref(), Some("GET"));
    assert!(!tested.matches[0].headers[0].regex, "Exact by default");
    // A match without a path matches every path.
    assert_eq!(tested.matches[1].path, PathMatch::Prefix("/".into()));
    assert!(tested.matches[1].query_params[0].regex);
    assert_eq!(
        tested.filters,
        [HttpFilter::Rewrite(crate::model::Rewrite {
            hostname: None,
            path: Some(PathModifier::Prefix("/".into())),
        })]
    );
    assert_eq!(tested.backends[0].weight, 1, "weight 1 by default");
    assert_eq!(tested.backends[0].namespace, "shop");
    assert_eq!(tested.timeouts.request, Some(Duration::from_secs(90)));
    assert_eq!(
        tested.timeouts.backend_request,
        Some(Duration::from_millis(500))
    );
    let retry = tested.retry.as_ref().unwrap();
    assert_eq!(
        (retry.codes.as_slice(), retry.attempts),
        (&[503][..], Some(2))
    );
    // A rule without matches matches every path.
    let plain = &route.rules[1];
    assert_eq!(plain.matches[0].path, PathMatch::Prefix("/".into()));
    assert_eq!(
        plain.backends.iter().map(|b| b.weight).collect::<Vec<_>>(),
        [90, 0]
    );
}

#[test]
fn a_route_bound_only_to_a_gateway_is_ingress_and_skipped_with_a_note() {
    let loaded = load_files(vec![(
        "ingress.yaml".into(),
        "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: public-gateway}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
"
        .to_string(),
    )]);
    let validated = validate(&loaded);
    let config = validated.config.expect("valid");
    assert!(config.http_routes.is_empty());
    let note = validated.diagnostics.iter().next().expect("a note");
    assert!(note.message.contains("not mesh configuration"), "{note:?}");
}

#[test]
fn an_unknown_version_of_a_mesh_route_is_an_error_naming_the_supported_ones() {
    let loaded = load_files(vec![(
        "route.yaml".into(),
        "apiVersion: gateway.networking.k8s.io/v1alpha2
kind: HTTPRoute
metadata: {name: api, namespace: shop}
spec:
  parentRefs: [{group: '', kind: Service, name: api}]
"
        .to_string(),
    )]);
    let validated = validate(&loaded);
    assert!(validated.config.is_none());
    let error = validated.diagnostics.iter().next().unwrap();
    assert_eq!((error.file.to_str(), error.line), (Some("route.yaml"), 1));
    assert!(
        error.message.contains("HTTPRoute has no version v1alpha2"),
        "{error:?}"
    );
    assert!(
        error
            .hint
            .as_deref()
            .unwrap_or_default()
            .contains("v1beta1"),
        "{error:?}"
    );
}

#[test]
fn a_grpcroute_and_a_reference_grant_are_read() {
    let config = config(&format!(
        "{NAMESPACES}apiVersion: v1\nkind: Namespace\nmetadata: {{name: web}}\n---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {{name: echo, namespace: shop}}
spec:
  parentRefs: [{{group: '', kind: Service, name: echo}}]
  rules:
  - matches: [{{method: {{service: shop.Echo, method: Say}}}}]
    backendRefs: [{{name: echo-v1, port: 9000}}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {{name: from-web, namespace: shop}}
spec:
  from: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: web}}]
  to: [{{group: '', kind: Service, name: api}}]
"
    ));
    let rule = &config.grpc_routes[0].value.rules[0];
    assert_eq!(rule.matches[0].service.as_deref(), Some("shop.Echo"));
    assert_eq!(rule.matches[0].method.as_deref(), Some("Say"));
    assert!(!rule.matches[0].regex);
    let grant = &config.reference_grants[0].value;
    assert_eq!(grant.from, [("HTTPRoute".to_string(), "web".to_string())]);
    assert_eq!(grant.to, [Some("api".to_string())]);
}
