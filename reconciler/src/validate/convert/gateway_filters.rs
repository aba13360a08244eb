//! The filters of a Gateway API route's rules and backendRefs, field by field: header
//! modifiers, redirects, rewrites and mirrors as the CRDs' CEL rules and meshcd's mesh allow
//! them, and the filter types meshcd does not implement yet refused at their field.

use std::collections::BTreeSet;

use serde_json::Value;

use super::array;
use crate::validate::report::{Object, Reporter};

/// Which list a filter is in: a rule's, or one backendRef's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FilterList {
    Rule,
    Backend,
}

/// Header modifiers, redirects, rewrites and mirrors are implemented; each filter type but
/// RequestMirror at most once per list (the API's rule), no header name twice in one modifier, and no redirect on a
/// backendRef (a weighted draw would decide whether to redirect). Other types: not yet.
pub(super) fn filters(
    object: &Object<'_>,
    pointer: &str,
    list: Option<&Value>,
    on: FilterList,
    reporter: &mut Reporter<'_>,
) {
    let mut seen = BTreeSet::new();
    let items = list
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (position, filter) in items.iter().enumerate() {
        let at = format!("{pointer}/{position}");
        let kind = filter
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let field = match kind {
            "RequestHeaderModifier" => "requestHeaderModifier",
            "ResponseHeaderModifier" => "responseHeaderModifier",
            "URLRewrite" => "urlRewrite",
            "RequestMirror" => "requestMirror",
            "RequestRedirect" if on == FilterList::Rule => "requestRedirect",
            "RequestRedirect" => {
                reporter
                    .error(
                        object,
                        &format!("{at}/type"),
                        "a RequestRedirect filter on a backendRef",
                    )
                    .hint("redirect in the rule's own `filters`, with no backendRefs");
                continue;
            }
            other => {
                not_yet(
                    object,
                    &format!("{at}/type"),
                    &format!("the {other} filter"),
                    reporter,
                );
                continue;
            }
        };
        // The API lets a list mirror to several backends.
        if !seen.insert(kind) && kind != "RequestMirror" {
            reporter
                .error(
                    object,
                    &format!("{at}/type"),
                    format!("a second {kind} filter"),
                )
                .hint("one filter of each kind per list: merge them");
        }
        let Some(settings) = filter.get(field) else {
            reporter
                .error(object, &at, format!("a {kind} filter without `{field}`"))
                .hint(format!("give its settings under `{field}`"));
            continue;
        };
        let at = format!("{at}/{field}");
        match field {
            "requestMirror" => mirror(object, &at, settings, reporter),
            "urlRewrite" | "requestRedirect" => {
                if let Some(path) = settings.get("path") {
                    path_modifier(object, &format!("{at}/path"), path, reporter);
                }
            }
            _ => header_modifier(object, &at, settings, reporter),
        }
    }
    if seen.contains("RequestRedirect") && seen.contains("URLRewrite") {
        reporter
            .error(
                object,
                pointer,
                "a RequestRedirect and a URLRewrite filter in one list",
            )
            .hint("a redirected request is not forwarded: keep one of them");
    }
}

/// A RequestMirror: to a Service port, at one share given one way (the CRD's CEL rules).
fn mirror(object: &Object<'_>, pointer: &str, mirror: &Value, reporter: &mut Reporter<'_>) {
    let backend = mirror.get("backendRef").unwrap_or(&Value::Null);
    if !super::gateway::is_service(backend, "", "Service") {
        reporter
            .error(
                object,
                &format!("{pointer}/backendRef"),
                "a mirror sends to a Service",
            )
            .hint("use `kind: Service` (group \"\")");
    } else if backend.get("port").is_none() {
        reporter
            .error(
                object,
                &format!("{pointer}/backendRef"),
                "a mirror's backendRef to a Service needs `port`",
            )
            .hint("the Service port the copies go to, e.g. `port: 80`");
    }
    if mirror.get("percent").is_some() && mirror.get("fraction").is_some() {
        reporter
            .error(
                object,
                pointer,
                "a mirror with both `percent` and `fraction`",
            )
            .hint("give the share one way");
    }
    if let Some(fraction) = mirror.get("fraction") {
        let numerator = fraction
            .get("numerator")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let denominator = fraction
            .get("denominator")
            .and_then(Value::as_u64)
            .unwrap_or(100);
        if denominator == 0 || numerator > denominator {
            reporter
                .error(
                    object,
                    &format!("{pointer}/fraction"),
                    format!("fraction {numerator}/{denominator} is not a share of requests"),
                )
                .hint("a numerator from 0 to a denominator above 0");
        }
    }
}

