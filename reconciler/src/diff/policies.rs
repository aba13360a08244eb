//! Policies on calls that HEAD adds, removes or changes (OSM Retry and
//! UpstreamTrafficSetting, meshcd Fault), each setting by its field as the repository
//! writes it, before and after.
//!
//! Each kind lists its settings once, as (field, value) pairs; the change is those lists
//! compared, so a field the model gains is one line of its kind's list here.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Change, keyed_changes};
use crate::model::{Config, Fault, Identity, RetryPolicy, RootRole, UpstreamTrafficSetting};
use crate::validate::convert::units::format_duration;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyChange {
    /// `Retry`, `UpstreamTrafficSetting`, `Fault` or `MeshRootCertificate`.
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub change: Change,
    /// The calls it applies to, callers → Services, in one line (HEAD's when it exists):
    /// `shop/frontend → shop/api, shop/db`, `every caller → shop/api`.
    pub target: String,
    /// The settings that differ; every setting of an added or removed policy.
    pub settings: Vec<SettingChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingChange {
    /// The field below `spec`, as the repository writes it
    /// (`connectionSettings.http.maxRequests`).
    pub setting: String,
    /// `None` when that side does not set it.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// One setting of a policy: (field below `spec`, value). A kind lists its settings in one
/// order, leaving out the fields not set.
type Setting = (&'static str, String);

/// What the diff knows of one policy.
struct Listed {
    target: String,
    settings: Vec<Setting>,
}

pub fn changes(base: &Config, head: &Config) -> Vec<PolicyChange> {
    let (before, after) = (listed(base), listed(head));
    keyed_changes(&before, &after, |old, new| old.settings == new.settings)
        .into_iter()
        .map(|((namespace, kind, name), old, new, change)| {
            let shown = new.or(old).expect("one side holds the policy");
            PolicyChange {
                kind,
                namespace: namespace.clone(),
                name: name.clone(),
                change,
                target: shown.target.clone(),
                settings: setting_changes(settings_of(old), settings_of(new)),
            }
        })
        .collect()
}

/// Every policy of `config` by (namespace, kind, name).
fn listed(config: &Config) -> BTreeMap<(String, &'static str, String), Listed> {
    let retries = config.retries.iter().map(|retry| {
        let retry = &retry.value;
        let target = format!(
            "{} → {}",
            identity(&retry.source),
            services(&retry.destinations)
        );
        let key = (retry.namespace.clone(), "Retry", retry.name.clone());
        (key, target, retry_settings(retry))
    });
    let upstream = config.upstream_settings.iter().map(|setting| {
        let setting = &setting.value;
        let target = format!(
            "every caller → {}/{}",
            setting.namespace, setting.destination
        );
        let kind = "UpstreamTrafficSetting";
        let key = (setting.namespace.clone(), kind, setting.name.clone());
        (key, target, uts_settings(setting))
    });
    let faults = config.faults.iter().map(|fault| {
        let fault = &fault.value;
        let target = format!(
            "{} → {}/{}",
            callers(&fault.sources),
            fault.namespace,
            fault.destination
        );
        let key = (fault.namespace.clone(), "Fault", fault.name.clone());
        (key, target, fault_settings(fault))
    });
    // A root of trust reads as a policy on every proxy: its role, and its CA.
    let roots = config.roots.iter().map(|root| {
        let root = &root.value;
        let kind = "MeshRootCertificate";
        let key = (root.namespace.clone(), kind, root.name.clone());
        let role = match root.role {
            RootRole::Active => "active (issues workload certificates, trusted)",
            RootRole::Passive => "passive (trusted only)",
            RootRole::Inactive => "inactive (not trusted)",
        };
        let settings = vec![
            ("role", role.to_string()),
            ("provider", root.source.describe()),
        ];
        (key, "every proxy's trust".to_string(), settings)
    });
    retries
        .chain(upstream)
        .chain(faults)
        .chain(roots)
        .map(|(key, target, settings)| (key, Listed { target, settings }))
        .collect()
}

/// The settings of one side; none when it lacks the policy.
fn settings_of(listed: Option<&Listed>) -> &[Setting] {
    listed.map(|l| l.settings.as_slice()).unwrap_or_default()
}

/// The settings of each side merged in their kind's order, those that differ.
fn setting_changes(before: &[Setting], after: &[Setting]) -> Vec<SettingChange> {
    // Both lists follow one order; a field only BASE sets goes after its predecessor there.
    let mut fields: Vec<&'static str> = after.iter().map(|(field, _)| *field).collect();
    for (index, (field, _)) in before.iter().enumerate() {
        if !fields.contains(field) {
            let at = index
                .checked_sub(1)
                .and_then(|previous| fields.iter().position(|f| *f == before[previous].0))
                .map_or(0, |position| position + 1);
            fields.insert(at, field);
        }
    }
    let value = |settings: &[Setting], field: &str| {
        settings
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, value)| value.clone())
    };
    fields
        .into_iter()
        .map(|field| SettingChange {
            setting: field.into(),
            before: value(before, field),
            after: value(after, field),
        })
        .filter(|setting| setting.before != setting.after)
        .collect()
}

/// An OSM Retry's settings.
fn retry_settings(retry: &RetryPolicy) -> Vec<Setting> {
    vec![
        ("source", identity(&retry.source)),
        ("destinations", services(&retry.destinations)),
        ("retryPolicy.retryOn", retry.retry_on.join(", ")),
        ("retryPolicy.numRetries", retry.attempts.to_string()),
        (
            "retryPolicy.perTryTimeout",
            format_duration(retry.per_try_timeout),
        ),
        (
            "retryPolicy.retryBackoffBaseInterval",
            format_duration(retry.backoff),
        ),
    ]
}

/// An OSM UpstreamTrafficSetting's settings, in the order OSM's CRD writes them: a field
/// meshcd comes to keep (`connectionSettings.tcp.maxConnections`, `outlierDetection.…`)
/// is one `set` here, a list one line with its items joined.
fn uts_settings(setting: &UpstreamTrafficSetting) -> Vec<Setting> {
    let mut settings = vec![("host", setting.destination.clone())];
    let mut set = |field, value: Option<String>| settings.extend(value.map(|v| (field, v)));
    set(
        "connectionSettings.tcp.connectTimeout",
        setting.connect_timeout.map(format_duration),
    );
    set(
        "connectionSettings.tcp.maxConnections",
        setting.max_connections.map(|n| n.to_string()),
    );
    set(
        "connectionSettings.http.maxRequests",
        setting.max_requests.map(|n| n.to_string()),
    );
    set(
        "connectionSettings.http.maxRequestsPerConnection",
        setting.max_requests_per_connection.map(|n| n.to_string()),
    );
    set(
        "connectionSettings.http.maxPendingRequests",
        setting.max_pending_requests.map(|n| n.to_string()),
    );
    set(
        "connectionSettings.http.maxRetries",
        setting.max_retries.map(|n| n.to_string()),
    );
    if let Some(limit) = &setting.rate_limit {
        settings.extend(http_rate_limit(limit));
    }
    let mut set = |field, value: Option<String>| settings.extend(value.map(|v| (field, v)));
    set(
        "rateLimit.local.tcp",
        setting
            .tcp_rate_limit
            .as_ref()
            .map(|limit| rate(limit, "connections")),
    );
    let routes: Vec<String> = setting
        .route_rate_limits
        .iter()
        .map(|route| {
            let limit = &route.limit;
            format!(
                "{}: {}, status {}",
                route.path,
                rate(limit, "requests"),
                limit.status
            )
        })
        .collect();
    set(
        "httpRoutes",
        (!routes.is_empty()).then(|| routes.join("; ")),
    );
    set(
        "outlierDetection",
        setting.outlier.as_ref().map(|outlier| {
            format!(
                "{} failures in a row eject for {} (longer each time, forgotten one per {}), at most {}% out",
                outlier.consecutive_failures,
                format_duration(outlier.base_ejection_time),
                format_duration(outlier.interval),
                outlier.max_ejection_percent
            )
        }),
    );
    settings
}

/// `rateLimit.local.http`, field by field.
fn http_rate_limit(limit: &crate::model::RateLimit) -> Vec<Setting> {
    let mut settings = Vec::new();
    let mut set = |field, value: Option<String>| settings.extend(value.map(|v| (field, v)));
    let headers: Vec<String> = limit
        .headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect();
    set(
        "rateLimit.local.http.requests",
        Some(limit.requests.to_string()),
    );
    set("rateLimit.local.http.unit", Some(limit.unit().into()));
    set("rateLimit.local.http.burst", Some(limit.burst.to_string()));
    set(
        "rateLimit.local.http.responseStatusCode",
        Some(limit.status.to_string()),
    );
    set(
        "rateLimit.local.http.responseHeadersToAdd",
        (!headers.is_empty()).then(|| headers.join(", ")),
    );
    settings
}

/// `10 connections per minute, burst 2`.
fn rate(limit: &crate::model::RateLimit, what: &str) -> String {
    format!(
        "{} {what} per {}, burst {}",
        limit.requests,
        format_duration(limit.per),
        limit.burst
    )
}

/// A meshcd Fault's settings.
fn fault_settings(fault: &Fault) -> Vec<Setting> {
    let mut settings = vec![("destination", fault.destination.clone())];
    if !fault.sources.is_empty() {
        settings.push(("sources", callers(&fault.sources)));
    }
    if !fault.routes.is_empty() {
        let routes: Vec<String> = fault
            .routes
            .iter()
            .map(|rule| match &rule.matches {
                Some(names) => format!("{} ({})", rule.name, names.join(", ")),
                None => rule.name.clone(),
            })
            .collect();
        settings.push(("routes", routes.join(", ")));
    }
    if let Some(abort) = &fault.abort {
        settings.push(("abort.percent", abort.percent.to_string()));
        settings.push(("abort.httpStatus", abort.status.to_string()));
    }
    if let Some(delay) = &fault.delay {
        settings.push(("delay.percent", delay.percent.to_string()));
        settings.push(("delay.fixedDelay", format_duration(delay.duration)));
    }
    settings
}

fn identity(identity: &Identity) -> String {
    format!("{}/{}", identity.namespace, identity.service_account)
}

/// `shop/frontend, shop/admin`, or `every caller` for none.
fn callers(sources: &[Identity]) -> String {
    if sources.is_empty() {
        return "every caller".into();
    }
    sources.iter().map(identity).collect::<Vec<_>>().join(", ")
}

/// `shop/api, shop/db`.
fn services(services: &[(String, String)]) -> String {
    let names: Vec<String> = services
        .iter()
        .map(|(namespace, name)| format!("{namespace}/{name}"))
        .collect();
    names.join(", ")
}

#[cfg(test)]
#[path = "policies_tests.rs"]
mod tests;
