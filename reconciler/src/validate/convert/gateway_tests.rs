use crate::load::load_files;
use std::time::Duration;

use crate::model::{
    GatewayRouteKind, HttpFilter, PathMatch, PathModifier, Redirect, Retry, Rewrite,
};
use crate::test_support::{config, diagnostics};
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
    backendRefs: [{{name: api-v2, port: 8080}}]
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
    assert_eq!(tested.backends[0].weight, 1, "weight 1 by default");
    assert_eq!(tested.backends[0].namespace, "shop");
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
fn what_meshcd_does_not_implement_yet_is_refused_at_its_field() {
    let found = diagnostics(&format!(
        "{NAMESPACES}apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: api, namespace: shop}}
spec:
  parentRefs: [{{group: '', kind: Service, name: api}}]
  rules:
  - filters:
    - type: CORS
      cors: {{allowOrigins: ['https://shop.example']}}
    backendRefs: [{{name: api-v1, port: 80}}]
"
    ));
    let expected = "12: the CORS filter is not implemented by meshcd yet";
    assert!(
        found.iter().any(|d| d == expected),
        "{expected:?} not in {found:#?}"
    );
}

#[test]
fn mesh_rules_of_the_api_are_checked_with_file_and_line() {
    let found = diagnostics(&format!(
        "{NAMESPACES}apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: {{name: api-split, namespace: shop}}
spec:
  service: api
  backends: [{{service: api-v1, weight: 1}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: api, namespace: shop}}
spec:
  parentRefs: [{{group: '', kind: Service, name: api, sectionName: http}}]
  rules:
  - name: one
    matches:
    - path: {{type: RegularExpression, value: '/(unclosed'}}
      headers: [{{name: X-A, value: a}}, {{name: x-a, value: b}}]
    backendRefs: [{{name: api-v1}}]
  - name: one
    matches: [{{path: {{type: PathPrefix, value: relative}}}}]
"
    ));
    for expected in [
        "16: a Service parent is bound by `port`, not `sectionName`",
        "20: path regex \"/(unclosed\" does not compile",
        "21: \"x-a\" is matched twice in one match",
        "22: a backendRef to a Service needs `port`",
        "23: a second rule named \"one\"",
        "24: path \"relative\" does not start with \"/\"",
    ] {
        assert!(
            found.iter().any(|d| d.starts_with(expected)),
            "{expected:?} not in {found:#?}"
        );
    }
}

#[test]
fn a_service_is_split_or_routed_not_both() {
    let found = diagnostics(&format!(
        "{NAMESPACES}apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: {{name: api-split, namespace: shop}}
spec:
  service: api
  backends: [{{service: api-v1, weight: 1}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: api, namespace: shop}}
spec:
  parentRefs: [{{group: '', kind: Service, name: api}}]
  rules: [{{backendRefs: [{{name: api-v1, port: 80}}]}}]
"
    ));
    let expected =
        "16: Service shop/api is the root of a TrafficSplit and the parent of this route";
    assert!(
        found.iter().any(|d| d.starts_with(expected)),
        "{expected:?} not in {found:#?}"
    );
}

#[test]
fn a_reference_grant_is_read() {
    let config = config(&format!(
        "{NAMESPACES}apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {{name: from-web, namespace: shop}}
spec:
  from: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: web}}]
  to: [{{group: '', kind: Service, name: api}}]
"
    ));
    let grant = &config.reference_grants[0].value;
    assert_eq!(grant.from, [("HTTPRoute".to_string(), "web".to_string())]);
    assert_eq!(grant.to, [Some("api".to_string())]);
    assert!(grant.allows("HTTPRoute", "web", "shop", "api"));
    assert!(!grant.allows("HTTPRoute", "web", "shop", "admin"));
    assert!(!grant.allows("GRPCRoute", "web", "shop", "api"));
    assert!(!grant.allows("HTTPRoute", "other", "shop", "api"));
}

/// A consumer route in `web` for Service shop/api, sending to shop (its parent's
/// namespace) and to billing (neither its own nor its parent's).
const CONSUMER_ROUTE: &str = "apiVersion: v1
kind: Namespace
metadata: {name: web}
---
apiVersion: v1
kind: Namespace
metadata: {name: billing}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api-for-web, namespace: web}
spec:
  parentRefs: [{group: '', kind: Service, name: api, namespace: shop}]
  rules:
  - backendRefs:
    - {name: api-v1, namespace: shop, port: 80}
    - {name: ledger, namespace: billing, port: 80}
";

