//! Every kind of invalid input is reported at the file and line of the offending field,
//! with a message that says what is wrong, and an invalid tree yields no config at all.

mod support;

use support::Tree;

/// An HTTPRouteGroup most references resolve to.
const ROUTES: &str = "
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
      - name: metrics
        pathRegex: /metrics
";

/// The split canaries drive.
const SPLIT: &str = "
    apiVersion: split.smi-spec.io/v1alpha4
    kind: TrafficSplit
    metadata:
      name: api
      namespace: shop
    spec:
      service: api
      backends:
      - service: api-v1
        weight: 90
      - service: api-v2
        weight: 10
";

/// A Canary of [`SPLIT`] whose `steps` block (or lack of one) is given, indented by four.
fn canary(steps: &str) -> String {
    format!(
        "
    apiVersion: meshcd.dev/v1alpha1
    kind: Canary
    metadata:
      name: api
      namespace: shop
    spec:
      trafficSplit: api
      stable: api-v1
      canary: api-v2
{steps}
      interval: 30s
"
    )
}

/// A TrafficTarget in `shop` whose `rules` block is given, indented by four.
fn target(rules: &str) -> String {
    format!(
        "
    apiVersion: access.smi-spec.io/v1alpha3
    kind: TrafficTarget
    metadata:
      name: frontend-to-api
      namespace: shop
    spec:
      destination:
        kind: ServiceAccount
        name: api
      sources:
      - kind: ServiceAccount
        name: frontend
      rules:
{rules}
"
    )
}

// ---------------------------------------------------------------- YAML syntax

#[test]
fn a_mapping_value_in_the_wrong_place_is_a_syntax_error_on_its_line() {
    Tree::new()
        .file(
            "routes.yaml",
            "
            apiVersion: specs.smi-spec.io/v1alpha4
            kind: HTTPRouteGroup
            metadata: name: api-routes
        ",
        )
        .expect_error("routes.yaml", "metadata: name", "YAML syntax error");
}

#[test]
fn an_unterminated_quote_is_a_syntax_error_where_the_string_starts() {
    Tree::new()
        .file(
            "split.yaml",
            "
            apiVersion: split.smi-spec.io/v1alpha4
            kind: TrafficSplit
            metadata:
              name: \"api
              namespace: shop
        ",
        )
        .expect_error("split.yaml", "name: \"api", "YAML syntax error");
}

#[test]
fn a_tab_used_for_indentation_is_a_syntax_error_on_its_line() {
    Tree::new()
        .file("routes.yaml", "apiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata:\n\tname: api-routes\n")
        .expect_error("routes.yaml", "\tname", "tabs");
    let diagnostic = Tree::new()
        .file("routes.yaml", "apiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata:\n\tname: api-routes\n")
        .expect_error("routes.yaml", "\tname", "tabs");
    assert_eq!(
        diagnostic.hint.as_deref(),
        Some("YAML indents with spaces: replace the tab on this line with spaces")
    );
}

#[test]
fn a_misspelt_field_gets_one_error_that_names_the_field_it_almost_matches() {
    let tree = Tree::new().file(
        "routes.yaml",
        &ROUTES.replace("pathRegex: /api", "pathRegx: /api"),
    );
    let diagnostic = tree.expect_error("routes.yaml", "pathRegx", "unknown field `pathRegx`");
    assert_eq!(
        diagnostic.hint.as_deref(),
        Some("did you mean `pathRegex`?")
    );
    assert_eq!(
        support::of_severity(&tree.validate(), meshcd::diagnostics::Severity::Error).len(),
        1,
        "{}",
        support::describe(&tree.validate())
    );
}

/// A typo in an object that others name is one error: the objects naming it are not
/// also told it "does not exist" (the route group, the split a canary drives).
#[test]
fn a_misspelt_object_is_not_reported_missing_by_those_that_name_it() {
    let rules =
        "      - kind: HTTPRouteGroup\n        name: api-routes\n        matches: [api-values]\n";
    let tree = Tree::new()
        .file(
            "routes.yaml",
            &ROUTES.replace("pathRegex: /api", "pathRegx: /api"),
        )
        .file("target.yaml", &target(rules))
        .file("split.yaml", &SPLIT.replace("weight: 90", "wieght: 90"))
        .file(
            "canary.yaml",
            &canary("      steps: { stepWeight: 10, maxWeight: 50 }"),
        );
    let validated = tree.validate();
    let errors = support::of_severity(&validated, meshcd::diagnostics::Severity::Error);
    let messages: Vec<&str> = errors.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{}", support::describe(&validated));
    assert!(
        messages.iter().all(|m| m.starts_with("unknown field")),
        "{messages:?}"
    );
}

#[test]
fn a_file_that_is_not_utf8_is_reported_at_its_first_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ns.yaml"),
        b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: sh\xffop\n",
    )
    .unwrap();
    let loaded = meshcd::load::load_path(dir.path()).unwrap();
    let diagnostic = &loaded.diagnostics.0[0];
    assert!(
        diagnostic.message.contains("not UTF-8"),
        "{}",
        diagnostic.message
    );
    assert_eq!((diagnostic.line, diagnostic.column), (4, 11));
    assert!(
        diagnostic
            .hint
            .as_deref()
            .unwrap_or_default()
            .contains("UTF-8")
    );
}

