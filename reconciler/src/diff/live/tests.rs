//! Unit tests of the live findings: a BASE and HEAD config, the admin documents of a
//! running reconciler as plain text, the findings and their rendering out.

use std::path::Path;

use super::*;
use crate::diff::render::{self, Format};
use crate::diff::{Options, Report, Side, diff};
use crate::test_support::config;

const MESH: &str = "
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: everything, namespace: shop}
spec:
  matches: [{name: all, pathRegex: /.*}]
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: reads, namespace: shop}
spec:
  matches: [{name: get, pathRegex: /.*, methods: [GET]}]
---
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: {name: api, namespace: shop}
spec:
  service: api
  backends: [{service: api-v1, weight: 80}, {service: api-v2, weight: 20}, {service: api-v3, weight: 0}]
";

/// `frontend → api` over `routes` and `admin → billing` over everything.
fn targets(frontend_routes: &str, with_admin: bool) -> String {
    let mut yaml = format!(
        "{MESH}
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {{name: frontend-to-api, namespace: shop}}
spec:
  destination: {{kind: ServiceAccount, name: api}}
  rules: [{{kind: HTTPRouteGroup, name: {frontend_routes}}}]
  sources: [{{kind: ServiceAccount, name: frontend}}]
"
    );
    if with_admin {
        yaml.push_str(
            "---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: admin-to-billing, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: billing}
  rules: [{kind: HTTPRouteGroup, name: everything}]
  sources: [{kind: ServiceAccount, name: admin}]
",
        );
    }
    yaml
}

/// Without any TrafficTarget.
fn no_targets() -> String {
    MESH.to_string()
}

/// `GET /status`: frontend, admin, api-v1 (as `api`) and billing run; api-v2 does not.
const STATUS: &str = r#"{
  "version": "0.1.0",
  "proxies": [
    {"id": "frontend", "namespace": "shop", "serviceAccount": "frontend", "services": ["frontend"], "inSync": true},
    {"id": "admin", "namespace": "shop", "serviceAccount": "admin", "services": ["admin"], "inSync": true},
    {"id": "api-v1", "namespace": "shop", "serviceAccount": "api", "services": ["api-v1", "api"], "inSync": true},
    {"id": "billing", "namespace": "shop", "serviceAccount": "billing", "services": ["billing"], "inSync": true}
  ]
}"#;

/// `GET /traffic?window=60`: frontend calls api (all to api-v1); admin is idle.
const TRAFFIC: &str = r#"{
  "windowSeconds": 60,
  "edges": [
    {"source": {"namespace": "shop", "serviceAccount": "frontend"}, "namespace": "shop",
     "service": "api", "backend": "api-v1", "requests": 252, "failures": 0,
     "requestsPerSecond": 4.2, "successRate": 100.0, "p50Ms": 1.0, "p99Ms": 5.0},
    {"source": {"namespace": "shop", "serviceAccount": "admin"}, "namespace": "shop",
     "service": "billing", "backend": "billing", "requests": 0, "failures": 0,
     "requestsPerSecond": 0.0, "successRate": null, "p50Ms": null, "p99Ms": null}
  ]
}"#;

fn live() -> LiveContext {
    LiveContext::from_documents("http://127.0.0.1:15014", STATUS, TRAFFIC)
        .expect("the admin documents parse")
}

fn findings_of(base: &str, head: &str) -> LiveFindings {
    diff(
        &config(base),
        &config(head),
        &Options::default(),
        Some(&live()),
    )
    .live
    .expect("live findings with a live context")
}

#[test]
fn the_admin_documents_become_workloads_and_edges() {
    let live = live();
    assert_eq!(live.window_seconds, 60);
    assert_eq!(live.workloads.len(), 4);
    assert_eq!(live.workloads[2].identity.service_account, "api");
    assert_eq!(live.workloads[2].services, vec!["api-v1", "api"]);
    assert_eq!(live.edges[0].source.service_account, "frontend");
    assert_eq!(live.edges[0].backend, "api-v1");
    assert_eq!(live.edges[0].requests_per_second, 4.2);
}

#[test]
fn a_document_that_is_not_meshcds_is_an_error_naming_it() {
    let error = LiveContext::from_documents("http://x", "<html>", TRAFFIC).unwrap_err();
    assert!(
        error.to_string().starts_with("the status document"),
        "{error}"
    );
    let error = LiveContext::from_documents("http://x", STATUS, "{}").unwrap_err();
    assert!(
        error.to_string().starts_with("the traffic document"),
        "{error}"
    );
}

#[test]
fn removing_a_target_in_use_is_flagged_with_the_rate_and_an_idle_one_is_not() {
    let findings = findings_of(&targets("everything", true), &no_targets());
    assert_eq!(findings.cut_traffic.len(), 1, "{findings:#?}");
    let cut = &findings.cut_traffic[0];
    assert_eq!(cut.source.to_string(), "shop/frontend");
    assert_eq!(cut.destination.to_string(), "shop/api");
    assert_eq!(cut.services, vec!["shop/api-v1"]);
    assert_eq!((cut.requests, cut.requests_per_second), (252, 4.2));
    assert!(!cut.partly);
    assert_eq!(cut.traffic_targets, vec!["shop/frontend-to-api"]);
}