#[test]
fn a_backend_in_another_namespace_needs_a_grant_there_unless_the_parent_lives_there() {
    let yaml = format!("{NAMESPACES}{CONSUMER_ROUTE}");
    let found = diagnostics(&yaml);
    assert_eq!(
        found.len(),
        1,
        "only the billing backend is refused: {found:#?}"
    );
    assert!(
        found[0].starts_with(
            "21: backendRef to Service billing/ledger: no ReferenceGrant in \"billing\" lets HTTPRoutes of \"web\" refer to it"
        ),
        "{found:#?}"
    );
    let granted = format!(
        "{yaml}---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {{name: web-routes, namespace: billing}}
spec:
  from: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: web}}]
  to: [{{group: '', kind: Service}}]
"
    );
    assert_eq!(diagnostics(&granted), Vec::<String>::new());
    let route = &config(&granted).http_routes[0].value;
    assert_eq!(route.parents[0].namespace, "shop");
    assert_eq!(route.rules[0].backends[1].namespace, "billing");
}

#[test]
fn header_modifiers_are_read_and_their_lists_checked() {
    let route = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: shop}
spec:
  parentRefs: [{group: '', kind: Service, name: api}]
  rules:
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: X-Env, value: prod}]
        add: [{name: x-trace, value: '1'}]
        remove: [x-debug]
    backendRefs:
    - name: api-v1
      port: 80
      filters:
      - type: ResponseHeaderModifier
        responseHeaderModifier: {set: [{name: x-served-by, value: v1}]}
";
    let config = config(&format!("{NAMESPACES}{route}"));
    let rule = &config.http_routes[0].value.rules[0];
    assert!(
        matches!(&rule.filters[..], [crate::model::HttpFilter::RequestHeaders(m)] if m.set[0].0 == "X-Env" && m.remove == ["x-debug"])
    );
    assert_eq!(rule.backends[0].filters.len(), 1);

    let broken = route
        .replace("set: [{name: X-Env, value: prod}]", "set: [{name: X-Env, value: prod}, {name: x-env, value: dev}]")
        .replace(
            "        remove: [x-debug]\n",
            "        remove: [x-debug]\n    - type: RequestHeaderModifier\n      requestHeaderModifier: {remove: [a]}\n",
        );
    let found = diagnostics(&format!("{NAMESPACES}{broken}"));
    for expected in [
        "14: header \"x-env\" is listed twice in `set`",
        "17: a second RequestHeaderModifier filter",
    ] {
        assert!(
            found.iter().any(|d| d.starts_with(expected)),
            "{expected:?} not in {found:#?}"
        );
    }
}

#[test]
fn redirects_and_rewrites_are_read_with_their_defaults() {
    let config = config(&format!(
        "{NAMESPACES}apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: api, namespace: shop}}
spec:
  parentRefs: [{{group: '', kind: Service, name: api, port: 80}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /old}}}}]
    filters:
    - type: RequestRedirect
      requestRedirect:
        hostname: example.org
        path: {{type: ReplacePrefixMatch, replacePrefixMatch: /new}}
  - matches: [{{path: {{type: PathPrefix, value: /v1}}}}]
    filters:
    - type: URLRewrite
      urlRewrite:
        hostname: api.internal
        path: {{type: ReplaceFullPath, replaceFullPath: /}}
    backendRefs: [{{name: api-v1, port: 80}}]
"
    ));
    let rules = &config.http_routes[0].value.rules;
    assert_eq!(
        rules[0].filters,
        [HttpFilter::Redirect(Redirect {
            scheme: None,
            hostname: Some("example.org".into()),
            path: Some(PathModifier::Prefix("/new".into())),
            port: None,
            status: 302,
        })]
    );
    assert_eq!(
        rules[1].filters,
        [HttpFilter::Rewrite(Rewrite {
            hostname: Some("api.internal".into()),
            path: Some(PathModifier::Full("/".into())),
        })]
    );
}

