//! What one caller's proxy does to its own calls, per destination Service: the Faults
//! that name its identity or every caller, the OSM Retry policies of its identity, and the
//! UpstreamTrafficSettings' limits (every caller's).

use meshcd_schemas::proto;
use std::collections::BTreeMap;

use super::access::group_matches;
use super::routes::millis;
use crate::model::{Config, Fault, Identity, RateLimit, RetryPolicy, UpstreamTrafficSetting};

/// The policies on `caller`'s calls, sorted by destination.
pub fn client_policies(config: &Config, caller: &Identity) -> Vec<proto::ClientPolicy> {
    let mut policies: BTreeMap<(String, String), proto::ClientPolicy> = BTreeMap::new();
    fn entry<'p>(
        policies: &'p mut BTreeMap<(String, String), proto::ClientPolicy>,
        namespace: &str,
        service: &str,
    ) -> &'p mut proto::ClientPolicy {
        policies
            .entry((namespace.to_string(), service.to_string()))
            .or_insert_with(|| proto::ClientPolicy {
                namespace: namespace.to_string(),
                service: service.to_string(),
                ..proto::ClientPolicy::default()
            })
    }
    for fault in config.faults.iter().map(|fault| &fault.value) {
        if fault.applies_to(caller) {
            entry(&mut policies, &fault.namespace, &fault.destination).fault =
                Some(fault_message(config, fault));
        }
    }
    // An UpstreamTrafficSetting binds every caller.
    for setting in config.upstream_settings.iter().map(|s| &s.value) {
        entry(&mut policies, &setting.namespace, &setting.destination).limits =
            Some(limits_message(setting));
    }
    for retry in config.retries.iter().map(|retry| &retry.value) {
        if &retry.source != caller {
            continue;
        }
        for (namespace, service) in &retry.destinations {
            // Validation keeps one Retry per (source, destination).
            entry(&mut policies, namespace, service).retry = Some(retry_message(retry));
        }
    }
    policies.into_values().collect()
}

