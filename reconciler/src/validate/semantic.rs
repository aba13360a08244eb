//! Checks across documents: references resolve, objects live in onboarded namespaces,
//! no duplicates, regexes compile, one split per root, canaries name real backends.
//!
//! Services and service accounts are not declared in the config repo, so a split backend
//! or an identity without a workload is not an error here: `compile` reports it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::convert::{CanaryDraft, Converted};
use super::report::{Object, Reporter};
use crate::model::{HttpRouteGroup, RouteKind, TrafficSplit, TrafficTarget};

type Key = (String, String);

/// Objects present in the tree but reported invalid (schema or conversion), by kind and
/// (namespace, name): a reference to one resolves, so that it is not reported missing.
#[derive(Debug, Default)]
pub struct Invalid(BTreeMap<String, BTreeSet<Key>>);

impl Invalid {
    pub fn insert(&mut self, id: &crate::diagnostics::ObjectId) {
        self.0
            .entry(id.kind.clone())
            .or_default()
            .insert((id.namespace.clone().unwrap_or_default(), id.name.clone()));
    }

    fn contains(&self, kind: &str, key: &Key) -> bool {
        self.0.get(kind).is_some_and(|keys| keys.contains(key))
    }

    /// A cluster-scoped Namespace is keyed by its name alone.
    fn contains_namespace(&self, name: &str) -> bool {
        self.0
            .get("Namespace")
            .is_some_and(|keys| keys.iter().any(|(_, invalid)| invalid == name))
    }
}

