//! IngressBackends in a diff: each source and backend port is an access row "non-mesh
//! source → service", granted by the IngressBackend, in every format.

use crate::diff::render::{json, markdown, text};
use crate::diff::tests::report_of;
use crate::diff::{ChangeSet, Options, Peer, Ports, diff};
use crate::test_support::config;

fn repo(documents: &[&str]) -> String {
    let mut yaml = String::from("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
    for document in documents {
        yaml.push_str("---\n");
        yaml.push_str(document);
    }
    yaml
}

/// An IngressBackend opening `backends` (flow items) to `sources` (flow items).
fn ingress(backends: &str, sources: &str) -> String {
    format!(
        "apiVersion: policy.openservicemesh.io/v1alpha1
kind: IngressBackend
metadata: {{name: edge, namespace: shop}}
spec:
  backends: [{backends}]
  sources: [{sources}]
"
    )
}

const API_80: &str = "{name: api, port: {number: 80, protocol: http}}";
const RANGE: &str = "{kind: IPRange, name: 10.0.0.0/8}";
const GATEWAY: &str = "{kind: Service, name: nginx, namespace: ingress}";

fn changes(base: &[&str], head: &[&str]) -> ChangeSet {
    let (base, head) = (config(&repo(base)), config(&repo(head)));
    diff(&base, &head, &Options::default(), None)
}

#[test]
fn a_new_ingress_backend_allows_each_source_to_each_backend_port() {
    let head = ingress(API_80, &format!("{RANGE}, {GATEWAY}"));
    let changes = changes(&[], &[&head]);
    let rows: Vec<(String, String, Ports, Vec<String>)> = changes
        .access
        .allowed
        .iter()
        .map(|row| {
            (
                row.source.to_string(),
                row.destination.to_string(),
                row.ports.clone(),
                row.ingress_backends.clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "non-mesh 10.0.0.0/8".to_string(),
                "service shop/api".to_string(),
                Ports::Only(vec![80]),
                vec!["shop/edge".to_string()]
            ),
            (
                "non-mesh Service ingress/nginx".to_string(),
                "service shop/api".to_string(),
                Ports::Only(vec![80]),
                vec!["shop/edge".to_string()]
            ),
        ]
    );
    assert!(changes.access.denied.is_empty());
    let report = report_of(changes.clone());
    let text = text(&report, &|_, _| None);
    assert!(
        text.contains("non-mesh 10.0.0.0/8 → service shop/api")
            && text.contains("IngressBackend shop/edge"),
        "{text}"
    );
    let markdown = markdown(&report);
    assert!(
        markdown.contains("IngressBackend `shop/edge`"),
        "{markdown}"
    );
    let json: serde_json::Value = serde_json::from_str(&json(&report)).unwrap();
    assert_eq!(
        json["changes"]["access"]["allowed"][0]["source"],
        serde_json::json!({"kind": "nonMesh", "source": "10.0.0.0/8"})
    );
    assert_eq!(
        json["changes"]["access"]["allowed"][0]["ingressBackends"],
        serde_json::json!(["shop/edge"])
    );
}

#[test]
fn a_narrowed_range_and_a_moved_port_deny_what_they_no_longer_open() {
    let base = ingress(API_80, RANGE);
    let head = ingress(
        "{name: api, port: {number: 8080, protocol: http}}",
        "{kind: IPRange, name: 10.1.0.0/16}",
    );
    let changes = changes(&[&base], &[&head]);
    let denied: Vec<String> = changes
        .access
        .denied
        .iter()
        .map(|row| format!("{} → {} {}", row.source, row.destination, row.ports))
        .collect();
    assert_eq!(denied, ["non-mesh 10.0.0.0/8 → service shop/api port 80"]);
    let allowed: Vec<String> = changes
        .access
        .allowed
        .iter()
        .map(|row| format!("{} → {} {}", row.source, row.destination, row.ports))
        .collect();
    assert_eq!(
        allowed,
        ["non-mesh 10.1.0.0/16 → service shop/api port 8080"]
    );
    // An unchanged IngressBackend is no change.
    assert!(changes_of_same(&base).access.is_empty());
    assert_eq!(
        changes.access.allowed[0].destination,
        Peer::Service {
            namespace: "shop".into(),
            name: "api".into()
        }
    );
}

#[test]
fn a_principal_is_a_row_to_the_https_backends_only() {
    let head = ingress(
        &format!("{API_80}, {{name: api, port: {{number: 8443, protocol: https}}}}"),
        &format!("{RANGE}, {{kind: AuthenticatedPrincipal, name: ingress.example.com}}"),
    );
    let rows: Vec<String> = changes(&[], &[&head])
        .access
        .allowed
        .iter()
        .map(|row| format!("{} → {} {}", row.source, row.destination, row.ports))
        .collect();
    assert_eq!(
        rows,
        [
            "non-mesh 10.0.0.0/8 → service shop/api port 80",
            "non-mesh principal ingress.example.com → service shop/api port 8443",
        ]
    );
}

fn changes_of_same(document: &str) -> ChangeSet {
    changes(&[document], &[document])
}