/// A redirect's or rewrite's `path`: the field its `type` names must be the one given.
fn path_modifier(object: &Object<'_>, pointer: &str, path: &Value, reporter: &mut Reporter<'_>) {
    let kind = path.get("type").and_then(Value::as_str).unwrap_or_default();
    for field in ["replaceFullPath", "replacePrefixMatch"] {
        let Some(value) = path.get(field).and_then(Value::as_str) else {
            continue;
        };
        let carried = value.starts_with('/')
            && !value
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#'));
        if !carried {
            reporter
                .error(
                    object,
                    &format!("{pointer}/{field}"),
                    format!("{value:?} is not a URL path"),
                )
                .hint("an absolute path without spaces, `?` or `#`: `/v2/items`");
        }
    }
    let fields = [
        ("ReplaceFullPath", "replaceFullPath"),
        ("ReplacePrefixMatch", "replacePrefixMatch"),
    ];
    for (name, field) in fields {
        let given = path.get(field).is_some();
        if given && kind != name {
            reporter
                .error(
                    object,
                    &format!("{pointer}/{field}"),
                    format!("`{field}` with path type {kind:?}"),
                )
                .hint(format!("`{field}` goes with `type: {name}`"));
        } else if !given && kind == name {
            reporter
                .error(
                    object,
                    pointer,
                    format!("path type {name} without `{field}`"),
                )
                .hint(format!("give the replacement in `{field}`"));
        }
    }
}

/// A rule's redirect has no backend to send to, and a prefix replacement needs the one
/// prefix the rule matches.
pub(super) fn redirect_and_rewrite(
    object: &Object<'_>,
    pointer: &str,
    rule: &Value,
    reporter: &mut Reporter<'_>,
) {
    let rule_filters = array(rule, "/filters");
    let kind_of = |filter: &Value| {
        filter
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if rule_filters
        .iter()
        .any(|filter| kind_of(filter).as_deref() == Some("RequestRedirect"))
        && !array(rule, "/backendRefs").is_empty()
    {
        reporter
            .error(
                object,
                &format!("{pointer}/backendRefs"),
                "a rule that redirects has backendRefs",
            )
            .hint("the proxy answers a redirect itself: remove the backendRefs");
    }
    let backend_filters = array(rule, "/backendRefs")
        .iter()
        .flat_map(|backend| array(backend, "/filters"))
        .collect::<Vec<_>>();
    let replaces_prefix = rule_filters.iter().chain(backend_filters).any(|filter| {
        ["requestRedirect", "urlRewrite"].iter().any(|field| {
            filter
                .pointer(&format!("/{field}/path/type"))
                .and_then(Value::as_str)
                == Some("ReplacePrefixMatch")
        })
    });
    let matches = array(rule, "/matches");
    let one_prefix = matches.len() == 1
        && matches[0]
            .pointer("/path/type")
            .and_then(Value::as_str)
            .is_none_or(|kind| kind == "PathPrefix");
    if replaces_prefix && !one_prefix {
        reporter
            .error(
                object,
                &format!("{pointer}/matches"),
                "ReplacePrefixMatch needs the rule to have exactly one match, on a PathPrefix",
            )
            .hint("the prefix replaced is the one that rule matched: split the rule, or use ReplaceFullPath");
    }
}

fn header_modifier(
    object: &Object<'_>,
    pointer: &str,
    modifier: &Value,
    reporter: &mut Reporter<'_>,
) {
    for list in ["set", "add"] {
        let mut seen = BTreeSet::new();
        for (position, header) in array(modifier, &format!("/{list}")).iter().enumerate() {
            let at = format!("{pointer}/{list}/{position}");
            let name = header
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !seen.insert(name.to_ascii_lowercase()) {
                reporter
                    .error(
                        object,
                        &format!("{at}/name"),
                        format!("header {name:?} is listed twice in `{list}`"),
                    )
                    .hint("one entry per header name");
            }
            let value = header
                .get("value")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if value.chars().any(|c| c.is_control() && c != '\t') {
                reporter
                    .error(
                        object,
                        &format!("{at}/value"),
                        format!("the value of header {name:?} holds a control character"),
                    )
                    .hint("an HTTP header value is printable text");
            }
        }
    }
    let mut seen = BTreeSet::new();
    for (position, name) in array(modifier, "/remove").iter().enumerate() {
        let name = name.as_str().unwrap_or_default();
        if !seen.insert(name.to_ascii_lowercase()) {
            reporter
                .error(
                    object,
                    &format!("{pointer}/remove/{position}"),
                    format!("header {name:?} is removed twice"),
                )
                .hint("one entry per header name");
        }
    }
}

/// What meshcd implements of Gateway API routes today; the hint of every refusal.
const IMPLEMENTED: &str = "meshcd implements producer and consumer HTTPRoutes and GRPCRoutes bound \
     to a Service: their matches, header modifiers, redirects, URL rewrites, timeouts, retries \
     and weighted backendRefs";

fn not_yet(object: &Object<'_>, pointer: &str, what: &str, reporter: &mut Reporter<'_>) {
    reporter
        .error(
            object,
            pointer,
            format!("{what} is not implemented by meshcd yet"),
        )
        .hint(IMPLEMENTED);
}
