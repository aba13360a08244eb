//! Unit tests of `diff`: two plain configs in, the change set out.

use std::time::Duration;

use super::*;
use crate::test_support::config;
use crate::validate::convert::units::format_duration;

fn changes(base: &str, head: &str) -> ChangeSet {
    diff(&config(base), &config(head), &Options::default(), None)
}

fn http(methods: &[&str], path: Option<&str>) -> Traffic {
    Traffic::Http {
        methods: methods.iter().map(|m| m.to_string()).collect(),
        path: path.map(str::to_string),
        headers: vec![],
    }
}

/// (source, destination, traffic, ports) of each row, for exact comparisons.
fn facts(rows: &[AccessRow]) -> Vec<(String, String, String, String)> {
    rows.iter()
        .map(|row| {
            (
                row.source.to_string(),
                row.destination.to_string(),
                row.traffic.to_string(),
                row.ports.to_string(),
            )
        })
        .collect()
}

fn fact(
    source: &str,
    destination: &str,
    traffic: &str,
    ports: &str,
) -> (String, String, String, String) {
    (
        source.into(),
        destination.into(),
        traffic.into(),
        ports.into(),
    )
}

const NAMESPACE: &str = "
apiVersion: v1
kind: Namespace
metadata: {name: shop}
";

/// frontend and admin may call api and billing through one HTTPRouteGroup.
fn shop(path: &str, methods: &str) -> String {
    format!(
        "{NAMESPACE}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {{name: routes, namespace: shop}}
spec:
  matches:
  - {{name: values, pathRegex: '{path}', methods: {methods}}}
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {{name: frontend-to-api, namespace: shop}}
spec:
  destination: {{kind: ServiceAccount, name: api}}
  rules: [{{kind: HTTPRouteGroup, name: routes}}]
  sources: [{{kind: ServiceAccount, name: frontend}}]
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {{name: frontend-to-billing, namespace: shop}}
spec:
  destination: {{kind: ServiceAccount, name: billing}}
  rules: [{{kind: HTTPRouteGroup, name: routes, matches: [values]}}]
  sources: [{{kind: ServiceAccount, name: frontend}}]
"
    )
}

#[test]
fn one_route_group_edit_widens_both_targets_that_use_it() {
    let changes = changes(&shop("/api/values", "[GET]"), &shop("/api/.*", "[GET]"));
    assert_eq!(
        facts(&changes.access.allowed),
        vec![
            fact("shop/frontend", "shop/api", "HTTP GET /api/.*", "any port"),
            fact(
                "shop/frontend",
                "shop/billing",
                "HTTP GET /api/.*",
                "any port"
            ),
        ]
    );
    // /api/.* still admits /api/values: nothing that was allowed is lost.
    assert!(
        changes.access.denied.is_empty(),
        "{:?}",
        changes.access.denied
    );
    assert_eq!(
        changes.access.allowed[0].traffic_targets,
        vec!["shop/frontend-to-api"]
    );
    assert_eq!(changes.access.allowed[1].routes, vec!["routes/values"]);
}

#[test]
fn narrowing_a_route_denies_what_the_wider_one_allowed() {
    let changes = changes(&shop("/api/.*", "[GET]"), &shop("/api/values", "[GET]"));
    assert_eq!(
        facts(&changes.access.denied),
        vec![
            fact("shop/frontend", "shop/api", "HTTP GET /api/.*", "any port"),
            fact(
                "shop/frontend",
                "shop/billing",
                "HTTP GET /api/.*",
                "any port"
            ),
        ]
    );
    // /api/values was allowed by /api/.* already: nothing is newly allowed.
    assert!(
        changes.access.allowed.is_empty(),
        "{:?}",
        changes.access.allowed
    );
}

#[test]
fn adding_a_method_allows_that_method_and_nothing_else() {
    let changes = changes(
        &shop("/api/values", "[GET]"),
        &shop("/api/values", "[GET, POST]"),
    );
    assert_eq!(
        facts(&changes.access.allowed),
        vec![
            fact(
                "shop/frontend",
                "shop/api",
                "HTTP POST /api/values",
                "any port"
            ),
            fact(
                "shop/frontend",
                "shop/billing",
                "HTTP POST /api/values",
                "any port"
            ),
        ]
    );
    assert!(changes.access.denied.is_empty());
}

