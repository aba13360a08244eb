//! Every accepted kind and version converts to the same internal model as its newest
//! version; legacy shapes validate with a warning; other kinds pass with a note.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use meshcd::diagnostics::Severity;
use meshcd::model::{
    Analysis, Backend, Canary, CanaryTarget, Config, HttpMatch, HttpRouteGroup, Identity, Located,
    Mesh, MtlsMode, PathNormalization, PortRoute, RouteKind, Rule, TrafficPolicy, TrafficSplit,
    TrafficTarget,
};
use support::{Tree, of_severity};

/// The one object of a kind in a config, without its origin.
fn only<T: Clone>(items: &[Located<T>]) -> T {
    assert_eq!(items.len(), 1, "expected exactly one object of the kind");
    items[0].value.clone()
}

/// The HTTPRouteGroup and TCPRoute that the traffic targets below name.
fn with_routes(tree: Tree) -> Tree {
    tree.file(
        "routes.yaml",
        "
        apiVersion: specs.smi-spec.io/v1alpha4
        kind: HTTPRouteGroup
        metadata:
          name: api-routes
          namespace: shop
        spec:
          matches:
          - name: api-values
            pathRegex: /api/values
            methods: [GET]
        ---
        apiVersion: specs.smi-spec.io/v1alpha4
        kind: TCPRoute
        metadata:
          name: db
          namespace: shop
        spec:
          matches:
            ports: [5432]
    ",
    )
}

fn traffic_target(text: &str) -> (TrafficTarget, Tree) {
    let tree = with_routes(Tree::new()).file("target.yaml", text);
    (only(&tree.expect_valid().traffic_targets), tree)
}

const TARGET_V1ALPHA3: &str = "
    apiVersion: access.smi-spec.io/v1alpha3
    kind: TrafficTarget
    metadata:
      name: frontend-to-api
      namespace: shop
    spec:
      destination:
        kind: ServiceAccount
        name: api
        namespace: shop
      rules:
      - kind: HTTPRouteGroup
        name: api-routes
        matches: [api-values]
      - kind: TCPRoute
        name: db
      sources:
      - kind: ServiceAccount
        name: frontend
        namespace: shop
";

#[test]
fn traffic_target_v1alpha3_converts_to_the_model() {
    let (target, _) = traffic_target(TARGET_V1ALPHA3);
    let identity = |name: &str| Identity {
        namespace: "shop".into(),
        service_account: name.into(),
    };
    assert_eq!(
        target,
        TrafficTarget {
            name: "frontend-to-api".into(),
            namespace: "shop".into(),
            destination: identity("api"),
            destination_port: None,
            sources: vec![identity("frontend")],
            rules: vec![
                Rule {
                    kind: RouteKind::Http,
                    name: "api-routes".into(),
                    matches: Some(vec!["api-values".into()]),
                },
                Rule {
                    kind: RouteKind::Tcp,
                    name: "db".into(),
                    matches: None,
                },
            ],
        }
    );
}

#[test]
fn traffic_target_v1alpha2_converts_like_v1alpha3() {
    let text =
        TARGET_V1ALPHA3.replace("access.smi-spec.io/v1alpha3", "access.smi-spec.io/v1alpha2");
    assert_eq!(traffic_target(&text).0, traffic_target(TARGET_V1ALPHA3).0);
}

#[test]
fn traffic_target_v1alpha1_with_top_level_specs_converts_like_v1alpha3() {
    let (target, _) = traffic_target(
        "
        apiVersion: access.smi-spec.io/v1alpha1
        kind: TrafficTarget
        metadata:
          name: frontend-to-api
          namespace: shop
        destination:
          kind: ServiceAccount
          name: api
          namespace: shop
        specs:
        - kind: HTTPRouteGroup
          name: api-routes
          matches: [api-values]
        - kind: TCPRoute
          name: db
        sources:
        - kind: ServiceAccount
          name: frontend
          namespace: shop
    ",
    );
    assert_eq!(target, traffic_target(TARGET_V1ALPHA3).0);
}

