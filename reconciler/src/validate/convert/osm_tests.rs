//! Reading OSM's Retry and UpstreamTrafficSetting.

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
    let found = diagnostics(&setting(
        "api",
        "  outlierDetection: {consecutiveFailures: 3, baseEjectionTime: 0s}\n",
    ));
    assert!(
        found
            .iter()
            .any(|d| d.starts_with("13: baseEjectionTime must be longer than zero")),
        "{found:#?}"
    );
}

#[test]
fn a_rate_limit_without_its_count_and_a_route_without_a_limit_are_errors() {
    let found = diagnostics(&setting(
        "api",
        "  rateLimit:
    local:
      tcp: {unit: second}
  httpRoutes:
  - path: /orders/.*
",
    ));
    for expected in [
        "15: a local rate limit needs `connections`: how many per `unit`",
        "17: an httpRoutes entry needs a `path` and a `rateLimit.local`",
    ] {
        assert!(
            found.iter().any(|d| d.starts_with(expected)),
            "{expected:?} not in {found:#?}"
        );
    }
}
