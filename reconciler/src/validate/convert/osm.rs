//! OSM's policy kinds (`policy.openservicemesh.io/v1alpha1`) → model: Retry and
//! UpstreamTrafficSetting.

use serde_json::Value;

use super::{array, duration, string};
use std::time::Duration;

use crate::model::{
    Identity, OutlierDetection, RateLimit, RetryPolicy, RouteRateLimit, UpstreamTrafficSetting,
    retry_condition,
};
use crate::validate::report::{Object, Reporter};

/// `retryOn`'s words, each one meshcd knows (else reported at the field).
fn retry_on(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<Vec<String>> {
    let mut valid = true;
    let text = string(&object.value, "/spec/retryPolicy/retryOn").unwrap_or_default();
    let words: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|word| !word.is_empty())
        .map(str::to_string)
        .collect();
    for word in words.iter().filter(|word| retry_condition(word).is_none()) {
        reporter
            .error(object, "/spec/retryPolicy/retryOn", format!("retryOn {word:?} is not a retry condition meshcd knows"))
            .hint("comma-separated: 5xx, gateway-error, reset, connect-failure, retriable-4xx, or status codes such as 503");
        valid = false;
    }
    valid.then_some(words)
}

pub fn retry(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<RetryPolicy> {
    let value = &object.value;
    let namespace = object.id.namespace.clone().unwrap_or_default();
    let mut valid = true;
    if string(value, "/spec/source/kind").as_deref() != Some("ServiceAccount") {
        reporter
            .error(
                object,
                "/spec/source/kind",
                "a Retry's source is a ServiceAccount",
            )
            .hint("`source: {kind: ServiceAccount, name: frontend, namespace: shop}`");
        valid = false;
    }
    let mut destinations = Vec::new();
    for (index, destination) in array(value, "/spec/destinations").iter().enumerate() {
        if destination["kind"].as_str() != Some("Service") {
            reporter
                .error(
                    object,
                    &format!("/spec/destinations/{index}/kind"),
                    "a Retry's destinations are Services",
                )
                .hint("`{kind: Service, name: api, namespace: shop}`");
            valid = false;
        }
        destinations.push((
            destination["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            destination["name"].as_str().unwrap_or_default().to_string(),
        ));
    }
    let retry_on = retry_on(object, reporter)?;
    let per_try_timeout = duration(object, reporter, "/spec/retryPolicy/perTryTimeout");
    let backoff = duration(
        object,
        reporter,
        "/spec/retryPolicy/retryBackoffBaseInterval",
    );
    // Both are required: the schema has reported them when absent.
    let (Some(per_try_timeout), Some(backoff)) = (per_try_timeout, backoff) else {
        return None;
    };
    let (per_try_timeout, backoff) = (
        per_try_timeout.unwrap_or_default(),
        backoff.unwrap_or_default(),
    );
    let attempts = value
        .pointer("/spec/retryPolicy/numRetries")
        .and_then(Value::as_i64)
        .unwrap_or_default();
    let Ok(attempts) = u32::try_from(attempts) else {
        reporter.error(
            object,
            "/spec/retryPolicy/numRetries",
            "numRetries is the number of retries: 0 or more",
        );
        return None;
    };
    valid.then(|| RetryPolicy {
        name: object.id.name.clone(),
        source: Identity {
            namespace: string(value, "/spec/source/namespace").unwrap_or_else(|| namespace.clone()),
            service_account: string(value, "/spec/source/name").unwrap_or_default(),
        },
        namespace,
        destinations,
        retry_on,
        attempts,
        per_try_timeout,
        backoff,
    })
}

pub fn upstream_traffic_setting(
    object: &Object<'_>,
    reporter: &mut Reporter<'_>,
) -> Option<UpstreamTrafficSetting> {
    let value = &object.value;
    let namespace = object.id.namespace.clone().unwrap_or_default();
    let host = string(value, "/spec/host").unwrap_or_default();
    let destination = service_of_host(&host, &namespace);
    if destination.is_none() {
        reporter
            .error(object, "/spec/host", format!("host {host:?} is not a Service of namespace {namespace:?}"))
            .hint(format!("`api`, `api.{namespace}` or `api.{namespace}.svc.cluster.local`: an UpstreamTrafficSetting lives beside its Service"));
    }
    let limit = |pointer: &str| {
        value
            .pointer(pointer)
            .and_then(Value::as_u64)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    };
    let connect_timeout = duration(
        object,
        reporter,
        "/spec/connectionSettings/tcp/connectTimeout",
    )?;
    let route_rate_limits = route_rate_limits(object, reporter);
    let counted = rate_counts_given(
        object,
        reporter,
        route_rate_limits.as_ref().map_or(0, Vec::len),
    );
    let (Some(route_rate_limits), true) = (route_rate_limits, counted) else {
        return None;
    };
    Some(UpstreamTrafficSetting {
        name: object.id.name.clone(),
        destination: destination?,
        namespace,
        max_requests: limit("/spec/connectionSettings/http/maxRequests"),
        max_pending_requests: limit("/spec/connectionSettings/http/maxPendingRequests"),
        connect_timeout,
        max_connections: limit("/spec/connectionSettings/tcp/maxConnections"),
        max_requests_per_connection: limit(
            "/spec/connectionSettings/http/maxRequestsPerConnection",
        ),
        max_retries: limit("/spec/connectionSettings/http/maxRetries"),
        rate_limit: value
            .pointer("/spec/rateLimit/local/http")
            .map(|http| rate_limit(http, "requests")),
        tcp_rate_limit: value
            .pointer("/spec/rateLimit/local/tcp")
            .map(|tcp| rate_limit(tcp, "connections")),
        route_rate_limits,
        outlier: outlier_detection(object, reporter)?,
    })
}

/// `httpRoutes`' local rate limits; `None` when an entry lacks its path or limit
/// (reported).
fn route_rate_limits(
    object: &Object<'_>,
    reporter: &mut Reporter<'_>,
) -> Option<Vec<RouteRateLimit>> {
    let mut valid = true;
    let mut limits = Vec::new();
    for (index, route) in array(&object.value, "/spec/httpRoutes").iter().enumerate() {
        let (Some(path), Some(local)) = (route["path"].as_str(), route.pointer("/rateLimit/local"))
        else {
            reporter
                .error(
                    object,
                    &format!("/spec/httpRoutes/{index}"),
                    "an httpRoutes entry needs a `path` and a `rateLimit.local`",
                )
                .hint("`{path: /orders/.*, rateLimit: {local: {requests: 10, unit: second}}}`");
            valid = false;
            continue;
        };
        limits.push(RouteRateLimit {
            path: path.to_string(),
            limit: rate_limit(local, "requests"),
        });
    }
    valid.then_some(limits)
}

/// Whether every local rate limit (of the host, its TCP connections, and its `routes`
/// first routes) says how many it lets through per unit (else reported).
fn rate_counts_given(object: &Object<'_>, reporter: &mut Reporter<'_>, routes: usize) -> bool {
    let mut counted = vec![
        ("/spec/rateLimit/local/http".to_string(), "requests"),
        ("/spec/rateLimit/local/tcp".to_string(), "connections"),
    ];
    counted.extend((0..routes).map(|index| {
        (
            format!("/spec/httpRoutes/{index}/rateLimit/local"),
            "requests",
        )
    }));
    let mut valid = true;
    for (pointer, count) in &counted {
        if let Some(local) = object.value.pointer(pointer)
            && local[*count].as_u64().is_none_or(|n| n == 0)
        {
            reporter
                .error(
                    object,
                    pointer,
                    format!("a local rate limit needs `{count}`: how many per `unit`"),
                )
                .hint(format!("`{{{count}: 100, unit: second}}`"));
            valid = false;
        }
    }
    valid
}

/// `outlierDetection`; `Some(None)` when left out, `None` when a duration is invalid
/// (reported).
fn outlier_detection(
    object: &Object<'_>,
    reporter: &mut Reporter<'_>,
) -> Option<Option<OutlierDetection>> {
    let Some(outlier) = object.value.pointer("/spec/outlierDetection") else {
        return Some(None);
    };
    let interval = duration(object, reporter, "/spec/outlierDetection/interval")?;
    let base = duration(object, reporter, "/spec/outlierDetection/baseEjectionTime")?;
    for (pointer, given) in [("interval", interval), ("baseEjectionTime", base)] {
        if given.is_some_and(|d| d.is_zero()) {
            reporter
                .error(
                    object,
                    &format!("/spec/outlierDetection/{pointer}"),
                    format!("{pointer} must be longer than zero"),
                )
                .hint("such as 30s");
            return None;
        }
    }
    let number = |field: &str| outlier[field].as_u64().and_then(|n| u32::try_from(n).ok());
    Some(Some(OutlierDetection {
        consecutive_failures: number("consecutiveFailures").unwrap_or(5),
        interval: interval.unwrap_or(Duration::from_secs(10)),
        base_ejection_time: base.unwrap_or(Duration::from_secs(30)),
        // Envoy's and Istio's default.
        max_ejection_percent: number("maxEjectionPercent").unwrap_or(10),
    }))
}

/// A `rateLimit.local` part, whose count is `count` (`requests`, or `connections` for
/// TCP); its schema has checked every field's type and range.
fn rate_limit(http: &Value, count: &str) -> RateLimit {
    let number = |field: &str| {
        http[field]
            .as_u64()
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
    };
    RateLimit {
        requests: number(count),
        per: RateLimit::unit_length(http["unit"].as_str().unwrap_or_default()),
        burst: number("burst"),
        status: http["responseStatusCode"]
            .as_u64()
            .and_then(|status| u16::try_from(status).ok())
            .unwrap_or(429),
        headers: http["responseHeadersToAdd"]
            .as_array()
            .map(|headers| {
                headers
                    .iter()
                    .map(|h| {
                        let text = |key: &str| h[key].as_str().unwrap_or_default().to_string();
                        (text("name"), text("value"))
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The Service a `host` names in `namespace`: `api`, `api.<namespace>`,
/// `api.<namespace>.svc` or `api.<namespace>.svc.<cluster domain>`.
fn service_of_host(host: &str, namespace: &str) -> Option<String> {
    let mut labels = host.trim_end_matches('.').split('.');
    let service = labels.next().filter(|s| !s.is_empty())?;
    match (labels.next(), labels.next()) {
        (None, _) => Some(service.to_string()),
        (Some(ns), None) if ns == namespace => Some(service.to_string()),
        (Some(ns), Some("svc")) if ns == namespace => Some(service.to_string()),
        _ => None,
    }
}

#[cfg(test)]
#[path = "osm_tests.rs"]
mod tests;
