//! The sidecar injection: a JSONPatch that adds the iptables init container and the
//! meshcd-proxy sidecar to a pod, and the AdmissionReview answer that carries it.
//!
//! Pure. The proxy runs as a native sidecar (an init container with `restartPolicy:
//! Always`, Kubernetes 1.29+), so it is up before the app's containers and the pod's own
//! init containers, and stops after them.

use base64::Engine as _;
use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};

use super::{INJECT_ANNOTATION, INJECTED_ANNOTATION};

pub const PROXY_CONTAINER: &str = "meshcd-proxy";
pub const INIT_CONTAINER: &str = "meshcd-iptables";
/// The proxy's user: the iptables rules exempt its own traffic from redirection.
pub const PROXY_UID: i64 = 2102;
const OUTBOUND_PORT: u16 = 15001;
const INBOUND_PORT: u16 = 15003;
const ADMIN_PORT: u16 = 15000;
const CONTROL_PLANE_PORT: u16 = 15012;
const TOKEN_DIR: &str = "/var/run/secrets/meshcd";
const CA_DIR: &str = "/var/run/meshcd/ca";
/// The ConfigMap the applier keeps in every onboarded namespace, holding the CA bundle.
pub const CA_BUNDLE_CONFIG_MAP: &str = "meshcd-ca-bundle";
pub const CA_BUNDLE_KEY: &str = "ca.pem";
/// Projected tokens are refreshed by the kubelet; this is the longest life asked for.
const TOKEN_LIFETIME_SECONDS: i64 = 86_400;

/// What the injected containers need to know about the mesh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub proxy_image: String,
    /// host:port of the control plane (the Service in meshcd's namespace).
    pub control_plane: String,
    /// The DNS name in the control plane's serving certificate.
    pub control_plane_name: String,
}

/// Why a pod was left as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    NotOnboarded,
    OptedOut,
    AlreadyInjected,
    HostNetwork,
}

impl Skip {
    pub fn reason(self) -> &'static str {
        match self {
            Skip::NotOnboarded => "namespace is not onboarded",
            Skip::OptedOut => "pod opted out with meshcd.dev/inject: disabled",
            Skip::AlreadyInjected => "pod already has the meshcd proxy",
            Skip::HostNetwork => "pod uses the host network",
        }
    }
}

/// The JSONPatch that injects `pod`, or why it is not injected.
pub fn patch(pod: &Pod, onboarded: bool, settings: &Settings) -> Result<Vec<Value>, Skip> {
    let annotations = pod.metadata.annotations.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let has_container = |name: &str| {
        spec.containers.iter().any(|c| c.name == name)
            || spec
                .init_containers
                .iter()
                .flatten()
                .any(|c| c.name == name)
    };
    if annotations.contains_key(INJECTED_ANNOTATION) || has_container(PROXY_CONTAINER) {
        return Err(Skip::AlreadyInjected);
    }
    if matches!(
        annotations.get(INJECT_ANNOTATION).map(String::as_str),
        Some("disabled" | "false")
    ) {
        return Err(Skip::OptedOut);
    }
    if !onboarded {
        return Err(Skip::NotOnboarded);
    }
    if spec.host_network == Some(true) {
        return Err(Skip::HostNetwork);
    }

    let mut operations = Vec::new();
    if pod.metadata.annotations.is_none() {
        operations.push(json!({"op": "add", "path": "/metadata/annotations", "value": {}}));
    }
    operations.push(json!({
        "op": "add",
        "path": format!("/metadata/annotations/{}", INJECTED_ANNOTATION.replace('/', "~1")),
        "value": "true",
    }));
    // First among the init containers, so the pod's own init containers already run
    // inside the mesh.
    let proxy = proxy_container(pod, settings);
    let init = init_container(settings);
    if spec.init_containers.is_none() {
        operations
            .push(json!({"op": "add", "path": "/spec/initContainers", "value": [init, proxy]}));
    } else {
        operations.push(json!({"op": "add", "path": "/spec/initContainers/0", "value": init}));
        operations.push(json!({"op": "add", "path": "/spec/initContainers/1", "value": proxy}));
    }
    let volumes = [
        json!({
            "name": "meshcd-token",
            "projected": {"sources": [{"serviceAccountToken": {
                "audience": crate::identity::token_review::AUDIENCE,
                "expirationSeconds": TOKEN_LIFETIME_SECONDS,
                "path": "token",
            }}]},
        }),
        json!({
            "name": "meshcd-ca-bundle",
            "configMap": {"name": CA_BUNDLE_CONFIG_MAP},
        }),
    ];
    if spec.volumes.is_none() {
        operations.push(json!({"op": "add", "path": "/spec/volumes", "value": volumes}));
    } else {
        for volume in volumes {
            operations.push(json!({"op": "add", "path": "/spec/volumes/-", "value": volume}));
        }
    }
    Ok(operations)
}