#[test]
fn every_method_covers_the_methods_it_replaces() {
    let changes = changes(
        &shop("/api/values", "[GET, POST]"),
        &shop("/api/values", "['*']"),
    );
    assert_eq!(
        changes.access.allowed[0].traffic,
        http(&["*"], Some("/api/values"))
    );
    assert!(changes.access.denied.is_empty());
}

#[test]
fn the_same_config_changes_nothing() {
    let changes = changes(&shop("/api/values", "[GET]"), &shop("/api/values", "[GET]"));
    assert!(changes.is_empty(), "{changes:#?}");
}

const TCP: &str = "
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata: {name: db, namespace: shop}
spec: {matches: {ports: PORTS}}
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: api-to-db, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: db}
  rules: [{kind: TCPRoute, name: db}]
  sources: [{kind: ServiceAccount, name: api}]
";

#[test]
fn a_tcp_route_port_admits_tcp_and_every_http_request_on_it() {
    let changes = changes(
        &TCP.replace("PORTS", "[5432]"),
        &TCP.replace("PORTS", "[5432, 6432]"),
    );
    assert_eq!(
        facts(&changes.access.allowed),
        vec![fact(
            "shop/api",
            "shop/db",
            "all traffic (TCP and any HTTP request)",
            "port 6432"
        )]
    );
    assert!(changes.access.denied.is_empty());
}

#[test]
fn a_tcp_route_without_ports_opens_every_port() {
    let changes = changes(&TCP.replace("PORTS", "[5432]"), &TCP.replace("PORTS", "[]"));
    assert_eq!(
        facts(&changes.access.allowed),
        vec![fact(
            "shop/api",
            "shop/db",
            "all traffic (TCP and any HTTP request)",
            "any port"
        )]
    );
    assert!(changes.access.denied.is_empty(), "any port covers 5432");
}

#[test]
fn permissive_traffic_policy_allows_every_meshed_call_and_is_called_a_risk() {
    let base = shop("/api/values", "[GET]");
    let head = format!(
        "{base}---\napiVersion: meshcd.dev/v1alpha1\nkind: Mesh\nmetadata: {{name: meshcd}}\nspec: {{trafficPolicy: permissive}}\n"
    );
    let changes = changes(&base, &head);
    // Permissive opens the mesh's edge too: egress follows the traffic policy.
    assert_eq!(
        facts(&changes.access.allowed),
        vec![
            fact(
                "any meshed workload",
                "any meshed workload",
                "all traffic (TCP and any HTTP request)",
                "any port"
            ),
            fact(
                "any meshed workload",
                "any host outside the mesh",
                "all traffic (TCP and any HTTP request)",
                "any port"
            ),
        ]
    );
    assert!(changes.access.denied.is_empty());
    assert_eq!(changes.mesh.len(), 1);
    assert_eq!(changes.mesh[0].setting, "trafficPolicy");
    assert_eq!(
        (
            changes.mesh[0].before.as_str(),
            changes.mesh[0].after.as_str()
        ),
        ("deny", "permissive")
    );
    assert!(changes.mesh[0].risk.is_some());
}

#[test]
fn back_to_deny_denies_everything_the_targets_do_not_allow() {
    let head = shop("/api/values", "[GET]");
    let base = format!(
        "{head}---\napiVersion: meshcd.dev/v1alpha1\nkind: Mesh\nmetadata: {{name: meshcd}}\nspec: {{trafficPolicy: permissive, mtls: permissive}}\n"
    );
    let changes = changes(&base, &head);
    assert!(changes.access.allowed.is_empty());
    assert_eq!(
        facts(&changes.access.denied),
        vec![
            fact(
                "any client, plaintext included",
                "any meshed workload",
                "all traffic (TCP and any HTTP request)",
                "any port"
            ),
            fact(
                "any meshed workload",
                "any host outside the mesh",
                "all traffic (TCP and any HTTP request)",
                "any port"
            ),
        ]
    );
    let settings: Vec<&str> = changes.mesh.iter().map(|m| m.setting.as_str()).collect();
    assert_eq!(settings, vec!["trafficPolicy", "mtls"]);
    assert!(
        changes.mesh.iter().all(|m| m.risk.is_none()),
        "tightening is no risk"
    );
}

