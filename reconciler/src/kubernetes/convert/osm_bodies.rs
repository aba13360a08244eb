//! OSM's policy kinds as the cluster gets them: Retry, UpstreamTrafficSetting, Egress and
//! IngressBackend (their CRDs as OSM wrote them).

use serde_json::{Value, json};

use super::{ConversionError, Kind, check_version};
use crate::model::{
    Egress, IngressBackend, IngressSource, RateLimit, RetryPolicy, UpstreamTrafficSetting,
};
use crate::validate::convert::units::format_duration;

/// An OSM Retry as the repository wrote it.
pub fn retry(retry: &RetryPolicy, version: &str) -> Result<Value, ConversionError> {
    check_version(Kind::Retry, version)?;
    Ok(json!({
        "spec": {
            "source": {
                "kind": "ServiceAccount",
                "name": retry.source.service_account,
                "namespace": retry.source.namespace,
            },
            "destinations": retry
                .destinations
                .iter()
                .map(|(namespace, name)| json!({"kind": "Service", "name": name, "namespace": namespace}))
                .collect::<Vec<_>>(),
            "retryPolicy": {
                "retryOn": retry.retry_on.join(","),
                "perTryTimeout": format_duration(retry.per_try_timeout),
                "numRetries": retry.attempts,
                "retryBackoffBaseInterval": format_duration(retry.backoff),
            },
        }
    }))
}

pub fn egress(egress: &Egress, version: &str) -> Result<Value, ConversionError> {
    check_version(Kind::Egress, version)?;
    let mut spec = json!({
        "sources": egress
            .sources
            .iter()
            .map(|source| json!({"kind": "ServiceAccount", "name": source.service_account, "namespace": source.namespace}))
            .collect::<Vec<_>>(),
        "ports": egress
            .ports
            .iter()
            .map(|port| json!({"number": port.number, "protocol": port.protocol.word()}))
            .collect::<Vec<_>>(),
    });
    if !egress.hosts.is_empty() {
        spec["hosts"] = json!(egress.hosts);
    }
    if !egress.ip_ranges.is_empty() {
        spec["ipAddresses"] = json!(
            egress
                .ip_ranges
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        );
    }
    if !egress.route_groups.is_empty() {
        spec["matches"] = egress
            .route_groups
            .iter()
            .map(|name| json!({"apiGroup": "specs.smi-spec.io/v1alpha4", "kind": "HTTPRouteGroup", "name": name}))
            .collect();
    }
    Ok(json!({ "spec": spec }))
}

pub fn upstream_traffic_setting(
    setting: &UpstreamTrafficSetting,
    version: &str,
) -> Result<Value, ConversionError> {
    check_version(Kind::UpstreamTrafficSetting, version)?;
    let optional = |pairs: &[(&str, Option<Value>)]| {
        pairs
            .iter()
            .filter_map(|(name, value)| Some((name.to_string(), value.clone()?)))
            .collect::<serde_json::Map<_, _>>()
    };
    let http = optional(&[
        ("maxRequests", setting.max_requests.map(Value::from)),
        (
            "maxRequestsPerConnection",
            setting.max_requests_per_connection.map(Value::from),
        ),
        (
            "maxPendingRequests",
            setting.max_pending_requests.map(Value::from),
        ),
        ("maxRetries", setting.max_retries.map(Value::from)),
    ]);
    let tcp = optional(&[
        ("maxConnections", setting.max_connections.map(Value::from)),
        (
            "connectTimeout",
            setting.connect_timeout.map(|t| format_duration(t).into()),
        ),
    ]);
    let connection = optional(&[
        ("tcp", (!tcp.is_empty()).then_some(Value::Object(tcp))),
        ("http", (!http.is_empty()).then_some(Value::Object(http))),
    ]);
    let mut spec = json!({
        "host": format!("{}.{}.svc.cluster.local", setting.destination, setting.namespace),
        "connectionSettings": connection,
    });
    let local = optional(&[
        (
            "http",
            setting
                .rate_limit
                .as_ref()
                .map(|l| rate_limit(l, "requests")),
        ),
        (
            "tcp",
            setting
                .tcp_rate_limit
                .as_ref()
                .map(|l| rate_limit(l, "connections")),
        ),
    ]);
    if !local.is_empty() {
        spec["rateLimit"] = json!({ "local": local });
    }
    if !setting.route_rate_limits.is_empty() {
        spec["httpRoutes"] = setting
            .route_rate_limits
            .iter()
            .map(|route| {
                json!({
                    "path": route.path,
                    "rateLimit": { "local": rate_limit(&route.limit, "requests") },
                })
            })
            .collect();
    }
    if let Some(outlier) = &setting.outlier {
        spec["outlierDetection"] = json!({
            "consecutiveFailures": outlier.consecutive_failures,
            "interval": format_duration(outlier.interval),
            "baseEjectionTime": format_duration(outlier.base_ejection_time),
            "maxEjectionPercent": outlier.max_ejection_percent,
        });
    }
    Ok(json!({ "spec": spec }))
}

/// A local rate limit as OSM writes it; `count` is `requests`, or `connections` for TCP
/// (which has no status or headers).
fn rate_limit(limit: &RateLimit, count: &str) -> Value {
    let mut body = json!({
        count: limit.requests,
        "unit": limit.unit(),
        "burst": limit.burst,
    });
    if count == "requests" {
        body["responseStatusCode"] = json!(limit.status);
        body["responseHeadersToAdd"] = limit
            .headers
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
    }
    body
}

pub fn ingress_backend(ingress: &IngressBackend, version: &str) -> Result<Value, ConversionError> {
    check_version(Kind::IngressBackend, version)?;
    let backends: Vec<Value> = ingress
        .backends
        .iter()
        .map(|backend| {
            json!({"name": backend.service, "port": {"number": backend.port, "protocol": backend.protocol.as_str()}})
        })
        .collect();
    let sources: Vec<Value> = ingress
        .sources
        .iter()
        .map(|source| match source {
            IngressSource::IpRange(range) => json!({"kind": "IPRange", "name": range.to_string()}),
            IngressSource::Service { namespace, name } => {
                json!({"kind": "Service", "name": name, "namespace": namespace})
            }
            IngressSource::AuthenticatedPrincipal(name) => {
                json!({"kind": "AuthenticatedPrincipal", "name": name})
            }
        })
        .collect();
    Ok(json!({ "spec": { "backends": backends, "sources": sources } }))
}