#[test]
fn identities_without_a_namespace_are_in_the_targets_namespace() {
    let text = TARGET_V1ALPHA3.replace("        namespace: shop\n", "");
    assert!(
        !text.contains("    namespace: shop\n      rules"),
        "the destination namespace is gone"
    );
    assert_eq!(traffic_target(&text).0, traffic_target(TARGET_V1ALPHA3).0);
}

#[test]
fn a_destination_port_of_v1alpha2_is_kept_in_the_model() {
    let text = TARGET_V1ALPHA3
        .replace("access.smi-spec.io/v1alpha3", "access.smi-spec.io/v1alpha2")
        .replace(
            "    namespace: shop\n      rules",
            "    namespace: shop\n        port: 8080\n      rules",
        );
    let (target, tree) = traffic_target(&text);
    assert_eq!(target.destination_port, Some(8080));
    assert!(
        of_severity(&tree.validate(), Severity::Warning).is_empty(),
        "port is canonical in v1alpha2"
    );
}

#[test]
fn a_destination_port_on_v1alpha3_is_accepted_with_a_warning_naming_the_tcp_route_shape() {
    let legacy = TARGET_V1ALPHA3.replace(
        "    namespace: shop\n      rules",
        "    namespace: shop\n        port: 8080\n      rules",
    );
    let (target, tree) = traffic_target(&legacy);
    let validated = tree.validate();
    let warnings = of_severity(&validated, Severity::Warning);
    assert_eq!(warnings.len(), 1, "{}", support::describe(&validated));
    assert_eq!(warnings[0].line, tree.line_of("target.yaml", "port: 8080"));
    assert!(
        warnings[0]
            .message
            .contains("`destination.port` is a v1alpha2 field"),
        "{}",
        warnings[0].message
    );
    assert!(
        warnings[0]
            .hint
            .as_deref()
            .unwrap_or_default()
            .contains("TCPRoute")
    );
    let v1alpha2 = legacy.replace("access.smi-spec.io/v1alpha3", "access.smi-spec.io/v1alpha2");
    assert_eq!(
        target,
        traffic_target(&v1alpha2).0,
        "normalised to what v1alpha2 means"
    );
}

#[test]
fn a_port_written_as_a_numeric_string_means_that_port() {
    // As the SMI conformance suite's own fixtures write it (Kubernetes keeps such objects:
    // the v1alpha3 CRD has no `port` and prunes it).
    let quoted = TARGET_V1ALPHA3.replace(
        "    namespace: shop\n      rules",
        "    namespace: shop\n        port: \"9091\"\n      rules",
    );
    let numeric = quoted.replace("\"9091\"", "9091");
    let (target, _) = traffic_target(&quoted);
    assert_eq!(target.destination_port, Some(9091));
    assert_eq!(target, traffic_target(&numeric).0);

    let text = TCP_V1ALPHA4_ALL_PORTS.replace("ports: []", "ports: [\"5432\", 5433]");
    assert_eq!(tcp_route(&text).ports, vec![5432, 5433]);
}

// ---------------------------------------------------------------- HTTPRouteGroup

fn http_route_group(text: &str) -> (HttpRouteGroup, Tree) {
    let tree = Tree::new().file("routes.yaml", text);
    (only(&tree.expect_valid().http_route_groups), tree)
}

const ROUTES_V1ALPHA4: &str = "
    apiVersion: specs.smi-spec.io/v1alpha4
    kind: HTTPRouteGroup
    metadata:
      name: api-routes
      namespace: shop
    spec:
      matches:
      - name: android
        pathRegex: /api/.*
        methods: [GET, POST]
        headers:
        - x-canary: \"yes\"
        - User-Agent: \".*Android.*\"
      - name: everything
";