fn split(weights: &[(&str, u64)]) -> String {
    let backends: Vec<String> = weights
        .iter()
        .map(|(service, weight)| format!("  - {{service: {service}, weight: {weight}}}"))
        .collect();
    format!(
        "{NAMESPACE}---
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: {{name: api-split, namespace: shop}}
spec:
  service: api.shop.svc.cluster.local
  backends:
{}
",
        backends.join("\n")
    )
}

#[test]
fn split_weights_move_as_percentages_of_the_total() {
    let changes = changes(
        &split(&[("api-v1", 90), ("api-v2", 10)]),
        &split(&[("api-v1", 160), ("api-v2", 40)]),
    );
    assert_eq!(changes.splits.len(), 1);
    let split = &changes.splits[0];
    assert_eq!(
        (split.service.as_str(), split.change),
        ("api", Change::Changed)
    );
    assert_eq!(
        split.backends,
        vec![
            BackendShare {
                service: "api-v1".into(),
                before: Some(90.0),
                after: Some(80.0)
            },
            BackendShare {
                service: "api-v2".into(),
                before: Some(10.0),
                after: Some(20.0)
            },
        ]
    );
}

#[test]
fn scaled_weights_are_no_change() {
    let changes = changes(
        &split(&[("api-v1", 90), ("api-v2", 10)]),
        &split(&[("api-v1", 9), ("api-v2", 1)]),
    );
    assert!(changes.splits.is_empty(), "{:?}", changes.splits);
}

#[test]
fn a_backend_added_and_one_removed_are_listed_with_their_shares() {
    let changes = changes(
        &split(&[("api-v1", 50), ("api-v2", 50)]),
        &split(&[("api-v1", 1), ("api-v3", 2)]),
    );
    assert_eq!(
        changes.splits[0].backends,
        vec![
            BackendShare {
                service: "api-v1".into(),
                before: Some(50.0),
                after: Some(33.33)
            },
            BackendShare {
                service: "api-v3".into(),
                before: None,
                after: Some(66.67)
            },
            BackendShare {
                service: "api-v2".into(),
                before: Some(50.0),
                after: None
            },
        ]
    );
}

#[test]
fn a_new_split_and_a_removed_split_are_reported_by_root_service() {
    let added = changes(NAMESPACE, &split(&[("api-v1", 1)]));
    assert_eq!(added.splits[0].change, Change::Added);
    assert_eq!(added.splits[0].backends[0].after, Some(100.0));
    let removed = changes(&split(&[("api-v1", 1)]), NAMESPACE);
    assert_eq!(removed.splits[0].change, Change::Removed);
    assert_eq!(removed.splits[0].backends[0].after, None);
}

#[test]
fn a_namespace_that_joins_makes_the_targets_naming_it_effective() {
    let base = "
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: web-to-api, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: api}
  rules: [{kind: TCPRoute, name: all}]
  sources: [{kind: ServiceAccount, name: web, namespace: edge}]
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata: {name: all, namespace: shop}
spec: {matches: {ports: []}}
---
apiVersion: v1
kind: Namespace
metadata: {name: legacy}
";
    let head = base.replace("name: legacy", "name: edge");
    let changes = changes(base, &head);
    assert_eq!(changes.namespaces.joined, vec!["edge"]);
    assert_eq!(changes.namespaces.left, vec!["legacy"]);
    assert_eq!(
        facts(&changes.access.allowed),
        vec![fact(
            "edge/web",
            "shop/api",
            "all traffic (TCP and any HTTP request)",
            "any port"
        )]
    );
}

fn canary(steps: &str, interval: &str) -> String {
    format!(
        "{}---
apiVersion: meshcd.dev/v1alpha1
kind: Canary
metadata: {{name: api, namespace: shop}}
spec:
  trafficSplit: api-split
  stable: api-v1
  canary: api-v2
  steps: {steps}
  interval: {interval}
  progressDeadline: 1h
",
        split(&[("api-v1", 90), ("api-v2", 10)])
    )
}

#[test]
fn a_canary_starts_with_its_schedule_and_minimum_duration() {
    let changes = changes(
        &split(&[("api-v1", 90), ("api-v2", 10)]),
        &canary("{stepWeight: 10, maxWeight: 50}", "30s"),
    );
    assert_eq!(changes.canaries.len(), 1);
    let started = &changes.canaries[0];
    assert_eq!(started.event, CanaryEvent::Starts);
    let after = started
        .after
        .as_ref()
        .expect("a started canary has a HEAD side");
    assert_eq!(after.weights, vec![10, 20, 30, 40, 50]);
    // 30s to reach 10%, four more steps to 50%, and one more to promote.
    assert_eq!(after.minimum_duration, "3m");
    assert!(changes.warnings.0.is_empty());
}

