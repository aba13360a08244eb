//! Gateway API routes of the mesh as the bodies of the version the cluster serves. Every
//! served version (HTTPRoute v1beta1 and v1, GRPCRoute v1, ReferenceGrant v1beta1 and v1)
//! has the same fields, so the body is the model written out in full: every default
//! spelled, nothing meshcd did not read.

use serde_json::{Map, Value, json};

use super::{ConversionError, Kind, ObjectKey, check_version};
use crate::model::{
    BackendRef, Config, GatewayRouteKind, HeaderModifier, HttpFilter, HttpRoute, HttpRouteMatch,
    HttpRouteRule, PathMatch, PathModifier, ReferenceGrant, ValueMatch,
};
use crate::validate::convert::units::format_duration;

/// Gives `add` every ReferenceGrant and route of `config`, with its converter.
pub(super) fn add_objects(
    config: &Config,
    add: &mut impl FnMut(ObjectKey, &dyn Fn(&str) -> Result<Value, ConversionError>),
) {
    let key = ObjectKey::namespaced;
    for grant in &config.reference_grants {
        let grant = &grant.value;
        add(
            key(Kind::ReferenceGrant, &grant.namespace, &grant.name),
            &|version| reference_grant(grant, version),
        );
    }
    for route in &config.http_routes {
        let route = &route.value;
        add(
            key(route_kind(route), &route.namespace, &route.name),
            &|version| self::route(route, version),
        );
    }
}

/// An HTTPRoute or GRPCRoute (by `route.kind`).
pub fn route(route: &HttpRoute, version: &str) -> Result<Value, ConversionError> {
    let kind = route_kind(route);
    check_version(kind, version)?;
    let parents: Vec<Value> = route
        .parents
        .iter()
        .map(|parent| {
            service_ref(
                &parent.namespace,
                &parent.name,
                parent.port,
                &route.namespace,
            )
        })
        .collect();
    let rules: Vec<Value> = route
        .rules
        .iter()
        .map(|rule| route_rule(route, rule))
        .collect();
    Ok(json!({ "spec": { "parentRefs": parents, "rules": rules } }))
}

/// The kind a route is applied as.
pub fn route_kind(route: &HttpRoute) -> Kind {
    match route.kind {
        GatewayRouteKind::Http => Kind::HttpRoute,
        GatewayRouteKind::Grpc => Kind::GrpcRoute,
    }
}

fn route_rule(route: &HttpRoute, rule: &HttpRouteRule) -> Value {
    let mut value = Map::new();
    if let Some(name) = &rule.name {
        value.insert("name".into(), json!(name));
    }
    let matches: Vec<Value> = rule
        .matches
        .iter()
        .map(|item| match route.kind {
            GatewayRouteKind::Http => http_match(item),
            GatewayRouteKind::Grpc => grpc_match(item),
        })
        .collect();
    value.insert("matches".into(), json!(matches));
    if !rule.filters.is_empty() {
        value.insert("filters".into(), filters(&rule.filters, &route.namespace));
    }
    let backends: Vec<Value> = rule
        .backends
        .iter()
        .map(|backend| backend_ref(backend, &route.namespace))
        .collect();
    value.insert("backendRefs".into(), json!(backends));
    let mut timeouts = Map::new();
    if let Some(request) = rule.request_timeout {
        timeouts.insert("request".into(), json!(format_duration(request)));
    }
    if let Some(backend) = rule.backend_timeout {
        timeouts.insert("backendRequest".into(), json!(format_duration(backend)));
    }
    if !timeouts.is_empty() {
        value.insert("timeouts".into(), Value::Object(timeouts));
    }
    if let Some(retry) = &rule.retry {
        let mut written = json!({ "codes": retry.codes, "attempts": retry.attempts });
        if let Some(backoff) = retry.backoff {
            written["backoff"] = json!(format_duration(backoff));
        }
        value.insert("retry".into(), written);
    }
    Value::Object(value)
}

fn http_match(item: &HttpRouteMatch) -> Value {
    let (kind, path) = match &item.path {
        PathMatch::Exact(path) => ("Exact", path),
        PathMatch::Prefix(path) => ("PathPrefix", path),
        PathMatch::Regex(path) => ("RegularExpression", path),
    };
    let mut value = json!({ "path": { "type": kind, "value": path } });
    if !item.headers.is_empty() {
        value["headers"] = value_matches(&item.headers);
    }
    if !item.query_params.is_empty() {
        value["queryParams"] = value_matches(&item.query_params);
    }
    if let Some(method) = &item.method {
        value["method"] = json!(method);
    }
    value
}

fn grpc_match(item: &HttpRouteMatch) -> Value {
    let mut value = Map::new();
    if let Some(grpc) = &item.grpc {
        let mut method = json!({ "type": if grpc.regex { "RegularExpression" } else { "Exact" } });
        if let Some(service) = &grpc.service {
            method["service"] = json!(service);
        }
        if let Some(name) = &grpc.method {
            method["method"] = json!(name);
        }
        value.insert("method".into(), method);
    }
    if !item.headers.is_empty() {
        value.insert("headers".into(), value_matches(&item.headers));
    }
    Value::Object(value)
}