#[test]
fn a_duplicate_key_is_reported_at_its_second_occurrence() {
    Tree::new()
        .file(
            "split.yaml",
            "
            apiVersion: split.smi-spec.io/v1alpha4
            kind: TrafficSplit
            metadata:
              name: api
              namespace: shop
              name: api-2
        ",
        )
        .expect_error("split.yaml", "name: api-2", "duplicate key `name`");
}

#[test]
fn a_syntax_error_in_one_file_still_reports_errors_in_the_others() {
    let tree = Tree::new()
        .file("broken.yaml", "a: [1, 2\nb: 3\n")
        .file("split.yaml", &SPLIT.replace("weight: 90", "weight: -90"));
    tree.expect_error("broken.yaml", "b: 3", "YAML syntax error");
    tree.expect_error("split.yaml", "weight: -90", "negative");
}

#[test]
fn an_alias_bomb_is_refused_instead_of_expanded() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..9 {
        let aliases = vec![format!("*a{}", level - 1); 10].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{aliases}]\n"));
    }
    let tree = Tree::new().file("bomb.yaml", &text);
    tree.expect_error("bomb.yaml", "a4: &a4", "aliases expand to more than");
}

#[test]
fn nesting_deeper_than_any_config_is_refused_without_overflowing_the_stack() {
    let text: String = (0..5000)
        .map(|depth| format!("{}k:\n", "  ".repeat(depth)))
        .collect();
    let validated = Tree::new().file("deep.yaml", &text).validate();
    let error = validated.diagnostics.errors().next().expect("an error");
    assert!(
        error.message.contains("nesting is deeper than"),
        "{}",
        support::describe(&validated)
    );
    // Refused where the first level past the limit opens, not at the end of the file.
    assert_eq!(
        error.line,
        meshcd::load::yaml::MAX_DEPTH + 1,
        "{}",
        support::describe(&validated)
    );
    assert!(validated.config.is_none());
}

#[test]
fn a_document_nested_up_to_the_limit_is_read_in_full() {
    // Mappings nested as deep as allowed, under an unknown field of a Namespace: the
    // schema check must see the whole document, so it reports that field.
    let depth = meshcd::load::yaml::MAX_DEPTH - 2;
    let nested: String = (0..depth)
        .map(|level| format!("{}k:\n", "  ".repeat(level + 1)))
        .collect();
    let text =
        format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: deep\nextra:\n{nested}");
    Tree::new().file("deep.yaml", &text).expect_error(
        "deep.yaml",
        "extra:",
        "unknown field `extra`",
    );
}

// ---------------------------------------------------------------- wrong type

#[test]
fn a_weight_written_as_a_word_is_a_type_error_on_the_weight_line() {
    Tree::new()
        .file("split.yaml", &SPLIT.replace("weight: 90", "weight: ninety"))
        .expect_error("split.yaml", "weight: ninety", "is not of type \"integer\"");
}

#[test]
fn a_fractional_weight_in_split_v1alpha4_is_a_type_error() {
    Tree::new()
        .file("split.yaml", &SPLIT.replace("weight: 90", "weight: 90.5"))
        .expect_error("split.yaml", "weight: 90.5", "is not of type \"integer\"");
}

#[test]
fn tcp_route_ports_given_as_a_single_number_is_a_type_error() {
    Tree::new()
        .file(
            "tcp.yaml",
            "
            apiVersion: specs.smi-spec.io/v1alpha4
            kind: TCPRoute
            metadata:
              name: db
              namespace: shop
            spec:
              matches:
                ports: 5432
        ",
        )
        .expect_error("tcp.yaml", "ports: 5432", "is not of type \"array\"");
}

#[test]
fn a_numeric_object_name_is_a_type_error_on_the_name_line() {
    Tree::new()
        .file("split.yaml", &SPLIT.replace("name: api\n", "name: 42\n"))
        .expect_error("split.yaml", "name: 42", "is not of type \"string\"");
}

#[test]
fn a_canary_min_requests_given_as_text_is_a_type_error() {
    let text = canary("      steps: { stepWeight: 10, maxWeight: 50 }")
        + "      analysis:\n        minRequests: twenty\n";
    Tree::new()
        .file("split.yaml", SPLIT)
        .file("canary.yaml", &text)
        .expect_error(
            "canary.yaml",
            "minRequests: twenty",
            "is not of type \"integer\"",
        );
}

#[test]
fn a_traffic_policy_outside_its_enum_is_rejected_on_its_line() {
    Tree::new()
        .file(
            "mesh.yaml",
            "
            apiVersion: meshcd.dev/v1alpha1
            kind: Mesh
            metadata:
              name: meshcd
            spec:
              trafficPolicy: allow-all
        ",
        )
        .expect_error("mesh.yaml", "trafficPolicy: allow-all", "trafficPolicy");
}

#[test]
fn a_path_normalization_outside_its_enum_is_rejected_on_its_line() {
    Tree::new()
        .file(
            "mesh.yaml",
            "
            apiVersion: meshcd.dev/v1alpha1
            kind: Mesh
            metadata:
              name: meshcd
            spec:
              pathNormalization: merge_slashes
        ",
        )
        .expect_error(
            "mesh.yaml",
            "pathNormalization: merge_slashes",
            "pathNormalization",
        );
}

#[test]
fn an_identity_kind_other_than_service_account_is_rejected_on_its_line() {
    let text = target("      - kind: HTTPRouteGroup\n        name: api-routes").replace(
        "      kind: ServiceAccount\n        name: api",
        "      kind: User\n        name: api",
    );
    Tree::new()
        .file("routes.yaml", ROUTES)
        .file("target.yaml", &text)
        .expect_error("target.yaml", "kind: User", "ServiceAccount");
}

