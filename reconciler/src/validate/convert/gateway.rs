//! `gateway.networking.k8s.io` HTTPRoute (v1, and v1beta1 read as v1), GRPCRoute (v1) and
//! ReferenceGrant (v1, v1beta1) → model, with every CRD default applied. The schema has
//! already checked types and enums; the CEL rules of the CRDs are checked in `semantic`.

use serde_json::Value;

use super::gateway_checks;
use super::units::parse_duration;
use super::{array, string};
use crate::model::{
    BackendRef, GrpcRoute, GrpcRouteMatch, GrpcRouteRule, HeaderModifier, HttpFilter, HttpRoute,
    HttpRouteMatch, HttpRouteRule, Mirror, ParentService, PathMatch, PathModifier, Redirect,
    ReferenceGrant, Retry, Rewrite, Timeouts, ValueMatch,
};
use crate::validate::report::{Object, Reporter};

/// The route's Service parents. Gateway parents (ingress, not mesh) are left out; a route
/// with none is not mesh configuration, which the caller says.
pub fn parents(object: &Object<'_>) -> Vec<ParentService> {
    let namespace = object.id.namespace.clone().unwrap_or_default();
    array(&object.value, "/spec/parentRefs")
        .iter()
        .enumerate()
        .filter(|(_, parent)| is_service(parent, "gateway.networking.k8s.io", "Gateway"))
        .map(|(position, parent)| ParentService {
            position,
            namespace: string(parent, "/namespace").unwrap_or_else(|| namespace.clone()),
            name: string(parent, "/name").unwrap_or_default(),
            port: port(parent.get("port")),
        })
        .collect()
}

/// Whether a reference names a core Service, given the group and kind it defaults to.
/// `core` is accepted for the core group, as Gateway API's own mesh docs write it.
pub(in crate::validate) fn is_service(
    reference: &Value,
    default_group: &str,
    default_kind: &str,
) -> bool {
    let group = reference
        .get("group")
        .and_then(Value::as_str)
        .unwrap_or(default_group);
    let kind = reference
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or(default_kind);
    matches!(group, "" | "core") && kind == "Service"
}

fn port(value: Option<&Value>) -> Option<u16> {
    value
        .and_then(Value::as_u64)
        .and_then(|port| u16::try_from(port).ok())
}

pub fn http_route(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<HttpRoute> {
    gateway_checks::http_route(object, reporter);
    let namespace = object.id.namespace.clone().unwrap_or_default();
    let value = &object.value;
    let rules = match value.pointer("/spec/rules").and_then(Value::as_array) {
        Some(rules) => rules
            .iter()
            .enumerate()
            .map(|(index, rule)| http_rule(object, index, rule, reporter))
            .collect::<Option<Vec<_>>>()?,
        // The CRD's default: one rule that matches every path and has no backend.
        None => vec![HttpRouteRule {
            name: None,
            matches: vec![every_path()],
            filters: Vec::new(),
            backends: Vec::new(),
            timeouts: Timeouts::default(),
            retry: None,
        }],
    };
    Some(HttpRoute {
        namespace,
        name: object.id.name.clone(),
        parents: parents(object),
        rules,
    })
}

fn every_path() -> HttpRouteMatch {
    HttpRouteMatch {
        path: PathMatch::Prefix("/".into()),
        headers: Vec::new(),
        query_params: Vec::new(),
        method: None,
    }
}

fn http_rule(
    object: &Object<'_>,
    index: usize,
    rule: &Value,
    reporter: &mut Reporter<'_>,
) -> Option<HttpRouteRule> {
    let pointer = format!("/spec/rules/{index}");
    let matches = match rule.get("matches").and_then(Value::as_array) {
        Some(matches) if !matches.is_empty() => matches.iter().map(http_match).collect(),
        _ => vec![every_path()],
    };
    let namespace = object.id.namespace.clone().unwrap_or_default();
    Some(HttpRouteRule {
        name: string(rule, "/name"),
        matches,
        filters: filters(rule.get("filters"), &namespace),
        backends: array(rule, "/backendRefs")
            .iter()
            .map(|backend| backend_ref(backend, &namespace))
            .collect(),
        timeouts: timeouts(object, &pointer, reporter)?,
        retry: retry(object, &pointer, rule, reporter)?,
    })
}

fn http_match(item: &Value) -> HttpRouteMatch {
    let path = match item.get("path") {
        None => PathMatch::Prefix("/".into()),
        Some(path) => {
            let value = string(path, "/value").unwrap_or_else(|| "/".into());
            match path.get("type").and_then(Value::as_str) {
                Some("Exact") => PathMatch::Exact(value),
                Some("RegularExpression") => PathMatch::Regex(value),
                _ => PathMatch::Prefix(value),
            }
        }
    };
    HttpRouteMatch {
        path,
        headers: value_matches(item.get("headers")),
        query_params: value_matches(item.get("queryParams")),
        method: string(item, "/method"),
    }
}

fn value_matches(list: Option<&Value>) -> Vec<ValueMatch> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|item| ValueMatch {
            name: string(item, "/name").unwrap_or_default(),
            value: string(item, "/value").unwrap_or_default(),
            regex: item.get("type").and_then(Value::as_str) == Some("RegularExpression"),
        })
        .collect()
}

