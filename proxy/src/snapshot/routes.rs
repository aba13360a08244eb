//! A service port's Gateway API routes, compiled once per snapshot: matches in precedence
//! order (the reconciler sorted them), regexes built, names parsed, filters compiled
//! (`route_filters`). Finding a request's rule scans the matches without allocating.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderName, Method, Request};
use meshcd_schemas::proto;
use regex::Regex;

use super::Backend;
use super::matcher::full_match;
use super::retry_policy::RetryPolicy;
use super::route_filters::{Filters, Redirect};
use crate::upstream::split::WeightedChoice;

#[derive(Debug, thiserror::Error)]
pub enum InvalidRoute {
    #[error("rule {rule:?}: regex {regex:?}")]
    Regex {
        rule: String,
        regex: String,
        source: regex::Error,
    },
    #[error("rule {rule:?}: {header:?} is not a header name")]
    HeaderName { rule: String, header: String },
    #[error("rule {rule:?}: {method:?} is not an HTTP method")]
    Method { rule: String, method: String },
    #[error("a match names rule {index}, which the table does not have")]
    NoRule { index: u32 },
    #[error("rule {rule:?}: a redirect with {what}")]
    Redirect { rule: String, what: String },
    #[error("rule {rule:?}: header {name:?}: {value:?} is not a header name and value")]
    Header {
        rule: String,
        name: String,
        value: String,
    },
}

/// The routes of one service port.
#[derive(Debug)]
pub struct RouteTable {
    pub port: u16,
    /// GRPCRoutes: refusals are answered the gRPC way.
    pub grpc: bool,
    matches: Vec<Match>,
    pub rules: Vec<Rule>,
}

/// A rule: its label, its filters, and the weighted choice of its backends (`None`: no
/// backend has a positive weight, so its requests get 500), or the redirect it answers.
#[derive(Debug)]
pub struct Rule {
    pub name: Arc<str>,
    pub backends: Vec<Backend>,
    pub weights: Option<WeightedChoice>,
    pub redirect: Option<Redirect>,
    /// The whole exchange, retries included: `None` the Mesh's request timeout,
    /// `Some(ZERO)` none.
    pub request_timeout: Option<Duration>,
    /// Each attempt (`None`: none of its own).
    pub backend_timeout: Option<Duration>,
    pub retry: Option<RetryPolicy>,
    filters: Filters,
    /// Per backend (as `backends`): its own filters.
    backend_filters: Vec<Filters>,
    mirrors: Vec<Mirror>,
    /// Per backend (as `backends`): its own RequestMirror filters.
    backend_mirrors: Vec<Vec<Mirror>>,
    /// A filter of the rule or of a backend rewrites the path.
    rewrites_path: bool,
}

/// A RequestMirror filter: copies of a share of the requests go to `backend`.
#[derive(Debug)]
pub struct Mirror {
    pub backend: Arc<Backend>,
    /// 0 to 1.
    pub fraction: f64,
}

impl Rule {
    /// Whether forwarding needs the path as it was matched: a filter of the rule or of
    /// one of its backends rewrites it.
    pub fn rewrites_path(&self) -> bool {
        self.rewrites_path
    }

    /// The rule's filters, then the chosen backend's. `matched`: the path as it was matched
    /// (normalised), which a rewrite changes; given when [`Rule::rewrites_path`].
    pub fn modify_request<B>(&self, backend: usize, request: &mut Request<B>, matched: &str) {
        self.filters.modify_request(request, matched);
        let Some(own) = self.backend_filters.get(backend) else {
            return;
        };
        if own.rewrites_path() && self.filters.rewrites_path() {
            // The rule's rewrite, built from the matched path, is the path to change now.
            let current = request.uri().path().to_owned();
            own.modify_request(request, &current);
        } else {
            own.modify_request(request, matched);
        }
    }

    /// The rule's mirrors and the chosen backend's.
    pub fn mirrors(&self, backend: usize) -> impl Iterator<Item = &Mirror> {
        let own = self.backend_mirrors.get(backend).into_iter().flatten();
        self.mirrors.iter().chain(own)
    }

