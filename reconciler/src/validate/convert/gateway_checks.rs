//! Gateway API routes of a mesh, field by field: what the CRDs' CEL rules say (the JSON
//! Schema cannot), what a mesh forbids, and the parts of the API meshcd does not implement
//! yet, each refused at its field rather than ignored. Checked while the document is at
//! hand, before conversion; checks across documents are in `semantic`.

use std::collections::BTreeSet;

use serde_json::Value;

use super::array;
use super::gateway::is_service;
use super::gateway_filters::{FilterList, filters, redirect_and_rewrite};
use super::units::parse_duration;
use crate::validate::report::{Object, Reporter};
use crate::validate::semantic::check_full_match;

pub(super) fn http_route(object: &Object<'_>, reporter: &mut Reporter<'_>) {
    parents(object, reporter);
    let mut names = BTreeSet::new();
    for (position, rule) in array(&object.value, "/spec/rules").iter().enumerate() {
        let pointer = format!("/spec/rules/{position}");
        if let Some(name) = rule.get("name").and_then(Value::as_str)
            && !names.insert(name)
        {
            reporter
                .error(
                    object,
                    &format!("{pointer}/name"),
                    format!("a second rule named {name:?}"),
                )
                .hint("rule names must be unique within a route");
        }
        filters(
            object,
            &format!("{pointer}/filters"),
            rule.get("filters"),
            FilterList::Rule,
            reporter,
        );
        redirect_and_rewrite(object, &pointer, rule, reporter);
        timeouts(object, &pointer, rule, reporter);
        for (position, backend) in array(rule, "/backendRefs").iter().enumerate() {
            backend_ref(
                object,
                &format!("{pointer}/backendRefs/{position}"),
                backend,
                reporter,
            );
        }
        for (position, item) in array(rule, "/matches").iter().enumerate() {
            route_match(
                object,
                &format!("{pointer}/matches/{position}"),
                item,
                reporter,
            );
        }
    }
}

/// The CRD's rule: an attempt may not be given longer than the whole request, unless the
/// request has no timeout (`0s`).
fn timeouts(object: &Object<'_>, pointer: &str, rule: &Value, reporter: &mut Reporter<'_>) {
    let duration = |field: &str| {
        let text = rule.pointer(&format!("/timeouts/{field}"))?.as_str()?;
        Some((text, parse_duration(text).ok()?))
    };
    if let (Some((request, whole)), Some((backend, attempt))) =
        (duration("request"), duration("backendRequest"))
        && !whole.is_zero()
        && attempt > whole
    {
        reporter
            .error(
                object,
                &format!("{pointer}/timeouts/backendRequest"),
                format!("backendRequest {backend} is longer than request {request}"),
            )
            .hint("the request timeout covers every attempt: make backendRequest at most as long");
    }
}

fn parents(object: &Object<'_>, reporter: &mut Reporter<'_>) {
    for (position, parent) in array(&object.value, "/spec/parentRefs").iter().enumerate() {
        let pointer = format!("/spec/parentRefs/{position}");
        let kind = parent
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("Gateway");
        if kind != "Service" {
            reporter
                .warning(object, &pointer, format!("parent {kind} is not a Service: meshcd leaves it to the Gateway that serves it"))
                .hint("a mesh route binds to a Service (`group: \"\"`, `kind: Service`)");
            continue;
        }
        if parent.get("sectionName").is_some() {
            reporter
                .error(
                    object,
                    &format!("{pointer}/sectionName"),
                    "a Service parent is bound by `port`, not `sectionName`",
                )
                .hint(
                    "write the Service port number in `port`, or leave it out to bind every port",
                );
        }
    }
}

fn backend_ref(object: &Object<'_>, pointer: &str, backend: &Value, reporter: &mut Reporter<'_>) {
    if !is_service(backend, "", "Service") {
        let group = backend.get("group").and_then(Value::as_str).unwrap_or("");
        let kind = backend
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("Service");
        reporter
            .error(
                object,
                &format!("{pointer}/kind"),
                format!(
                    "backendRef of kind {kind} in group {group:?}: a mesh route sends to Services"
                ),
            )
            .hint("use `kind: Service` (group \"\")");
        return;
    }
    if backend.get("port").is_none() {
        reporter
            .error(object, pointer, "a backendRef to a Service needs `port`")
            .hint("the Service port the requests go to, e.g. `port: 80`");
    }
    filters(
        object,
        &format!("{pointer}/filters"),
        backend.get("filters"),
        FilterList::Backend,
        reporter,
    );
}