fn expected_routes() -> HttpRouteGroup {
    HttpRouteGroup {
        name: "api-routes".into(),
        namespace: "shop".into(),
        matches: vec![
            HttpMatch {
                name: "android".into(),
                path_regex: Some("/api/.*".into()),
                methods: vec!["GET".into(), "POST".into()],
                headers: vec![
                    ("user-agent".into(), ".*Android.*".into()),
                    ("x-canary".into(), "yes".into()),
                ],
            },
            HttpMatch {
                name: "everything".into(),
                path_regex: None,
                methods: vec![],
                headers: vec![],
            },
        ],
    }
}

/// The same group with `matches` at the top level (the v1alpha1/v1alpha2 shape).
fn top_level(version: &str) -> String {
    let text = ROUTES_V1ALPHA4.replace(
        "specs.smi-spec.io/v1alpha4",
        &format!("specs.smi-spec.io/{version}"),
    );
    let (head, matches) = text
        .split_once("    spec:\n      matches:\n")
        .expect("spec.matches");
    format!(
        "{head}    matches:\n{}",
        matches
            .replace("\n      ", "\n    ")
            .replacen("      ", "    ", 1)
    )
}

#[test]
fn http_route_group_v1alpha4_converts_to_the_model() {
    assert_eq!(http_route_group(ROUTES_V1ALPHA4).0, expected_routes());
}

#[test]
fn http_route_group_v1alpha3_converts_like_v1alpha4() {
    let text = ROUTES_V1ALPHA4.replace("specs.smi-spec.io/v1alpha4", "specs.smi-spec.io/v1alpha3");
    assert_eq!(http_route_group(&text).0, expected_routes());
}

#[test]
fn http_route_group_v1alpha2_with_top_level_matches_converts_like_v1alpha4() {
    let (group, tree) = http_route_group(&top_level("v1alpha2"));
    assert_eq!(group, expected_routes());
    assert!(
        of_severity(&tree.validate(), Severity::Warning).is_empty(),
        "top-level matches are v1alpha2's shape"
    );
}

#[test]
fn http_route_group_v1alpha1_with_top_level_matches_converts_like_v1alpha4() {
    assert_eq!(
        http_route_group(&top_level("v1alpha1")).0,
        expected_routes()
    );
}

#[test]
fn top_level_matches_on_v1alpha4_are_accepted_with_a_warning_naming_spec_matches() {
    let legacy = top_level("v1alpha4");
    let (group, tree) = http_route_group(&legacy);
    assert_eq!(group, expected_routes());
    let validated = tree.validate();
    let warnings = of_severity(&validated, Severity::Warning);
    assert_eq!(warnings.len(), 1, "{}", support::describe(&validated));
    assert_eq!(warnings[0].line, tree.line_of("routes.yaml", "matches:"));
    assert!(
        warnings[0].message.contains("`spec.matches`"),
        "{}",
        warnings[0].message
    );
}

#[test]
fn both_header_forms_convert_to_the_same_model() {
    let map_form = ROUTES_V1ALPHA4.replace(
        "        - x-canary: \"yes\"\n        - User-Agent: \".*Android.*\"\n",
        "          X-Canary: \"yes\"\n          user-agent: \".*Android.*\"\n",
    );
    assert!(map_form.contains("X-Canary"), "the headers were rewritten");
    assert_eq!(
        http_route_group(&map_form).0,
        http_route_group(ROUTES_V1ALPHA4).0
    );
}

// ---------------------------------------------------------------- TCPRoute and UDPRoute

fn tcp_route(text: &str) -> PortRoute {
    only(&Tree::new().file("tcp.yaml", text).expect_valid().tcp_routes)
}

const TCP_V1ALPHA4_ALL_PORTS: &str = "
    apiVersion: specs.smi-spec.io/v1alpha4
    kind: TCPRoute
    metadata:
      name: db
      namespace: shop
    spec:
      matches:
        ports: []
";