    /// The rule's own response header filter, on the redirect the proxy answers with.
    pub fn modify_redirect_response(&self, headers: &mut HeaderMap) {
        self.filters.modify_response(headers);
    }

    /// The chosen backend's response header filter, then the rule's.
    pub fn modify_response(&self, backend: usize, headers: &mut HeaderMap) {
        if let Some(own) = self.backend_filters.get(backend) {
            own.modify_response(headers);
        }
        self.filters.modify_response(headers);
    }
}

#[derive(Debug)]
struct Match {
    rule: usize,
    path: PathMatcher,
    method: Option<Method>,
    headers: Vec<(HeaderName, ValueMatcher)>,
    query: Vec<(String, ValueMatcher)>,
}

#[derive(Debug)]
enum PathMatcher {
    /// The path is this, or starts with it and a `/` ("" matches every path).
    Prefix(String),
    Exact(String),
    Regex(Regex),
}

#[derive(Debug)]
enum ValueMatcher {
    Exact(String),
    Regex(Regex),
}

impl ValueMatcher {
    fn matches(&self, value: &str) -> bool {
        match self {
            ValueMatcher::Exact(expected) => value == expected,
            ValueMatcher::Regex(regex) => regex.is_match(value),
        }
    }
}

/// The tables a client in `namespace` uses: per port, its namespace's consumer routes if
/// it has some, else the producer routes (the two are never merged).
pub fn for_client(tables: Vec<proto::RouteTable>, namespace: &str) -> Vec<proto::RouteTable> {
    let consumed: Vec<u32> = tables
        .iter()
        .filter(|table| table.consumer_namespace == namespace)
        .map(|table| table.port)
        .collect();
    tables
        .into_iter()
        .filter(|table| match table.consumer_namespace.as_str() {
            "" => !consumed.contains(&table.port),
            consumer => consumer == namespace,
        })
        .collect()
}

