//! What an operator applies to install meshcd in a cluster, rendered from options: the
//! CRDs, namespace, least-privilege RBAC, the reconciler Deployment, its Services and the
//! sidecar injection webhook. `meshcd install` prints them; `deploy/` holds the defaults.
//!
//! Pure. The RBAC lists exactly the verbs the reconciler's code uses, resource by resource.

use serde_json::{Value, json};

use super::MONITORED_BY_LABEL;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub namespace: String,
    pub mesh_name: String,
    pub image: String,
    pub proxy_image: String,
    /// The config repository the reconciler follows.
    pub repo: String,
    pub branch: Option<String>,
    pub replicas: u32,
    /// How the proxy is injected: `auto` (by the API server's version), `always`, `never`.
    pub native_sidecars: super::inject::NativeSidecars,
}

impl Default for Options {
    fn default() -> Self {
        let version = env!("CARGO_PKG_VERSION");
        Options {
            namespace: "meshcd-system".into(),
            mesh_name: "meshcd".into(),
            image: format!("meshcd/meshcd:{version}"),
            proxy_image: format!("meshcd/meshcd-proxy:{version}"),
            repo: "https://git.example.com/platform/mesh-config.git".into(),
            branch: Some("main".into()),
            replicas: 2,
            native_sidecars: super::inject::NativeSidecars::Auto,
        }
    }
}

/// One file of `deploy/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Relative to `deploy/`.
    pub path: String,
    pub yaml: String,
}

const HEADER: &str = "# Rendered by `meshcd install`; regenerate deploy/ with `meshcd install --repo https://git.example.com/platform/mesh-config.git --gateway-api-crds never --output-dir deploy`.\n";

/// Every manifest, in the order to apply them.
pub fn render(options: &Options) -> Vec<Manifest> {
    let mut manifests: Vec<Manifest> = meshcd_schemas::crds()
        .iter()
        .map(|(file, yaml)| Manifest {
            path: format!("crds/{file}"),
            yaml: yaml.to_string(),
        })
        .collect();
    let files: [(&str, Vec<Value>); 8] = [
        ("namespace.yaml", vec![namespace(options)]),
        ("rbac.yaml", rbac(options)),
        ("admin-rbac.yaml", super::admin_manifests::admin_roles()),
        ("source.yaml", vec![source(options)]),
        (
            "reconciler.yaml",
            vec![deployment(options), disruption_budget(options)],
        ),
        ("services.yaml", services(options)),
        (
            "network-policy.yaml",
            vec![super::admin_manifests::network_policy(options)],
        ),
        ("webhook.yaml", vec![webhook(options)]),
    ];
    for (path, objects) in files {
        let mut yaml = HEADER.to_string();
        for object in objects {
            yaml.push_str("---\n");
            yaml.push_str(&serde_yaml::to_string(&object).expect("JSON values render as YAML"));
        }
        manifests.push(Manifest {
            path: path.into(),
            yaml,
        });
    }
    manifests
}

