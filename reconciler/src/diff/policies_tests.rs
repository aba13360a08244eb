//! Unit tests of policy changes: two configs in, the lines a reviewer reads out, in every
//! format.

use crate::diff::render::{json, markdown, text};
use crate::diff::tests::report_of;
use crate::diff::{Change, ChangeSet, Options, diff};
use crate::test_support::config;

/// The namespace and a Mesh that allows Faults, then `documents`.
fn repo(documents: &[&str]) -> String {
    let mut yaml = String::from(
        "apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: meshcd.dev/v1alpha1
kind: Mesh
metadata: {name: meshcd}
spec: {faultInjection: allowed}
",
    );
    for document in documents {
        yaml.push_str("---\n");
        yaml.push_str(document);
    }
    yaml
}

const RETRY: &str = "apiVersion: policy.openservicemesh.io/v1alpha1
kind: Retry
metadata: {name: frontend-to-api, namespace: shop}
spec:
  source: {kind: ServiceAccount, name: frontend, namespace: shop}
  destinations: [{kind: Service, name: api, namespace: shop}, {kind: Service, name: db, namespace: shop}]
  retryPolicy: {retryOn: 5xx, perTryTimeout: 1s, numRetries: 3, retryBackoffBaseInterval: 25ms}
";

/// An UpstreamTrafficSetting for shop/api with `connectionSettings` as given.
fn limits(connection_settings: &str) -> String {
    format!(
        "apiVersion: policy.openservicemesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: {{name: api-limits, namespace: shop}}
spec:
  host: api.shop.svc.cluster.local
  connectionSettings: {connection_settings}
"
    )
}

const FAULT: &str = "apiVersion: meshcd.dev/v1alpha1
kind: Fault
metadata: {name: chaos, namespace: shop}
spec:
  destination: {kind: Service, name: api}
  sources: [{kind: ServiceAccount, name: frontend}]
  abort: {percent: 50, httpStatus: 503}
  delay: {percent: 12.5, fixedDelay: 200ms}
";

fn changes(base: &[&str], head: &[&str]) -> ChangeSet {
    let (base, head) = (config(&repo(base)), config(&repo(head)));
    diff(&base, &head, &Options::default(), None)
}

