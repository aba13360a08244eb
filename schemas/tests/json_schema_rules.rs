//! The places where meshcd's schemas say more, or less, than the upstream CRDs: legacy shapes,
//! header forms, quantities, ports, identities, metadata, and the meshcd kinds.

mod support;

use support::{assert_invalid, assert_valid, object};

const TT3: &str = "apiVersion: access.smi-spec.io/v1alpha3\nkind: TrafficTarget\nmetadata: {name: t, namespace: shop}\n";
const HRG: &str = "kind: HTTPRouteGroup\nmetadata: {name: r, namespace: shop}\n";

fn canary(spec: &str) -> String {
    format!(
        "apiVersion: meshcd.dev/v1alpha1\nkind: Canary\nmetadata: {{name: api, namespace: shop}}\n\
         spec:\n  trafficSplit: api\n  stable: api-v1\n  canary: api-v2\n{spec}"
    )
}

#[test]
fn http_route_group_headers_pass_as_a_list_of_maps_and_as_a_plain_map() {
    for (version, nested) in [
        ("v1alpha1", false),
        ("v1alpha2", false),
        ("v1alpha3", true),
        ("v1alpha4", true),
    ] {
        for headers in [
            "[{user-agent: .*Firefox.*}, {cookie: type=insider}]",
            "{user-agent: .*Android.*, cookie: x}",
        ] {
            let matches = format!("[{{name: m, headers: {headers}}}]");
            let body = if nested {
                format!("spec: {{matches: {matches}}}\n")
            } else {
                format!("matches: {matches}\n")
            };
            assert_valid(&format!(
                "apiVersion: specs.smi-spec.io/{version}\n{HRG}{body}"
            ));
        }
        let body = if nested {
            "spec: {matches: [{name: m, headers: {x-version: 2}}]}\n"
        } else {
            "matches: [{name: m, headers: {x-version: 2}}]\n"
        };
        assert_invalid(
            &format!("apiVersion: specs.smi-spec.io/{version}\n{HRG}{body}"),
            "headers",
        );
    }
}

#[test]
fn legacy_top_level_matches_pass_on_v1alpha3_and_v1alpha4_route_groups() {
    for version in ["v1alpha3", "v1alpha4"] {
        assert_valid(&format!(
            "apiVersion: specs.smi-spec.io/{version}\n{HRG}matches: [{{name: api, pathRegex: /api, headers: {{a: b}}}}]\n"
        ));
        assert_invalid(
            &format!(
                "apiVersion: specs.smi-spec.io/{version}\n{HRG}matches: [{{name: api, pathregex: /api}}]\n"
            ),
            "pathregex",
        );
        assert_invalid(
            &format!("apiVersion: specs.smi-spec.io/{version}\n{HRG}"),
            "\"spec\" is a required property",
        );
    }
}

#[test]
fn an_unknown_http_method_is_rejected() {
    assert_invalid(
        &format!(
            "apiVersion: specs.smi-spec.io/v1alpha4\n{HRG}spec: {{matches: [{{name: m, methods: [get]}}]}}\n"
        ),
        "/spec/matches/0/methods/0",
    );
}

#[test]
fn legacy_destination_port_passes_on_a_v1alpha3_traffic_target() {
    let rest =
        "  rules: [{kind: TCPRoute, name: tcp}]\n  sources: [{kind: ServiceAccount, name: web}]\n";
    assert_valid(&format!(
        "{TT3}spec:\n  destination: {{kind: ServiceAccount, name: api, port: 8080}}\n{rest}"
    ));
    assert_valid(&format!(
        "{TT3}spec:\n  destination: {{kind: ServiceAccount, name: api, port: \"9091\"}}\n{rest}"
    ));
    assert_invalid(
        &format!("{TT3}spec:\n  destination: {{kind: ServiceAccount, name: api, port: 0}}\n{rest}"),
        "port",
    );
    assert_invalid(
        &format!(
            "{TT3}spec:\n  destination: {{kind: ServiceAccount, name: api, ports: [80]}}\n{rest}"
        ),
        "ports",
    );
}

#[test]
fn a_v1alpha3_traffic_target_needs_a_spec_a_rule_and_a_source() {
    assert_invalid(TT3, "\"spec\" is a required property");
    let destination = "spec:\n  destination: {kind: ServiceAccount, name: api}\n";
    assert_invalid(
        &format!(
            "{TT3}{destination}  rules: []\n  sources: [{{kind: ServiceAccount, name: web}}]\n"
        ),
        "/spec/rules",
    );
    assert_invalid(
        &format!("{TT3}{destination}  rules: [{{kind: TCPRoute, name: t}}]\n  sources: []\n"),
        "/spec/sources",
    );
    assert_invalid(
        &format!("{TT3}{destination}  rules: [{{kind: TCPRoute, name: t}}]\n"),
        "\"sources\" is a required property",
    );
    assert_invalid(
        &format!(
            "{TT3}{destination}  rules: [{{kind: TCPRout, name: t}}]\n  sources: [{{kind: ServiceAccount, name: web}}]\n"
        ),
        "/spec/rules/0/kind",
    );
}

