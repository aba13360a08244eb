//! `specs.smi-spec.io` HTTPRouteGroup, TCPRoute, UDPRoute v1alpha1–v1alpha4 → model.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{array, string};
use crate::model::{HttpMatch, HttpRouteGroup, PortRoute};
use crate::validate::report::{Object, Reporter};

pub fn http_route_group(
    object: &Object<'_>,
    reporter: &mut Reporter<'_>,
) -> Option<HttpRouteGroup> {
    let value = &object.value;
    let legacy = matches!(object.version.as_str(), "v1alpha1" | "v1alpha2");
    let top_level = value.get("matches").is_some();
    let pointer = if legacy {
        "/matches"
    } else if top_level {
        if value.pointer("/spec/matches").is_some() {
            reporter
                .error(
                    object,
                    "/matches",
                    "matches are given both at the top level and under `spec`",
                )
                .hint(format!(
                    "{} keeps them under `spec.matches` only",
                    object.api_version
                ));
            return None;
        }
        reporter
            .warning(
                object,
                "/matches",
                format!(
                    "top-level `matches` is the v1alpha2 shape; {} puts them under `spec.matches`",
                    object.api_version
                ),
            )
            .hint("move `matches` under `spec`");
        "/matches"
    } else {
        "/spec/matches"
    };

    let mut names = BTreeSet::new();
    let mut matches = Vec::new();
    for (index, item) in array(value, pointer).iter().enumerate() {
        let item_pointer = format!("{pointer}/{index}");
        let name = string(item, "/name").unwrap_or_default();
        if !names.insert(name.clone()) {
            reporter
                .error(
                    object,
                    &format!("{item_pointer}/name"),
                    format!("match name {name:?} is used twice in this group"),
                )
                .hint("match names are the keys rules refer to; make them unique");
            return None;
        }
        let headers = headers(
            object,
            reporter,
            item.get("headers"),
            &format!("{item_pointer}/headers"),
        )?;
        let methods = array(item, "/methods")
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_ascii_uppercase)
            .collect();
        matches.push(HttpMatch {
            name,
            path_regex: string(item, "/pathRegex").filter(|path| !path.is_empty()),
            methods,
            headers,
        });
    }
    Some(HttpRouteGroup {
        name: object.id.name.clone(),
        namespace: object.id.namespace.clone().unwrap_or_default(),
        matches,
    })
}

/// Accepts the CRD's list of single-key maps and the plain map of the later spec text.
fn headers(
    object: &Object<'_>,
    reporter: &mut Reporter<'_>,
    value: Option<&Value>,
    pointer: &str,
) -> Option<Vec<(String, String)>> {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut add = |reporter: &mut Reporter<'_>, name: &str, regex: &Value, at: String| {
        let name = name.to_ascii_lowercase();
        if headers.iter().any(|(existing, _)| *existing == name) {
            reporter
                .error(
                    object,
                    &at,
                    format!("header {name:?} is filtered twice in one match"),
                )
                .hint("header names are case-insensitive; combine the two regexes into one");
            return false;
        }
        headers.push((name, regex.as_str().unwrap_or_default().to_string()));
        true
    };
    match value {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, regex) in map {
                if !add(reporter, name, regex, format!("{pointer}/{name}")) {
                    return None;
                }
            }
        }
        Some(Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                let map = item.as_object()?;
                if map.len() != 1 {
                    reporter
                        .error(
                            object,
                            &format!("{pointer}/{index}"),
                            "each item of a `headers` list must hold exactly one header",
                        )
                        .hint("write one `- name: regex` item per header");
                    return None;
                }
                for (name, regex) in map {
                    if !add(reporter, name, regex, format!("{pointer}/{index}/{name}")) {
                        return None;
                    }
                }
            }
        }
        Some(_) => return None,
    }
    // The map form reaches us sorted by name (JSON objects); sort the list form the same
    // way so that both forms convert to the same model.
    headers.sort();
    Some(headers)
}

/// TCPRoute / UDPRoute: only v1alpha4 has ports; earlier versions match every port.
pub fn port_route(object: &Object<'_>, value: &Value) -> PortRoute {
    let mut ports: Vec<u16> = array(value, "/spec/matches/ports")
        .iter()
        .filter_map(super::units::port)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    PortRoute {
        name: object.id.name.clone(),
        namespace: object.id.namespace.clone().unwrap_or_default(),
        ports,
    }
}