#[test]
fn redirect_and_rewrite_rules_of_the_api_are_checked_with_file_and_line() {
    let found = diagnostics(&format!(
        "{NAMESPACES}apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: api, namespace: shop}}
spec:
  parentRefs: [{{group: '', kind: Service, name: api, port: 80}}]
  rules:
  - filters:
    - type: RequestRedirect
      requestRedirect: {{path: {{type: ReplaceFullPath, replacePrefixMatch: /x}}}}
    - type: URLRewrite
      urlRewrite: {{hostname: other}}
    backendRefs: [{{name: api-v1, port: 80}}]
  - matches:
    - path: {{type: Exact, value: /a}}
    filters:
    - type: URLRewrite
      urlRewrite: {{path: {{type: ReplacePrefixMatch, replacePrefixMatch: /b}}}}
    backendRefs:
    - name: api-v1
      port: 80
      filters:
      - type: RequestRedirect
        requestRedirect: {{statusCode: 301}}
"
    ));
    for expected in [
        "11: a RequestRedirect and a URLRewrite filter in one list",
        "13: `replacePrefixMatch` with path type \"ReplaceFullPath\"",
        "13: path type ReplaceFullPath without `replaceFullPath`",
        "16: a rule that redirects has backendRefs",
        "17: ReplacePrefixMatch needs the rule to have exactly one match, on a PathPrefix",
        "26: a RequestRedirect filter on a backendRef",
    ] {
        assert!(
            found.iter().any(|d| d.starts_with(expected)),
            "{expected:?} not in {found:#?}"
        );
    }
}

#[test]
fn timeouts_and_retries_are_read_and_an_attempt_may_not_outlast_the_request() {
    let route = format!(
        "{NAMESPACES}apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: api, namespace: shop}}
spec:
  parentRefs: [{{group: '', kind: Service, name: api, port: 80}}]
  rules:
  - timeouts: {{request: 1m30s, backendRequest: 500ms}}
    retry: {{codes: [500, 503], attempts: 2, backoff: 100ms}}
    backendRefs: [{{name: api-v1, port: 80}}]
  - timeouts: {{request: 0s, backendRequest: 1h}}
    retry: {{}}
    backendRefs: [{{name: api-v1, port: 80}}]
"
    );
    let config = config(&route);
    let rules = &config.http_routes[0].value.rules;
    assert_eq!(rules[0].request_timeout, Some(Duration::from_secs(90)));
    assert_eq!(rules[0].backend_timeout, Some(Duration::from_millis(500)));
    assert_eq!(
        rules[0].retry,
        Some(Retry {
            codes: vec![500, 503],
            attempts: 2,
            backoff: Some(Duration::from_millis(100)),
        })
    );
    // `0s`: no request timeout, so any attempt timeout fits; an empty retry retries once.
    assert_eq!(rules[1].request_timeout, Some(Duration::ZERO));
    assert_eq!(rules[1].retry.as_ref().map(|r| r.attempts), Some(1));

    let found = diagnostics(&route.replace("request: 1m30s", "request: 100ms"));
    assert!(
        found
            .iter()
            .any(|d| d.starts_with("11: backendRequest 500ms is longer than request 100ms")),
        "{found:#?}"
    );
    let found = diagnostics(&route.replace("backoff: 100ms", "backoff: 1.5s"));
    assert!(
        found.iter().any(|d| d.starts_with("12:")),
        "a duration GEP-2257 does not allow: {found:#?}"
    );
}

#[test]
fn a_grpc_route_is_read_as_paths_and_its_method_matches_checked() {
    let route = format!(
        "{NAMESPACES}apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {{name: echo, namespace: shop}}
spec:
  parentRefs: [{{group: '', kind: Service, name: echo, port: 7070}}]
  rules:
  - matches:
    - method: {{service: shop.Echo, method: Say}}
    - method: {{service: shop.Echo}}
    - method: {{method: Say}}
    - method: {{type: RegularExpression, service: 'shop\\..*'}}
    backendRefs: [{{name: echo-v1, port: 7070}}]
  - backendRefs: [{{name: echo-v2, port: 7070}}]
"
    );
    let config = config(&route);
    let route_model = &config.http_routes[0].value;
    assert_eq!(route_model.kind, GatewayRouteKind::Grpc);
    let paths: Vec<&PathMatch> = route_model.rules[0]
        .matches
        .iter()
        .map(|m| &m.path)
        .collect();
    assert_eq!(
        paths,
        [
            &PathMatch::Exact("/shop.Echo/Say".into()),
            &PathMatch::Prefix("/shop.Echo".into()),
            &PathMatch::Regex("/(?:[^/]+)/(?:Say)".into()),
            &PathMatch::Regex("/(?:shop\\..*)/(?:[^/]+)".into()),
        ]
    );
    assert_eq!(
        route_model.rules[1].matches[0].path,
        PathMatch::Prefix("/".into())
    );

    let found = diagnostics(
        &route
            .replace("{service: shop.Echo}", "{service: ''}")
            .replace("{method: Say}", "{method: 'Say.Hi'}")
            .replace("'shop\\..*'", "'shop.('"),
    );
    for expected in [
        "13: a method match with neither `service` nor `method`",
        "14: \"Say.Hi\" is not a gRPC method name",
        "15: regex \"shop.(\" does not compile",
    ] {
        assert!(
            found.iter().any(|d| d.starts_with(expected)),
            "{expected:?} not in {found:#?}"
        );
    }
}

