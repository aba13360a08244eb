//! The kubelet's probes of the app, pointed at the proxy's admin port (the app's own
//! ports are behind the inbound redirect), and what the proxy runs for each.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, PodSpec};
use serde_json::{Value, json};

use super::ADMIN_PORT;

/// The app containers' probes, as JSONPatch operations that point each one at the
/// proxy's admin port, and the map the proxy reads (`MESHCD_PROXY_APP_PROBES`). An HTTP
/// probe stays an HTTP GET of the same path; a TCP, gRPC or HTTPS probe becomes a TCP
/// connect to its port. Exec probes and probes of another host are left as they are.
pub(super) fn rewrite_probes(
    spec: &PodSpec,
    operations: &mut Vec<Value>,
) -> BTreeMap<String, Value> {
    let mut probes = BTreeMap::new();
    for (index, container) in spec.containers.iter().enumerate() {
        let Ok(Value::Object(fields)) = serde_json::to_value(container) else {
            continue;
        };
        for (field, kind) in PROBES {
            let Some(Value::Object(probe)) = fields.get(field) else {
                continue;
            };
            let Some(target) = app_probe(probe, container) else {
                continue;
            };
            let path = format!("/app-health/{}/{kind}", container.name);
            let mut rewritten = probe.clone();
            for handler in ["httpGet", "tcpSocket", "grpc", "exec"] {
                rewritten.remove(handler);
            }
            rewritten.insert(
                "httpGet".into(),
                json!({"path": path, "port": ADMIN_PORT, "scheme": "HTTP"}),
            );
            operations.push(json!({
                "op": "replace",
                "path": format!("/spec/containers/{index}/{field}"),
                "value": rewritten,
            }));
            probes.insert(path, target);
        }
    }
    probes
}

/// The probe kinds of a container: its field and the name in the rewritten path.
const PROBES: [(&str, &str); 3] = [
    ("readinessProbe", "readiness"),
    ("livenessProbe", "liveness"),
    ("startupProbe", "startup"),
];

/// What the proxy checks for one probe, or None when it is not a check of the pod's
/// own port (exec, another host, a port name the container does not declare).
fn app_probe(probe: &serde_json::Map<String, Value>, container: &Container) -> Option<Value> {
    let port = |value: &Value| -> Option<u16> {
        match value {
            Value::Number(number) => number.as_u64().and_then(|n| u16::try_from(n).ok()),
            Value::String(name) => container
                .ports
                .iter()
                .flatten()
                .find(|port| port.name.as_deref() == Some(name.as_str()))
                .and_then(|port| u16::try_from(port.container_port).ok()),
            _ => None,
        }
    };
    let local = |handler: &Value| {
        handler
            .get("host")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    };
    if let Some(get) = probe.get("httpGet") {
        if !local(get) {
            return None;
        }
        let port = port(get.get("port")?)?;
        // An HTTPS probe's certificate is never verified by the kubelet either; checking
        // that the port accepts connections is what can be done without the app's TLS.
        if get.get("scheme").and_then(Value::as_str) == Some("HTTPS") {
            return Some(json!({"port": port}));
        }
        let path = get.get("path").and_then(Value::as_str).unwrap_or("/");
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        let mut target = json!({"port": port, "path": path});
        if let Some(headers) = get
            .get("httpHeaders")
            .and_then(Value::as_array)
            .filter(|h| !h.is_empty())
        {
            target["headers"] = Value::Array(headers.clone());
        }
        return Some(target);
    }
    if let Some(socket) = probe.get("tcpSocket") {
        if !local(socket) {
            return None;
        }
        return Some(json!({"port": port(socket.get("port")?)?}));
    }
    let grpc = probe.get("grpc")?;
    Some(json!({"port": port(grpc.get("port")?)?}))
}
