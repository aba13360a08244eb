use crate::model::CanaryTarget;
use crate::test_support::{config, diagnostics};

/// Namespace `shop` and HTTPRoute `api`: rule `pinned` to api-v1 alone, rule `rollout`
/// 80/20 between api-v1 and api-v2 (weights written).
const ROUTE: &str = "apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: shop}
spec:
  parentRefs: [{group: '', kind: Service, name: api, port: 80}]
  rules:
  - name: pinned
    matches: [{path: {type: PathPrefix, value: /v1}}]
    backendRefs: [{name: api-v1, port: 80}]
  - name: rollout
    backendRefs:
    - {name: api-v1, port: 80, weight: 80}
    - {name: api-v2, port: 80, weight: 20}
";

/// A Canary `name` whose target fields are `target` (indented by two, under `spec`).
fn canary(name: &str, target: &str) -> String {
    format!(
        "---
apiVersion: meshcd.dev/v1alpha1
kind: Canary
metadata: {{name: {name}, namespace: shop}}
spec:
{target}
  stable: api-v1
  canary: api-v2
  steps: {{stepWeight: 10, maxWeight: 50}}
"
    )
}

/// Asserts an error at the last line of `yaml` containing `needle` starting with
/// `message`.
fn assert_error_at(yaml: &str, needle: &str, message: &str) {
    let line = yaml
        .lines()
        .collect::<Vec<_>>()
        .iter()
        .rposition(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in the YAML"))
        + 1;
    let expected = format!("{line}: {message}");
    let found = diagnostics(yaml);
    assert!(
        found.iter().any(|d| d.starts_with(&expected)),
        "{expected:?} not in {found:#?}"
    );
}

#[test]
fn a_canary_names_an_httproute_and_optionally_one_of_its_rules() {
    let named = config(&format!(
        "{ROUTE}{}",
        canary("api", "  httpRoute: {name: api, rule: rollout}")
    ));
    assert_eq!(
        named.canaries[0].value.target,
        CanaryTarget::HttpRoute {
            name: "api".into(),
            rule: Some("rollout".into())
        }
    );
    let every = config(&format!(
        "{ROUTE}{}",
        canary("api", "  httpRoute: {name: api}")
    ));
    assert_eq!(
        every.canaries[0].value.target,
        CanaryTarget::HttpRoute {
            name: "api".into(),
            rule: None
        }
    );
}

#[test]
fn a_canary_names_a_split_or_a_route_not_both_nor_neither() {
    let both = format!(
        "{ROUTE}{}",
        canary("api", "  trafficSplit: api\n  httpRoute: {name: api}")
    );
    assert_error_at(
        &both,
        "httpRoute: {name: api}",
        "a Canary drives either a trafficSplit or an httpRoute, not both",
    );
    let neither = format!("{ROUTE}{}", canary("api", ""));
    assert_error_at(
        &neither,
        "spec:",
        "the Canary names neither a trafficSplit nor an httpRoute",
    );
}

#[test]
fn a_route_canary_points_at_what_does_not_hold() {
    let cases = [
        (
            "  httpRoute: {name: absent}",
            "httpRoute: {name: absent}",
            "Canary drives HTTPRoute \"absent\", which does not exist in namespace \"shop\"",
        ),
        (
            "  httpRoute: {name: api, rule: nope}",
            "httpRoute: {name: api, rule: nope}",
            "HTTPRoute \"api\" has no rule named \"nope\"",
        ),
        (
            "  httpRoute: {name: api, rule: pinned}",
            "canary: api-v2",
            "canary backend \"api-v2\" is not a backendRef of rule 0 of HTTPRoute \"api\"",
        ),
    ];
    for (target, needle, message) in cases {
        assert_error_at(
            &format!("{ROUTE}{}", canary("api", target)),
            needle,
            message,
        );
    }
    // No rule holds both backends.
    let one_sided = ROUTE.replace(
        "{name: api-v2, port: 80, weight: 20}",
        "{name: api-v3, port: 80, weight: 20}",
    );
    assert_error_at(
        &format!("{one_sided}{}", canary("api", "  httpRoute: {name: api}")),
        "httpRoute: {name: api}",
        "no rule of HTTPRoute \"api\" has backendRefs to both \"api-v1\" and \"api-v2\"",
    );
}

#[test]
fn a_driven_weight_must_be_written_where_the_outcome_is_committed() {
    let unweighted = ROUTE.replace(
        "{name: api-v2, port: 80, weight: 20}",
        "{name: api-v2, port: 80}",
    );
    assert_error_at(
        &format!("{unweighted}{}", canary("api", "  httpRoute: {name: api}")),
        "{name: api-v2, port: 80}",
        "backendRef \"api-v2\" has no weight, and Canary api commits its outcome in this weight",
    );
    // A rule the Canary does not drive may leave its weights out (`pinned` does).
    config(&format!(
        "{ROUTE}{}",
        canary("api", "  httpRoute: {name: api}")
    ));
}

#[test]
fn a_route_canary_judges_one_service_of_its_namespace() {
    let two_parents = ROUTE.replace(
        "parentRefs: [{group: '', kind: Service, name: api, port: 80}]",
        "parentRefs: [{group: '', kind: Service, name: api, port: 80}, {group: '', kind: Service, name: api-beta, port: 80}]",
    );
    assert_error_at(
        &format!("{two_parents}{}", canary("api", "  httpRoute: {name: api}")),
        "httpRoute: {name: api}",
        "HTTPRoute \"api\" is bound to shop/api, shop/api-beta; a Canary drives a route bound to one Service of its own namespace",
    );
}

#[test]
fn one_canary_per_route_rule() {
    let yaml = format!(
        "{ROUTE}{}{}",
        canary("first", "  httpRoute: {name: api}"),
        canary("second", "  httpRoute: {name: api, rule: rollout}")
    );
    assert_error_at(
        &yaml,
        "httpRoute: {name: api, rule: rollout}",
        "rule 1 of HTTPRoute \"api\" is already driven by Canary first",
    );
}
