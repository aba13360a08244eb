//! Gateway API routes bound to a Service (GAMMA), compiled into one table per service port:
//! every match of every route on that port, in the Gateway API's precedence order, and the
//! rules they select with their weighted backends.
//!
//! Precedence (HTTPRoute): an Exact path before a RegularExpression one before a PathPrefix
//! (the longer prefix first); then a match with a method; then more header matches; then
//! more query parameter matches. GRPCRoute (read as paths `/service/method`): more
//! characters of service, then of method, then more header matches. Then the route (by
//! namespace and name: Git has no creation time), the rule and the match in the order they
//! are written.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use meshcd_schemas::proto;

use crate::model::{
    GatewayRouteKind, HeaderModifier, HttpFilter, HttpRoute, HttpRouteMatch, Located, PathMatch,
    PathModifier,
};

/// Each parent Service's (`namespace`, `name`) routes with the ports they bind (`None`:
/// all), in precedence order of routes (namespace, then name). Built once per compile.
pub type Bound<'c> = BTreeMap<(&'c str, &'c str), Vec<(&'c HttpRoute, Option<u16>)>>;

pub fn by_parent(routes: &[Located<HttpRoute>]) -> Bound<'_> {
    let mut bound = Bound::new();
    for route in routes.iter().map(|located| &located.value) {
        for parent in &route.parents {
            bound
                .entry((parent.namespace.as_str(), parent.name.as_str()))
                .or_default()
                .push((route, parent.port));
        }
    }
    for routes in bound.values_mut() {
        routes.sort_by(|(a, _), (b, _)| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    }
    bound
}

/// The tables of a parent Service's `routes` (from [`by_parent`]), for its `ports`: one
/// per port for the producer routes (in `namespace`, the Service's), and one per port for
/// each namespace with consumer routes of the Service. The two kinds are never merged: a
/// client uses its namespace's table of a port if there is one, else the producer's.
/// `endpoints` gives a backend service's endpoints.
pub fn tables(
    routes: &[(&HttpRoute, Option<u16>)],
    namespace: &str,
    ports: &[u16],
    endpoints: &dyn Fn(&str, &str) -> Vec<proto::Endpoint>,
) -> Vec<proto::RouteTable> {
    let mut groups: BTreeMap<&str, Vec<(&HttpRoute, Option<u16>)>> = BTreeMap::new();
    for &(route, port) in routes {
        let consumer = if route.namespace == namespace {
            ""
        } else {
            route.namespace.as_str()
        };
        groups.entry(consumer).or_default().push((route, port));
    }
    let mut tables = Vec::new();
    for (consumer, group) in groups {
        for &port in ports {
            let mut on_port: Vec<&HttpRoute> = group
                .iter()
                .filter(|(_, bound)| bound.is_none_or(|p| p == port))
                .map(|(route, _)| *route)
                .collect();
            // A route bound twice to one port (two parentRefs) counts once.
            on_port.dedup_by(|a, b| std::ptr::eq(*a, *b));
            if !on_port.is_empty() {
                let mut compiled = table(&on_port, namespace, port, endpoints);
                compiled.consumer_namespace = consumer.to_owned();
                tables.push(compiled);
            }
        }
    }
    tables
}

/// `namespace`: the parent Service's, which a backend in another one is told apart from.
fn table(
    routes: &[&HttpRoute],
    namespace: &str,
    port: u16,
    endpoints: &dyn Fn(&str, &str) -> Vec<proto::Endpoint>,
) -> proto::RouteTable {
    let mut rules = Vec::new();
    let mut matches = Vec::new();
    for (route_order, route) in routes.iter().enumerate() {
        for (rule_index, rule) in route.rules.iter().enumerate() {
            let index = u32::try_from(rules.len()).unwrap_or(u32::MAX);
            let label = rule.name.clone().unwrap_or_else(|| rule_index.to_string());
            let prefix = matched_prefix(&rule.matches);
            let own = Filters::compile(&rule.filters, prefix, namespace, endpoints);
            rules.push(proto::RouteRule {
                name: format!("{}/{}/{label}", route.namespace, route.name),
                backends: rule
                    .backends
                    .iter()
                    .map(|backend| {
                        let filters =
                            Filters::compile(&backend.filters, prefix, namespace, endpoints);
                        proto::Backend {
                            weight: backend.weight,
                            request_headers: filters.request_headers,
                            response_headers: filters.response_headers,
                            rewrite: filters.rewrite,
                            mirrors: filters.mirrors,
                            ..service_backend(
                                (&backend.namespace, &backend.name, backend.port),
                                namespace,
                                endpoints,
                            )
                        }
                    })
                    .collect(),
                request_headers: own.request_headers,
                response_headers: own.response_headers,
                redirect: own.redirect,
                rewrite: own.rewrite,
                request_timeout_ms: rule.request_timeout.map(millis),
                backend_timeout_ms: rule.backend_timeout.map_or(0, millis),
                mirrors: own.mirrors,
                retry: rule.retry.as_ref().map(|retry| proto::RetryPolicy {
                    codes: retry.codes.iter().copied().map(u32::from).collect(),
                    attempts: retry.attempts,
                    backoff_ms: retry.backoff.map(millis),
                    ..proto::RetryPolicy::default()
                }),
            });
            for (match_index, item) in rule.matches.iter().enumerate() {
                let key = (precedence(item), route_order, rule_index, match_index);
                matches.push((key, route_match(item, index)));
            }
        }
    }
    matches.sort_by_key(|entry| entry.0);
    proto::RouteTable {
        port: u32::from(port),
        matches: matches.into_iter().map(|(_, item)| item).collect(),
        rules,
        consumer_namespace: String::new(),
        // Validation keeps HTTPRoutes and GRPCRoutes off each other's ports.
        grpc: routes
            .iter()
            .all(|route| route.kind == GatewayRouteKind::Grpc),
    }
}