#[test]
fn an_httproute_may_not_share_a_service_port_with_a_grpc_route() {
    let found = diagnostics(&format!(
        "{NAMESPACES}apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {{name: echo-grpc, namespace: shop}}
spec:
  parentRefs: [{{group: '', kind: Service, name: echo}}]
  rules: [{{backendRefs: [{{name: echo-v1, port: 7070}}]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: echo-http, namespace: shop}}
spec:
  parentRefs: [{{group: '', kind: Service, name: echo, port: 80}}]
  rules: [{{backendRefs: [{{name: echo-v1, port: 80}}]}}]
"
    ));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with(
            "16: GRPCRoute echo-grpc binds Service shop/echo on a port of this route too"
        ),
        "{found:#?}"
    );
}

#[test]
fn mirrors_are_read_with_their_share_and_checked() {
    let route = format!(
        "{NAMESPACES}apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: api, namespace: shop}}
spec:
  parentRefs: [{{group: '', kind: Service, name: api, port: 80}}]
  rules:
  - filters:
    - type: RequestMirror
      requestMirror: {{backendRef: {{name: audit, port: 80}}}}
    - type: RequestMirror
      requestMirror: {{backendRef: {{name: shadow, port: 8080}}, percent: 25}}
    - type: RequestMirror
      requestMirror: {{backendRef: {{name: sample, port: 80}}, fraction: {{numerator: 1, denominator: 8}}}}
    backendRefs: [{{name: api-v1, port: 80}}]
"
    );
    let config = config(&route);
    let shares: Vec<(String, u16, f64)> = config.http_routes[0].value.rules[0]
        .filters
        .iter()
        .filter_map(|filter| match filter {
            HttpFilter::Mirror(m) => Some((m.name.clone(), m.port, m.fraction)),
            _ => None,
        })
        .collect();
    assert_eq!(
        shares,
        [
            ("audit".to_string(), 80, 1.0),
            ("shadow".to_string(), 8080, 0.25),
            ("sample".to_string(), 80, 0.125)
        ]
    );

    let found = diagnostics(
        &route
            .replace("{name: audit, port: 80}", "{name: audit}")
            .replace("percent: 25", "percent: 25, fraction: {numerator: 1}")
            .replace(
                "numerator: 1, denominator: 8",
                "numerator: 9, denominator: 8",
            ),
    );
    for expected in [
        "13: a mirror's backendRef to a Service needs `port`",
        "15: a mirror with both `percent` and `fraction`",
        "17: fraction 9/8 is not a share of requests",
    ] {
        assert!(
            found.iter().any(|d| d.starts_with(expected)),
            "{expected:?} not in {found:#?}"
        );
    }
}

#[test]
fn a_second_parent_elsewhere_does_not_open_its_namespace_to_backends_without_a_grant() {
    let found = diagnostics(&format!(
        "{NAMESPACES}apiVersion: v1
kind: Namespace
metadata: {{name: web}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: secret}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: sneaky, namespace: web}}
spec:
  parentRefs:
  - {{group: '', kind: Service, name: api, namespace: shop}}
  - {{group: '', kind: Service, name: x, namespace: secret}}
  rules:
  - backendRefs: [{{name: db, namespace: secret, port: 5432}}]
"
    ));
    assert!(
        found.iter().any(|d| d.contains(
            "backendRef to Service secret/db: no ReferenceGrant in \"secret\" lets HTTPRoutes of \"web\" refer to it"
        )),
        "{found:#?}"
    );
}

#[test]
fn a_replacement_path_must_be_one_http_can_carry() {
    let found = diagnostics(&format!(
        "{NAMESPACES}apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: api, namespace: shop}}
spec:
  parentRefs: [{{group: '', kind: Service, name: api, port: 80}}]
  rules:
  - filters:
    - type: URLRewrite
      urlRewrite: {{path: {{type: ReplaceFullPath, replaceFullPath: '/a b'}}}}
    backendRefs: [{{name: api-v1, port: 80}}]
"
    ));
    assert!(
        found
            .iter()
            .any(|d| d.starts_with("13: \"/a b\" is not a URL path")),
        "{found:#?}"
    );
}
