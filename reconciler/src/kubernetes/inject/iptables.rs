//! The init container that redirects the pod's traffic to its proxy.

use serde_json::{Value, json};

use super::{
    ADMIN_PORT, CONTROL_PLANE_PORT, INBOUND_PORT, INIT_CONTAINER, OUTBOUND_PORT, PROXY_UID,
    Settings,
};

/// The iptables rules: every outbound TCP connection of the pod goes to the proxy's
/// outbound listener, except the proxy's own, loopback, the control plane and DNS; every
/// inbound TCP connection goes to the proxy's inbound (mTLS) listener, except those to the
/// proxy's own ports (peers dial the inbound port; the kubelet probes the admin port).
/// The same rules go to ip6tables where the pod has IPv6 (dual-stack clusters), so the
/// app cannot be reached around the proxy on its IPv6 address either.
pub fn iptables_script() -> String {
    let rules = iptables_rules();
    let ipv4 = rules.iter().map(|rule| format!("iptables {rule}"));
    let ipv6 = rules
        .iter()
        .map(|rule| format!("  ip6tables {}", rule.replace("127.0.0.1/32", "::1/128")));
    std::iter::once("set -eu".to_string())
        .chain(ipv4)
        .chain(std::iter::once(
            "if [ -e /proc/net/if_inet6 ] && ip6tables -t nat -S >/dev/null 2>&1; then".to_string(),
        ))
        .chain(ipv6)
        .chain(std::iter::once("fi".to_string()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn iptables_rules() -> Vec<String> {
    [
        "-t nat -N MESHCD_INBOUND".to_string(),
        format!("-t nat -A MESHCD_INBOUND -p tcp --dport {INBOUND_PORT} -j RETURN"),
        format!("-t nat -A MESHCD_INBOUND -p tcp --dport {ADMIN_PORT} -j RETURN"),
        format!("-t nat -A MESHCD_INBOUND -p tcp -j REDIRECT --to-ports {INBOUND_PORT}"),
        "-t nat -A PREROUTING -p tcp -j MESHCD_INBOUND".to_string(),
        "-t nat -N MESHCD_OUTPUT".to_string(),
        format!("-t nat -A MESHCD_OUTPUT -m owner --uid-owner {PROXY_UID} -j RETURN"),
        "-t nat -A MESHCD_OUTPUT -d 127.0.0.1/32 -j RETURN".to_string(),
        format!("-t nat -A MESHCD_OUTPUT -p tcp --dport {CONTROL_PLANE_PORT} -j RETURN"),
        "-t nat -A MESHCD_OUTPUT -p tcp --dport 53 -j RETURN".to_string(),
        format!("-t nat -A MESHCD_OUTPUT -p tcp -j REDIRECT --to-ports {OUTBOUND_PORT}"),
        "-t nat -A OUTPUT -p tcp -j MESHCD_OUTPUT".to_string(),
    ]
    .into()
}

pub(super) fn init_container(settings: &Settings) -> Value {
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