/// All manifests as one multi-document YAML stream, for `kubectl apply -f -`.
pub fn stream(manifests: &[Manifest]) -> String {
    let mut text = String::new();
    for manifest in manifests {
        // Each file starts with comments and `---`; keep one separator per document.
        for line in manifest.yaml.lines() {
            if line.starts_with('#') && !text.is_empty() {
                continue;
            }
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

pub(super) fn labels(component: &str) -> Value {
    json!({
        "app.kubernetes.io/name": "meshcd",
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "meshcd",
    })
}

pub(super) fn metadata(name: &str, options: &Options, component: &str) -> Value {
    json!({"name": name, "namespace": options.namespace, "labels": labels(component)})
}

fn namespace(options: &Options) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": options.namespace, "labels": labels("namespace")},
    })
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Value {
    json!({"apiGroups": groups, "resources": resources, "verbs": verbs})
}

fn rbac(options: &Options) -> Vec<Value> {
    let name = "meshcd";
    let cluster_role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": format!("meshcd-{}", options.mesh_name), "labels": labels("rbac")},
        "rules": [
            // apply: onboarded namespaces labelled (server-side apply creates missing ones,
            // which needs `create` besides `patch`), released ones unlabelled with a merge
            // patch; never deleted.
            rule(&[""], &["namespaces"], &["list", "create", "patch"]),
            // apply: the CA bundle ConfigMap of each onboarded namespace.
            rule(&[""], &["configmaps"], &["list", "create", "patch", "delete"]),
            // discovery: watches, never writes.
            rule(&[""], &["services", "pods"], &["list", "watch"]),
            rule(&["discovery.k8s.io"], &["endpointslices"], &["list", "watch"]),
            // apply: server-side apply (`create` for an object that does not exist yet),
            // prune.
            rule(&["access.smi-spec.io"], &["traffictargets"], &["list", "create", "patch", "delete"]),
            rule(&["specs.smi-spec.io"], &["httproutegroups", "tcproutes", "udproutes"], &["list", "create", "patch", "delete"]),
            rule(&["split.smi-spec.io"], &["trafficsplits"], &["list", "create", "patch", "delete"]),
            rule(&["meshcd.dev"], &["meshes", "canaries", "faults"], &["list", "create", "patch", "delete"]),
            rule(&["policy.openservicemesh.io"], &["retries", "upstreamtrafficsettings", "egresses", "ingressbackends"], &["list", "create", "patch", "delete"]),
            rule(&["gateway.networking.k8s.io"], &["httproutes", "grpcroutes", "referencegrants"], &["list", "create", "patch", "delete"]),
            // routes: meshcd's entries of their status.parents.
            rule(&["gateway.networking.k8s.io"], &["httproutes/status", "grpcroutes/status"], &["patch"]),
            // canaries: progress in their status, which followers watch.
            rule(&["meshcd.dev"], &["canaries"], &["watch"]),
            rule(&["meshcd.dev"], &["canaries/status"], &["patch"]),
            // identity: proxies' projected service-account tokens, admin API callers' tokens.
            rule(&["authentication.k8s.io"], &["tokenreviews"], &["create"]),
            // admin API: whether RBAC lets the caller do what the route does.
            rule(&["authorization.k8s.io"], &["subjectaccessreviews"], &["create"]),
            // status: Events about the Mesh object.
            rule(&["events.k8s.io"], &["events"], &["create", "patch"]),
            // the webhook's caBundle, on its own configuration only.
            json!({"apiGroups": ["admissionregistration.k8s.io"], "resources": ["mutatingwebhookconfigurations"],
                   "resourceNames": [webhook_name(options)], "verbs": ["get", "patch"]}),
        ],
    });
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": metadata(name, options, "rbac"),
        "rules": [
            // The CA Secret: created by the first replica, read by every replica.
            json!({"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["meshcd-ca"], "verbs": ["get"]}),
            rule(&[""], &["secrets"], &["create"]),
            // The leader labels its own pod: the control-plane Service selects it.
            rule(&[""], &["pods"], &["patch"]),
            // Leader election.
            json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": ["meshcd-leader"], "verbs": ["get", "update"]}),
            rule(&["coordination.k8s.io"], &["leases"], &["create"]),
        ],
    });
    let subject = json!([{"kind": "ServiceAccount", "name": name, "namespace": options.namespace}]);
    vec![
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(name, options, "rbac"),
               "automountServiceAccountToken": true}),
        cluster_role,
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": format!("meshcd-{}", options.mesh_name), "labels": labels("rbac")},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": format!("meshcd-{}", options.mesh_name)},
            "subjects": subject,
        }),
        role,
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": metadata(name, options, "rbac"),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": subject,
        }),
    ]
}

/// Where the reconciler reads its repository from; credentials go in the optional
/// Secret `meshcd-source-credentials` (same variable names, e.g. MESHCD_GIT_TOKEN).
fn source(options: &Options) -> Value {
    let mut data = json!({"MESHCD_REPO": options.repo});
    if let Some(branch) = &options.branch {
        data["MESHCD_BRANCH"] = json!(branch);
    }
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata("meshcd-source", options, "reconciler"), "data": data})
}