// ---------------------------------------------------------------- missing required field

#[test]
fn a_split_without_a_root_service_names_the_missing_field_at_its_spec() {
    Tree::new()
        .file("split.yaml", &SPLIT.replace("      service: api\n", ""))
        .expect_error("split.yaml", "spec:", "missing required field `service`");
}

#[test]
fn a_traffic_target_v1alpha3_without_sources_names_the_missing_field() {
    let text = target("      - kind: HTTPRouteGroup\n        name: api-routes").replace(
        "      sources:\n      - kind: ServiceAccount\n        name: frontend\n",
        "",
    );
    Tree::new()
        .file("routes.yaml", ROUTES)
        .file("target.yaml", &text)
        .expect_error("target.yaml", "spec:", "missing required field `sources`");
}

#[test]
fn a_namespaced_object_without_a_namespace_names_the_missing_field_at_its_metadata() {
    Tree::new()
        .file(
            "routes.yaml",
            &ROUTES.replace("      namespace: shop\n", ""),
        )
        .expect_error(
            "routes.yaml",
            "metadata:",
            "missing required field `namespace`",
        );
}

#[test]
fn a_canary_without_a_stable_backend_names_the_missing_field() {
    let text = canary("      steps: { stepWeight: 10, maxWeight: 50 }")
        .replace("      stable: api-v1\n", "");
    Tree::new()
        .file("split.yaml", SPLIT)
        .file("canary.yaml", &text)
        .expect_error("canary.yaml", "spec:", "missing required field `stable`");
}

#[test]
fn an_http_match_without_a_name_is_reported_at_the_match() {
    Tree::new()
        .file(
            "routes.yaml",
            &ROUTES.replace("- name: metrics\n        pathRegex", "- pathRegex"),
        )
        .expect_error(
            "routes.yaml",
            "- pathRegex: /metrics",
            "missing required field `name`",
        );
}

#[test]
fn a_document_without_api_version_is_reported_at_its_first_line() {
    Tree::new()
        .file(
            "stray.yaml",
            "
            # a stray document
            kind: TrafficSplit
            metadata:
              name: api
        ",
        )
        .expect_error("stray.yaml", "kind: TrafficSplit", "no `apiVersion`");
}

#[test]
fn a_document_without_kind_is_reported() {
    Tree::new()
        .file(
            "stray.yaml",
            "
            apiVersion: split.smi-spec.io/v1alpha4
            metadata:
              name: api
        ",
        )
        .expect_error("stray.yaml", "apiVersion:", "no `kind`");
}

// ---------------------------------------------------------------- unknown kind or version

#[test]
fn an_unknown_version_of_an_smi_kind_points_at_the_api_version() {
    Tree::new()
        .file("routes.yaml", &ROUTES.replace("v1alpha4", "v1alpha5"))
        .expect_error(
            "routes.yaml",
            "apiVersion:",
            "HTTPRouteGroup has no version v1alpha5 in specs.smi-spec.io",
        );
}

#[test]
fn the_draft_traffic_target_v1alpha4_is_not_accepted() {
    let text = target("      - kind: HTTPRouteGroup\n        name: api-routes")
        .replace("access.smi-spec.io/v1alpha3", "access.smi-spec.io/v1alpha4");
    Tree::new()
        .file("routes.yaml", ROUTES)
        .file("target.yaml", &text)
        .expect_error(
            "target.yaml",
            "apiVersion:",
            "TrafficTarget has no version v1alpha4",
        );
}

#[test]
fn a_udp_route_before_v1alpha4_is_an_unknown_version() {
    Tree::new()
        .file(
            "udp.yaml",
            "
            apiVersion: specs.smi-spec.io/v1alpha3
            kind: UDPRoute
            metadata:
              name: dns
              namespace: shop
        ",
        )
        .expect_error(
            "udp.yaml",
            "apiVersion:",
            "UDPRoute has no version v1alpha3",
        );
}

#[test]
fn a_misspelt_smi_kind_is_an_error_on_the_kind_line() {
    Tree::new()
        .file(
            "split.yaml",
            &SPLIT.replace("kind: TrafficSplit", "kind: TrafficSpilt"),
        )
        .expect_error(
            "split.yaml",
            "kind: TrafficSpilt",
            "unknown kind TrafficSpilt in split.smi-spec.io",
        );
}

#[test]
fn an_unknown_meshcd_kind_is_an_error_on_the_kind_line() {
    Tree::new()
        .file(
            "rollout.yaml",
            "
            apiVersion: meshcd.dev/v1alpha1
            kind: Rollout
            metadata:
              name: api
              namespace: shop
        ",
        )
        .expect_error(
            "rollout.yaml",
            "kind: Rollout",
            "unknown kind Rollout in meshcd.dev",
        );
}

#[test]
fn an_unknown_meshcd_version_points_at_the_api_version() {
    Tree::new()
        .file(
            "mesh.yaml",
            "
            apiVersion: meshcd.dev/v1
            kind: Mesh
            metadata:
              name: meshcd
        ",
        )
        .expect_error(
            "mesh.yaml",
            "apiVersion: meshcd.dev/v1",
            "Mesh has no version v1 in meshcd.dev",
        );
}