#[test]
fn tcp_routes_before_v1alpha4_admit_every_port_like_a_v1alpha4_route_without_ports() {
    let newest = tcp_route(TCP_V1ALPHA4_ALL_PORTS);
    assert_eq!(
        newest,
        PortRoute {
            name: "db".into(),
            namespace: "shop".into(),
            ports: vec![],
        }
    );
    for version in ["v1alpha1", "v1alpha2"] {
        let text = format!(
            "apiVersion: specs.smi-spec.io/{version}\nkind: TCPRoute\nmetadata:\n  name: db\n  namespace: shop\n"
        );
        assert_eq!(tcp_route(&text), newest, "{version}");
    }
    let v1alpha3 = "apiVersion: specs.smi-spec.io/v1alpha3\nkind: TCPRoute\nmetadata:\n  name: db\n  namespace: shop\nspec: {}\n";
    assert_eq!(tcp_route(v1alpha3), newest);
    let empty_matches =
        TCP_V1ALPHA4_ALL_PORTS.replace("matches:\n        ports: []", "matches: {}");
    assert_eq!(tcp_route(&empty_matches), newest);
}

#[test]
fn tcp_route_v1alpha4_ports_are_sorted_and_deduplicated() {
    let text = TCP_V1ALPHA4_ALL_PORTS.replace("ports: []", "ports: [5433, 5432, 5433]");
    assert_eq!(tcp_route(&text).ports, vec![5432, 5433]);
}

