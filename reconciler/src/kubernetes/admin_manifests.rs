//! The manifests that guard the reconciler's listeners in a cluster: the ClusterRoles
//! whose verbs the admin API's SubjectAccessReview asks about, and the NetworkPolicy of
//! the admin, control-plane and webhook ports. Pure, rendered by `meshcd install`.

use serde_json::{Value, json};

use super::MONITORED_BY_LABEL;
use super::manifests::{Options, labels, metadata};
use crate::defaults::API_GROUP;

/// On a namespace: its pods may reach the reconciler's admin port (status, commands and
/// metrics; a token and RBAC still decide what a caller may do).
pub const ADMIN_ACCESS_LABEL: &str = "meshcd.dev/admin-access";

/// `meshcd-operator` may do everything the admin API offers; `meshcd-viewer` may read
/// the status and traffic. Nothing binds them: an operator grants them with a
/// (Cluster)RoleBinding, or a RoleBinding of `meshcd-operator` in one namespace for
/// that namespace's canaries only.
pub fn admin_roles() -> Vec<Value> {
    let role = |name: &str, rules: Value| {
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name, "labels": labels("rbac")},
            "rules": rules,
        })
    };
    let rule = |resources: &[&str], verbs: &[&str]| json!({"apiGroups": [API_GROUP], "resources": resources, "verbs": verbs});
    vec![
        role(
            "meshcd-operator",
            json!([
                // GET /status, GET /traffic.
                rule(&["status"], &["get"]),
                // POST /sync, /suspend, /resume.
                rule(&["sources"], &["sync", "suspend", "resume"]),
                // POST /canaries/<namespace>/<name>/<verb>.
                rule(&["canaries"], &["promote", "abort", "pause", "resume"]),
            ]),
        ),
        role("meshcd-viewer", json!([rule(&["status"], &["get"])])),
    ]
}

/// Ingress to the reconciler's pods: the control plane from onboarded namespaces (where
/// proxies run), the admin port from meshcd's own namespace and namespaces labelled
/// [`ADMIN_ACCESS_LABEL`], the webhook from anywhere (the API server calls it from
/// outside any pod network; it is TLS and only answers admission reviews).
pub fn network_policy(options: &Options) -> Value {
    let port = |name: &str| json!({"protocol": "TCP", "port": name});
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata("meshcd", options, "reconciler"),
        "spec": {
            "podSelector": {"matchLabels": {
                "app.kubernetes.io/name": "meshcd",
                "app.kubernetes.io/component": "reconciler",
            }},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "ports": [port("control-plane")],
                    "from": [{"namespaceSelector": {"matchLabels": {MONITORED_BY_LABEL: options.mesh_name}}}],
                },
                {
                    "ports": [port("admin")],
                    "from": [
                        {"podSelector": {}},
                        {"namespaceSelector": {"matchLabels": {ADMIN_ACCESS_LABEL: "true"}}},
                    ],
                },
                {"ports": [port("webhook")]},
            ],
        },
    })
}