/// The iptables rules: every outbound TCP connection of the pod goes to the proxy's
/// outbound listener, except the proxy's own, loopback, the control plane and DNS.
/// Inbound is not redirected: peers dial the proxy's inbound port themselves.
pub fn iptables_script() -> String {
    [
        "set -eu".to_string(),
        "iptables -t nat -N MESHCD_OUTPUT".to_string(),
        format!("iptables -t nat -A MESHCD_OUTPUT -m owner --uid-owner {PROXY_UID} -j RETURN"),
        "iptables -t nat -A MESHCD_OUTPUT -d 127.0.0.1/32 -j RETURN".to_string(),
        format!("iptables -t nat -A MESHCD_OUTPUT -p tcp --dport {CONTROL_PLANE_PORT} -j RETURN"),
        "iptables -t nat -A MESHCD_OUTPUT -p tcp --dport 53 -j RETURN".to_string(),
        format!("iptables -t nat -A MESHCD_OUTPUT -p tcp -j REDIRECT --to-ports {OUTBOUND_PORT}"),
        "iptables -t nat -A OUTPUT -p tcp -j MESHCD_OUTPUT".to_string(),
    ]
    .join("\n")
}

fn init_container(settings: &Settings) -> Value {
    json!({
        "name": INIT_CONTAINER,
        "image": settings.proxy_image,
        "command": ["/bin/sh", "-c", iptables_script()],
        "securityContext": {
            "runAsUser": 0,
            "runAsNonRoot": false,
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
        },
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "32Mi"}},
    })
}

fn proxy_container(pod: &Pod, settings: &Settings) -> Value {
    let field = |path: &str| json!({"fieldRef": {"fieldPath": path}});
    let mut env = json!([
        {"name": "POD_IP", "valueFrom": field("status.podIP")},
        {"name": "MESHCD_PROXY_ID", "valueFrom": field("metadata.uid")},
        {"name": "MESHCD_PROXY_NAMESPACE", "valueFrom": field("metadata.namespace")},
        {"name": "MESHCD_PROXY_SERVICE_ACCOUNT", "valueFrom": field("spec.serviceAccountName")},
        {"name": "MESHCD_PROXY_JOIN", "value": settings.control_plane},
        {"name": "MESHCD_PROXY_CONTROL_PLANE_NAME", "value": settings.control_plane_name},
        {"name": "MESHCD_PROXY_CA_BUNDLE", "value": format!("{CA_DIR}/{CA_BUNDLE_KEY}")},
        {"name": "MESHCD_PROXY_INBOUND", "value": format!("0.0.0.0:{INBOUND_PORT}")},
        {"name": "MESHCD_PROXY_ADVERTISE", "value": format!("$(POD_IP):{INBOUND_PORT}")},
        {"name": "MESHCD_PROXY_ADMIN", "value": format!("0.0.0.0:{ADMIN_PORT}")},
        {"name": "MESHCD_PROXY_TOKEN_FILE", "value": format!("{TOKEN_DIR}/token")},
        {"name": "MESHCD_PROXY_SERVICES", "value": hello_services(pod)},
        {"name": "MESHCD_PROXY_PORTS", "value": hello_ports(pod)},
    ]);
    // A pod that serves nothing (no container port, no service) is a client: an empty
    // list would be an invalid `--port` or `--service` value, and the proxy would not start.
    if let Some(entries) = env.as_array_mut() {
        entries.retain(|entry| entry.get("value") != Some(&json!("")));
    }
    json!({
        "name": PROXY_CONTAINER,
        "image": settings.proxy_image,
        "restartPolicy": "Always",
        // The proxy reads the projected token from its file at every join and renewal:
        // the kubelet replaces it before it expires, and it never appears in the pod spec
        // or on a command line.
        "command": ["meshcd-proxy"],
        "env": env,
        "ports": [
            {"name": "meshcd-inbound", "containerPort": INBOUND_PORT},
            {"name": "meshcd-admin", "containerPort": ADMIN_PORT},
        ],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": ADMIN_PORT}, "periodSeconds": 2},
        "livenessProbe": {"httpGet": {"path": "/live", "port": ADMIN_PORT}, "periodSeconds": 10},
        "startupProbe": {"httpGet": {"path": "/live", "port": ADMIN_PORT}, "periodSeconds": 1, "failureThreshold": 30},
        "volumeMounts": [
            {"name": "meshcd-token", "mountPath": TOKEN_DIR, "readOnly": true},
            {"name": "meshcd-ca-bundle", "mountPath": CA_DIR, "readOnly": true},
        ],
        "securityContext": {
            "runAsUser": PROXY_UID,
            "runAsGroup": PROXY_UID,
            "runAsNonRoot": true,
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "capabilities": {"drop": ["ALL"]},
        },
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "256Mi"}},
    })
}