#[test]
fn identities_must_be_service_accounts() {
    let body = "spec:\n  destination: {kind: ServiceAcount, name: api}\n  rules: [{kind: TCPRoute, name: t}]\n  sources: [{kind: ServiceAccount, name: web}]\n";
    assert_invalid(&format!("{TT3}{body}"), "/spec/destination/kind");
    assert_invalid(
        "apiVersion: access.smi-spec.io/v1alpha1\nkind: TrafficTarget\nmetadata: {name: t, namespace: shop}\n\
         destination: {kind: ServiceAccount, name: api}\nsources: [{kind: Group, name: web}]\n",
        "/sources/0/kind",
    );
}

#[test]
fn a_v1alpha1_traffic_target_may_leave_out_the_destination_port_but_not_misuse_it() {
    let head = "apiVersion: access.smi-spec.io/v1alpha1\nkind: TrafficTarget\nmetadata: {name: t, namespace: shop}\n";
    assert_valid(&format!(
        "{head}destination: {{kind: ServiceAccount, name: api}}\n"
    ));
    assert_valid(&format!(
        "{head}destination: {{kind: ServiceAccount, name: api, port: 8080}}\n"
    ));
    assert_invalid(
        &format!("{head}destination: {{kind: ServiceAccount, name: api, port: 80.5}}\n"),
        "/destination/port",
    );
    assert_invalid(
        &format!("{head}sources: [{{kind: ServiceAccount, name: web}}]\n"),
        "\"destination\" is a required property",
    );
}

#[test]
fn v1alpha1_split_weights_are_kubernetes_quantities() {
    let head = "apiVersion: split.smi-spec.io/v1alpha1\nkind: TrafficSplit\nmetadata: {name: s, namespace: shop}\n";
    for weight in ["1", "0m", "10m", "1500m", "'500m'", "0.5", "'1'", "1e3"] {
        assert_valid(&format!(
            "{head}spec: {{service: api, backends: [{{service: v1, weight: {weight}}}]}}\n"
        ));
    }
    for weight in ["half", "10 m", "'10mm'", "true", "[1]"] {
        assert_invalid(
            &format!(
                "{head}spec: {{service: api, backends: [{{service: v1, weight: {weight}}}]}}\n"
            ),
            "weight",
        );
    }
}

#[test]
fn later_split_weights_are_whole_numbers_and_signs_are_left_to_the_semantic_checks() {
    for version in ["v1alpha2", "v1alpha3", "v1alpha4"] {
        let head = format!(
            "apiVersion: split.smi-spec.io/{version}\nkind: TrafficSplit\nmetadata: {{name: s, namespace: shop}}\n"
        );
        assert_valid(&format!(
            "{head}spec: {{service: api, backends: [{{service: v1, weight: -5}}]}}\n"
        ));
        assert_invalid(
            &format!("{head}spec: {{service: api, backends: [{{service: v1, weight: 2.5}}]}}\n"),
            "/spec/backends/0/weight",
        );
        assert_invalid(
            &format!("{head}spec: {{service: api, backends: [{{service: v1, weight: 500m}}]}}\n"),
            "/spec/backends/0/weight",
        );
        assert_invalid(
            &format!("{head}spec: {{service: api, backends: [{{service: v1}}]}}\n"),
            "\"weight\" is a required property",
        );
        assert_invalid(&head, "\"spec\" is a required property");
    }
}

#[test]
fn split_matches_may_name_the_route_group_api_group() {
    let head = "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: s, namespace: shop}\n";
    let backends = "backends: [{service: v2, weight: 100}]";
    assert_valid(&format!(
        "{head}spec: {{service: api, matches: [{{kind: HTTPRouteGroup, name: ab, apiGroup: specs.smi-spec.io}}], {backends}}}\n"
    ));
    assert_invalid(
        &format!(
            "{head}spec: {{service: api, matches: [{{kind: HTTPRouteGroup, name: ab, apiGroup: apps}}], {backends}}}\n"
        ),
        "apiGroup",
    );
    assert_invalid(
        &format!(
            "{head}spec: {{service: api, matches: [{{kind: TCPRoute, name: ab}}], {backends}}}\n"
        ),
        "/spec/matches/0/kind",
    );
}