fn deployment(options: &Options) -> Value {
    let namespace = &options.namespace;
    let env = |name: &str, value: String| json!({"name": name, "value": value});
    let field = |name: &str, path: &str| json!({"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}});
    let http_probe =
        |path: &str| json!({"httpGet": {"path": path, "port": "admin"}, "periodSeconds": 5});
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata("meshcd", options, "reconciler"),
        "spec": {
            "replicas": options.replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "meshcd", "app.kubernetes.io/component": "reconciler"}},
            "template": {
                "metadata": {"labels": labels("reconciler"),
                             "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "15014"}},
                "spec": {
                    "serviceAccountName": "meshcd",
                    "securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": "meshcd",
                        "image": options.image,
                        "args": ["run", "--kubernetes"],
                        "envFrom": [{"configMapRef": {"name": "meshcd-source"}},
                                    {"secretRef": {"name": "meshcd-source-credentials", "optional": true}}],
                        "env": [
                            field("MESHCD_NAMESPACE", "metadata.namespace"),
                            field("MESHCD_POD_NAME", "metadata.name"),
                            env("MESHCD_STATE_DIR", "/var/lib/meshcd".into()),
                            env("MESHCD_CONTROL_PLANE_ADDR", "0.0.0.0:15012".into()),
                            env("MESHCD_ADMIN_ADDR", "0.0.0.0:15014".into()),
                            env("MESHCD_WEBHOOK_ADDR", "0.0.0.0:15017".into()),
                            env("MESHCD_WEBHOOK_CONFIGURATION", webhook_name(options)),
                            env("MESHCD_PROXY_IMAGE", options.proxy_image.clone()),
                            env("MESHCD_NATIVE_SIDECARS", options.native_sidecars.as_str().into()),
                            env("MESHCD_SERVER_NAMES", format!("meshcd-control-plane.{namespace}.svc,meshcd-control-plane.{namespace}.svc.cluster.local")),
                        ],
                        "ports": [
                            {"name": "control-plane", "containerPort": 15012},
                            {"name": "admin", "containerPort": 15014},
                            {"name": "webhook", "containerPort": 15017},
                        ],
                        "livenessProbe": http_probe("/livez"),
                        "readinessProbe": http_probe("/readyz"),
                        "startupProbe": {"httpGet": {"path": "/livez", "port": "admin"}, "periodSeconds": 2, "failureThreshold": 30},
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
                        "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                                            "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [{"name": "state", "mountPath": "/var/lib/meshcd"},
                                         {"name": "tmp", "mountPath": "/tmp"}],
                    }],
                    "volumes": [{"name": "state", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
                    // Spread replicas so one node's loss leaves a leader candidate.
                    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "meshcd", "app.kubernetes.io/component": "reconciler"}}}],
                },
            },
        },
    })
}

fn disruption_budget(options: &Options) -> Value {
    json!({
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata("meshcd", options, "reconciler"),
        "spec": {"minAvailable": 1,
                 "selector": {"matchLabels": {"app.kubernetes.io/name": "meshcd", "app.kubernetes.io/component": "reconciler"}}},
    })
}

/// The label the leading replica puts on its pod.
pub const LEADER_LABEL: &str = "meshcd.dev/leader";

fn services(options: &Options) -> Vec<Value> {
    let service = |name: &str, port: u16, target: &str| {
        let mut selector = json!({"app.kubernetes.io/name": "meshcd", "app.kubernetes.io/component": "reconciler"});
        // Proxies connect to the leader only: it sees all their traffic (canary
        // analysis) and serves the canaries' weights; standbys refuse them too. The
        // admin API is the leader's too: its status has the proxies and the rollouts,
        // and only it acts on canaries. (Prometheus scrapes each pod, not the Service.)
        if target != "webhook" {
            selector[LEADER_LABEL] = json!("true");
        }
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata(name, options, "reconciler"),
            "spec": {
                "selector": selector,
                "ports": [{"name": target, "port": port, "targetPort": target, "protocol": "TCP",
                           "appProtocol": if target == "admin" { "http" } else { "https" }}],
            },
        })
    };
    vec![
        service("meshcd-control-plane", 15012, "control-plane"),
        service("meshcd-admin", 15014, "admin"),
        service("meshcd-webhook", 15017, "webhook"),
    ]
}

fn webhook_name(options: &Options) -> String {
    format!("meshcd-{}", options.mesh_name)
}

fn webhook(options: &Options) -> Value {
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        // The caBundle is set by the reconciler at start, from the mesh CA.
        "metadata": {"name": webhook_name(options), "labels": labels("webhook")},
        "webhooks": [{
            "name": super::webhook::WEBHOOK_NAME,
            "clientConfig": {"service": {"name": "meshcd-webhook", "namespace": options.namespace, "path": "/inject", "port": 15017}},
            "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "scope": "Namespaced"}],
            "namespaceSelector": {"matchLabels": {MONITORED_BY_LABEL: options.mesh_name}},
            // An onboarded namespace's pod must not start outside the mesh.
            "failurePolicy": "Fail",
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "timeoutSeconds": 10,
            "reinvocationPolicy": "Never",
        }],
    })
}

#[cfg(test)]
#[path = "manifests_tests.rs"]
mod tests;
