//! `split.smi-spec.io` TrafficSplit v1alpha1–v1alpha4 → model.

use serde_json::Value;

use super::units::parse_quantity_milli;
use super::{array, string};
use crate::model::{Backend, TrafficSplit};
use crate::validate::report::{Object, Reporter};

/// The cluster domain accepted in fully qualified root service names.
const CLUSTER_DOMAIN: &str = "cluster.local";

pub fn traffic_split(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<TrafficSplit> {
    let value = &object.value;
    let namespace = object.id.namespace.clone().unwrap_or_default();
    let root = string(value, "/spec/service").unwrap_or_default();
    let service = match root_service_name(&root, &namespace) {
        Ok(service) => service,
        Err((message, hint)) => {
            reporter.error(object, "/spec/service", message).hint(hint);
            return None;
        }
    };

    let mut backends = Vec::new();
    let mut failed = false;
    for (index, backend) in array(value, "/spec/backends").iter().enumerate() {
        let pointer = format!("/spec/backends/{index}/weight");
        let weight = match weight(object, backend.get("weight")) {
            Ok(weight) => weight,
            Err(message) => {
                reporter.error(object, &pointer, message);
                failed = true;
                continue;
            }
        };
        if weight < 0 {
            reporter
                .error(object, &pointer, format!("weight {weight} is negative"))
                .hint("weights are relative and non-negative; 0 sends no traffic to a backend");
            failed = true;
            continue;
        }
        backends.push(Backend {
            service: string(backend, "/service").unwrap_or_default(),
            weight: weight as u64,
        });
    }
    if failed {
        return None;
    }
    if !backends.is_empty() && backends.iter().all(|backend| backend.weight == 0) {
        reporter
            .error(
                object,
                "/spec/backends",
                "every backend has weight 0, so no request could be routed",
            )
            .hint("give at least one backend a positive weight");
        return None;
    }

    let matches = array(value, "/spec/matches")
        .iter()
        .filter_map(|reference| reference.get("name").and_then(Value::as_str))
        .map(str::to_string)
        .collect();

    Some(TrafficSplit {
        name: object.id.name.clone(),
        namespace,
        service,
        backends,
        matches,
    })
}

/// v1alpha1 weights are Quantities (in thousandths in the model); later ones whole numbers.
fn weight(object: &Object<'_>, value: Option<&Value>) -> Result<i64, String> {
    let value = value.ok_or("backend has no weight")?;
    if object.version == "v1alpha1" {
        return match value {
            Value::String(text) => parse_quantity_milli(text),
            Value::Number(number) => parse_quantity_milli(&number.to_string()),
            _ => Err("weight must be a quantity such as 1 or 500m".into()),
        };
    }
    match value.as_i64() {
        Some(weight) => Ok(weight),
        None if value.as_f64().is_some() => Err(format!(
            "weight {value} is not a whole number (split {} weights are integers)",
            object.version
        )),
        None => Err("weight must be a whole number".into()),
    }
}

/// `name`, `name.ns`, `name.ns.svc`, `name.ns.svc.cluster.local` (trailing dot and port
/// allowed); the namespace part must be the split's own.
pub fn root_service_name(root: &str, namespace: &str) -> Result<String, (String, String)> {
    let host = root.trim_end_matches('.');
    let host = host.rsplit_once(':').map_or(host, |(host, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            host.trim_end_matches('.')
        } else {
            host
        }
    });
    let labels: Vec<&str> = host.split('.').collect();
    let bad_form = || {
        (
            format!("root service {root:?} is not a service name"),
            format!(
                "use `name`, `name.{namespace}`, `name.{namespace}.svc` or `name.{namespace}.svc.{CLUSTER_DOMAIN}`"
            ),
        )
    };
    if labels.iter().any(|label| label.is_empty()) {
        return Err(bad_form());
    }
    if let Some(other) = labels.get(1)
        && *other != namespace
    {
        return Err((
            format!(
                "root service {root:?} is in namespace {other:?}, not in the split's namespace {namespace:?}"
            ),
            "a TrafficSplit splits a service of its own namespace; move the split or fix the name"
                .to_string(),
        ));
    }
    let suffix_ok = match labels.len() {
        1 | 2 => true,
        3 => labels[2] == "svc",
        _ => labels[2] == "svc" && labels[3..].join(".") == CLUSTER_DOMAIN,
    };
    if !suffix_ok {
        return Err(bad_form());
    }
    Ok(labels[0].to_string())
}

#[cfg(test)]
mod tests {
    use super::root_service_name;

    #[test]
    fn every_root_form_names_the_same_service() {
        for root in [
            "api",
            "api.shop",
            "api.shop.svc",
            "api.shop.svc.cluster.local",
            "api.shop.svc.cluster.local.",
            "api.shop:80",
        ] {
            assert_eq!(root_service_name(root, "shop").unwrap(), "api", "{root}");
        }
    }

    #[test]
    fn a_root_in_another_namespace_is_refused() {
        let (message, _) = root_service_name("api.other", "shop").unwrap_err();
        assert!(message.contains("namespace \"other\""), "{message}");
        assert!(root_service_name("api.shop.cluster", "shop").is_err());
    }
}