#[test]
fn a_canary_that_changes_names_its_fields_and_one_that_leaves_stops() {
    let base = canary("{stepWeight: 10, maxWeight: 50}", "30s");
    let changed = changes(&base, &canary("{weights: [5, 50]}", "1m"));
    assert_eq!(changed.canaries[0].event, CanaryEvent::Changes);
    assert_eq!(changed.canaries[0].fields, vec!["steps", "interval"]);
    let stopped = changes(&base, &split(&[("api-v1", 90), ("api-v2", 10)]));
    assert_eq!(stopped.canaries[0].event, CanaryEvent::Stops);
}

#[test]
fn a_canary_moved_from_a_split_to_a_route_names_the_route_in_every_format() {
    let base = canary("{stepWeight: 10, maxWeight: 50}", "30s");
    let head = "apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api-route, namespace: shop}
spec:
  parentRefs: [{group: '', kind: Service, name: api, port: 80}]
  rules:
  - name: main
    backendRefs: [{name: api-v1, port: 80, weight: 90}, {name: api-v2, port: 80, weight: 10}]
---
apiVersion: meshcd.dev/v1alpha1
kind: Canary
metadata: {name: api, namespace: shop}
spec:
  httpRoute: {name: api-route, rule: main}
  stable: api-v1
  canary: api-v2
  steps: {stepWeight: 10, maxWeight: 50}
  interval: 30s
  progressDeadline: 1h
";
    let changes = changes(&base, head);
    let moved = &changes.canaries[0];
    assert_eq!(moved.event, CanaryEvent::Changes);
    assert_eq!(moved.fields, vec!["httpRoute"]);
    let after = moved.after.as_ref().unwrap();
    assert_eq!(
        super::render::target_words(&after.target, &|name| format!("`{name}`")),
        "HTTPRoute `api-route` rule `main`"
    );
    let json = serde_json::to_value(after).unwrap();
    assert_eq!(
        json["httpRoute"],
        serde_json::json!({"name": "api-route", "rule": "main"})
    );
    assert!(json.get("trafficSplit").is_none(), "{json}");
    let before = serde_json::to_value(moved.before.as_ref().unwrap()).unwrap();
    assert_eq!(
        before["trafficSplit"], "api-split",
        "as before routes: {before}"
    );
}

#[test]
fn a_canary_longer_than_the_limit_is_warned_about() {
    let head = canary("{stepWeight: 10, maxWeight: 50}", "15m");
    let changes = diff(
        &config(&split(&[("api-v1", 90), ("api-v2", 10)])),
        &config(&head),
        &Options {
            max_rollout_duration: Duration::from_secs(3600),
            ..Options::default()
        },
        None,
    );
    assert_eq!(changes.warnings.0.len(), 1, "{:?}", changes.warnings);
    let warning = &changes.warnings.0[0];
    assert!(
        warning.message.contains(
            "at least 1h30m (6 intervals of 15m: 5 steps and the promotion), longer than 1h"
        ),
        "{}",
        warning.message
    );
    let object = warning
        .object
        .as_ref()
        .expect("the warning names the Canary");
    assert_eq!(object.to_string(), "Canary shop/api");
}

#[test]
fn any_request_from_many_sources_is_warned_about() {
    let open = |sources: &str| {
        format!(
            "{NAMESPACE}---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {{name: everything, namespace: shop}}
spec:
  matches: [{{name: all, pathRegex: '.*', methods: ['*']}}]
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {{name: to-api, namespace: shop}}
spec:
  destination: {{kind: ServiceAccount, name: api}}
  rules: [{{kind: HTTPRouteGroup, name: everything}}]
  sources: {sources}
"
        )
    };
    let two = "[{kind: ServiceAccount, name: a}, {kind: ServiceAccount, name: b}]";
    let three = "[{kind: ServiceAccount, name: a}, {kind: ServiceAccount, name: b}, {kind: ServiceAccount, name: c}]";
    let quiet = changes(&open("[{kind: ServiceAccount, name: a}]"), &open(two));
    assert!(quiet.warnings.0.is_empty(), "{:?}", quiet.warnings);
    let loud = changes(&open(two), &open(three));
    assert_eq!(loud.warnings.0.len(), 1);
    assert!(
        loud.warnings.0[0]
            .message
            .starts_with("3 sources may send any request to any path of shop/api"),
        "{}",
        loud.warnings.0[0].message
    );
}