/// Rule or backendRef filters, in order. Filter types meshcd does not implement are
/// refused in `semantic`; here they are left out.
fn filters(list: Option<&Value>, namespace: &str) -> Vec<HttpFilter> {
    let mut out = Vec::new();
    for filter in list.and_then(Value::as_array).into_iter().flatten() {
        let converted = match filter.get("type").and_then(Value::as_str) {
            Some("RequestHeaderModifier") => filter
                .get("requestHeaderModifier")
                .map(|m| HttpFilter::RequestHeaders(header_modifier(m))),
            Some("ResponseHeaderModifier") => filter
                .get("responseHeaderModifier")
                .map(|m| HttpFilter::ResponseHeaders(header_modifier(m))),
            Some("RequestRedirect") => filter.get("requestRedirect").map(|r| {
                HttpFilter::Redirect(Redirect {
                    scheme: string(r, "/scheme"),
                    hostname: string(r, "/hostname"),
                    path: r.get("path").and_then(path_modifier),
                    port: port(r.get("port")),
                    status: r
                        .get("statusCode")
                        .and_then(Value::as_u64)
                        .and_then(|code| u16::try_from(code).ok())
                        .unwrap_or(302),
                })
            }),
            Some("URLRewrite") => filter.get("urlRewrite").map(|r| {
                HttpFilter::Rewrite(Rewrite {
                    hostname: string(r, "/hostname"),
                    path: r.get("path").and_then(path_modifier),
                })
            }),
            Some("RequestMirror") => filter.get("requestMirror").map(|m| {
                let (numerator, denominator) = mirror_share(m);
                HttpFilter::Mirror(Mirror {
                    backend: backend_ref(m.get("backendRef").unwrap_or(&Value::Null), namespace),
                    numerator,
                    denominator,
                })
            }),
            _ => None,
        };
        out.extend(converted);
    }
    out
}

fn header_modifier(value: &Value) -> HeaderModifier {
    let pairs = |pointer: &str| {
        array(value, pointer)
            .iter()
            .map(|header| {
                (
                    string(header, "/name").unwrap_or_default(),
                    string(header, "/value").unwrap_or_default(),
                )
            })
            .collect()
    };
    HeaderModifier {
        set: pairs("/set"),
        add: pairs("/add"),
        remove: array(value, "/remove")
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
    }
}

fn path_modifier(value: &Value) -> Option<PathModifier> {
    match value.get("type").and_then(Value::as_str)? {
        "ReplaceFullPath" => Some(PathModifier::Full(string(value, "/replaceFullPath")?)),
        "ReplacePrefixMatch" => Some(PathModifier::Prefix(string(value, "/replacePrefixMatch")?)),
        _ => None,
    }
}

/// `percent`, or `fraction` (denominator 100 by default); every request by default.
fn mirror_share(mirror: &Value) -> (u32, u32) {
    let number = |value: Option<&Value>| {
        value
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
    };
    if let Some(percent) = number(mirror.get("percent")) {
        return (percent, 100);
    }
    if let Some(fraction) = mirror.get("fraction") {
        let numerator = number(fraction.get("numerator")).unwrap_or(0);
        return (
            numerator,
            number(fraction.get("denominator")).unwrap_or(100),
        );
    }
    (100, 100)
}

fn backend_ref(backend: &Value, namespace: &str) -> BackendRef {
    BackendRef {
        namespace: string(backend, "/namespace").unwrap_or_else(|| namespace.to_string()),
        name: string(backend, "/name").unwrap_or_default(),
        port: port(backend.get("port")).unwrap_or(0),
        weight: backend
            .get("weight")
            .and_then(Value::as_u64)
            .and_then(|w| u32::try_from(w).ok())
            .unwrap_or(1),
        filters: filters(backend.get("filters"), namespace),
    }
}