#[test]
fn a_typo_in_the_smi_group_name_is_an_error_with_a_hint() {
    let diagnostic = Tree::new()
        .file(
            "routes.yaml",
            &ROUTES.replace("specs.smi-spec.io", "spec.smi-spec.io"),
        )
        .expect_error(
            "routes.yaml",
            "apiVersion: spec.smi-spec.io",
            "spec.smi-spec.io",
        );
    let hint = diagnostic.hint.unwrap_or_default();
    assert!(
        hint.contains("specs.smi-spec.io"),
        "the hint names the right group: {hint}"
    );
}

// ---------------------------------------------------------------- dangling references

#[test]
fn a_rule_naming_a_missing_route_group_points_at_the_rule_name() {
    Tree::new()
        .file(
            "target.yaml",
            &target("      - kind: HTTPRouteGroup\n        name: api-routez"),
        )
        .expect_error(
            "target.yaml",
            "name: api-routez",
            "HTTPRouteGroup \"api-routez\", which does not exist",
        );
}

#[test]
fn a_rule_naming_a_route_group_of_another_namespace_is_dangling() {
    Tree::new()
        .namespace("billing")
        .file(
            "routes.yaml",
            &ROUTES.replace("namespace: shop", "namespace: billing"),
        )
        .file(
            "target.yaml",
            &target("      - kind: HTTPRouteGroup\n        name: api-routes"),
        )
        .expect_error(
            "target.yaml",
            "name: api-routes",
            "does not exist in namespace \"shop\"",
        );
}

#[test]
fn a_rule_naming_a_missing_tcp_route_points_at_the_rule_name() {
    Tree::new()
        .file(
            "target.yaml",
            &target("      - kind: TCPRoute\n        name: postgres"),
        )
        .expect_error(
            "target.yaml",
            "name: postgres",
            "TCPRoute \"postgres\", which does not exist",
        );
}

#[test]
fn a_rule_naming_a_missing_match_points_at_that_match() {
    let rules = "      - kind: HTTPRouteGroup\n        name: api-routes\n        matches:\n        - api-values\n        - api-valuez";
    Tree::new()
        .file("routes.yaml", ROUTES)
        .file("target.yaml", &target(rules))
        .expect_error(
            "target.yaml",
            "- api-valuez",
            "has no match named \"api-valuez\"",
        );
}

#[test]
fn a_v1alpha1_target_spec_naming_a_missing_group_points_at_its_name() {
    Tree::new()
        .file(
            "target.yaml",
            "
            apiVersion: access.smi-spec.io/v1alpha1
            kind: TrafficTarget
            metadata:
              name: frontend-to-api
              namespace: shop
            destination:
              kind: ServiceAccount
              name: api
            specs:
            - kind: HTTPRouteGroup
              name: nowhere
            sources:
            - kind: ServiceAccount
              name: frontend
        ",
        )
        .expect_error(
            "target.yaml",
            "name: nowhere",
            "HTTPRouteGroup \"nowhere\", which does not exist",
        );
}

#[test]
fn a_split_matching_a_missing_route_group_points_at_the_match() {
    let text = SPLIT.replace(
        "  service: api\n",
        "  service: api\n      matches:\n      - kind: HTTPRouteGroup\n        name: android-users\n",
    );
    Tree::new().file("split.yaml", &text).expect_error(
        "split.yaml",
        "name: android-users",
        "HTTPRouteGroup \"android-users\", which does not exist",
    );
}

#[test]
fn a_canary_of_a_missing_split_points_at_its_traffic_split_field() {
    let text = canary("      steps: { stepWeight: 10, maxWeight: 50 }")
        .replace("trafficSplit: api", "trafficSplit: api-split");
    Tree::new()
        .file("split.yaml", SPLIT)
        .file("canary.yaml", &text)
        .expect_error(
            "canary.yaml",
            "trafficSplit: api-split",
            "TrafficSplit \"api-split\", which does not exist",
        );
}

#[test]
fn a_canary_backend_that_the_split_lacks_points_at_the_canary_field() {
    let text = canary("      steps: { stepWeight: 10, maxWeight: 50 }")
        .replace("canary: api-v2", "canary: api-v3");
    let diagnostic = Tree::new()
        .file("split.yaml", SPLIT)
        .file("canary.yaml", &text)
        .expect_error(
            "canary.yaml",
            "canary: api-v3",
            "canary backend \"api-v3\" is not a backend of TrafficSplit \"api\"",
        );
    assert!(
        diagnostic
            .hint
            .unwrap_or_default()
            .contains("api-v1, api-v2")
    );
}

#[test]
fn a_stable_backend_that_the_split_lacks_points_at_the_stable_field() {
    let text = canary("      steps: { stepWeight: 10, maxWeight: 50 }")
        .replace("stable: api-v1", "stable: api-v0");
    Tree::new()
        .file("split.yaml", SPLIT)
        .file("canary.yaml", &text)
        .expect_error(
            "canary.yaml",
            "stable: api-v0",
            "stable backend \"api-v0\" is not a backend",
        );
}

// ---------------------------------------------------------------- namespaces

#[test]
fn an_object_in_a_namespace_that_is_not_onboarded_points_at_its_namespace() {
    Tree::new()
        .file(
            "split.yaml",
            &SPLIT.replace("namespace: shop", "namespace: billing"),
        )
        .expect_error(
            "split.yaml",
            "namespace: billing",
            "namespace \"billing\" is not onboarded",
        );
}

#[test]
fn a_tree_without_any_namespace_onboards_nothing() {
    Tree::empty().file("routes.yaml", ROUTES).expect_error(
        "routes.yaml",
        "namespace: shop",
        "namespace \"shop\" is not onboarded",
    );
}

