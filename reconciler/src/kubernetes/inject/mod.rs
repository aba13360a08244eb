//! The sidecar injection: a JSONPatch that adds the iptables init container and the
//! meshcd-proxy sidecar to a pod, and the AdmissionReview answer that carries it.
//!
//! Pure. Where the API server has native sidecars (Kubernetes 1.29+, or 1.28 with the
//! SidecarContainers gate) the proxy is an init container with `restartPolicy: Always`:
//! it is up before the app's containers and the pod's own init containers, and stops
//! after them. Elsewhere it is the first ordinary container, whose postStart hook holds
//! the app's containers back until the proxy is ready (as Istio and Linkerd do); the
//! iptables init container then runs last, so the pod's own init containers, which run
//! before any proxy, are not redirected to one.
//!
//! Inbound traffic is redirected too: a connection to any port of the pod but the proxy's
//! own reaches the proxy's mTLS listener, so strict mTLS cannot be bypassed by dialling
//! the app's port. The kubelet's probes of the app are therefore rewritten to the proxy's
//! admin port, which runs them against the app on loopback.

use base64::Engine as _;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};

use super::{INJECT_ANNOTATION, INJECTED_ANNOTATION};

mod iptables;
mod probes;

use iptables::init_container;
pub use iptables::iptables_script;
use probes::rewrite_probes;

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
    /// Whether the API server keeps `restartPolicy: Always` on init containers.
    pub native_sidecars: bool,
}

/// `--native-sidecars`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NativeSidecars {
    Auto,
    Always,
    Never,
}

impl NativeSidecars {
    pub fn as_str(self) -> &'static str {
        match self {
            NativeSidecars::Auto => "auto",
            NativeSidecars::Always => "always",
            NativeSidecars::Never => "never",
        }
    }
}

/// How the proxy is injected, and why: shown by `meshcd status`.
pub fn sidecar_mode(choice: NativeSidecars, version: Option<(u32, u32)>) -> (bool, String) {
    let server = match version {
        Some((major, minor)) => format!("Kubernetes {major}.{minor}"),
        None => "an API server of unknown version".to_string(),
    };
    match choice {
        NativeSidecars::Always => (
            true,
            format!("native sidecars (--native-sidecars always; {server})"),
        ),
        NativeSidecars::Never => (
            false,
            format!("sidecar containers (--native-sidecars never; {server})"),
        ),
        NativeSidecars::Auto => match version {
            Some(version) if version >= (1, 29) => (true, format!("native sidecars ({server})")),
            _ => (
                false,
                format!(
                    "sidecar containers: {server} has no native sidecars by default \
                     (1.29+; --native-sidecars always if the SidecarContainers gate is on)"
                ),
            ),
        },
    }
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
    let probes = rewrite_probes(&spec, &mut operations);
    let proxy = proxy_container(pod, settings, &probes);
    let init = init_container(settings);
    match (settings.native_sidecars, spec.init_containers.is_none()) {
        // First among the init containers, so the pod's own init containers already run
        // inside the mesh.
        (true, true) => operations
            .push(json!({"op": "add", "path": "/spec/initContainers", "value": [init, proxy]})),
        (true, false) => {
            operations.push(json!({"op": "add", "path": "/spec/initContainers/0", "value": init}));
            operations.push(json!({"op": "add", "path": "/spec/initContainers/1", "value": proxy}));
        }
        (false, no_init_containers) => {
            if no_init_containers {
                operations
                    .push(json!({"op": "add", "path": "/spec/initContainers", "value": [init]}));
            } else {
                operations
                    .push(json!({"op": "add", "path": "/spec/initContainers/-", "value": init}));
            }
            // After the probe rewrites, which address the app's containers by index.
            operations.push(json!({"op": "add", "path": "/spec/containers/0", "value": proxy}));
        }
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

fn proxy_container(pod: &Pod, settings: &Settings, probes: &BTreeMap<String, Value>) -> Value {
    use meshcd_schemas::proxy_env;
    let field = |path: &str| json!({"fieldRef": {"fieldPath": path}});
    let mut env = json!([
        {"name": "POD_IP", "valueFrom": field("status.podIP")},
        {"name": proxy_env::PROXY_ID, "valueFrom": field("metadata.uid")},
        {"name": proxy_env::NAMESPACE, "valueFrom": field("metadata.namespace")},
        {"name": proxy_env::SERVICE_ACCOUNT, "valueFrom": field("spec.serviceAccountName")},
        {"name": proxy_env::JOIN, "value": settings.control_plane},
        {"name": proxy_env::CONTROL_PLANE_NAME, "value": settings.control_plane_name},
        {"name": proxy_env::CA_BUNDLE, "value": format!("{CA_DIR}/{CA_BUNDLE_KEY}")},
        {"name": proxy_env::INBOUND, "value": format!("0.0.0.0:{INBOUND_PORT}")},
        {"name": proxy_env::ADVERTISE, "value": format!("$(POD_IP):{INBOUND_PORT}")},
        {"name": proxy_env::ADMIN, "value": format!("0.0.0.0:{ADMIN_PORT}")},
        {"name": proxy_env::TOKEN_FILE, "value": format!("{TOKEN_DIR}/token")},
        {"name": proxy_env::SERVICES, "value": hello_services(pod)},
        {"name": proxy_env::PORTS, "value": hello_ports(pod)},
        {"name": proxy_env::APP_PROBES, "value": if probes.is_empty() {
            String::new()
        } else {
            serde_json::to_string(probes).unwrap_or_default()
        }},
    ]);
    // A pod that serves nothing (no container port, no service) is a client: an empty
    // list would be an invalid `--port` or `--service` value, and the proxy would not start.
    if let Some(entries) = env.as_array_mut() {
        entries.retain(|entry| entry.get("value") != Some(&json!("")));
    }
    let mut container = json!({
        "name": PROXY_CONTAINER,
        "image": settings.proxy_image,
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
    });
    if settings.native_sidecars {
        container["restartPolicy"] = json!("Always");
    } else {
        // The kubelet starts the next container only once this hook returns.
        container["lifecycle"] =
            json!({"postStart": {"exec": {"command": ["meshcd-proxy", "wait-ready"]}}});
    }
    container
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
mod tests;