fn route_match(object: &Object<'_>, pointer: &str, item: &Value, reporter: &mut Reporter<'_>) {
    if let Some(path) = item.get("path") {
        let kind = path
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("PathPrefix");
        let value = path.get("value").and_then(Value::as_str).unwrap_or("/");
        if kind == "RegularExpression" {
            if let Err(error) = check_full_match(value) {
                reporter.error(
                    object,
                    &format!("{pointer}/path/value"),
                    format!("path regex {value:?} does not compile: {error}"),
                );
            }
        } else if !value.starts_with('/') {
            reporter
                .error(
                    object,
                    &format!("{pointer}/path/value"),
                    format!("path {value:?} does not start with \"/\""),
                )
                .hint("an Exact or PathPrefix path is absolute: `/api`");
        }
    }
    for list in ["headers", "queryParams"] {
        let mut seen = BTreeSet::new();
        for (position, value) in array(item, &format!("/{list}")).iter().enumerate() {
            let at = format!("{pointer}/{list}/{position}");
            let name = value
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            // Header names compare case-insensitively; parameter names exactly.
            let key = if list == "headers" {
                name.to_ascii_lowercase()
            } else {
                name.to_string()
            };
            if !seen.insert(key) {
                reporter
                    .error(
                        object,
                        &format!("{at}/name"),
                        format!("{name:?} is matched twice in one match"),
                    )
                    .hint("one condition per name: only the first would count");
            }
            if value.get("type").and_then(Value::as_str) == Some("RegularExpression") {
                let pattern = value
                    .get("value")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if let Err(error) = check_full_match(pattern) {
                    reporter.error(
                        object,
                        &format!("{at}/value"),
                        format!("regex {pattern:?} does not compile: {error}"),
                    );
                }
            }
        }
    }
}

/// A GRPCRoute: what an HTTPRoute's checks say of its parents, rules, filters and
/// headers, and its method matches as the CRD's CEL rules have them.
pub(super) fn grpc_route(object: &Object<'_>, reporter: &mut Reporter<'_>) {
    http_route(object, reporter);
    for (position, rule) in array(&object.value, "/spec/rules").iter().enumerate() {
        for (index, item) in array(rule, "/matches").iter().enumerate() {
            if let Some(method) = item.get("method") {
                let pointer = format!("/spec/rules/{position}/matches/{index}/method");
                grpc_method(object, &pointer, method, reporter);
            }
        }
    }
}

fn grpc_method(object: &Object<'_>, pointer: &str, method: &Value, reporter: &mut Reporter<'_>) {
    let field = |name: &str| {
        method
            .get(name)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
    };
    let (service, name) = (field("service"), field("method"));
    if service.is_none() && name.is_none() {
        reporter
            .error(
                object,
                pointer,
                "a method match with neither `service` nor `method`",
            )
            .hint("name the service, the method or both; leave `method` out to match every call");
        return;
    }
    let regex = method.get("type").and_then(Value::as_str) == Some("RegularExpression");
    for (field, value) in [("service", service), ("method", name)] {
        let Some(value) = value else { continue };
        let at = format!("{pointer}/{field}");
        if regex {
            if let Err(error) = check_full_match(value) {
                reporter.error(
                    object,
                    &at,
                    format!("regex {value:?} does not compile: {error}"),
                );
            }
            continue;
        }
        let valid = if field == "service" {
            value
                .split('.')
                .enumerate()
                .all(|(i, part)| (i == 0 && part.is_empty() && value.len() > 1) || identifier(part))
        } else {
            identifier(value)
        };
        if !valid {
            reporter
                .error(object, &at, format!("{value:?} is not a gRPC {field} name"))
                .hint(if field == "service" {
                    "a service is a dotted name, such as `grpc.health.v1.Health`"
                } else {
                    "a method is one name of letters, digits and `_`, such as `Check`"
                });
        }
    }
}

/// A protobuf identifier: a letter or `_`, then letters, digits and `_`.
fn identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
