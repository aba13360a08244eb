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
    let route_rate_limits = array(value, "/spec/httpRoutes")
        .iter()
        .filter_map(|route| {
            Some(RouteRateLimit {
                path: route["path"].as_str()?.to_string(),
                limit: rate_limit(route.pointer("/rateLimit/local")?, "requests"),
            })
        })
        .collect();
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
    let number = |field: &str| outlier[field].as_u64().and_then(|n| u32::try_from(n).ok());
    Some(Some(OutlierDetection {
        consecutive_failures: number("consecutiveFailures").unwrap_or(5),
        interval: interval.unwrap_or(Duration::from_secs(10)),
        base_ejection_time: base.unwrap_or(Duration::from_secs(30)),
        max_ejection_percent: number("maxEjectionPercent").unwrap_or(100),
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
        per: Duration::from_secs(match http["unit"].as_str() {
            Some("minute") => 60,
            Some("hour") => 3600,
            _ => 1,
        }),
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
mod tests {
    use crate::model::Identity;
    use crate::test_support::{config, diagnostics};

    fn retry(retry_on: &str, source_kind: &str) -> String {
        format!(
            "apiVersion: v1
kind: Namespace
metadata: {{name: shop}}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: Retry
metadata: {{name: retry, namespace: shop}}
spec:
  source: {{kind: {source_kind}, name: frontend, namespace: shop}}
  destinations:
  - {{kind: Service, name: api, namespace: shop}}
  retryPolicy:
    retryOn: \"{retry_on}\"
    perTryTimeout: 1s
    numRetries: 3
    retryBackoffBaseInterval: 100ms
"
        )
    }

    #[test]
    fn an_osm_retry_is_read_with_envoys_meaning_of_retry_on() {
        let config = config(&retry("gateway-error, 409", "ServiceAccount"));
        let retry = &config.retries[0].value;
        assert_eq!(
            retry.source,
            Identity {
                namespace: "shop".into(),
                service_account: "frontend".into()
            }
        );
        assert_eq!(
            retry.destinations,
            [("shop".to_string(), "api".to_string())]
        );
        let (codes, connection_failures) = retry.conditions();
        assert_eq!(codes, [409, 502, 503, 504]);
        assert!(connection_failures);
        assert_eq!(retry.attempts, 3);
        assert_eq!(retry.per_try_timeout, std::time::Duration::from_secs(1));
        let statuses_only = config_of("retriable-4xx,503");
        let (codes, connection_failures) = statuses_only.conditions();
        assert!(!connection_failures);
        assert_eq!(codes, [409, 503]);
    }

    fn config_of(retry_on: &str) -> crate::model::RetryPolicy {
        config(&retry(retry_on, "ServiceAccount")).retries[0]
            .value
            .clone()
    }

    #[test]
    fn an_unknown_retry_condition_and_a_source_that_is_no_service_account_are_errors() {
        let found = diagnostics(&retry("5xx,sometimes", "Deployment"));
        for expected in [
            "9: a Retry's source is a ServiceAccount",
            "13: retryOn \"sometimes\" is not a retry condition meshcd knows",
        ] {
            assert!(
                found.iter().any(|d| d.starts_with(expected)),
                "{expected:?} not in {found:#?}"
            );
        }
    }

    fn setting(host: &str, extra: &str) -> String {
        format!(
            "apiVersion: v1
kind: Namespace
metadata: {{name: shop}}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: {{name: api-limits, namespace: shop}}
spec:
  host: {host}
  connectionSettings:
    tcp: {{connectTimeout: 250ms}}
    http: {{maxRequests: 100, maxPendingRequests: 10}}
{extra}"
        )
    }

    #[test]
    fn an_upstream_traffic_setting_names_a_service_of_its_namespace() {
        for host in [
            "api",
            "api.shop",
            "api.shop.svc",
            "api.shop.svc.cluster.local",
        ] {
            let config = config(&setting(host, ""));
            let setting = &config.upstream_settings[0].value;
            assert_eq!(setting.destination, "api", "{host}");
            assert_eq!(setting.max_requests, Some(100));
            assert_eq!(setting.max_pending_requests, Some(10));
            assert_eq!(
                setting.connect_timeout,
                Some(std::time::Duration::from_millis(250))
            );
        }
        let limited = config(&setting(
            "api",
            "  rateLimit:\n    local:\n      http: {requests: 10, unit: minute, burst: 5}\n",
        ));
        let limit = limited.upstream_settings[0]
            .value
            .rate_limit
            .clone()
            .unwrap();
        assert_eq!(
            (
                limit.requests,
                limit.per.as_secs(),
                limit.burst,
                limit.status
            ),
            (10, 60, 5, 429)
        );
        let found = diagnostics(&setting("api.other.svc.cluster.local", ""));
        assert!(
            found.iter().any(|d| d.starts_with(
                "9: host \"api.other.svc.cluster.local\" is not a Service of namespace \"shop\""
            )),
            "{found:#?}"
        );
    }

    #[test]
    fn connection_limits_rate_limits_and_outlier_detection_are_read() {
        let config = config(&setting(
            "api",
            "  rateLimit:
    local:
      tcp: {connections: 10, unit: minute, burst: 2}
  httpRoutes:
  - path: /orders/.*
    rateLimit:
      local: {requests: 5, unit: second, responseStatusCode: 503}
  outlierDetection:
    consecutiveFailures: 3
    baseEjectionTime: 2s
    maxEjectionPercent: 50
",
        ));
        let read = &config.upstream_settings[0].value;
        let tcp = read.tcp_rate_limit.as_ref().unwrap();
        assert_eq!((tcp.requests, tcp.per.as_secs(), tcp.burst), (10, 60, 2));
        let route = &read.route_rate_limits[0];
        assert_eq!(route.path, "/orders/.*");
        assert_eq!((route.limit.requests, route.limit.status), (5, 503));
        assert_eq!(
            read.outlier,
            Some(crate::model::OutlierDetection {
                consecutive_failures: 3,
                interval: std::time::Duration::from_secs(10),
                base_ejection_time: std::time::Duration::from_secs(2),
                max_ejection_percent: 50,
            })
        );
        let found = diagnostics(&setting(
            "api",
            "  outlierDetection: {consecutiveFailures: 3, baseEjectionTime: soon}\n",
        ));
        assert!(
            found
                .iter()
                .any(|d| d.starts_with("13: ") && d.contains("soon")),
            "{found:#?}"
        );
    }
}