#[test]
fn udp_route_v1alpha4_converts_and_a_rule_naming_it_warns_that_it_has_no_effect() {
    let tree = Tree::new()
        .file("udp.yaml", "
            apiVersion: specs.smi-spec.io/v1alpha4
            kind: UDPRoute
            metadata:
              name: dns
              namespace: shop
            spec:
              matches:
                ports: [53]
        ")
        .file("target.yaml", &TARGET_V1ALPHA3.replace(
            "      - kind: HTTPRouteGroup\n        name: api-routes\n        matches: [api-values]\n      - kind: TCPRoute\n        name: db\n",
            "      - kind: UDPRoute\n        name: dns\n",
        ));
    let config = tree.expect_valid();
    assert_eq!(
        only(&config.udp_routes),
        PortRoute {
            name: "dns".into(),
            namespace: "shop".into(),
            ports: vec![53],
        }
    );
    assert_eq!(only(&config.traffic_targets).rules[0].kind, RouteKind::Udp);
    let validated = tree.validate();
    let warnings = of_severity(&validated, Severity::Warning);
    assert_eq!(warnings.len(), 1, "{}", support::describe(&validated));
    assert!(
        warnings[0]
            .message
            .contains("UDPRoute \"dns\" has no effect")
    );
}

// ---------------------------------------------------------------- TrafficSplit

fn traffic_split(text: &str) -> TrafficSplit {
    let tree = Tree::new().file("split.yaml", text).file(
        "ab.yaml",
        "
        apiVersion: specs.smi-spec.io/v1alpha4
        kind: HTTPRouteGroup
        metadata:
          name: android
          namespace: shop
        spec:
          matches:
          - name: android
            headers:
            - user-agent: .*Android.*
    ",
    );
    only(&tree.expect_valid().traffic_splits)
}

/// A split with the given version and weights (already formatted as YAML scalars).
fn split(version: &str, first: &str, second: &str) -> String {
    format!(
        "apiVersion: split.smi-spec.io/{version}\nkind: TrafficSplit\nmetadata:\n  name: api\n  namespace: shop\n\
         spec:\n  service: api\n  backends:\n  - service: api-v1\n    weight: {first}\n  - service: api-v2\n    weight: {second}\n"
    )
}

fn backends(first: u64, second: u64) -> Vec<Backend> {
    vec![
        Backend {
            service: "api-v1".into(),
            weight: first,
        },
        Backend {
            service: "api-v2".into(),
            weight: second,
        },
    ]
}

#[test]
fn traffic_split_v1alpha4_converts_to_the_model() {
    assert_eq!(
        traffic_split(&split("v1alpha4", "90", "10")),
        TrafficSplit {
            name: "api".into(),
            namespace: "shop".into(),
            service: "api".into(),
            backends: backends(90, 10),
            matches: vec![],
        }
    );
}

#[test]
fn traffic_split_v1alpha2_and_v1alpha3_convert_like_v1alpha4() {
    let newest = traffic_split(&split("v1alpha4", "90", "10"));
    assert_eq!(traffic_split(&split("v1alpha3", "90", "10")), newest);
    assert_eq!(traffic_split(&split("v1alpha2", "90", "10")), newest);
}

#[test]
fn milli_quantities_of_split_v1alpha1_equal_the_same_thousandths_in_v1alpha4() {
    assert_eq!(
        traffic_split(&split("v1alpha1", "900m", "100m")),
        traffic_split(&split("v1alpha4", "900", "100"))
    );
}

#[test]
fn a_whole_quantity_of_split_v1alpha1_is_a_thousand_thousandths() {
    let newest = traffic_split(&split("v1alpha4", "1000", "0"));
    assert_eq!(traffic_split(&split("v1alpha1", "1", "0")), newest);
    assert_eq!(traffic_split(&split("v1alpha1", "\"1\"", "0m")), newest);
    assert_eq!(
        traffic_split(&split("v1alpha1", "1.5", "500m")).backends,
        backends(1500, 500)
    );
}

#[test]
fn a_zero_weight_is_valid_and_kept_as_no_traffic() {
    assert_eq!(
        traffic_split(&split("v1alpha4", "100", "0")).backends,
        backends(100, 0)
    );
}

#[test]
fn split_matches_of_v1alpha3_convert_like_v1alpha4() {
    let with_matches = |version: &str| {
        split(version, "0", "100").replace(
            "  service: api\n",
            "  service: api\n  matches:\n  - kind: HTTPRouteGroup\n    name: android\n",
        )
    };
    let newest = traffic_split(&with_matches("v1alpha4"));
    assert_eq!(newest.matches, vec!["android".to_string()]);
    assert_eq!(traffic_split(&with_matches("v1alpha3")), newest);
}

#[test]
fn every_accepted_form_of_the_root_service_names_the_same_service() {
    let newest = traffic_split(&split("v1alpha4", "90", "10"));
    for root in [
        "api.shop",
        "api.shop.svc",
        "api.shop.svc.cluster.local",
        "api.shop.svc.cluster.local.",
    ] {
        let text =
            split("v1alpha4", "90", "10").replace("service: api\n", &format!("service: {root}\n"));
        assert_eq!(traffic_split(&text), newest, "{root}");
    }
}

// ---------------------------------------------------------------- Namespace, Mesh, Canary

#[test]
fn namespaces_in_the_repo_are_the_onboarded_ones() {
    let config = Tree::new().namespace("billing").expect_valid();
    assert_eq!(
        config.namespaces,
        BTreeSet::from(["billing".to_string(), "shop".to_string()])
    );
}

#[test]
fn without_a_mesh_every_default_applies() {
    assert_eq!(Tree::new().expect_valid().mesh, Mesh::default());
    assert_eq!(Mesh::default().name, "meshcd");
    assert_eq!(Mesh::default().traffic_policy, TrafficPolicy::Deny);
}

const MESH: &str = "
    apiVersion: meshcd.dev/v1alpha1
    kind: Mesh
    metadata:
      name: prod
    spec:
      trustDomain: prod.example
      trafficPolicy: permissive
      mtls: permissive
      pathNormalization: merge-slashes
      certificateLifetime: 1h30m
      faultInjection: allowed
      egress: deny
      retryBudget: {percent: 25, minRetriesPerSecond: 5}
      canaryDefaults:
        interval: 1m
        failureThreshold: 5
";

#[test]
fn mesh_v1alpha1_converts_every_field() {
    let config = Tree::new().file("mesh.yaml", MESH).expect_valid();
    assert_eq!(
        config.mesh,
        Mesh {
            name: "prod".into(),
            trust_domain: "prod.example".into(),
            traffic_policy: TrafficPolicy::Permissive,
            mtls: MtlsMode::Permissive,
            path_normalization: PathNormalization::MergeSlashes,
            certificate_lifetime: Duration::from_secs(5400),
            canary_interval: Duration::from_secs(60),
            canary_failure_threshold: 5,
            fault_injection: true,
            retry_budget_percent: 25.0,
            retry_budget_min_per_second: 5,
            egress: Some(false),
        }
    );
    assert!(
        !config.mesh.allows_egress(),
        "egress: deny holds under permissive"
    );
    assert!(Mesh::default().egress.is_none());
    assert!(
        !Mesh::default().allows_egress(),
        "deny policy: no egress by default"
    );
}

const CANARY: &str = "
    apiVersion: meshcd.dev/v1alpha1
    kind: Canary
    metadata:
      name: api
      namespace: shop
    spec:
      trafficSplit: api
      stable: api-v1
      canary: api-v2
      steps: { stepWeight: 10, maxWeight: 50 }
      interval: 30s
      progressDeadline: 10m
      analysis:
        successRate: { min: 99 }
        latencyP99: { max: 500ms }
        minRequests: 20
        failureThreshold: 3
";

fn canary(tree: Tree) -> Canary {
    only(
        &tree
            .file("split.yaml", &split("v1alpha4", "90", "10"))
            .expect_valid()
            .canaries,
    )
}

#[test]
fn canary_v1alpha1_converts_every_field() {
    assert_eq!(
        canary(Tree::new().file("canary.yaml", CANARY)),
        Canary {
            name: "api".into(),
            namespace: "shop".into(),
            target: CanaryTarget::TrafficSplit("api".into()),
            stable: "api-v1".into(),
            canary: "api-v2".into(),
            weights: vec![10, 20, 30, 40, 50],
            interval: Duration::from_secs(30),
            progress_deadline: Duration::from_secs(600),
            analysis: Analysis {
                success_rate_min: Some(99.0),
                latency_p99_max: Some(Duration::from_millis(500)),
                min_requests: 20,
                failure_threshold: 3,
            },
            status: None,
        }
    );
}

#[test]
fn a_step_weight_that_does_not_divide_the_max_weight_ends_on_the_max_weight() {
    let text = CANARY.replace(
        "stepWeight: 10, maxWeight: 50",
        "stepWeight: 30, maxWeight: 50",
    );
    assert_eq!(
        canary(Tree::new().file("canary.yaml", &text)).weights,
        vec![30, 50]
    );
}

#[test]
fn an_explicit_weights_list_is_the_schedule() {
    let text = CANARY.replace(
        "{ stepWeight: 10, maxWeight: 50 }",
        "{ weights: [5, 10, 25, 50] }",
    );
    assert_eq!(
        canary(Tree::new().file("canary.yaml", &text)).weights,
        vec![5, 10, 25, 50]
    );
}

#[test]
fn a_canary_without_interval_or_threshold_takes_the_mesh_canary_defaults() {
    let text = CANARY
        .replace("      interval: 30s\n", "")
        .replace("        failureThreshold: 3\n", "");
    let canary = canary(
        Tree::new()
            .file("canary.yaml", &text)
            .file("mesh.yaml", MESH),
    );
    assert_eq!(canary.interval, Duration::from_secs(60));
    assert_eq!(canary.analysis.failure_threshold, 5);
}

#[test]
fn a_canary_status_written_by_meshcd_is_carried_in_the_model() {
    let text = format!("{CANARY}    status:\n      phase: Promoted\n");
    let canary = canary(Tree::new().file("canary.yaml", &text));
    assert_eq!(
        canary.status,
        Some(serde_json::json!({ "phase": "Promoted" }))
    );
}

// ---------------------------------------------------------------- whole repositories

#[test]
fn a_repo_mixing_mesh_objects_with_workloads_validates_with_notes_only() {
    let tree = with_routes(Tree::new())
        .file("target.yaml", TARGET_V1ALPHA3)
        .file("split.yaml", &split("v1alpha4", "90", "10"))
        .file(
            "workloads/api.yaml",
            "
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: api-v1
              namespace: shop
            spec:
              replicas: 2
              selector:
                matchLabels: { app: api, version: v1 }
              template:
                metadata:
                  labels: { app: api, version: v1 }
                spec:
                  serviceAccountName: api
                  containers:
                  - name: api
                    image: example/api:1
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: api
              namespace: shop
            spec:
              selector: { app: api }
              ports:
              - port: 80
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: api-config
              namespace: shop
            data:
              LOG_LEVEL: info
        ",
        );
    let validated = tree.validate();
    let notes = of_severity(&validated, Severity::Note);
    assert_eq!(notes.len(), 3, "{}", support::describe(&validated));
    assert_eq!(
        validated.diagnostics.0.len(),
        3,
        "notes only: {}",
        support::describe(&validated)
    );
    assert!(
        notes
            .iter()
            .all(|note| note.file.ends_with("workloads/api.yaml"))
    );
    assert!(
        notes[0].message.contains("skipped apps/v1 Deployment"),
        "{}",
        notes[0].message
    );
    assert_eq!(
        notes[1].line,
        tree.line_of("workloads/api.yaml", "kind: Service")
    );
    let config: Config = validated.config.expect("a valid config");
    assert_eq!(config.traffic_targets.len(), 1);
    assert_eq!(config.traffic_splits.len(), 1);
}

#[test]
fn the_examples_repo_validates_without_errors_or_warnings() {
    let loaded = meshcd::load::load_path(&support::examples_repo()).expect("examples-repo loads");
    let validated = meshcd::validate::validate(&loaded);
    let problems: Vec<_> = validated
        .diagnostics
        .iter()
        .filter(|d| d.severity > Severity::Note)
        .collect();
    assert!(problems.is_empty(), "{}", support::describe(&validated));
    let config = validated.config.expect("examples-repo is valid");
    assert_eq!(
        config.namespaces,
        BTreeSet::from([
            "osm-canary-deployment-sample-app".to_string(),
            "osm-simple-app".to_string()
        ])
    );
    let split = config
        .traffic_splits
        .iter()
        .find(|split| split.value.name == "api")
        .expect("the canary demo's split");
    assert_eq!(
        split.value.backends,
        vec![
            Backend {
                service: "api-v1".into(),
                weight: 90
            },
            Backend {
                service: "api-v2".into(),
                weight: 10
            },
        ]
    );
    assert_eq!(config.canaries.len(), 1);
    assert_eq!(config.canaries[0].value.weights.last(), Some(&50));
}

#[test]
fn the_examples_gateway_api_folder_is_the_canary_story_on_an_httproute() {
    // The parent repository leaves it out (its `.meshcdignore`): `api` is split there.
    let parent = meshcd::load::load_path(&support::examples_repo()).expect("examples-repo loads");
    assert!(
        parent
            .files
            .iter()
            .all(|file| !file.path.starts_with("gateway-api")),
        "gateway-api/ is a config repository of its own"
    );
    let loaded = meshcd::load::load_path(&support::examples_repo().join("gateway-api"))
        .expect("examples-repo/gateway-api loads");
    let validated = meshcd::validate::validate(&loaded);
    assert!(
        validated.diagnostics.iter().next().is_none(),
        "{}",
        support::describe(&validated)
    );
    let config = validated
        .config
        .expect("examples-repo/gateway-api is valid");
    assert!(config.traffic_splits.is_empty());
    let route = &config.http_routes[0].value;
    let weights: Vec<(&str, u32)> = route.rules[0]
        .backends
        .iter()
        .map(|b| (b.name.as_str(), b.weight))
        .collect();
    assert_eq!(weights, [("api-v1", 90), ("api-v2", 10)]);
    assert_eq!(
        config.canaries[0].value.target,
        CanaryTarget::HttpRoute {
            name: "api".into(),
            rule: Some("rollout".into())
        }
    );
    assert_eq!(config.traffic_targets.len(), 1, "access stays with SMI");
}
