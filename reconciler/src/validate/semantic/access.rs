//! TrafficTargets and HTTPRouteGroups: rules name routes that exist, matches that exist,
//! identities in onboarded namespaces; route regexes compile.

use super::{Index, RegexChecks};
use crate::model::{
    Egress, Fault, HttpRouteGroup, RouteKind, Rule, TrafficTarget, UpstreamTrafficSetting,
};
use crate::validate::report::{Object, Reporter};

pub(super) fn traffic_target(
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
                unknown_matches(object, &pointer, rule, group, reporter);
            }
            RouteKind::Tcp => {}
        }
    }
    identities_onboarded(object, target, base, index, reporter);
}

/// A Fault's `routes`: HTTPRouteGroups of its namespace, and matches they define.
pub(super) fn fault_routes(
    object: &Object<'_>,
    fault: &Fault,
    index: &Index<'_, '_>,
    reporter: &mut Reporter<'_>,
) {
    for (position, rule) in fault.routes.iter().enumerate() {
        let pointer = format!("/spec/routes/{position}");
        let key = (fault.namespace.clone(), rule.name.clone());
        match index.http_route_groups.get(&key) {
            Some((_, group)) => unknown_matches(object, &pointer, rule, group, reporter),
            None if index.invalid.contains("HTTPRouteGroup", &key) => {}
            None => {
                reporter
                    .error(
                        object,
                        &format!("{pointer}/name"),
                        format!(
                            "the Fault names HTTPRouteGroup {:?}, which does not exist in namespace {:?}",
                            rule.name, fault.namespace
                        ),
                    )
                    .hint("define the HTTPRouteGroup in the Fault's namespace, or fix the name");
            }
        }
    }
}

/// An Egress's `matches`: HTTPRouteGroups of its namespace.
pub(super) fn egress_route_groups(
    object: &Object<'_>,
    egress: &Egress,
    index: &Index<'_, '_>,
    reporter: &mut Reporter<'_>,
) {
    for (position, name) in egress.route_groups.iter().enumerate() {
        let key = (egress.namespace.clone(), name.clone());
        if index.http_route_groups.contains_key(&key)
            || index.invalid.contains("HTTPRouteGroup", &key)
        {
            continue;
        }
        reporter
            .error(
                object,
                &format!("/spec/matches/{position}/name"),
                format!(
                    "the Egress names HTTPRouteGroup {name:?}, which does not exist in namespace {:?}",
                    egress.namespace
                ),
            )
            .hint("define the HTTPRouteGroup in the Egress's namespace, or fix the name");
    }
}

/// An UpstreamTrafficSetting's `httpRoutes` paths compile as the proxy compiles them.
pub(super) fn setting_paths(
    object: &Object<'_>,
    setting: &UpstreamTrafficSetting,
    regexes: &mut RegexChecks,
    reporter: &mut Reporter<'_>,
) {
    for (position, route) in setting.route_rate_limits.iter().enumerate() {
        if let Err(error) = regexes.check(&route.path) {
            reporter
                .error(
                    object,
                    &format!("/spec/httpRoutes/{position}/path"),
                    format!("path {:?} is not a valid regex: {error}", route.path),
                )
                .hint("an RE2 regex the whole path must match, such as /orders/.*");
        }
    }
}

/// A rule's matches the HTTPRouteGroup it names does not define: an error each.
fn unknown_matches(
    object: &Object<'_>,
    pointer: &str,
    rule: &Rule,
    group: &HttpRouteGroup,
    reporter: &mut Reporter<'_>,
) {
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
                    format!("HTTPRouteGroup {:?} has no match named {name:?}", rule.name),
                )
                .hint(format!("its matches are: {known}"));
        }
    }
}

/// A rule's identities in namespaces no workload of the mesh can run in: a warning each.
fn identities_onboarded(
    object: &Object<'_>,
    target: &TrafficTarget,
    base: &str,
    index: &Index<'_, '_>,
    reporter: &mut Reporter<'_>,
) {
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

pub(super) fn http_route_group(
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