#[test]
fn durations_read_like_the_repository_writes_them() {
    assert_eq!(format_duration(Duration::from_secs(4500)), "1h15m");
    assert_eq!(format_duration(Duration::from_secs(30)), "30s");
    assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
}

#[test]
fn a_regex_with_a_pipe_stays_inside_its_markdown_cell() {
    let changes = changes(
        &shop("/api/values", "[GET]"),
        &shop("/(api|v2)/.*", "[GET]"),
    );
    let markdown = render::markdown(&report_of(changes));
    assert!(
        markdown.contains(
            "| **~ widened** | `shop/frontend` | `shop/api` | HTTP `GET` `/api/values` on any port → HTTP `GET` `/(api\\|v2)/.*` on any port |"
        ),
        "{markdown}"
    );
}

/// Only destinations whose rules or onboarded sources differ are expanded; a source
/// namespace that joins changes an untouched TrafficTarget's effect all the same.
#[test]
fn a_source_namespace_joining_allows_what_an_untouched_target_grants_it() {
    let target = "
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: web-to-api, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: api}
  rules: [{kind: TCPRoute, name: any-port}]
  sources: [{kind: ServiceAccount, name: frontend, namespace: web}]
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata: {name: any-port, namespace: shop}
spec: {matches: {ports: [8080]}}
";
    let joined = format!("{target}---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: web}}\n");
    let changes = changes(target, &joined);
    assert_eq!(
        facts(&changes.access.allowed),
        vec![fact(
            "web/frontend",
            "shop/api",
            "all traffic (TCP and any HTTP request)",
            "port 8080"
        )]
    );
    assert!(changes.access.denied.is_empty());
}

/// A report of `changes` between two valid revisions, `main` and `feature`.
pub(super) fn report_of(changes: ChangeSet) -> Report {
    let side = |label: &str| Side {
        label: label.into(),
        commit: None,
        valid: true,
        errors: 0,
    };
    Report {
        base: side("main"),
        head: side("feature"),
        changes: Some(changes),
        diagnostics: Default::default(),
    }
}

fn text_of(changes: ChangeSet) -> String {
    render::text(&report_of(changes), &|_, _| None)
}

/// A grant that reaches further reads as that grant, before and after, with the exact
/// requests it gains; not as a new row beside the old one.
#[test]
fn a_widened_grant_reads_as_the_grant_before_and_after() {
    let changes = changes(
        &shop("/api/values", "[GET]"),
        &shop("/api/.*", "[GET, POST]"),
    );
    assert_eq!(changes.access.changed.len(), 2);
    assert_eq!(changes.access.changed[0].reach, Reach::Widened);
    let text = text_of(changes);
    assert!(
        text.contains(
            "  ~ shop/frontend → shop/api widened: HTTP GET /api/values on any port \
             → HTTP GET,POST /api/.* on any port\n      + HTTP GET,POST /api/.* on any port\n"
        ),
        "{text}"
    );
    assert!(!text.contains("newly allowed"), "{text}");
    assert!(text.contains("summary: 2 grants widened"), "{text}");
}

#[test]
fn a_narrowed_grant_reads_as_the_grant_before_and_after() {
    let changes = changes(
        &shop("/api/.*", "[GET, POST]"),
        &shop("/api/values", "[GET]"),
    );
    let text = text_of(changes);
    assert!(
        text.contains(
            "  ~ shop/frontend → shop/api narrowed: HTTP GET,POST /api/.* on any port \
             → HTTP GET /api/values on any port\n      - HTTP GET,POST /api/.* on any port\n"
        ),
        "{text}"
    );
    assert!(!text.contains("newly denied"), "{text}");
}

/// A source and a destination that were not connected at all stay a new row.
#[test]
fn a_first_grant_between_two_workloads_stays_newly_allowed() {
    let changes = changes(NAMESPACE, &shop("/api/values", "[GET]"));
    assert!(changes.access.changed.is_empty());
    let text = text_of(changes);
    assert!(text.contains("access newly allowed (2):"), "{text}");
}