#[test]
fn v1alpha4_route_ports_may_be_omitted_or_empty_and_must_be_port_numbers() {
    for kind in ["TCPRoute", "UDPRoute"] {
        let head = format!(
            "apiVersion: specs.smi-spec.io/v1alpha4\nkind: {kind}\nmetadata: {{name: r, namespace: shop}}\n"
        );
        assert_valid(&format!("{head}spec: {{matches: {{ports: []}}}}\n"));
        assert_valid(&format!("{head}spec: {{matches: {{}}}}\n"));
        assert_valid(&format!("{head}spec: {{matches: {{ports: [1, 65535]}}}}\n"));
        assert_valid(&format!(
            "{head}spec: {{matches: {{ports: [\"1\", \"65535\"]}}}}\n"
        ));
        for bad in ["\"0\"", "\"65536\"", "\"80a\"", "\"\""] {
            assert_invalid(
                &format!("{head}spec: {{matches: {{ports: [{bad}]}}}}\n"),
                "/spec/matches/ports/0",
            );
        }
        assert_invalid(
            &format!("{head}spec: {{matches: {{ports: [0]}}}}\n"),
            "/spec/matches/ports/0",
        );
        assert_invalid(
            &format!("{head}spec: {{matches: {{ports: [65536]}}}}\n"),
            "/spec/matches/ports/0",
        );
        assert_invalid(
            &format!("{head}spec: {{}}\n"),
            "\"matches\" is a required property",
        );
        assert_invalid(&head, "\"spec\" is a required property");
    }
}

#[test]
fn a_v1alpha3_tcp_route_cannot_restrict_ports() {
    assert_invalid(
        "apiVersion: specs.smi-spec.io/v1alpha3\nkind: TCPRoute\nmetadata: {name: r, namespace: shop}\n\
         spec: {matches: {ports: [3306]}}\n",
        "matches",
    );
}

#[test]
fn namespaced_kinds_need_a_namespace_and_cluster_scoped_kinds_take_none() {
    assert_invalid(
        "apiVersion: specs.smi-spec.io/v1alpha4\nkind: TCPRoute\nmetadata: {name: r}\nspec: {matches: {ports: []}}\n",
        "\"namespace\" is a required property",
    );
    assert_invalid(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, namespace: shop}\n",
        "namespace",
    );
    assert_invalid(
        "apiVersion: meshcd.dev/v1alpha1\nkind: Mesh\nmetadata: {name: meshcd, namespace: x}\n",
        "namespace",
    );
    assert_invalid(
        "apiVersion: v1\nkind: Namespace\nmetadata: {}\n",
        "\"name\" is a required property",
    );
}

#[test]
fn metadata_takes_labels_annotations_and_server_fields() {
    assert_valid(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {meshcd.dev/monitored-by: meshcd}\n\
         \x20 annotations: {note: hello}\n  uid: 4f6f\n  resourceVersion: '12'\n  creationTimestamp: null\n\
         spec: {finalizers: [kubernetes]}\nstatus: {phase: Active}\n",
    );
    assert_invalid(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {version: 2}}\n",
        "/metadata/labels/version",
    );
}

#[test]
fn names_are_dns_names() {
    assert_invalid(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: Shop}\n",
        "/metadata/name",
    );
    assert_invalid(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop.eu}\n",
        "/metadata/name",
    );
    assert_valid(
        "apiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\n\
         metadata: {name: api.routes, namespace: shop}\nspec: {matches: []}\n",
    );
    assert_invalid(
        "apiVersion: meshcd.dev/v1alpha1\nkind: Mesh\nmetadata: {name: my_mesh}\n",
        "/metadata/name",
    );
}

#[test]
fn the_mesh_of_the_design_validates_and_unknown_modes_do_not() {
    let mesh = "apiVersion: meshcd.dev/v1alpha1\nkind: Mesh\nmetadata: { name: meshcd }\nspec:\n  trustDomain: cluster.local\n";
    assert_valid(&format!(
        "{mesh}  trafficPolicy: deny\n  mtls: strict\n  certificateLifetime: 24h\n  canaryDefaults: {{ interval: 30s, failureThreshold: 3 }}\n"
    ));
    assert_valid(&format!(
        "{mesh}  trafficPolicy: permissive\n  mtls: permissive\n"
    ));
    assert_invalid(
        &format!("{mesh}  trafficPolicy: allow\n"),
        "/spec/trafficPolicy",
    );
    assert_invalid(&format!("{mesh}  mtls: off\n"), "/spec/mtls");
    assert_invalid(
        &format!("{mesh}  certificateLifetime: 1d\n"),
        "/spec/certificateLifetime",
    );
    assert_invalid(
        &format!("{mesh}  canaryDefaults: {{ interval: 30s, failureThreshold: 0 }}\n"),
        "/spec/canaryDefaults/failureThreshold",
    );
    assert_invalid(
        &format!("{mesh}  canaryDefaults: {{ stepWeight: 10 }}\n"),
        "stepWeight",
    );
    assert_invalid(
        "apiVersion: meshcd.dev/v1alpha1\nkind: Mesh\nmetadata: {name: m}\nspec: {trustDomain: Cluster.Local}\n",
        "/spec/trustDomain",
    );
}

