//! `gateway.networking.k8s.io` HTTPRoute (v1, and v1beta1 read as v1), GRPCRoute (v1, read
//! as the HTTP route of its calls' paths) and ReferenceGrant (v1, v1beta1) → model, with
//! every CRD default applied. Only what meshcd implements is read; `gateway_checks` refuses
//! the rest at its field. The schema has already checked types and enums; the CEL rules of
//! the CRDs are checked in `gateway_checks` and, across documents, in `semantic`.

use std::time::Duration;

use serde_json::Value;

use super::gateway_checks;
use super::units::{parse_duration, port};
use super::{array, string};
use crate::model::{
    BackendRef, GatewayRouteKind, GrpcMethod, HeaderModifier, HttpFilter, HttpRoute,
    HttpRouteMatch, HttpRouteRule, Mirror, ParentService, PathMatch, PathModifier, Redirect,
    ReferenceGrant, Retry, Rewrite, ValueMatch,
};
use crate::validate::GATEWAY_GROUP;
use crate::validate::report::{Object, Reporter};

/// The route's Service parents. Gateway parents (ingress, not mesh) are left out; a route
/// with none is not mesh configuration, which the caller says.
fn parents(object: &Object<'_>) -> Vec<ParentService> {
    let namespace = object.id.namespace.clone().unwrap_or_default();
    array(&object.value, "/spec/parentRefs")
        .iter()
        .enumerate()
        .filter(|(_, parent)| is_service(parent, GATEWAY_GROUP, "Gateway"))
        .map(|(position, parent)| ParentService {
            position,
            namespace: string(parent, "/namespace").unwrap_or_else(|| namespace.clone()),
            name: string(parent, "/name").unwrap_or_default(),
            port: parent.get("port").and_then(port),
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

/// The route, after its field checks (an error among them drops it: see `convert`).
pub fn http_route(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<HttpRoute> {
    gateway_checks::http_route(object, reporter);
    Some(route(object, GatewayRouteKind::Http))
}

/// The GRPCRoute, after its field checks, as the HTTP route it is: each method match
/// a match on the call's path `/service/method`.
pub fn grpc_route(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<HttpRoute> {
    gateway_checks::grpc_route(object, reporter);
    Some(route(object, GatewayRouteKind::Grpc))
}

/// Either kind: their rules have one shape, but for how a match reads (and GRPCRoute's
/// schema has no timeouts or retry, so none is read). No rules is the CRD's default: one
/// rule that matches everything and has no backend.
fn route(object: &Object<'_>, kind: GatewayRouteKind) -> HttpRoute {
    let namespace = object.id.namespace.clone().unwrap_or_default();
    let rules = match object
        .value
        .pointer("/spec/rules")
        .and_then(Value::as_array)
    {
        Some(rules) => rules
            .iter()
            .map(|item| rule(item, &namespace, kind))
            .collect(),
        None => vec![rule(&Value::Null, &namespace, kind)],
    };
    HttpRoute {
        kind,
        namespace,
        name: object.id.name.clone(),
        parents: parents(object),
        rules,
    }
}

/// A rule; one without matches matches everything (the CRD's default).
fn rule(rule: &Value, namespace: &str, kind: GatewayRouteKind) -> HttpRouteRule {
    let read = match kind {
        GatewayRouteKind::Http => http_match,
        GatewayRouteKind::Grpc => grpc_match,
    };
    let matches = match rule.get("matches").and_then(Value::as_array) {
        Some(matches) if !matches.is_empty() => matches.iter().map(read).collect(),
        _ => vec![read(&Value::Null)],
    };
    HttpRouteRule {
        name: string(rule, "/name"),
        matches,
        filters: filters(rule.get("filters"), namespace),
        backends: array(rule, "/backendRefs")
            .iter()
            .map(|backend| backend_ref(backend, namespace))
            .collect(),
        request_timeout: duration(rule, "/timeouts/request"),
        backend_timeout: duration(rule, "/timeouts/backendRequest"),
        retry: rule.get("retry").map(|retry| Retry {
            codes: array(retry, "/codes")
                .iter()
                .filter_map(Value::as_u64)
                .filter_map(|code| u16::try_from(code).ok())
                .collect(),
            attempts: retry
                .get("attempts")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(1),
            backoff: duration(retry, "/backoff"),
        }),
    }
}

/// A GEP-2257 duration (the schema checked its form).
fn duration(value: &Value, pointer: &str) -> Option<Duration> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .and_then(|text| parse_duration(text).ok())
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
        grpc: None,
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

/// The filters of a rule or backendRef, in order, of the types meshcd implements
/// (`gateway_checks` refuses the others).
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
                    port: r.get("port").and_then(port),
                    status: r
                        .get("statusCode")
                        .and_then(Value::as_u64)
                        .and_then(|code| u16::try_from(code).ok())
                        .unwrap_or(302),
                })
            }),
            Some("RequestMirror") => filter
                .get("requestMirror")
                .map(|m| HttpFilter::Mirror(mirror(m, namespace))),
            Some("URLRewrite") => filter.get("urlRewrite").map(|r| {
                HttpFilter::Rewrite(Rewrite {
                    hostname: string(r, "/hostname"),
                    path: r.get("path").and_then(path_modifier),
                })
            }),
            _ => None,
        };
        out.extend(converted);
    }
    out
}