/// The local rate limits of the Services `workload` serves, as its proxy keeps them.
pub fn rate_limits(
    config: &Config,
    workload: &crate::inventory::Workload,
) -> Vec<proto::RateLimit> {
    let mut limits = Vec::new();
    for setting in config
        .upstream_settings
        .iter()
        .map(|setting| &setting.value)
    {
        if setting.namespace != workload.identity.namespace
            || !workload.services.contains(&setting.destination)
        {
            continue;
        }
        let message =
            |limit: &RateLimit, scope: proto::RateLimitScope, path: &str| proto::RateLimit {
                service: setting.destination.clone(),
                setting: format!("{}/{}", setting.namespace, setting.name),
                requests: limit.requests,
                fill_interval_ms: millis(limit.per),
                burst: limit.burst,
                status: u32::from(limit.status),
                headers: limit
                    .headers
                    .iter()
                    .map(|(name, value)| proto::Header {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect(),
                scope: scope.into(),
                path_regex: path.to_string(),
            };
        if let Some(limit) = &setting.rate_limit {
            limits.push(message(limit, proto::RateLimitScope::Http, ""));
        }
        if let Some(limit) = &setting.tcp_rate_limit {
            limits.push(message(limit, proto::RateLimitScope::Tcp, ""));
        }
        for route in &setting.route_rate_limits {
            limits.push(message(
                &route.limit,
                proto::RateLimitScope::Route,
                &route.path,
            ));
        }
    }
    limits
}

fn limits_message(setting: &UpstreamTrafficSetting) -> proto::Limits {
    proto::Limits {
        name: format!("{}/{}", setting.namespace, setting.name),
        max_requests: setting.max_requests,
        max_pending_requests: setting.max_pending_requests,
        connect_timeout_ms: setting.connect_timeout.map_or(0, millis),
        max_connections: setting.max_connections,
        max_requests_per_connection: setting.max_requests_per_connection,
        max_retries: setting.max_retries,
        outlier: setting.outlier.as_ref().map(|outlier| proto::Outlier {
            consecutive_failures: outlier.consecutive_failures,
            interval_ms: millis(outlier.interval),
            base_ejection_ms: millis(outlier.base_ejection_time),
            max_ejection_percent: outlier.max_ejection_percent,
        }),
    }
}

/// The Fault's message; its routes become the matches of the HTTPRouteGroups they name.
fn fault_message(config: &Config, fault: &Fault) -> proto::Fault {
    let matches = fault
        .routes
        .iter()
        .flat_map(|rule| {
            let group = (fault.namespace.as_str(), rule.name.as_str());
            group_matches(config, group, rule.matches.as_ref())
        })
        .collect();
    proto::Fault {
        matches,
        name: format!("{}/{}", fault.namespace, fault.name),
        abort_fraction: fault.abort.as_ref().map_or(0.0, |a| a.percent / 100.0),
        abort_status: fault.abort.as_ref().map_or(0, |a| u32::from(a.status)),
        delay_fraction: fault.delay.as_ref().map_or(0.0, |d| d.percent / 100.0),
        delay_ms: fault.delay.as_ref().map_or(0, |d| millis(d.duration)),
    }
}

/// OSM's back-off: the base interval, doubling, up to ten times it.
fn retry_message(retry: &RetryPolicy) -> proto::RetryPolicy {
    let (codes, connection_failures) = retry.conditions();
    proto::RetryPolicy {
        codes: codes.into_iter().map(u32::from).collect(),
        attempts: retry.attempts,
        backoff_ms: Some(millis(retry.backoff)),
        per_try_timeout_ms: millis(retry.per_try_timeout),
        max_backoff_ms: millis(retry.backoff.saturating_mul(10)),
        status_only: !connection_failures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{config, diagnostics};

    /// A Mesh that allows faults (or not), and a Fault on `api` for `frontend`'s calls.
    fn repo(allowed: bool, fault: &str) -> String {
        format!(
            "apiVersion: meshcd.dev/v1alpha1
kind: Mesh
metadata: {{name: meshcd}}
spec: {{faultInjection: {}}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: shop}}
---
{fault}",
            if allowed { "allowed" } else { "denied" }
        )
    }

    const FAULT: &str = "apiVersion: meshcd.dev/v1alpha1
kind: Fault
metadata: {name: chaos, namespace: shop}
spec:
  destination: {kind: Service, name: api}
  sources: [{kind: ServiceAccount, name: frontend}]
  abort: {percent: 50, httpStatus: 503}
  delay: {percent: 12.5, fixedDelay: 200ms}
";

    fn identity(service_account: &str) -> Identity {
        Identity {
            namespace: "shop".into(),
            service_account: service_account.into(),
        }
    }

    #[test]
    fn a_fault_reaches_the_callers_it_names_and_no_one_else() {
        let config = config(&repo(true, FAULT));
        let policies = client_policies(&config, &identity("frontend"));
        assert_eq!(
            policies,
            [proto::ClientPolicy {
                namespace: "shop".into(),
                service: "api".into(),
                fault: Some(proto::Fault {
                    name: "shop/chaos".into(),
                    abort_fraction: 0.5,
                    abort_status: 503,
                    delay_fraction: 0.125,
                    delay_ms: 200,
                    matches: Vec::new(),
                }),
                retry: None,
                limits: None,
            }]
        );
        assert!(client_policies(&config, &identity("batch")).is_empty());
        let everyone = config_of_all_callers();
        assert_eq!(client_policies(&everyone, &identity("batch")).len(), 1);
    }

    fn config_of_all_callers() -> Config {
        config(&repo(
            true,
            &FAULT.replace("  sources: [{kind: ServiceAccount, name: frontend}]\n", ""),
        ))
    }

    #[test]
    fn faults_are_refused_unless_the_mesh_allows_them() {
        let found = diagnostics(&repo(false, FAULT));
        assert!(
            found.iter().any(|d| d.starts_with(
                "11: fault injection is not allowed in this mesh: the Fault would break calls on purpose"
            )),
            "{found:#?}"
        );
    }

    #[test]
    fn a_fault_that_injects_nothing_and_a_second_fault_on_one_service_are_errors() {
        let empty = FAULT
            .replace("  abort: {percent: 50, httpStatus: 503}\n", "")
            .replace("  delay: {percent: 12.5, fixedDelay: 200ms}\n", "");
        let found = diagnostics(&repo(true, &empty));
        assert!(
            found
                .iter()
                .any(|d| d.contains("the Fault injects nothing: give `abort`, `delay` or both")),
            "{found:#?}"
        );
        let twice = format!("{FAULT}---\n{}", FAULT.replace("name: chaos", "name: more"));
        let found = diagnostics(&repo(true, &twice));
        assert!(
            found
                .iter()
                .any(|d| d
                    .starts_with("23: Service shop/api already has Fault chaos (repo.yaml:10)")),
            "{found:#?}"
        );
    }

    const SETTING: &str = "apiVersion: policy.openservicemesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: {name: api-limits, namespace: shop}
spec:
  host: api
  connectionSettings:
    tcp: {maxConnections: 8}
    http: {maxRequestsPerConnection: 100, maxRetries: 2}
  rateLimit:
    local:
      tcp: {connections: 10, unit: minute}
  httpRoutes:
  - path: /orders/.*
    rateLimit: {local: {requests: 5, unit: second}}
  outlierDetection: {consecutiveFailures: 3, baseEjectionTime: 2s, maxEjectionPercent: 50}
";

    #[test]
    fn a_settings_limits_reach_every_caller_and_its_rate_limits_the_serving_workloads() {
        let config = config(&repo(true, SETTING));
        let limits = client_policies(&config, &identity("batch"))[0]
            .limits
            .clone()
            .unwrap();
        assert_eq!(
            (
                limits.max_connections,
                limits.max_requests_per_connection,
                limits.max_retries
            ),
            (Some(8), Some(100), Some(2))
        );
        assert_eq!(
            limits.outlier,
            Some(proto::Outlier {
                consecutive_failures: 3,
                interval_ms: 10_000,
                base_ejection_ms: 2_000,
                max_ejection_percent: 50,
            })
        );
        let workload = crate::inventory::Workload {
            id: "api-1".into(),
            identity: identity("api"),
            services: vec!["api".into()],
            ports: Vec::new(),
            inbound_address: "127.0.0.1:1".into(),
        };
        let limits = rate_limits(&config, &workload);
        let scopes: Vec<_> = limits
            .iter()
            .map(|l| {
                (
                    l.scope(),
                    l.requests,
                    l.fill_interval_ms,
                    l.path_regex.as_str(),
                )
            })
            .collect();
        assert_eq!(
            scopes,
            [
                (proto::RateLimitScope::Tcp, 10, 60_000, ""),
                (proto::RateLimitScope::Route, 5, 1_000, "/orders/.*"),
            ]
        );
    }

    #[test]
    fn a_fault_on_routes_carries_their_matches_and_names_only_groups_that_exist() {
        let routes = "---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: api-routes, namespace: shop}
spec:
  matches:
  - {name: orders, pathRegex: /orders/.*, methods: [POST]}
  - {name: cart, pathRegex: /cart}
";
        let scoped = FAULT.replace(
            "  abort:",
            "  routes: [{kind: HTTPRouteGroup, name: api-routes, matches: [orders]}]\n  abort:",
        );
        let config = config(&repo(true, &format!("{scoped}{routes}")));
        let fault = client_policies(&config, &identity("frontend"))[0]
            .fault
            .clone()
            .unwrap();
        let names: Vec<_> = fault.matches.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["api-routes/orders"]);
        let found = diagnostics(&repo(true, &scoped));
        assert!(
            found.iter().any(|d| d.starts_with(
                "16: the Fault names HTTPRouteGroup \"api-routes\", which does not exist in namespace \"shop\""
            )),
            "{found:#?}"
        );
        let unknown = scoped.replace("matches: [orders]", "matches: [refunds]");
        let found = diagnostics(&repo(true, &format!("{unknown}{routes}")));
        assert!(
            found
                .iter()
                .any(|d| d.contains("HTTPRouteGroup \"api-routes\" has no match named \"refunds\"")),
            "{found:#?}"
        );
    }

    #[test]
    fn a_new_fault_is_a_risk_in_the_diff() {
        let base = config(&repo(true, ""));
        let head = config(&repo(true, FAULT));
        let changes = crate::diff::diff(&base, &head, &crate::diff::Options::default(), None);
        let warning = changes
            .warnings
            .0
            .iter()
            .find(|w| w.message.contains("Fault"))
            .expect("a warning");
        assert_eq!(
            warning.message,
            "a new Fault: 50% aborted with 503, 12.5% delayed 200ms of calls to shop/api from shop/frontend"
        );
        assert_eq!(warning.line, 10);
    }
}