#[test]
fn the_canary_of_the_design_validates() {
    assert_valid(&canary(
        "  steps: { stepWeight: 10, maxWeight: 50 }\n  interval: 30s\n  progressDeadline: 10m\n  analysis:\n\
         \x20   successRate: { min: 99 }\n    latencyP99: { max: 500ms }\n    minRequests: 20\n    failureThreshold: 3\n\
         status: {}\n",
    ));
    assert_valid(&canary(
        "  steps: { weights: [5, 10, 25, 50] }\n  analysis: { successRate: { min: 99.5 } }\n",
    ));
}

#[test]
fn canary_steps_take_exactly_one_form() {
    assert_invalid(&canary("  steps: { stepWeight: 10 }\n"), "/spec/steps");
    assert_invalid(
        &canary("  steps: { stepWeight: 10, maxWeight: 50, weights: [10] }\n"),
        "/spec/steps",
    );
    assert_invalid(&canary("  steps: {}\n"), "/spec/steps");
    assert_invalid(&canary("  steps: { weights: [] }\n"), "/spec/steps/weights");
    assert_invalid(
        &canary("  steps: { weights: [10, 101] }\n"),
        "/spec/steps/weights/1",
    );
    assert_invalid(
        &canary("  steps: { stepWeight: 0, maxWeight: 50 }\n"),
        "/spec/steps/stepWeight",
    );
    assert_invalid(
        &canary("  steps: { stepWeight: 10, maxWeight: 150 }\n"),
        "/spec/steps/maxWeight",
    );
    assert_invalid(
        &canary("  steps: { stepWeight: 2.5, maxWeight: 50 }\n"),
        "/spec/steps/stepWeight",
    );
}

#[test]
fn canary_needs_both_backends_and_a_named_target() {
    let head =
        "apiVersion: meshcd.dev/v1alpha1\nkind: Canary\nmetadata: {name: api, namespace: shop}\n";
    assert_invalid(
        &format!("{head}spec: {{trafficSplit: api, stable: api-v1}}\n"),
        "\"canary\" is a required property",
    );
    assert_invalid(
        &format!("{head}spec: {{trafficSplit: api, canary: api-v2}}\n"),
        "\"stable\" is a required property",
    );
    // A split or a route: which one is the validator's check (a Canary names exactly one).
    assert_invalid(
        &format!("{head}spec: {{httpRoute: {{rule: main}}, stable: api-v1, canary: api-v2}}\n"),
        "\"name\" is a required property",
    );
    assert_invalid(
        &format!("{head}spec: {{trafficSplit: '', stable: api-v1, canary: api-v2}}\n"),
        "/spec/trafficSplit",
    );
    assert_invalid(head, "\"spec\" is a required property");
}

#[test]
fn canary_analysis_thresholds_are_checked() {
    assert_invalid(
        &canary("  analysis: { successRate: { min: 101 } }\n"),
        "/spec/analysis/successRate/min",
    );
    assert_invalid(
        &canary("  analysis: { successRate: {} }\n"),
        "\"min\" is a required property",
    );
    assert_invalid(
        &canary("  analysis: { latencyP99: { max: 500 } }\n"),
        "/spec/analysis/latencyP99/max",
    );
    assert_invalid(
        &canary("  analysis: { minRequests: -1 }\n"),
        "/spec/analysis/minRequests",
    );
    assert_invalid(
        &canary("  analysis: { failureThreshold: 0 }\n"),
        "/spec/analysis/failureThreshold",
    );
    assert_invalid(
        &canary("  analysis: { errorRate: { max: 1 } }\n"),
        "errorRate",
    );
}

#[test]
fn durations_take_the_forms_of_the_design() {
    for duration in ["30s", "10m", "500ms", "24h", "1h30m", "0s"] {
        assert_valid(&canary(&format!(
            "  interval: {duration}\n  progressDeadline: {duration}\n"
        )));
    }
    for duration in ["30", "'30'", "30 s", "1d", "-5s", "1.5s", "s", "30S", "''"] {
        assert_invalid(
            &canary(&format!("  interval: {duration}\n")),
            "/spec/interval",
        );
    }
}

#[test]
fn canary_status_is_free_form() {
    let outcome = canary(
        "status:\n  phase: RolledBack\n  metric: successRate\n  value: 97.5\n  threshold: 99\n  evidence: [{interval: 1, requests: 40}]\n",
    );
    assert_valid(&outcome);
    assert_eq!(object(&outcome)["status"]["phase"], "RolledBack");
    assert_invalid(&canary("status: RolledBack\n"), "/status");
}