fn value_matches(matches: &[ValueMatch]) -> Value {
    matches
        .iter()
        .map(|item| {
            let kind = if item.regex {
                "RegularExpression"
            } else {
                "Exact"
            };
            json!({ "type": kind, "name": item.name, "value": item.value })
        })
        .collect()
}

/// A reference to Service `namespace`/`name` (on `port`) from a route of `route_namespace`:
/// its namespace is written when it is another one.
fn service_ref(namespace: &str, name: &str, port: Option<u16>, route_namespace: &str) -> Value {
    let mut value = json!({ "group": "", "kind": "Service", "name": name });
    if namespace != route_namespace {
        value["namespace"] = json!(namespace);
    }
    if let Some(port) = port {
        value["port"] = json!(port);
    }
    value
}

fn backend_ref(backend: &BackendRef, namespace: &str) -> Value {
    let mut value = service_ref(
        &backend.namespace,
        &backend.name,
        Some(backend.port),
        namespace,
    );
    value["weight"] = json!(backend.weight);
    if !backend.filters.is_empty() {
        value["filters"] = filters(&backend.filters, namespace);
    }
    value
}

fn filters(filters: &[HttpFilter], namespace: &str) -> Value {
    filters
        .iter()
        .map(|filter| match filter {
            HttpFilter::RequestHeaders(modifier) => json!({
                "type": "RequestHeaderModifier",
                "requestHeaderModifier": header_modifier(modifier),
            }),
            HttpFilter::ResponseHeaders(modifier) => json!({
                "type": "ResponseHeaderModifier",
                "responseHeaderModifier": header_modifier(modifier),
            }),
            HttpFilter::Redirect(redirect) => {
                let mut settings = json!({ "statusCode": redirect.status });
                if let Some(scheme) = &redirect.scheme {
                    settings["scheme"] = json!(scheme);
                }
                if let Some(hostname) = &redirect.hostname {
                    settings["hostname"] = json!(hostname);
                }
                if let Some(path) = &redirect.path {
                    settings["path"] = path_modifier(path);
                }
                if let Some(port) = redirect.port {
                    settings["port"] = json!(port);
                }
                json!({ "type": "RequestRedirect", "requestRedirect": settings })
            }
            HttpFilter::Rewrite(rewrite) => {
                let mut settings = json!({});
                if let Some(hostname) = &rewrite.hostname {
                    settings["hostname"] = json!(hostname);
                }
                if let Some(path) = &rewrite.path {
                    settings["path"] = path_modifier(path);
                }
                json!({ "type": "URLRewrite", "urlRewrite": settings })
            }
            HttpFilter::Mirror(mirror) => {
                let backend = service_ref(
                    &mirror.namespace,
                    &mirror.name,
                    Some(mirror.port),
                    namespace,
                );
                let mut settings = json!({ "backendRef": backend });
                let percent = mirror.fraction * 100.0;
                if (percent - percent.round()).abs() < 1e-9 {
                    settings["percent"] = json!(percent.round() as u32);
                } else {
                    // A share no whole percent says, in millionths.
                    let numerator = (mirror.fraction * 1_000_000.0).round() as u32;
                    settings["fraction"] =
                        json!({ "numerator": numerator, "denominator": 1_000_000 });
                }
                json!({ "type": "RequestMirror", "requestMirror": settings })
            }
        })
        .collect()
}

fn header_modifier(modifier: &HeaderModifier) -> Value {
    let pairs = |pairs: &[(String, String)]| -> Vec<Value> {
        pairs
            .iter()
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect()
    };
    let mut value = Map::new();
    if !modifier.set.is_empty() {
        value.insert("set".into(), json!(pairs(&modifier.set)));
    }
    if !modifier.add.is_empty() {
        value.insert("add".into(), json!(pairs(&modifier.add)));
    }
    if !modifier.remove.is_empty() {
        value.insert("remove".into(), json!(modifier.remove));
    }
    Value::Object(value)
}

fn path_modifier(path: &PathModifier) -> Value {
    match path {
        PathModifier::Full(path) => json!({ "type": "ReplaceFullPath", "replaceFullPath": path }),
        PathModifier::Prefix(prefix) => {
            json!({ "type": "ReplacePrefixMatch", "replacePrefixMatch": prefix })
        }
    }
}

pub fn reference_grant(grant: &ReferenceGrant, version: &str) -> Result<Value, ConversionError> {
    check_version(Kind::ReferenceGrant, version)?;
    let from: Vec<Value> = grant
        .from
        .iter()
        .map(|(kind, namespace)| {
            json!({ "group": "gateway.networking.k8s.io", "kind": kind, "namespace": namespace })
        })
        .collect();
    let to: Vec<Value> = grant
        .to
        .iter()
        .map(|name| {
            let mut value = json!({ "group": "", "kind": "Service" });
            if let Some(name) = name {
                value["name"] = json!(name);
            }
            value
        })
        .collect();
    Ok(json!({ "spec": { "from": from, "to": to } }))
}