/// The lines of the text's `policies` section, up to the blank line after it.
fn policy_lines(changes: ChangeSet) -> Vec<String> {
    let text = text(&report_of(changes), &|_, _| None);
    text.lines()
        .skip_while(|line| !line.starts_with("policies ("))
        .take_while(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn an_added_retry_lists_every_setting_as_written() {
    let changes = changes(&[], &[RETRY]);
    assert_eq!(changes.policies.len(), 1);
    assert_eq!(changes.policies[0].change, Change::Added);
    assert_eq!(
        policy_lines(changes),
        [
            "policies (1):",
            "  + Retry shop/frontend-to-api for shop/frontend → shop/api, shop/db",
            "      + source: shop/frontend",
            "      + destinations: shop/api, shop/db",
            "      + retryPolicy.retryOn: 5xx",
            "      + retryPolicy.numRetries: 3",
            "      + retryPolicy.perTryTimeout: 1s",
            "      + retryPolicy.retryBackoffBaseInterval: 25ms",
        ]
    );
}

#[test]
fn a_changed_limit_shows_only_that_setting_before_and_after() {
    let base =
        limits("{tcp: {connectTimeout: 250ms}, http: {maxRequests: 100, maxPendingRequests: 10}}");
    let head =
        limits("{tcp: {connectTimeout: 250ms}, http: {maxRequests: 50, maxPendingRequests: 10}}");
    let changes = changes(&[RETRY, &base], &[RETRY, &head]);
    assert_eq!(
        changes.policies.len(),
        1,
        "the unchanged Retry is not listed"
    );
    assert_eq!(changes.policies[0].change, Change::Changed);
    let text = text(&report_of(changes.clone()), &|_, _| None);
    assert_eq!(
        policy_lines(changes),
        [
            "policies (1):",
            "  ~ UpstreamTrafficSetting shop/api-limits for every caller → shop/api",
            "      ~ connectionSettings.http.maxRequests: 100 → 50",
        ]
    );
    assert!(text.ends_with("summary: 1 policy changed\n"), "{text}");
}

#[test]
fn a_setting_only_base_has_is_removed_in_its_place() {
    let base = limits("{tcp: {connectTimeout: 250ms}, http: {maxRequests: 100}}");
    let head = limits("{http: {maxRequests: 100, maxPendingRequests: 10}}");
    assert_eq!(
        policy_lines(changes(&[&base], &[&head]))[2..],
        [
            "      - connectionSettings.tcp.connectTimeout: 250ms",
            "      + connectionSettings.http.maxPendingRequests: 10",
        ]
    );
}

#[test]
fn a_removed_fault_lists_what_it_did_and_warns_about_nothing() {
    let changes = changes(&[FAULT], &[]);
    assert!(changes.warnings.0.is_empty(), "{:?}", changes.warnings);
    assert_eq!(
        policy_lines(changes),
        [
            "policies (1):",
            "  - Fault shop/chaos for shop/frontend → shop/api",
            "      - destination: api",
            "      - sources: shop/frontend",
            "      - abort.percent: 50",
            "      - abort.httpStatus: 503",
            "      - delay.percent: 12.5",
            "      - delay.fixedDelay: 200ms",
        ]
    );
}

#[test]
fn an_added_fault_is_listed_and_still_warned_about() {
    let changes = changes(&[], &[FAULT]);
    assert_eq!(changes.policies[0].kind, "Fault");
    assert_eq!(changes.warnings.0.len(), 1);
    assert!(
        changes.warnings.0[0].message.starts_with("a new Fault: "),
        "{:?}",
        changes.warnings
    );
}

#[test]
fn unchanged_policies_are_no_change() {
    let all = [RETRY, FAULT, &limits("{http: {maxRequests: 100}}")];
    let changes = changes(&all, &all);
    assert!(changes.policies.is_empty());
    assert!(changes.is_empty());
    let json = json(&report_of(changes));
    assert!(!json.contains("\"policies\""), "{json}");
}

#[test]
fn json_lists_each_policy_with_its_settings_before_and_after() {
    let base = limits("{http: {maxRequests: 100}}");
    let head = limits("{http: {maxRequests: 50}}");
    let json = json(&report_of(changes(&[&base], &[&head])));
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        value["changes"]["policies"],
        serde_json::json!([{
            "kind": "UpstreamTrafficSetting",
            "namespace": "shop",
            "name": "api-limits",
            "change": "changed",
            "target": "every caller → shop/api",
            "settings": [{
                "setting": "connectionSettings.http.maxRequests",
                "before": "100",
                "after": "50"
            }]
        }])
    );
    assert_eq!(value["summary"], "1 policy changed");
}

#[test]
fn markdown_has_one_row_per_setting_and_names_the_policy_once() {
    let base = limits("{http: {maxRequests: 100}}");
    let head = limits("{http: {maxRequests: 50, maxPendingRequests: 10}}");
    let markdown = markdown(&report_of(changes(&[&base], &[&head, RETRY])));
    let section: Vec<&str> = markdown
        .lines()
        .skip_while(|line| *line != "### Policies")
        .take_while(|line| !line.starts_with("### Warnings"))
        .collect();
    assert_eq!(
        section[..7],
        [
            "### Policies",
            "",
            "| policy | for | setting | before | after |",
            "| --- | --- | --- | --- | --- |",
            "| **+** `Retry shop/frontend-to-api` | `shop/frontend → shop/api, shop/db` | `source` | — | `shop/frontend` |",
            "|  |  | `destinations` | — | `shop/api, shop/db` |",
            "|  |  | `retryPolicy.retryOn` | — | `5xx` |",
        ],
        "{markdown}"
    );
    assert!(
        markdown.contains(
            "| **~** `UpstreamTrafficSetting shop/api-limits` | `every caller → shop/api` | `connectionSettings.http.maxRequests` | `100` | `50` |\n\
             |  |  | `connectionSettings.http.maxPendingRequests` | — | `10` |\n"
        ),
        "{markdown}"
    );
}

#[test]
fn a_rate_limit_reads_field_by_field() {
    let head = limits(
        "{http: {maxRequests: 100}}
  rateLimit:
    local:
      http:
        requests: 20
        unit: minute
        burst: 10
        responseHeadersToAdd: [{name: x-limited, value: 'yes'}]",
    );
    assert_eq!(
        policy_lines(changes(&[], &[&head]))[3..],
        [
            "      + connectionSettings.http.maxRequests: 100",
            "      + rateLimit.local.http.requests: 20",
            "      + rateLimit.local.http.unit: minute",
            "      + rateLimit.local.http.burst: 10",
            "      + rateLimit.local.http.responseStatusCode: 429",
            "      + rateLimit.local.http.responseHeadersToAdd: x-limited: yes",
        ]
    );
}

#[test]
fn connection_limits_tcp_and_route_rate_limits_and_outlier_settings_are_listed() {
    let base = limits("{http: {maxRequests: 100}}");
    let head = format!(
        "{}  rateLimit: {{local: {{tcp: {{connections: 10, unit: minute, burst: 2}}}}}}
  httpRoutes: [{{path: /orders/.*, rateLimit: {{local: {{requests: 5, unit: second}}}}}}]
  outlierDetection: {{consecutiveFailures: 3, baseEjectionTime: 2s, maxEjectionPercent: 50}}
",
        limits("{tcp: {maxConnections: 8}, http: {maxRequests: 100, maxRetries: 2}}")
    );
    assert_eq!(
        policy_lines(changes(&[&base], &[&head])),
        [
            "policies (1):",
            "  ~ UpstreamTrafficSetting shop/api-limits for every caller → shop/api",
            "      + connectionSettings.tcp.maxConnections: 8",
            "      + connectionSettings.http.maxRetries: 2",
            "      + rateLimit.local.tcp: 10 connections per 1m, burst 2",
            "      + httpRoutes: /orders/.*: 5 requests per 1s, burst 0, status 429",
            "      + outlierDetection: 3 failures in a row eject for 2s (longer each time, forgotten one per 10s), at most 50% out",
        ]
    );
}

/// A MeshRootCertificate in shop, meshcd's own CA under `secret`.
fn root(name: &str, role: &str, secret: &str) -> String {
    format!(
        "apiVersion: config.openservicemesh.io/v1alpha2
kind: MeshRootCertificate
metadata: {{name: {name}, namespace: shop}}
spec:
  role: {role}
  provider: {{tresor: {{ca: {{secretRef: {{name: {secret}, namespace: shop}}}}}}}}
"
    )
}

#[test]
fn each_step_of_a_root_rotation_shows_the_roots_whose_role_changes() {
    let old_active = root("root-2026", "active", "meshcd-ca");
    let old_passive = root("root-2026", "passive", "meshcd-ca");
    let new_passive = root("root-2027", "passive", "root-2027");
    let new_active = root("root-2027", "active", "root-2027");
    assert_eq!(
        policy_lines(changes(&[&old_active], &[&old_active, &new_passive])),
        [
            "policies (1):",
            "  + MeshRootCertificate shop/root-2027 for every proxy's trust",
            "      + role: passive (trusted only)",
            "      + provider: meshcd's own CA (Secret shop/root-2027)",
        ]
    );
    assert_eq!(
        policy_lines(changes(
            &[&old_active, &new_passive],
            &[&old_passive, &new_active]
        )),
        [
            "policies (2):",
            "  ~ MeshRootCertificate shop/root-2026 for every proxy's trust",
            "      ~ role: active (issues workload certificates, trusted) → passive (trusted only)",
            "  ~ MeshRootCertificate shop/root-2027 for every proxy's trust",
            "      ~ role: passive (trusted only) → active (issues workload certificates, trusted)",
        ]
    );
    assert_eq!(
        policy_lines(changes(&[&old_passive, &new_active], &[&new_active])),
        [
            "policies (1):",
            "  - MeshRootCertificate shop/root-2026 for every proxy's trust",
            "      - role: passive (trusted only)",
            "      - provider: meshcd's own CA (Secret shop/meshcd-ca)",
        ]
    );
}
