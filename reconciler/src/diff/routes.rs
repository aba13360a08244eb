//! Gateway API routes that HEAD adds, removes or changes, each rule as one line a reviewer
//! reads: its matches and where its requests go, in percent of the rule's weights.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Change, keyed_changes};
use crate::model::{
    Config, GatewayRouteKind, HeaderModifier, HttpFilter, HttpRoute, HttpRouteMatch, HttpRouteRule,
    PathMatch, PathModifier,
};
use crate::validate::convert::units::format_duration;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteChange {
    /// `HTTPRoute` or `GRPCRoute`.
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub change: Change,
    /// The routed Services (`namespace/name`, with `:port` when bound to one port).
    pub parents: Vec<String>,
    /// Rule lines BASE has and HEAD does not.
    pub removed: Vec<String>,
    /// Rule lines HEAD has and BASE does not.
    pub added: Vec<String>,
}

pub fn changes(base: &Config, head: &Config) -> Vec<RouteChange> {
    type Key = (String, GatewayRouteKind, String);
    fn by_key(config: &Config) -> BTreeMap<Key, &HttpRoute> {
        config
            .http_routes
            .iter()
            .map(|r| {
                let key = (
                    r.value.namespace.clone(),
                    r.value.kind,
                    r.value.name.clone(),
                );
                (key, &r.value)
            })
            .collect()
    }
    let (before, after) = (by_key(base), by_key(head));
    let mut out = Vec::new();
    for (key, old, new, change) in keyed_changes(&before, &after, |old, new| old == new) {
        let (old, new) = (old.copied(), new.copied());
        let lines = |route: Option<&HttpRoute>| -> Vec<String> {
            route.map_or_else(Vec::new, |route| {
                route
                    .rules
                    .iter()
                    .enumerate()
                    .map(|(i, rule)| rule_line(i, rule))
                    .collect()
            })
        };
        let (old_lines, new_lines) = (lines(old), lines(new));
        let shown = new.or(old).expect("one side holds the route");
        out.push(RouteChange {
            kind: key.1.as_str(),
            namespace: key.0.clone(),
            name: key.2.clone(),
            change,
            parents: shown
                .parents
                .iter()
                .map(|parent| match parent.port {
                    Some(port) => format!("{}/{}:{port}", parent.namespace, parent.name),
                    None => format!("{}/{}", parent.namespace, parent.name),
                })
                .collect(),
            removed: old_lines
                .iter()
                .filter(|l| !new_lines.contains(l))
                .cloned()
                .collect(),
            added: new_lines
                .iter()
                .filter(|l| !old_lines.contains(l))
                .cloned()
                .collect(),
        });
    }
    out
}

/// `rule v2-paths: PathPrefix /v2 → api-v2 100%`.
fn rule_line(index: usize, rule: &HttpRouteRule) -> String {
    let name = rule.name.clone().unwrap_or_else(|| index.to_string());
    let matches: Vec<String> = rule.matches.iter().map(match_text).collect();
    let total: u64 = rule.backends.iter().map(|b| u64::from(b.weight)).sum();
    let backends: Vec<String> = rule
        .backends
        .iter()
        .map(|backend| {
            let percent = (u64::from(backend.weight) * 100)
                .checked_div(total)
                .unwrap_or(0);
            format!(
                "{}:{} {percent}%{}",
                backend.name,
                backend.port,
                filters_text(&backend.filters)
            )
        })
        .collect();
    let redirects = rule
        .filters
        .iter()
        .any(|filter| matches!(filter, HttpFilter::Redirect(_)));
    let to = if redirects {
        "answered by the proxy".to_string()
    } else if backends.is_empty() || total == 0 {
        "500 (no weighted backend)".to_string()
    } else {
        backends.join(", ")
    };
    let filtered = filters_text(&rule.filters);
    format!(
        "rule {name}: {}{filtered} → {to}{}",
        matches.join(" or "),
        resilience_text(rule)
    )
}