// ---------------------------------------------------------------- duplicates

#[test]
fn the_same_object_in_two_files_is_reported_at_the_second_name() {
    let diagnostic = Tree::new()
        .file("a/routes.yaml", ROUTES)
        .file("b/routes.yaml", ROUTES)
        .expect_error(
            "b/routes.yaml",
            "name: api-routes",
            "duplicate HTTPRouteGroup shop/api-routes",
        );
    assert!(
        diagnostic
            .message
            .contains("(first defined at a/routes.yaml:1)"),
        "{}",
        diagnostic.message
    );
}

#[test]
fn the_same_object_twice_in_one_file_is_a_duplicate() {
    let second = SPLIT
        .replace("name: api\n", "name: api # again\n")
        .replace("service: api\n", "service: api-root\n");
    let text = format!(
        "{}---\n{}",
        support::dedent(SPLIT),
        support::dedent(&second)
    );
    Tree::new().file("split.yaml", &text).expect_error(
        "split.yaml",
        "name: api # again",
        "duplicate TrafficSplit shop/api (first defined at split.yaml:1)",
    );
}

#[test]
fn a_namespace_onboarded_twice_is_a_duplicate() {
    Tree::new()
        .file(
            "more/shop.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
        )
        .expect_error(
            "namespaces/shop.yaml",
            "name: shop",
            "duplicate Namespace shop",
        );
}

// ---------------------------------------------------------------- two splits for one root

#[test]
fn two_splits_for_one_root_service_are_refused_at_the_second_service() {
    let second = SPLIT.replace("name: api\n", "name: api-again\n");
    let diagnostic = Tree::new()
        .file("a-split.yaml", SPLIT)
        .file("b-split.yaml", &second)
        .expect_error(
            "b-split.yaml",
            "service: api",
            "service shop/api is already split by TrafficSplit api",
        );
    assert!(
        diagnostic.message.contains("a-split.yaml"),
        "{}",
        diagnostic.message
    );
}

#[test]
fn two_splits_naming_one_root_in_different_host_forms_are_refused() {
    let second = SPLIT
        .replace("name: api\n", "name: api-fqdn\n")
        .replace("service: api\n", "service: api.shop.svc.cluster.local\n");
    Tree::new()
        .file("a-split.yaml", SPLIT)
        .file("b-split.yaml", &second)
        .expect_error(
            "b-split.yaml",
            "service: api.shop.svc.cluster.local",
            "already split",
        );
}

// ---------------------------------------------------------------- regexes

#[test]
fn a_path_regex_that_does_not_compile_points_at_the_path_regex() {
    Tree::new()
        .file(
            "routes.yaml",
            &ROUTES.replace("pathRegex: /metrics", "pathRegex: /metrics/(unclosed"),
        )
        .expect_error(
            "routes.yaml",
            "pathRegex: /metrics/(unclosed",
            "pathRegex \"/metrics/(unclosed\" does not compile",
        );
}

#[test]
fn a_header_regex_in_the_list_form_that_does_not_compile_points_at_the_header() {
    let text = ROUTES.replace(
        "        pathRegex: /metrics\n",
        "        pathRegex: /metrics\n        headers:\n        - x-canary: \"yes\"\n        - user-agent: \"*Android\"\n",
    );
    Tree::new().file("routes.yaml", &text).expect_error(
        "routes.yaml",
        "user-agent:",
        "regex \"*Android\" for header \"user-agent\" does not compile",
    );
}

#[test]
fn a_header_regex_in_the_map_form_that_does_not_compile_points_at_the_header() {
    let text = ROUTES.replace(
        "        pathRegex: /metrics\n",
        "        pathRegex: /metrics\n        headers:\n          x-canary: \"yes\"\n          User-Agent: \"[Android\"\n",
    );
    Tree::new().file("routes.yaml", &text).expect_error(
        "routes.yaml",
        "User-Agent:",
        "for header \"user-agent\" does not compile",
    );
}

#[test]
fn a_path_regex_too_big_to_compile_is_refused() {
    Tree::new()
        .file(
            "routes.yaml",
            &ROUTES.replace("pathRegex: /metrics", "pathRegex: /(\\w{100}){100}"),
        )
        .expect_error("routes.yaml", "pathRegex: /(", "exceeds size limit");
}

#[test]
fn a_header_regex_with_an_unclosed_class_is_refused_with_the_parser_message() {
    let text = ROUTES.replace(
        "        pathRegex: /metrics\n",
        "        pathRegex: /metrics\n        headers:\n          accept: \"[a-z\"\n",
    );
    Tree::new().file("routes.yaml", &text).expect_error(
        "routes.yaml",
        "accept:",
        "does not compile: unclosed character class",
    );
}

#[test]
fn route_regexes_are_accepted_exactly_when_the_proxys_regex_engine_compiles_them() {
    let patterns = [
        "/api/.*",
        "(",
        ")",
        "[a-",
        "[z-a]",
        "a**",
        "a{2,1}",
        "(?P<x>a)(?P<x>b)",
        "\\p{Nope}",
        "\\",
        "x{1000}",
        "(\\w{100}){100}",
        "(?i)ANDROID",
        "\\b",
        "[[:alpha:]]",
        "(?<name>x)",
        "a{,5}",
        "\\Q",
        "é+",
        "",
    ];
    for pattern in patterns {
        let compiled = regex::Regex::new(&format!("^(?:{pattern})$"));
        let checked = meshcd::validate::semantic::check_full_match(pattern);
        assert_eq!(
            checked.is_ok(),
            compiled.is_ok(),
            "{pattern:?}: {checked:?} vs {compiled:?}"
        );
    }
}