/// The services the proxy names in its hello. In a cluster the control plane takes a
/// pod's Services from its EndpointSlices instead; this is what it says until then.
fn hello_services(pod: &Pod) -> String {
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    labels
        .get("app.kubernetes.io/name")
        .or_else(|| labels.get("app"))
        .cloned()
        .or_else(|| {
            pod.spec
                .as_ref()
                .and_then(|spec| spec.service_account_name.clone())
        })
        .unwrap_or_else(|| "default".to_string())
}

/// `PORT=127.0.0.1:PORT/PROTO` for each TCP container port, the protocol from its name.
fn hello_ports(pod: &Pod) -> String {
    let mut ports = Vec::new();
    for container in pod.spec.iter().flat_map(|spec| &spec.containers) {
        for port in container.ports.iter().flatten() {
            if port.protocol.as_deref().unwrap_or("TCP") != "TCP" {
                continue;
            }
            let name = port.name.as_deref().unwrap_or_default();
            let protocol = if name == "tcp" || name.starts_with("tcp-") {
                "tcp"
            } else {
                "http"
            };
            ports.push(format!("{0}=127.0.0.1:{0}/{protocol}", port.container_port));
        }
    }
    ports.join(",")
}

/// The AdmissionReview response to `review` (an `admission.k8s.io/v1` AdmissionReview
/// request): always allowed, with the patch when the pod is injected.
pub fn review(
    review: &Value,
    onboarded: impl Fn(&str) -> bool,
    settings: &Settings,
) -> Result<Value, String> {
    let request = review
        .get("request")
        .ok_or("an AdmissionReview without a request")?;
    let uid = request["uid"]
        .as_str()
        .ok_or("an AdmissionReview request without a uid")?;
    let kind = request["kind"]["kind"].as_str().unwrap_or_default();
    let mut response = json!({"uid": uid, "allowed": true});
    if kind == "Pod" && request["operation"] == "CREATE" {
        let pod: Pod = serde_json::from_value(request["object"].clone())
            .map_err(|error| format!("the request's object is not a Pod: {error}"))?;
        let namespace = request["namespace"]
            .as_str()
            .or(pod.metadata.namespace.as_deref())
            .unwrap_or_default();
        match patch(&pod, onboarded(namespace), settings) {
            Ok(operations) => {
                let text = serde_json::to_vec(&operations).unwrap_or_default();
                response["patchType"] = json!("JSONPatch");
                response["patch"] = json!(base64::engine::general_purpose::STANDARD.encode(text));
            }
            // The API server prefixes the key with the webhook's name in the audit log.
            Err(skip) => response["auditAnnotations"] = json!({"skipped": skip.reason()}),
        }
    }
    Ok(json!({
        "apiVersion": review["apiVersion"].as_str().unwrap_or("admission.k8s.io/v1"),
        "kind": "AdmissionReview",
        "response": response,
    }))
}

#[cfg(test)]
#[path = "inject_tests.rs"]
mod tests;