/// ` (timeout 10s, per attempt 2s, retry 500/503 ×2 after 100ms)`, or "" without any.
fn resilience_text(rule: &HttpRouteRule) -> String {
    let mut parts = Vec::new();
    if let Some(timeout) = rule.request_timeout {
        parts.push(format!("timeout {}", format_duration(timeout)));
    }
    if let Some(timeout) = rule.backend_timeout {
        parts.push(format!("per attempt {}", format_duration(timeout)));
    }
    if let Some(retry) = &rule.retry {
        let codes: Vec<String> = retry.codes.iter().map(u16::to_string).collect();
        let on = if codes.is_empty() {
            "on failure".to_string()
        } else {
            codes.join("/")
        };
        let mut text = format!("retry {on} ×{}", retry.attempts);
        if let Some(backoff) = retry.backoff {
            text.push_str(&format!(" after {}", format_duration(backoff)));
        }
        parts.push(text);
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// ` (set x-env: mesh on requests; redirect 301 to host example.org)`, or "" without
/// filters.
fn filters_text(filters: &[HttpFilter]) -> String {
    if filters.is_empty() {
        return String::new();
    }
    let texts: Vec<String> = filters.iter().map(filter_text).collect();
    format!(" ({})", texts.join("; "))
}

/// `set x-env: mesh, remove x-debug on requests`.
fn filter_text(filter: &HttpFilter) -> String {
    let modifier = |modifier: &HeaderModifier, side: &str| {
        let mut parts: Vec<String> = Vec::new();
        parts.extend(modifier.set.iter().map(|(n, v)| format!("set {n}: {v}")));
        parts.extend(modifier.add.iter().map(|(n, v)| format!("add {n}: {v}")));
        parts.extend(modifier.remove.iter().map(|n| format!("remove {n}")));
        format!("{} on {side}", parts.join(", "))
    };
    match filter {
        HttpFilter::RequestHeaders(m) => modifier(m, "requests"),
        HttpFilter::ResponseHeaders(m) => modifier(m, "responses"),
        HttpFilter::Redirect(redirect) => {
            let mut parts = vec![format!("redirect {}", redirect.status)];
            parts.extend(redirect.scheme.as_ref().map(|s| format!("scheme {s}")));
            parts.extend(redirect.hostname.as_ref().map(|h| format!("host {h}")));
            parts.extend(redirect.port.map(|p| format!("port {p}")));
            parts.extend(redirect.path.as_ref().map(path_text));
            parts.join(", ")
        }
        HttpFilter::Mirror(mirror) => format!(
            "mirror {}% to {}/{}:{}",
            (mirror.fraction * 100.0 * 100.0).round() / 100.0,
            mirror.namespace,
            mirror.name,
            mirror.port
        ),
        HttpFilter::Rewrite(rewrite) => {
            let mut parts = vec!["rewrite".to_string()];
            parts.extend(rewrite.hostname.as_ref().map(|h| format!("host {h}")));
            parts.extend(rewrite.path.as_ref().map(path_text));
            parts.join(", ")
        }
    }
}

fn path_text(path: &PathModifier) -> String {
    match path {
        PathModifier::Full(path) => format!("path {path}"),
        PathModifier::Prefix(prefix) => format!("prefix {prefix:?}"),
    }
}

fn match_text(item: &HttpRouteMatch) -> String {
    let mut parts = Vec::new();
    if let Some(grpc) = &item.grpc {
        let op = if grpc.regex { "~" } else { "=" };
        let any = |part: &Option<String>| part.clone().unwrap_or_else(|| "*".into());
        parts.push(format!(
            "method {op} {}/{}",
            any(&grpc.service),
            any(&grpc.method)
        ));
    } else {
        if let Some(method) = &item.method {
            parts.push(method.clone());
        }
        parts.push(match &item.path {
            PathMatch::Exact(path) => format!("path = {path}"),
            PathMatch::Prefix(path) => format!("path {path}*"),
            PathMatch::Regex(path) => format!("path ~ {path}"),
        });
    }
    for header in &item.headers {
        let op = if header.regex { "~" } else { "=" };
        parts.push(format!("header {} {op} {}", header.name, header.value));
    }
    for param in &item.query_params {
        let op = if param.regex { "~" } else { "=" };
        parts.push(format!("query {} {op} {}", param.name, param.value));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use crate::diff::{Change, Options, diff};
    use crate::test_support::config;

    const BASE: &str = "apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: shop}
spec:
  parentRefs: [{group: '', kind: Service, name: api, port: 80}]
  rules:
  - name: v2
    matches: [{path: {type: PathPrefix, value: /v2}}]
    backendRefs: [{name: api-v2, port: 80}]
  - backendRefs: [{name: api-v1, port: 80, weight: 90}, {name: api-v2, port: 80, weight: 10}]
";

    #[test]
    fn a_changed_weight_shows_the_rule_before_and_after_in_percent() {
        let head = BASE
            .replace("weight: 90", "weight: 50")
            .replace("weight: 10}", "weight: 50}");
        let changes = diff(&config(BASE), &config(&head), &Options::default(), None);
        let route = &changes.routes[0];
        assert_eq!(route.change, Change::Changed);
        assert_eq!(route.parents, ["shop/api:80"]);
        assert_eq!(
            route.removed,
            ["rule 1: path /* → api-v1:80 90%, api-v2:80 10%"]
        );
        assert_eq!(
            route.added,
            ["rule 1: path /* → api-v1:80 50%, api-v2:80 50%"]
        );
        assert!(!changes.is_empty());
    }

    #[test]
    fn an_added_route_lists_every_rule_and_an_unchanged_one_nothing() {
        let empty = config("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
        let changes = diff(&empty, &config(BASE), &Options::default(), None);
        assert_eq!(changes.routes[0].change, Change::Added);
        assert_eq!(
            changes.routes[0].added,
            [
                "rule v2: path /v2* → api-v2:80 100%",
                "rule 1: path /* → api-v1:80 90%, api-v2:80 10%"
            ]
        );
        let same = diff(&config(BASE), &config(BASE), &Options::default(), None);
        assert!(same.routes.is_empty());
    }

    #[test]
    fn redirects_rewrites_and_backend_filters_are_spelled_out() {
        let head = BASE.replace(
            "  - name: v2\n    matches: [{path: {type: PathPrefix, value: /v2}}]\n    backendRefs: [{name: api-v2, port: 80}]",
            "  - name: v2
    matches: [{path: {type: PathPrefix, value: /v2}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https, statusCode: 301, path: {type: ReplacePrefixMatch, replacePrefixMatch: /v3}}
  - name: old
    matches: [{path: {type: Exact, value: /old}}]
    filters:
    - type: URLRewrite
      urlRewrite: {hostname: legacy, path: {type: ReplaceFullPath, replaceFullPath: /}}
    backendRefs:
    - name: api-v1
      port: 80
      filters: [{type: RequestHeaderModifier, requestHeaderModifier: {remove: [x-debug]}}]",
        );
        assert_ne!(head, BASE);
        let changes = diff(&config(BASE), &config(&head), &Options::default(), None);
        let route = &changes.routes[0];
        assert_eq!(
            route.added,
            [
                "rule v2: path /v2* (redirect 301, scheme https, prefix \"/v3\") → answered by the proxy",
                "rule old: path = /old (rewrite, host legacy, path /) → api-v1:80 100% (remove x-debug on requests)",
                // An unnamed rule is labelled by its index, which moved.
                "rule 2: path /* → api-v1:80 90%, api-v2:80 10%",
            ]
        );
    }

    #[test]
    fn timeouts_and_retries_are_spelled_out_in_the_gateway_api_duration_form() {
        let head = BASE.replace(
            "    backendRefs: [{name: api-v2, port: 80}]",
            "    backendRefs: [{name: api-v2, port: 80}]
    timeouts: {request: 90s, backendRequest: 1500ms}
    retry: {codes: [502, 503], attempts: 2, backoff: 50ms}",
        );
        let changes = diff(&config(BASE), &config(&head), &Options::default(), None);
        assert_eq!(
            changes.routes[0].added,
            [
                "rule v2: path /v2* → api-v2:80 100% (timeout 1m30s, per attempt 1s500ms, retry 502/503 ×2 after 50ms)"
            ]
        );
    }

    #[test]
    fn a_mirror_shows_its_share_and_target() {
        let head = BASE.replace(
            "    backendRefs: [{name: api-v2, port: 80}]",
            "    filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: audit, port: 8080}, fraction: {numerator: 1, denominator: 3}}
    backendRefs: [{name: api-v2, port: 80}]",
        );
        let changes = diff(&config(BASE), &config(&head), &Options::default(), None);
        assert_eq!(
            changes.routes[0].added,
            ["rule v2: path /v2* (mirror 33.33% to shop/audit:8080) → api-v2:80 100%"]
        );
    }
}