impl RouteTable {
    /// The rule of the first match a request meets (`path` normalised, without the query);
    /// `None`: no rule matches, and the request is answered 404.
    pub fn find(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> Option<&Rule> {
        self.matches
            .iter()
            .find(|candidate| candidate.matches(method, path, headers, query))
            .map(|found| &self.rules[found.rule])
    }

    /// Compiles `table`; `backend` builds a rule's backend (endpoints, destination, metric
    /// handles) from its protobuf and the rule's name.
    pub fn compile(
        table: proto::RouteTable,
        mut backend: impl FnMut(proto::Backend, &Arc<str>) -> Backend,
    ) -> Result<RouteTable, InvalidRoute> {
        let rules: Vec<Rule> = table
            .rules
            .into_iter()
            .map(|rule| {
                let name: Arc<str> = rule.name.into();
                let weights = WeightedChoice::new(rule.backends.iter().map(|b| b.weight));
                let mut backend_filters = Vec::with_capacity(rule.backends.len());
                let mut backend_mirrors = Vec::with_capacity(rule.backends.len());
                let mut backends = Vec::with_capacity(rule.backends.len());
                for mut proto_backend in rule.backends {
                    backend_filters.push(Filters::compile(
                        proto_backend.request_headers.take(),
                        proto_backend.response_headers.take(),
                        proto_backend.rewrite.take(),
                        &name,
                    )?);
                    let own = std::mem::take(&mut proto_backend.mirrors);
                    backend_mirrors.push(compile_mirrors(own, &name, &mut backend));
                    backends.push(backend(proto_backend, &name));
                }
                let mirrors = compile_mirrors(rule.mirrors, &name, &mut backend);
                let filters = Filters::compile(
                    rule.request_headers,
                    rule.response_headers,
                    rule.rewrite,
                    &name,
                )?;
                let rewrites_path =
                    filters.rewrites_path() || backend_filters.iter().any(Filters::rewrites_path);
                Ok(Rule {
                    filters,
                    rewrites_path,
                    redirect: rule
                        .redirect
                        .map(|redirect| Redirect::compile(redirect, &name))
                        .transpose()?,
                    request_timeout: rule.request_timeout_ms.map(Duration::from_millis),
                    backend_timeout: Some(rule.backend_timeout_ms)
                        .filter(|ms| *ms > 0)
                        .map(Duration::from_millis),
                    // No retry to make is no retry policy: such requests are sent once.
                    retry: rule
                        .retry
                        .map(RetryPolicy::compile)
                        .filter(|policy| policy.attempts > 0),
                    name,
                    backends,
                    weights,
                    backend_filters,
                    mirrors,
                    backend_mirrors,
                })
            })
            .collect::<Result<_, InvalidRoute>>()?;
        let matches = table
            .matches
            .into_iter()
            .map(|item| compile_match(item, &rules))
            .collect::<Result<_, _>>()?;
        Ok(RouteTable {
            port: u16::try_from(table.port).unwrap_or_default(),
            grpc: table.grpc,
            matches,
            rules,
        })
    }
}

/// A rule's or backend's RequestMirror filters, their backends built by `backend`.
fn compile_mirrors(
    list: Vec<proto::Mirror>,
    rule: &Arc<str>,
    backend: &mut impl FnMut(proto::Backend, &Arc<str>) -> Backend,
) -> Vec<Mirror> {
    list.into_iter()
        .filter_map(|mirror| {
            Some(Mirror {
                backend: Arc::new(backend(mirror.backend?, rule)),
                fraction: mirror.fraction.clamp(0.0, 1.0),
            })
        })
        .collect()
}

impl Match {
    fn matches(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> bool {
        let path_matches = match &self.path {
            PathMatcher::Exact(expected) => path == expected,
            PathMatcher::Prefix(prefix) => path
                .strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
            PathMatcher::Regex(regex) => regex.is_match(path),
        };
        path_matches
            && self
                .method
                .as_ref()
                .is_none_or(|expected| expected == method)
            && self.headers.iter().all(|(name, matcher)| {
                // The first of repeated headers, as the Gateway API's matching reads one.
                headers
                    .get(name)
                    .and_then(|value| value.to_str().ok())
                    .is_some_and(|value| matcher.matches(value))
            })
            && self
                .query
                .iter()
                .all(|(name, matcher)| query_value(query, name).is_some_and(|v| matcher.matches(v)))
    }
}

/// The first value of parameter `name` in a query string (no decoding: names and values
/// compare as sent).
fn query_value<'q>(query: Option<&'q str>, name: &str) -> Option<&'q str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn compile_match(item: proto::RouteMatch, rules: &[Rule]) -> Result<Match, InvalidRoute> {
    let rule = usize::try_from(item.rule).unwrap_or(usize::MAX);
    let Some(owner) = rules.get(rule) else {
        return Err(InvalidRoute::NoRule { index: item.rule });
    };
    let name = || owner.name.to_string();
    let regex = |text: &str| {
        full_match(text).map_err(|source| InvalidRoute::Regex {
            rule: name(),
            regex: text.to_string(),
            source,
        })
    };
    let path = match item.path {
        None => PathMatcher::Prefix(String::new()),
        Some(path) => match proto::PathMatchKind::try_from(path.kind) {
            Ok(proto::PathMatchKind::Exact) => PathMatcher::Exact(path.value),
            Ok(proto::PathMatchKind::Regex) => PathMatcher::Regex(regex(&path.value)?),
            _ => PathMatcher::Prefix(path.value),
        },
    };
    let method = match item.method.as_str() {
        "" => None,
        text => Some(
            Method::from_bytes(text.as_bytes()).map_err(|_| InvalidRoute::Method {
                rule: name(),
                method: text.to_string(),
            })?,
        ),
    };
    let value = |item: &proto::ValueMatch| -> Result<ValueMatcher, InvalidRoute> {
        Ok(if item.regex {
            ValueMatcher::Regex(regex(&item.value)?)
        } else {
            ValueMatcher::Exact(item.value.clone())
        })
    };
    let headers = item
        .headers
        .iter()
        .map(|header| {
            let parsed = HeaderName::from_bytes(header.name.as_bytes()).map_err(|_| {
                InvalidRoute::HeaderName {
                    rule: name(),
                    header: header.name.clone(),
                }
            })?;
            Ok((parsed, value(header)?))
        })
        .collect::<Result<_, InvalidRoute>>()?;
    let query = item
        .query_params
        .iter()
        .map(|param| Ok((param.name.clone(), value(param)?)))
        .collect::<Result<_, InvalidRoute>>()?;
    Ok(Match {
        rule,
        path,
        method,
        headers,
        query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(matches: Vec<proto::RouteMatch>, rules: usize) -> RouteTable {
        let rules = (0..rules)
            .map(|index| proto::RouteRule {
                name: format!("shop/api/{index}"),
                ..Default::default()
            })
            .collect();
        let table = proto::RouteTable {
            port: 80,
            matches,
            rules,
            ..Default::default()
        };
        RouteTable::compile(table, |_, _| unreachable!("no backends")).unwrap()
    }

    fn path(kind: proto::PathMatchKind, value: &str, rule: u32) -> proto::RouteMatch {
        proto::RouteMatch {
            rule,
            path: Some(proto::PathMatch {
                kind: kind as i32,
                value: value.into(),
            }),
            ..Default::default()
        }
    }

    fn found(
        table: &RouteTable,
        method: Method,
        path: &str,
        query: Option<&str>,
    ) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert("version", "two".parse().unwrap());
        table
            .find(&method, path, &headers, query)
            .map(|rule| rule.name.to_string())
    }

    #[test]
    fn a_prefix_matches_whole_segments_and_the_first_match_in_order_wins() {
        use proto::PathMatchKind::{Exact, Prefix, Regex};
        let table = table(
            vec![
                path(Exact, "/v2/exact", 0),
                path(Regex, "/v2/[0-9]+", 1),
                path(Prefix, "/v2", 2),
            ],
            3,
        );
        assert_eq!(
            found(&table, Method::GET, "/v2/exact", None).unwrap(),
            "shop/api/0"
        );
        assert_eq!(
            found(&table, Method::GET, "/v2/42", None).unwrap(),
            "shop/api/1"
        );
        assert_eq!(
            found(&table, Method::GET, "/v2", None).unwrap(),
            "shop/api/2"
        );
        assert_eq!(
            found(&table, Method::GET, "/v2/other", None).unwrap(),
            "shop/api/2"
        );
        assert_eq!(
            found(&table, Method::GET, "/v2x", None),
            None,
            "not a segment"
        );
        assert_eq!(found(&table, Method::GET, "/v1", None), None);
    }

    #[test]
    fn method_headers_and_query_parameters_must_all_match() {
        let exact = |name: &str, value: &str, regex| proto::ValueMatch {
            name: name.into(),
            value: value.into(),
            regex,
        };
        let table = table(
            vec![proto::RouteMatch {
                rule: 0,
                method: "POST".into(),
                headers: vec![exact("version", "two", false)],
                query_params: vec![exact("animal", "wha.*", true)],
                ..Default::default()
            }],
            1,
        );
        assert!(found(&table, Method::POST, "/", Some("animal=whale&x=1")).is_some());
        assert!(found(&table, Method::GET, "/", Some("animal=whale")).is_none());
        assert!(found(&table, Method::POST, "/", Some("animal=dolphin")).is_none());
        assert!(found(&table, Method::POST, "/", None).is_none());
    }

    #[test]
    fn a_bad_regex_names_its_rule() {
        let table = proto::RouteTable {
            port: 80,
            matches: vec![path(proto::PathMatchKind::Regex, "/(", 0)],
            rules: vec![proto::RouteRule {
                name: "shop/api/broken".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let error = RouteTable::compile(table, |_, _| unreachable!()).unwrap_err();
        assert!(error.to_string().contains("shop/api/broken"), "{error}");
    }
}