struct Index<'o, 'a> {
    invalid: &'o Invalid,
    namespaces: BTreeSet<String>,
    http_route_groups: BTreeMap<Key, (&'o Object<'a>, &'o HttpRouteGroup)>,
    tcp_routes: BTreeSet<Key>,
    udp_routes: BTreeSet<Key>,
    traffic_splits: BTreeMap<Key, (&'o Object<'a>, &'o TrafficSplit)>,
}

pub fn check(objects: &[(Object<'_>, Converted)], invalid: &Invalid, reporter: &mut Reporter<'_>) {
    duplicates(objects, reporter);
    let index = index(objects, invalid);
    let mut regexes = RegexChecks::default();
    let mut roots: BTreeMap<Key, &Object<'_>> = BTreeMap::new();
    let mut canaried_splits: BTreeMap<Key, &Object<'_>> = BTreeMap::new();
    for (object, converted) in objects {
        if let Some(namespace) = &object.id.namespace
            && !index.namespaces.contains(namespace)
            && !index.invalid.contains_namespace(namespace)
        {
            reporter
                .error(object, "/metadata/namespace", format!("namespace {namespace:?} is not onboarded"))
                .hint(format!("add a Namespace manifest for it (`meshcd namespace add {namespace}`), or move the object"));
        }
        match converted {
            Converted::TrafficTarget(target) => traffic_target(object, target, &index, reporter),
            Converted::HttpRouteGroup(group) => {
                http_route_group(object, group, &mut regexes, reporter)
            }
            Converted::TrafficSplit(split) => {
                traffic_split(object, split, &index, reporter);
                let root = (split.namespace.clone(), split.service.clone());
                if let Some(first) = roots.get(&root) {
                    let origin = reporter.origin(first.document);
                    reporter
                        .error(
                            object,
                            "/spec/service",
                            format!(
                                "service {}/{} is already split by TrafficSplit {} ({}:{})",
                                split.namespace,
                                split.service,
                                first.id.name,
                                origin.file.display(),
                                origin.line
                            ),
                        )
                        .hint("one TrafficSplit per root service: merge their backends into one");
                } else {
                    roots.insert(root, object);
                }
            }
            Converted::Canary(draft) => {
                canary(object, draft, &index, reporter);
                let split = (
                    draft.canary.namespace.clone(),
                    draft.canary.traffic_split.clone(),
                );
                if let Some(first) = canaried_splits.get(&split) {
                    reporter
                        .error(
                            object,
                            "/spec/trafficSplit",
                            format!(
                                "TrafficSplit {:?} is already driven by Canary {}",
                                draft.canary.traffic_split, first.id.name
                            ),
                        )
                        .hint("one Canary per TrafficSplit");
                } else {
                    canaried_splits.insert(split, object);
                }
            }
            _ => {}
        }
    }
}

fn duplicates(objects: &[(Object<'_>, Converted)], reporter: &mut Reporter<'_>) {
    let mut seen: BTreeMap<(String, Option<String>, String), &Object<'_>> = BTreeMap::new();
    let mut mesh: Option<&Object<'_>> = None;
    for (object, converted) in objects {
        if matches!(converted, Converted::Mesh(_)) {
            if let Some(first) = mesh {
                let origin = reporter.origin(first.document);
                reporter
                    .error(
                        object,
                        "/kind",
                        format!(
                            "a second Mesh (the first, {:?}, is at {}:{})",
                            first.id.name,
                            origin.file.display(),
                            origin.line
                        ),
                    )
                    .hint("a config repository holds at most one Mesh; merge them");
                continue;
            }
            mesh = Some(object);
        }
        let key = (
            object.id.kind.clone(),
            object.id.namespace.clone(),
            object.id.name.clone(),
        );
        if let Some(first) = seen.get(&key) {
            let origin = reporter.origin(first.document);
            reporter
                .error(
                    object,
                    "/metadata/name",
                    format!(
                        "duplicate {} (first defined at {}:{})",
                        object.id,
                        origin.file.display(),
                        origin.line
                    ),
                )
                .hint("kind, namespace and name identify an object; rename or delete one of them");
        } else {
            seen.insert(key, object);
        }
    }
}

fn index<'o, 'a>(objects: &'o [(Object<'a>, Converted)], invalid: &'o Invalid) -> Index<'o, 'a> {
    let mut index = Index {
        invalid,
        namespaces: BTreeSet::new(),
        http_route_groups: BTreeMap::new(),
        tcp_routes: BTreeSet::new(),
        udp_routes: BTreeSet::new(),
        traffic_splits: BTreeMap::new(),
    };
    for (object, converted) in objects {
        match converted {
            Converted::Namespace(name) => {
                index.namespaces.insert(name.clone());
            }
            Converted::HttpRouteGroup(group) => {
                index
                    .http_route_groups
                    .entry((group.namespace.clone(), group.name.clone()))
                    .or_insert((object, group));
            }
            Converted::TcpRoute(route) => {
                index
                    .tcp_routes
                    .insert((route.namespace.clone(), route.name.clone()));
            }
            Converted::UdpRoute(route) => {
                index
                    .udp_routes
                    .insert((route.namespace.clone(), route.name.clone()));
            }
            Converted::TrafficSplit(split) => {
                index
                    .traffic_splits
                    .entry((split.namespace.clone(), split.name.clone()))
                    .or_insert((object, split));
            }
            _ => {}
        }
    }
    index
}

fn traffic_target(
    object: &Object<'_>,
    target: &TrafficTarget,
    index: &Index<'_, '_>,
    reporter: &mut Reporter<'_>,
) {
    let rules_pointer = if object.version == "v1alpha1" {
        "/specs"
    } else {
        "/spec/rules"
    };
    let base = if object.version == "v1alpha1" {
        ""
    } else {
        "/spec"
    };
    for (position, rule) in target.rules.iter().enumerate() {
        let pointer = format!("{rules_pointer}/{position}");
        let key = (target.namespace.clone(), rule.name.clone());
        let exists = match rule.kind {
            RouteKind::Http => index.http_route_groups.contains_key(&key),
            RouteKind::Tcp => index.tcp_routes.contains(&key),
            RouteKind::Udp => index.udp_routes.contains(&key),
        };
        if !exists && index.invalid.contains(rule.kind.kind_name(), &key) {
            continue;
        }
        if !exists {
            reporter
                .error(
                    object,
                    &format!("{pointer}/name"),
                    format!(
                        "rule names {} {:?}, which does not exist in namespace {:?}",
                        rule.kind.kind_name(),
                        rule.name,
                        target.namespace
                    ),
                )
                .hint(format!(
                    "define the {} in the TrafficTarget's namespace, or fix the name",
                    rule.kind.kind_name()
                ));
            continue;
        }
        match rule.kind {
            RouteKind::Udp => {
                reporter
                    .warning(
                        object,
                        &pointer,
                        format!(
                            "UDPRoute {:?} has no effect: meshcd does not proxy UDP",
                            rule.name
                        ),
                    )
                    .hint("the rule is accepted for compatibility; UDP traffic is not intercepted");
            }
            RouteKind::Http => {
                let (_, group) = index.http_route_groups[&key];
                for (match_position, name) in rule.matches.iter().flatten().enumerate() {
                    if !group.matches.iter().any(|m| &m.name == name) {
                        let known = group
                            .matches
                            .iter()
                            .map(|m| m.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ");
                        reporter
                            .error(
                                object,
                                &format!("{pointer}/matches/{match_position}"),
                                format!(
                                    "HTTPRouteGroup {:?} has no match named {name:?}",
                                    rule.name
                                ),
                            )
                            .hint(format!("its matches are: {known}"));
                    }
                }
            }
            RouteKind::Tcp => {}
        }
    }
    let identities = std::iter::once((format!("{base}/destination"), &target.destination)).chain(
        target
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("{base}/sources/{i}"), s)),
    );
    for (pointer, identity) in identities {
        if !index.namespaces.contains(&identity.namespace) {
            reporter
                .warning(object, &pointer, format!(
                    "service account {}/{} is in namespace {:?}, which is not onboarded, so no meshed workload has it",
                    identity.namespace, identity.service_account, identity.namespace
                ))
                .hint("onboard the namespace, or fix the identity's namespace");
        }
    }
}

fn http_route_group(
    object: &Object<'_>,
    group: &HttpRouteGroup,
    regexes: &mut RegexChecks,
    reporter: &mut Reporter<'_>,
) {
    // Where the matches are written (legacy top level or `spec`) is only needed to point
    // at an error, and reading it means parsing the document again.
    let base = || {
        if object.document.value().get("matches").is_some() {
            "/matches"
        } else {
            "/spec/matches"
        }
    };
    for (position, item) in group.matches.iter().enumerate() {
        if let Some(path) = &item.path_regex
            && let Err(error) = regexes.check(path)
        {
            reporter
                .error(
                    object,
                    &format!("{}/{position}/pathRegex", base()),
                    format!("pathRegex {path:?} does not compile: {error}"),
                )
                .hint("pathRegex is a full match of the path (query excluded), e.g. /api/.*");
        }
        for (name, regex) in &item.headers {
            if let Err(error) = regexes.check(regex) {
                reporter
                    .error(
                        object,
                        &header_pointer(object, base(), position, name),
                        format!("regex {regex:?} for header {name:?} does not compile: {error}"),
                    )
                    .hint("header values are full-match regexes, e.g. .*Android.*");
            }
        }
    }
}

/// The pointer of a header filter in either accepted form.
fn header_pointer(object: &Object<'_>, base: &str, position: usize, name: &str) -> String {
    let value = object.document.value();
    let headers = value.pointer(&format!("{base}/{position}/headers"));
    if let Some(items) = headers.and_then(|h| h.as_array())
        && let Some(index) = items.iter().position(|item| {
            item.as_object()
                .is_some_and(|map| map.keys().any(|key| key.eq_ignore_ascii_case(name)))
        })
    {
        let key = items[index]
            .as_object()
            .and_then(|m| m.keys().next().cloned())
            .unwrap_or_default();
        return format!("{base}/{position}/headers/{index}/{key}");
    }
    if let Some(map) = headers.and_then(|h| h.as_object())
        && let Some(key) = map.keys().find(|key| key.eq_ignore_ascii_case(name))
    {
        return format!("{base}/{position}/headers/{key}");
    }
    format!("{base}/{position}/headers")
}

/// Patterns longer than this, or with a counted repetition, are compiled in full.
const FULLY_COMPILED_LENGTH: usize = 256;

/// Route regexes already checked in this validation: header regexes in particular repeat
/// across groups (`.*Android.*`, `application/json.*`).
#[derive(Default)]
struct RegexChecks {
    results: HashMap<String, Result<(), String>>,
}

impl RegexChecks {
    fn check(&mut self, pattern: &str) -> Result<(), String> {
        if let Some(result) = self.results.get(pattern) {
            return result.clone();
        }
        let result = check_full_match(pattern);
        self.results.insert(pattern.to_string(), result.clone());
        result
    }
}

/// Checks that a route regex compiles the way the proxy compiles it: anchored for a full
/// match (the proxy anchors it the same way), with `regex`'s default limits.
///
/// Building a `regex::Regex` costs tens of microseconds (it builds automata), which made
/// up most of the validation of a repository with tens of thousands of routes. Parsing
/// finds every syntax error; only a pattern that could exceed the compiled-size limit,
/// one with a counted repetition or a long one, is built in full.
pub fn check_full_match(pattern: &str) -> Result<(), String> {
    // A syntax error's text draws the pattern with a caret; its last line says what is wrong.
    let last_line = |text: &str| {
        let line = text.lines().last().unwrap_or_default().trim();
        line.strip_prefix("error: ").unwrap_or(line).to_string()
    };
    let anchored = format!("^(?:{pattern})$");
    if pattern.contains('{') || pattern.len() > FULLY_COMPILED_LENGTH {
        regex::Regex::new(&anchored)
            .map(drop)
            .map_err(|error| match error {
                regex::Error::Syntax(text) => last_line(&text),
                other => other.to_string(),
            })
    } else {
        // The same parser, with the same defaults, that `regex::Regex::new` starts with.
        regex_syntax::Parser::new()
            .parse(&anchored)
            .map(drop)
            .map_err(|error| last_line(&error.to_string()))
    }
}

fn traffic_split(
    object: &Object<'_>,
    split: &TrafficSplit,
    index: &Index<'_, '_>,
    reporter: &mut Reporter<'_>,
) {
    for (position, name) in split.matches.iter().enumerate() {
        let key = (split.namespace.clone(), name.clone());
        if !index.http_route_groups.contains_key(&key)
            && !index.invalid.contains("HTTPRouteGroup", &key)
        {
            reporter
                .error(object, &format!("/spec/matches/{position}/name"), format!(
                    "matches names HTTPRouteGroup {name:?}, which does not exist in namespace {:?}", split.namespace
                ))
                .hint("A/B matches refer to HTTPRouteGroups of the split's namespace");
        }
    }
    let mut seen = BTreeSet::new();
    for (position, backend) in split.backends.iter().enumerate() {
        if !seen.insert(&backend.service) {
            reporter
                .error(
                    object,
                    &format!("/spec/backends/{position}/service"),
                    format!("backend {:?} is listed twice", backend.service),
                )
                .hint("list each backend once and add up its weights");
        }
        if backend.service == split.service {
            reporter
                .warning(
                    object,
                    &format!("/spec/backends/{position}/service"),
                    format!("the root service {:?} is also a backend", split.service),
                )
                .hint("the root selects every version; split over version-specific services");
        }
    }
}

fn canary(
    object: &Object<'_>,
    draft: &CanaryDraft,
    index: &Index<'_, '_>,
    reporter: &mut Reporter<'_>,
) {
    let canary = &draft.canary;
    let key = (canary.namespace.clone(), canary.traffic_split.clone());
    let Some((_, split)) = index.traffic_splits.get(&key) else {
        if index.invalid.contains("TrafficSplit", &key) {
            return;
        }
        reporter
            .error(
                object,
                "/spec/trafficSplit",
                format!(
                    "Canary drives TrafficSplit {:?}, which does not exist in namespace {:?}",
                    canary.traffic_split, canary.namespace
                ),
            )
            .hint("a Canary names a TrafficSplit of its own namespace");
        return;
    };
    if canary.stable == canary.canary {
        reporter.error(
            object,
            "/spec/canary",
            "stable and canary are the same backend",
        );
        return;
    }
    for (field, backend) in [("stable", &canary.stable), ("canary", &canary.canary)] {
        if !split.backends.iter().any(|b| &b.service == backend) {
            let known = split
                .backends
                .iter()
                .map(|b| b.service.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            reporter
                .error(
                    object,
                    &format!("/spec/{field}"),
                    format!(
                        "{field} backend {backend:?} is not a backend of TrafficSplit {:?}",
                        split.name
                    ),
                )
                .hint(format!("its backends are: {known}"));
        }
    }
}