#[test]
fn a_bad_regex_in_a_legacy_top_level_match_points_at_it() {
    Tree::new()
        .file(
            "routes.yaml",
            "
            apiVersion: specs.smi-spec.io/v1alpha2
            kind: HTTPRouteGroup
            metadata:
              name: api-routes
              namespace: shop
            matches:
            - name: everything
              pathRegex: /api/(v1
        ",
        )
        .expect_error("routes.yaml", "pathRegex: /api/(v1", "does not compile");
}

// ---------------------------------------------------------------- weights

#[test]
fn a_negative_weight_in_split_v1alpha4_points_at_the_weight() {
    let diagnostic = Tree::new()
        .file("split.yaml", &SPLIT.replace("weight: 10", "weight: -10"))
        .expect_error("split.yaml", "weight: -10", "weight -10 is negative");
    assert!(
        diagnostic
            .hint
            .unwrap_or_default()
            .contains("0 sends no traffic")
    );
}

#[test]
fn a_negative_quantity_weight_in_split_v1alpha1_points_at_the_weight() {
    let text = SPLIT
        .replace("split.smi-spec.io/v1alpha4", "split.smi-spec.io/v1alpha1")
        .replace("weight: 90", "weight: 900m")
        .replace("weight: 10", "weight: -100m");
    Tree::new().file("split.yaml", &text).expect_error(
        "split.yaml",
        "weight: -100m",
        "weight -100 is negative",
    );
}

#[test]
fn a_quantity_weight_that_is_not_a_number_is_refused_on_its_line() {
    let text = SPLIT
        .replace("split.smi-spec.io/v1alpha4", "split.smi-spec.io/v1alpha1")
        .replace("weight: 10", "weight: lots");
    Tree::new()
        .file("split.yaml", &text)
        .expect_error("split.yaml", "weight: lots", "weight");
}

#[test]
fn all_zero_weights_are_refused_at_the_backends() {
    let text = SPLIT
        .replace("weight: 90", "weight: 0")
        .replace("weight: 10", "weight: 0");
    Tree::new().file("split.yaml", &text).expect_error(
        "split.yaml",
        "backends:",
        "every backend has weight 0",
    );
}

#[test]
fn all_zero_quantity_weights_in_split_v1alpha1_are_refused() {
    let text = SPLIT
        .replace("split.smi-spec.io/v1alpha4", "split.smi-spec.io/v1alpha1")
        .replace("weight: 90", "weight: 0m")
        .replace("weight: 10", "weight: \"0\"");
    Tree::new().file("split.yaml", &text).expect_error(
        "split.yaml",
        "backends:",
        "every backend has weight 0",
    );
}

#[test]
fn a_backend_listed_twice_is_refused_at_its_second_entry() {
    let text = SPLIT.replace("service: api-v2", "service: api-v1 # again");
    Tree::new().file("split.yaml", &text).expect_error(
        "split.yaml",
        "service: api-v1 # again",
        "listed twice",
    );
}

// ---------------------------------------------------------------- root service

#[test]
fn a_root_service_in_another_namespace_is_refused_at_the_service() {
    Tree::new()
        .file(
            "split.yaml",
            &SPLIT.replace("service: api\n", "service: api.billing\n"),
        )
        .expect_error(
            "split.yaml",
            "service: api.billing",
            "is in namespace \"billing\", not in the split's namespace \"shop\"",
        );
}

#[test]
fn a_fully_qualified_root_service_in_another_namespace_is_refused() {
    Tree::new()
        .file(
            "split.yaml",
            &SPLIT.replace("service: api\n", "service: api.billing.svc.cluster.local\n"),
        )
        .expect_error(
            "split.yaml",
            "service: api.billing.svc",
            "not in the split's namespace",
        );
}

#[test]
fn a_root_service_with_a_foreign_cluster_domain_is_not_a_service_name() {
    Tree::new()
        .file(
            "split.yaml",
            &SPLIT.replace("service: api\n", "service: api.shop.svc.example.com\n"),
        )
        .expect_error(
            "split.yaml",
            "service: api.shop.svc.example.com",
            "is not a service name",
        );
}

// ---------------------------------------------------------------- Mesh

#[test]
fn a_second_mesh_is_refused_naming_the_first() {
    let mesh = "apiVersion: meshcd.dev/v1alpha1\nkind: Mesh\nmetadata:\n  name: meshcd\n";
    let diagnostic = Tree::new()
        .file("a-mesh.yaml", mesh)
        .file("b-mesh.yaml", &mesh.replace("name: meshcd", "name: other"))
        .expect_error("b-mesh.yaml", "kind: Mesh", "a second Mesh");
    assert!(
        diagnostic.message.contains("a-mesh.yaml"),
        "{}",
        diagnostic.message
    );
}

#[test]
fn a_certificate_lifetime_too_short_to_rotate_is_refused() {
    Tree::new()
        .file(
            "mesh.yaml",
            "
            apiVersion: meshcd.dev/v1alpha1
            kind: Mesh
            metadata:
              name: meshcd
            spec:
              certificateLifetime: 1m
        ",
        )
        .expect_error("mesh.yaml", "certificateLifetime: 1m", "shorter than 5m");
}

// ---------------------------------------------------------------- Canary schedule

#[test]
fn a_step_weight_of_zero_is_refused_at_the_step_weight() {
    Tree::new()
        .file("split.yaml", SPLIT)
        .file(
            "canary.yaml",
            &canary("      steps:\n        stepWeight: 0\n        maxWeight: 50"),
        )
        .expect_error("canary.yaml", "stepWeight: 0", "minimum");
}

#[test]
fn a_max_weight_below_the_step_weight_is_refused_at_the_max_weight() {
    Tree::new()
        .file("split.yaml", SPLIT)
        .file(
            "canary.yaml",
            &canary("      steps:\n        stepWeight: 20\n        maxWeight: 10"),
        )
        .expect_error(
            "canary.yaml",
            "maxWeight: 10",
            "maxWeight 10 must be between stepWeight (20) and 100",
        );
}

#[test]
fn decreasing_step_weights_are_refused_at_the_first_step_that_falls() {
    Tree::new()
        .file("split.yaml", SPLIT)
        .file("canary.yaml", &canary("      steps:\n        weights:\n        - 10\n        - 25\n        - 20\n        - 50"))
        .expect_error("canary.yaml", "- 20", "step weights must increase, but 20 follows 25");
}

#[test]
fn a_repeated_step_weight_is_refused() {
    Tree::new()
        .file("split.yaml", SPLIT)
        .file(
            "canary.yaml",
            &canary("      steps:\n        weights:\n        - 10\n        - 10 # again"),
        )
        .expect_error(
            "canary.yaml",
            "- 10 # again",
            "step weights must increase, but 10 follows 10",
        );
}

#[test]
fn a_step_weight_above_one_hundred_percent_is_refused_on_its_line() {
    Tree::new()
        .file("split.yaml", SPLIT)
        .file(
            "canary.yaml",
            &canary("      steps:\n        weights:\n        - 50\n        - 150"),
        )
        .expect_error("canary.yaml", "- 150", "greater than the maximum of 100");
}

#[test]
fn a_max_weight_above_one_hundred_percent_is_refused() {
    Tree::new()
        .file("split.yaml", SPLIT)
        .file(
            "canary.yaml",
            &canary("      steps:\n        stepWeight: 10\n        maxWeight: 120"),
        )
        .expect_error(
            "canary.yaml",
            "maxWeight: 120",
            "greater than the maximum of 100",
        );
}

#[test]
fn a_canary_without_a_schedule_is_refused() {
    let diagnostic = Tree::new()
        .file("split.yaml", SPLIT)
        .file("canary.yaml", &canary(""))
        .expect_error("canary.yaml", "spec:", "no schedule");
    assert!(diagnostic.hint.unwrap_or_default().contains("stepWeight"));
}

#[test]
fn a_schedule_with_both_step_weights_and_a_list_is_refused() {
    Tree::new()
        .file("split.yaml", SPLIT)
        .file("canary.yaml", &canary("      steps:\n        stepWeight: 10\n        maxWeight: 50\n        weights: [10, 50]"))
        .expect_error("canary.yaml", "steps:", "`spec.steps` fits more than one accepted shape");
}

#[test]
fn a_step_weight_without_a_max_weight_is_refused() {
    Tree::new()
        .file("split.yaml", SPLIT)
        .file(
            "canary.yaml",
            &canary("      steps:\n        stepWeight: 10"),
        )
        .expect_error(
            "canary.yaml",
            "steps:",
            "`spec.steps` does not have any accepted shape",
        );
}

#[test]
fn a_canary_whose_stable_and_canary_are_the_same_backend_is_refused() {
    let text = canary("      steps: { stepWeight: 10, maxWeight: 50 }")
        .replace("canary: api-v2", "canary: api-v1");
    Tree::new()
        .file("split.yaml", SPLIT)
        .file("canary.yaml", &text)
        .expect_error("canary.yaml", "canary: api-v1", "same backend");
}

#[test]
fn two_canaries_driving_one_split_are_refused() {
    let first = canary("      steps: { stepWeight: 10, maxWeight: 50 }");
    let second = first.replace("  name: api\n", "  name: api-again\n");
    Tree::new()
        .file("split.yaml", SPLIT)
        .file("a-canary.yaml", &first)
        .file("b-canary.yaml", &second)
        .expect_error(
            "b-canary.yaml",
            "trafficSplit: api",
            "already driven by Canary api",
        );
}

// ---------------------------------------------------------------- unknown fields

#[test]
fn a_misspelt_spec_field_is_an_unknown_field_on_its_line() {
    let diagnostic = Tree::new()
        .file("split.yaml", &SPLIT.replace("backends:", "backend:"))
        .expect_error("split.yaml", "backend:", "unknown field `backend`");
    assert_eq!(diagnostic.hint.as_deref(), Some("did you mean `backends`?"));
    // Nothing near: the hint points at the fields of the kind instead.
    let diagnostic = Tree::new()
        .file("split.yaml", &SPLIT.replace("backends:", "destinations:"))
        .expect_error(
            "split.yaml",
            "destinations:",
            "unknown field `destinations`",
        );
    assert!(diagnostic.hint.unwrap_or_default().contains("spelling"));
}

#[test]
fn a_misspelt_match_field_is_an_unknown_field_on_its_line() {
    Tree::new()
        .file(
            "routes.yaml",
            &ROUTES.replace("pathRegex: /metrics", "pathregex: /metrics"),
        )
        .expect_error(
            "routes.yaml",
            "pathregex: /metrics",
            "unknown field `pathregex`",
        );
}

#[test]
fn a_misspelt_metadata_field_is_an_unknown_field_on_its_line() {
    Tree::new()
        .file(
            "routes.yaml",
            &ROUTES.replace("  namespace: shop", "  namepsace: shop"),
        )
        .expect_error(
            "routes.yaml",
            "namepsace: shop",
            "unknown field `namepsace`",
        );
}

#[test]
fn a_misspelt_mesh_field_is_an_unknown_field_on_its_line() {
    Tree::new()
        .file(
            "mesh.yaml",
            "
            apiVersion: meshcd.dev/v1alpha1
            kind: Mesh
            metadata:
              name: meshcd
            spec:
              trustDomain: cluster.local
              mTLS: strict
        ",
        )
        .expect_error("mesh.yaml", "mTLS: strict", "unknown field `mTLS`");
}

#[test]
fn ports_on_a_tcp_route_before_v1alpha4_are_an_unknown_field() {
    Tree::new()
        .file(
            "tcp.yaml",
            "
            apiVersion: specs.smi-spec.io/v1alpha3
            kind: TCPRoute
            metadata:
              name: db
              namespace: shop
            spec:
              matches:
                ports: [5432]
        ",
        )
        .expect_error("tcp.yaml", "matches:", "unknown field `matches`");
}

// ---------------------------------------------------------------- durations

#[test]
fn an_interval_without_a_unit_is_refused_on_its_line() {
    let text = canary("      steps: { stepWeight: 10, maxWeight: 50 }")
        .replace("interval: 30s", "interval: \"30\"");
    Tree::new()
        .file("split.yaml", SPLIT)
        .file("canary.yaml", &text)
        .expect_error("canary.yaml", "interval: \"30\"", "interval");
}

#[test]
fn an_interval_in_days_is_refused_on_its_line() {
    let text = canary("      steps: { stepWeight: 10, maxWeight: 50 }")
        .replace("interval: 30s", "interval: 1d");
    Tree::new()
        .file("split.yaml", SPLIT)
        .file("canary.yaml", &text)
        .expect_error("canary.yaml", "interval: 1d", "interval");
}

#[test]
fn a_latency_bound_that_is_not_a_duration_is_refused_on_its_line() {
    let text = canary("      steps: { stepWeight: 10, maxWeight: 50 }")
        + "      analysis:\n        latencyP99:\n          max: fast\n";
    Tree::new()
        .file("split.yaml", SPLIT)
        .file("canary.yaml", &text)
        .expect_error("canary.yaml", "max: fast", "max");
}

#[test]
fn a_certificate_lifetime_in_words_is_refused_on_its_line() {
    Tree::new()
        .file(
            "mesh.yaml",
            "
            apiVersion: meshcd.dev/v1alpha1
            kind: Mesh
            metadata:
              name: meshcd
            spec:
              certificateLifetime: one day
        ",
        )
        .expect_error(
            "mesh.yaml",
            "certificateLifetime: one day",
            "certificateLifetime",
        );
}

#[test]
fn a_zero_interval_is_refused() {
    let text = canary("      steps: { stepWeight: 10, maxWeight: 50 }")
        .replace("interval: 30s", "interval: 0s");
    Tree::new()
        .file("split.yaml", SPLIT)
        .file("canary.yaml", &text)
        .expect_error("canary.yaml", "interval: 0s", "longer than zero");
}

#[test]
fn a_progress_deadline_shorter_than_an_interval_is_refused() {
    let text = canary("      steps: { stepWeight: 10, maxWeight: 50 }")
        .replace("interval: 30s", "interval: 5m\n      progressDeadline: 1m");
    Tree::new()
        .file("split.yaml", SPLIT)
        .file("canary.yaml", &text)
        .expect_error(
            "canary.yaml",
            "progressDeadline: 1m",
            "shorter than one interval",
        );
}

// ---------------------------------------------------------------- nothing applied in part

#[test]
fn one_invalid_object_among_valid_ones_yields_no_config() {
    let tree = Tree::new()
        .file("routes.yaml", ROUTES)
        .file(
            "target.yaml",
            &target("      - kind: HTTPRouteGroup\n        name: api-routes"),
        )
        .file("split.yaml", SPLIT)
        .file(
            "canary.yaml",
            &canary("      steps: { stepWeight: 10, maxWeight: 50 }"),
        );
    tree.expect_valid();
    let broken = tree.clone().file(
        "z-broken.yaml",
        &ROUTES
            .replace("name: api-routes", "name: other")
            .replace("/metrics", "(("),
    );
    let validated = broken.validate();
    assert_eq!(
        validated.diagnostics.errors().count(),
        1,
        "{}",
        support::describe(&validated)
    );
    assert!(
        validated.config.is_none(),
        "not even the valid objects are applied"
    );
}

#[test]
fn warnings_alone_still_yield_a_config() {
    let udp = "
        apiVersion: specs.smi-spec.io/v1alpha4
        kind: UDPRoute
        metadata:
          name: dns
          namespace: shop
        spec:
          matches:
            ports: [53]
    ";
    let tree = Tree::new().file("udp.yaml", udp).file(
        "target.yaml",
        &target("      - kind: UDPRoute\n        name: dns"),
    );
    let validated = tree.validate();
    let warning = validated
        .diagnostics
        .iter()
        .find(|d| d.message.contains("has no effect"))
        .unwrap_or_else(|| panic!("{}", support::describe(&validated)));
    assert_eq!(
        warning.line,
        tree.line_of("target.yaml", "- kind: UDPRoute")
    );
    assert!(validated.config.is_some());
}