/// The backend Service (`namespace`, `name`) on `port`, of weight 1 and with no filters,
/// with its endpoints; its namespace is spelled only when it is not `parent`'s.
fn service_backend(
    (namespace, name, port): (&str, &str, u16),
    parent: &str,
    endpoints: &dyn Fn(&str, &str) -> Vec<proto::Endpoint>,
) -> proto::Backend {
    proto::Backend {
        service: name.to_string(),
        weight: 1,
        endpoints: endpoints(namespace, name),
        port: u32::from(port),
        namespace: if namespace == parent {
            String::new()
        } else {
            namespace.to_string()
        },
        ..Default::default()
    }
}

pub(super) fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The filters of a rule or a backendRef, compiled (at most one of each type: the API's
/// rule).
#[derive(Default)]
struct Filters {
    request_headers: Option<proto::HeaderModifier>,
    response_headers: Option<proto::HeaderModifier>,
    redirect: Option<proto::Redirect>,
    rewrite: Option<proto::Rewrite>,
    mirrors: Vec<proto::Mirror>,
}

impl Filters {
    /// `prefix`: the rule's one PathPrefix match, which a ReplacePrefixMatch replaces
    /// (validation made sure there is one when a filter needs it); `namespace`: the parent
    /// Service's; `endpoints` gives a mirror backend's endpoints.
    fn compile(
        filters: &[HttpFilter],
        prefix: &str,
        namespace: &str,
        endpoints: &dyn Fn(&str, &str) -> Vec<proto::Endpoint>,
    ) -> Filters {
        let mut compiled = Filters::default();
        for filter in filters {
            match filter {
                HttpFilter::RequestHeaders(modifier) => {
                    compiled.request_headers = Some(header_modifier(modifier));
                }
                HttpFilter::ResponseHeaders(modifier) => {
                    compiled.response_headers = Some(header_modifier(modifier));
                }
                HttpFilter::Redirect(redirect) => {
                    compiled.redirect = Some(proto::Redirect {
                        scheme: redirect.scheme.clone().unwrap_or_default(),
                        hostname: redirect.hostname.clone().unwrap_or_default(),
                        path: redirect.path.as_ref().map(|p| path_modifier(p, prefix)),
                        port: redirect.port.map_or(0, u32::from),
                        status: u32::from(redirect.status),
                    });
                }
                HttpFilter::Rewrite(rewrite) => {
                    compiled.rewrite = Some(proto::Rewrite {
                        hostname: rewrite.hostname.clone().unwrap_or_default(),
                        path: rewrite.path.as_ref().map(|p| path_modifier(p, prefix)),
                    });
                }
                HttpFilter::Mirror(mirror) => compiled.mirrors.push(proto::Mirror {
                    backend: Some(service_backend(
                        (&mirror.namespace, &mirror.name, mirror.port),
                        namespace,
                        endpoints,
                    )),
                    fraction: mirror.fraction,
                }),
            }
        }
        compiled
    }
}

/// Header names in lower case.
fn header_modifier(modifier: &HeaderModifier) -> proto::HeaderModifier {
    let headers = |pairs: &[(String, String)]| {
        pairs
            .iter()
            .map(|(name, value)| proto::Header {
                name: name.to_ascii_lowercase(),
                value: value.clone(),
            })
            .collect()
    };
    proto::HeaderModifier {
        set: headers(&modifier.set),
        add: headers(&modifier.add),
        remove: modifier
            .remove
            .iter()
            .map(|name| name.to_ascii_lowercase())
            .collect(),
    }
}

fn path_modifier(modifier: &PathModifier, prefix: &str) -> proto::PathModifier {
    let (kind, value, matched_prefix) = match modifier {
        PathModifier::Full(path) => (proto::PathModifierKind::Full, path, ""),
        PathModifier::Prefix(path) => (proto::PathModifierKind::Prefix, path, prefix),
    };
    proto::PathModifier {
        kind: kind as i32,
        value: value.clone(),
        matched_prefix: matched_prefix.to_string(),
    }
}

/// The prefix of a rule's only match when it is a PathPrefix, without a trailing `/`.
fn matched_prefix(matches: &[HttpRouteMatch]) -> &str {
    match matches {
        [
            HttpRouteMatch {
                path: PathMatch::Prefix(prefix),
                ..
            },
        ] => prefix.trim_end_matches('/'),
        _ => "",
    }
}

/// Sort key of a match, smaller first.
type Precedence = (
    u8,
    Reverse<usize>,
    Reverse<usize>,
    bool,
    Reverse<usize>,
    Reverse<usize>,
);

/// HTTPRoute: path kind (Exact, RegularExpression, PathPrefix), the longer path first,
/// a method first, more headers first, more query parameters first. GRPCRoute: more
/// characters of service first, then of method, then more headers.
fn precedence(item: &HttpRouteMatch) -> Precedence {
    if let Some(grpc) = &item.grpc {
        let length = |part: &Option<String>| part.as_ref().map_or(0, String::len);
        return (
            0,
            Reverse(length(&grpc.service)),
            Reverse(length(&grpc.method)),
            false,
            Reverse(item.headers.len()),
            Reverse(0),
        );
    }
    let (kind, length) = match &item.path {
        PathMatch::Exact(value) => (0, value.len()),
        PathMatch::Regex(value) => (1, value.len()),
        PathMatch::Prefix(value) => (2, value.trim_end_matches('/').len()),
    };
    (
        kind,
        Reverse(length),
        Reverse(0),
        item.method.is_none(),
        Reverse(item.headers.len()),
        Reverse(item.query_params.len()),
    )
}

fn route_match(item: &HttpRouteMatch, rule: u32) -> proto::RouteMatch {
    let path = match &item.path {
        PathMatch::Exact(value) => (proto::PathMatchKind::Exact, value.clone()),
        PathMatch::Regex(value) => (proto::PathMatchKind::Regex, value.clone()),
        PathMatch::Prefix(value) => (
            proto::PathMatchKind::Prefix,
            value.trim_end_matches('/').to_string(),
        ),
    };
    let values = |list: &[crate::model::ValueMatch], lower: bool| {
        list.iter()
            .map(|item| proto::ValueMatch {
                name: if lower {
                    item.name.to_ascii_lowercase()
                } else {
                    item.name.clone()
                },
                value: item.value.clone(),
                regex: item.regex,
            })
            .collect()
    };
    proto::RouteMatch {
        rule,
        path: Some(proto::PathMatch {
            kind: path.0 as i32,
            value: path.1,
        }),
        method: item.method.clone().unwrap_or_default(),
        headers: values(&item.headers, true),
        query_params: values(&item.query_params, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BackendRef, HttpRouteRule, ParentService};

    fn route(namespace: &str, backend_namespace: &str, port: Option<u16>) -> HttpRoute {
        HttpRoute {
            kind: GatewayRouteKind::Http,
            namespace: namespace.into(),
            name: "r".into(),
            parents: vec![ParentService {
                position: 0,
                namespace: "shop".into(),
                name: "api".into(),
                port,
            }],
            rules: vec![HttpRouteRule {
                name: None,
                matches: vec![HttpRouteMatch {
                    path: PathMatch::Prefix("/".into()),
                    grpc: None,
                    headers: Vec::new(),
                    query_params: Vec::new(),
                    method: None,
                }],
                filters: Vec::new(),
                backends: vec![BackendRef {
                    namespace: backend_namespace.into(),
                    name: "api-v1".into(),
                    port: 80,
                    weight: 1,
                    filters: Vec::new(),
                }],
                request_timeout: None,
                backend_timeout: None,
                retry: None,
            }],
        }
    }

    #[test]
    fn producer_and_consumer_routes_make_separate_tables_per_port() {
        let producer = route("shop", "shop", None);
        let consumer = route("web", "shop", Some(80));
        let routes = [(&producer, None), (&consumer, Some(80))];
        let compiled = tables(&routes, "shop", &[80, 8080], &|_, _| Vec::new());
        let summary: Vec<(u32, &str, &str)> = compiled
            .iter()
            .map(|table| {
                let backend = &table.rules[0].backends[0];
                (
                    table.port,
                    table.consumer_namespace.as_str(),
                    backend.namespace.as_str(),
                )
            })
            .collect();
        // The backend is in the parent's namespace: not spelled out.
        assert_eq!(summary, [(80, "", ""), (8080, "", ""), (80, "web", "")]);
        let elsewhere = route("web", "billing", None);
        let compiled = tables(&[(&elsewhere, None)], "shop", &[80], &|_, _| Vec::new());
        assert_eq!(compiled[0].rules[0].backends[0].namespace, "billing");
    }
}
