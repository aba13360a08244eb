//! `access.smi-spec.io` TrafficTarget v1alpha1–v1alpha3 → model.

use serde_json::Value;

use super::{array, string};
use crate::model::{Identity, RouteKind, Rule, TrafficTarget};
use crate::validate::report::{Object, Reporter};

pub fn traffic_target(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<TrafficTarget> {
    let value = &object.value;
    let namespace = object.id.namespace.clone().unwrap_or_default();
    // v1alpha1 keeps everything at the top level and calls the rules `specs`.
    let (base, rules_field) = if object.version == "v1alpha1" {
        ("", "specs")
    } else {
        ("/spec", "rules")
    };

    let destination = identity(
        object,
        reporter,
        value.pointer(&format!("{base}/destination"))?,
        &format!("{base}/destination"),
        &namespace,
    )?;
    let mut destination_port = value
        .pointer(&format!("{base}/destination/port"))
        .and_then(super::units::port);
    if destination_port.is_some() && object.version == "v1alpha3" {
        reporter
            .warning(object, "/spec/destination/port", "`destination.port` is a v1alpha2 field; access v1alpha3 limits ports with a TCPRoute rule")
            .hint("list the port in a TCPRoute (specs.smi-spec.io/v1alpha4 `spec.matches.ports`) and reference it from `rules`");
    }
    if object.version != "v1alpha3" && destination_port == Some(0) {
        destination_port = None;
    }

    let mut sources = Vec::new();
    for (index, source) in array(value, &format!("{base}/sources")).iter().enumerate() {
        sources.push(identity(
            object,
            reporter,
            source,
            &format!("{base}/sources/{index}"),
            &namespace,
        )?);
    }

    let mut rules = Vec::new();
    for (index, rule) in array(value, &format!("{base}/{rules_field}"))
        .iter()
        .enumerate()
    {
        let pointer = format!("{base}/{rules_field}/{index}");
        let kind = match rule.get("kind").and_then(Value::as_str) {
            Some("HTTPRouteGroup") => RouteKind::Http,
            Some("TCPRoute") => RouteKind::Tcp,
            Some("UDPRoute") => RouteKind::Udp,
            other => {
                reporter
                    .error(
                        object,
                        &format!("{pointer}/kind"),
                        format!("rule kind {:?} is not a route kind", other.unwrap_or("")),
                    )
                    .hint("use HTTPRouteGroup, TCPRoute or UDPRoute");
                return None;
            }
        };
        let matches = rule.get("matches").and_then(Value::as_array).map(|names| {
            names
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect::<Vec<_>>()
        });
        rules.push(Rule {
            kind,
            name: rule
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            matches,
        });
    }

    Some(TrafficTarget {
        name: object.id.name.clone(),
        namespace,
        destination,
        destination_port,
        sources,
        rules,
    })
}

fn identity(
    object: &Object<'_>,
    reporter: &mut Reporter<'_>,
    value: &Value,
    pointer: &str,
    default_namespace: &str,
) -> Option<Identity> {
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if kind != "ServiceAccount" {
        reporter
            .error(
                object,
                &format!("{pointer}/kind"),
                format!("identity kind {kind:?} is not supported"),
            )
            .hint("meshcd identities are service accounts: `kind: ServiceAccount`");
        return None;
    }
    Some(Identity {
        namespace: string(value, "/namespace")
            .filter(|namespace| !namespace.is_empty())
            .unwrap_or_else(|| default_namespace.to_string()),
        service_account: string(value, "/name").unwrap_or_default(),
    })
}