fn timeouts(object: &Object<'_>, pointer: &str, reporter: &mut Reporter<'_>) -> Option<Timeouts> {
    let mut timeouts = Timeouts::default();
    for (field, slot) in [
        ("request", &mut timeouts.request),
        ("backendRequest", &mut timeouts.backend_request),
    ] {
        *slot = duration(object, &format!("{pointer}/timeouts/{field}"), reporter)?;
    }
    Some(timeouts)
}

fn retry(
    object: &Object<'_>,
    pointer: &str,
    rule: &Value,
    reporter: &mut Reporter<'_>,
) -> Option<Option<Retry>> {
    let Some(retry) = rule.get("retry") else {
        return Some(None);
    };
    let backoff = duration(object, &format!("{pointer}/retry/backoff"), reporter)?;
    Some(Some(Retry {
        codes: array(retry, "/codes")
            .iter()
            .filter_map(Value::as_u64)
            .filter_map(|code| u16::try_from(code).ok())
            .collect(),
        attempts: retry
            .get("attempts")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        backoff,
    }))
}

/// A GEP-2257 duration at `pointer` of the object (`None` when absent); `None` overall
/// when it does not parse, reported.
fn duration(
    object: &Object<'_>,
    pointer: &str,
    reporter: &mut Reporter<'_>,
) -> Option<Option<std::time::Duration>> {
    let Some(text) = object.value.pointer(pointer).and_then(Value::as_str) else {
        return Some(None);
    };
    match parse_duration(text) {
        Ok(duration) => Some(Some(duration)),
        Err(message) => {
            reporter
                .error(object, pointer, message)
                .hint("Gateway API durations are 1 to 4 of <number><unit>, units h, m, s, ms: `500ms`, `1m30s`");
            None
        }
    }
}

/// GRPCRoute is read, but refused for now: meshcd does not route by it yet.
pub fn grpc_route(object: &Object<'_>, reporter: &mut Reporter<'_>) -> GrpcRoute {
    gateway_checks::grpc_route(object, reporter);
    let namespace = object.id.namespace.clone().unwrap_or_default();
    let rules = match object
        .value
        .pointer("/spec/rules")
        .and_then(Value::as_array)
    {
        Some(rules) => rules
            .iter()
            .map(|rule| grpc_rule(rule, &namespace))
            .collect(),
        None => vec![GrpcRouteRule {
            name: None,
            matches: vec![every_method()],
            filters: Vec::new(),
            backends: Vec::new(),
        }],
    };
    GrpcRoute {
        namespace,
        name: object.id.name.clone(),
        parents: parents(object),
        rules,
    }
}

fn every_method() -> GrpcRouteMatch {
    GrpcRouteMatch {
        service: None,
        method: None,
        regex: false,
        headers: Vec::new(),
    }
}

fn grpc_rule(rule: &Value, namespace: &str) -> GrpcRouteRule {
    let matches = match rule.get("matches").and_then(Value::as_array) {
        Some(matches) if !matches.is_empty() => matches
            .iter()
            .map(|item| GrpcRouteMatch {
                service: item
                    .pointer("/method/service")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                method: item
                    .pointer("/method/method")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                regex: item.pointer("/method/type").and_then(Value::as_str)
                    == Some("RegularExpression"),
                headers: value_matches(item.get("headers")),
            })
            .collect(),
        _ => vec![every_method()],
    };
    GrpcRouteRule {
        name: string(rule, "/name"),
        matches,
        filters: filters(rule.get("filters"), namespace),
        backends: array(rule, "/backendRefs")
            .iter()
            .map(|backend| backend_ref(backend, namespace))
            .collect(),
    }
}

pub fn reference_grant(object: &Object<'_>) -> ReferenceGrant {
    let value = &object.value;
    ReferenceGrant {
        namespace: object.id.namespace.clone().unwrap_or_default(),
        name: object.id.name.clone(),
        from: array(value, "/spec/from")
            .iter()
            .filter(|from| string(from, "/group").as_deref() == Some("gateway.networking.k8s.io"))
            .map(|from| {
                (
                    string(from, "/kind").unwrap_or_default(),
                    string(from, "/namespace").unwrap_or_default(),
                )
            })
            .collect(),
        to: array(value, "/spec/to")
            .iter()
            .filter(|to| is_service(to, "", ""))
            .map(|to| string(to, "/name"))
            .collect(),
    }
}

#[cfg(test)]
#[path = "gateway_tests.rs"]
mod tests;