fn mirror(value: &Value, namespace: &str) -> Mirror {
    let backend = value.get("backendRef").unwrap_or(&Value::Null);
    let fraction = if let Some(percent) = value.get("percent").and_then(Value::as_f64) {
        percent / 100.0
    } else if let Some(fraction) = value.get("fraction") {
        let numerator = fraction.get("numerator").and_then(Value::as_f64);
        let denominator = fraction
            .get("denominator")
            .and_then(Value::as_f64)
            .unwrap_or(100.0);
        numerator.map_or(1.0, |n| n / denominator)
    } else {
        1.0
    };
    Mirror {
        namespace: string(backend, "/namespace").unwrap_or_else(|| namespace.to_string()),
        name: string(backend, "/name").unwrap_or_default(),
        port: backend.get("port").and_then(port).unwrap_or(0),
        fraction: fraction.clamp(0.0, 1.0),
    }
}

fn path_modifier(value: &Value) -> Option<PathModifier> {
    match value.get("type").and_then(Value::as_str) {
        Some("ReplaceFullPath") => string(value, "/replaceFullPath").map(PathModifier::Full),
        Some("ReplacePrefixMatch") => {
            string(value, "/replacePrefixMatch").map(PathModifier::Prefix)
        }
        _ => None,
    }
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

fn backend_ref(backend: &Value, namespace: &str) -> BackendRef {
    BackendRef {
        namespace: string(backend, "/namespace").unwrap_or_else(|| namespace.to_string()),
        name: string(backend, "/name").unwrap_or_default(),
        port: backend.get("port").and_then(port).unwrap_or(0),
        weight: backend
            .get("weight")
            .and_then(Value::as_u64)
            .and_then(|w| u32::try_from(w).ok())
            .unwrap_or(1),
        filters: filters(backend.get("filters"), namespace),
    }
}

/// `method: {service, method}` as a path match: Exact with both is the path itself; a
/// service alone is the prefix `/service`; anything else a regex over `/service/method`
/// where what is left out matches any name.
fn grpc_match(item: &Value) -> HttpRouteMatch {
    let method = item.get("method").map(|method| GrpcMethod {
        service: string(method, "/service").filter(|s| !s.is_empty()),
        method: string(method, "/method").filter(|m| !m.is_empty()),
        regex: method.get("type").and_then(Value::as_str) == Some("RegularExpression"),
    });
    let path = match &method {
        None => PathMatch::Prefix("/".into()),
        Some(GrpcMethod {
            service: Some(service),
            method: Some(method),
            regex: false,
        }) => PathMatch::Exact(format!("/{service}/{method}")),
        Some(GrpcMethod {
            service: Some(service),
            method: None,
            regex: false,
        }) => PathMatch::Prefix(format!("/{service}")),
        Some(GrpcMethod {
            service,
            method,
            regex,
        }) => {
            let part = |value: &Option<String>| match value {
                None => "[^/]+".to_string(),
                Some(text) if *regex => text.clone(),
                Some(text) => regex::escape(text),
            };
            PathMatch::Regex(format!("/(?:{})/(?:{})", part(service), part(method)))
        }
    };
    HttpRouteMatch {
        path,
        grpc: method,
        headers: value_matches(item.get("headers")),
        query_params: Vec::new(),
        method: None,
    }
}

pub fn reference_grant(object: &Object<'_>) -> ReferenceGrant {
    let value = &object.value;
    ReferenceGrant {
        namespace: object.id.namespace.clone().unwrap_or_default(),
        name: object.id.name.clone(),
        from: array(value, "/spec/from")
            .iter()
            .filter(|from| string(from, "/group").as_deref() == Some(GATEWAY_GROUP))
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