#[test]
fn narrowing_access_in_use_is_flagged_as_narrowing() {
    let findings = findings_of(&targets("everything", true), &targets("reads", true));
    assert_eq!(findings.cut_traffic.len(), 1, "{findings:#?}");
    assert!(findings.cut_traffic[0].partly, "GET is still allowed");
}

#[test]
fn adding_access_cuts_nothing() {
    let findings = findings_of(&targets("reads", false), &targets("everything", true));
    assert!(findings.cut_traffic.is_empty(), "{findings:#?}");
}

#[test]
fn switching_off_the_permissive_policy_flags_traffic_head_does_not_grant() {
    let permissive = format!(
        "{}
---
apiVersion: meshcd.dev/v1alpha1
kind: Mesh
metadata: {{name: meshcd}}
spec: {{trafficPolicy: permissive}}
",
        no_targets()
    );
    let findings = findings_of(&permissive, &no_targets());
    assert_eq!(findings.cut_traffic.len(), 1, "{findings:#?}");
    assert_eq!(findings.cut_traffic[0].destination.to_string(), "shop/api");
    assert!(findings.cut_traffic[0].traffic_targets.is_empty());
}

#[test]
fn a_weighted_backend_without_workloads_is_flagged_and_a_zero_weight_one_is_not() {
    let findings = findings_of(&targets("everything", true), &targets("everything", true));
    assert!(findings.cut_traffic.is_empty());
    assert_eq!(findings.unserved_backends.len(), 1, "{findings:#?}");
    let backend = &findings.unserved_backends[0];
    assert_eq!(
        (backend.service.as_str(), backend.backend.as_str()),
        ("api", "api-v2")
    );
    assert_eq!(backend.percent, 20.0);
}

fn report(changes: crate::diff::ChangeSet) -> Report {
    let side = |label: &str, commit: &str| Side {
        label: label.into(),
        commit: Some(commit.into()),
        valid: true,
        errors: 0,
    };
    Report {
        base: side("main", "1111111111111111111111111111111111111111"),
        head: side("pr", "2222222222222222222222222222222222222222"),
        changes: Some(changes),
        diagnostics: Default::default(),
    }
}

#[test]
fn every_format_shows_the_live_risks() {
    let changes = diff(
        &config(&targets("everything", true)),
        &config(&no_targets()),
        &Options::default(),
        Some(&live()),
    );
    let report = report(changes);
    let no_source = |_: &Path, _: usize| None;
    let text = render::render(&report, Format::Text, &no_source);
    assert!(
        text.contains(
            "  ! shop/frontend → shop/api: HEAD cuts live traffic: 4.2 req/s (252 requests in \
             60 s) to shop/api-v1; granted in BASE by TrafficTarget shop/frontend-to-api"
        ),
        "{text}"
    );
    assert!(
        text.contains("1 path of live traffic cut, 1 weighted backend without workloads"),
        "{text}"
    );
    let github = render::render(&report, Format::Github, &no_source);
    assert!(
        github.contains(
            "::warning title=meshcd diff: live traffic::shop/frontend → shop/api: HEAD cuts \
             live traffic: 4.2 req/s"
        ),
        "{github}"
    );
    // `%` is escaped as GitHub's workflow commands require.
    assert!(
        github.contains("sends 20%25 of its requests to shop/api-v2"),
        "{github}"
    );
    let markdown = render::render(&report, Format::Markdown, &no_source);
    assert!(
        markdown.contains(
            "| ⚠️ cuts live traffic | `shop/frontend` | `shop/api` | `shop/api-v1` | 4.2 req/s \
             (252 requests in 60 s) | TrafficTarget `shop/frontend-to-api` |"
        ),
        "{markdown}"
    );
    let (_, live_section) = markdown
        .split_once("### Live traffic")
        .expect("a live section");
    assert!(
        !live_section.contains("admin"),
        "idle access is not flagged:\n{markdown}"
    );
    assert_golden("diff/live-traffic.md", &markdown);
    let json = render::render(&report, Format::Json, &no_source);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        value["changes"]["live"]["cutTraffic"][0]["requestsPerSecond"],
        4.2
    );
    assert_eq!(
        value["changes"]["live"]["unservedBackends"][0]["backend"],
        "api-v2"
    );
    assert_golden("diff/live-traffic.json", &json);
}

/// Compares with `tests/golden/<name>`; `MESHCD_BLESS=1` rewrites it after a reviewed change.
fn assert_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("MESHCD_BLESS").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing; run with MESHCD_BLESS=1", path.display()));
    assert!(
        expected == actual,
        "{name} differs from the reviewed golden file (MESHCD_BLESS=1 rewrites it):\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}
