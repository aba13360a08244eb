//! One function per kind: an object of the internal model as the body of the version the
//! cluster serves, refusing what that version cannot say (never a lossy apply). OSM's
//! policy kinds are in `osm_bodies`.

use serde_json::{Value, json};

use super::{ConversionError, Kind, check_version, lossy};
use crate::model::{
    Canary, Fault, HttpRouteGroup, Identity, Mesh, MtlsMode, PortRoute, RouteKind, TrafficPolicy,
    TrafficSplit, TrafficTarget,
};
use crate::validate::convert::units::format_duration;

fn identity(identity: &Identity) -> Value {
    json!({
        "kind": "ServiceAccount",
        "name": identity.service_account,
        "namespace": identity.namespace,
    })
}

pub fn traffic_target(target: &TrafficTarget, version: &str) -> Result<Value, ConversionError> {
    let kind = Kind::TrafficTarget;
    check_version(kind, version)?;
    let mut destination = identity(&target.destination);
    if let Some(port) = target.destination_port {
        if version == "v1alpha3" {
            return Err(lossy(
                kind,
                version,
                format!("destination.port {port} (list the port in a TCPRoute rule instead)"),
            ));
        }
        destination["port"] = json!(port);
    }
    let mut rules = Vec::new();
    for rule in &target.rules {
        if rule.kind == RouteKind::Udp && version != "v1alpha3" {
            return Err(lossy(
                kind,
                version,
                format!("a UDPRoute rule ({})", rule.name),
            ));
        }
        let mut value = json!({ "kind": rule.kind.kind_name(), "name": rule.name });
        if let Some(matches) = &rule.matches {
            value["matches"] = json!(matches);
        }
        rules.push(value);
    }
    let sources: Vec<Value> = target.sources.iter().map(identity).collect();
    Ok(if version == "v1alpha1" {
        // v1alpha1 keeps everything at the top level and calls the rules `specs`.
        json!({ "destination": destination, "specs": rules, "sources": sources })
    } else {
        json!({ "spec": { "destination": destination, "rules": rules, "sources": sources } })
    })
}

pub fn http_route_group(group: &HttpRouteGroup, version: &str) -> Result<Value, ConversionError> {
    check_version(Kind::HttpRouteGroup, version)?;
    let matches: Vec<Value> = group
        .matches
        .iter()
        .map(|item| {
            let mut value = json!({ "name": item.name });
            if let Some(path) = &item.path_regex {
                value["pathRegex"] = json!(path);
            }
            if !item.methods.is_empty() {
                value["methods"] = json!(item.methods);
            }
            if !item.headers.is_empty() {
                // The CRD's form: a list of single-header maps.
                let headers: Vec<Value> = item
                    .headers
                    .iter()
                    .map(|(name, regex)| json!({ name: regex }))
                    .collect();
                value["headers"] = json!(headers);
            }
            value
        })
        .collect();
    Ok(match version {
        "v1alpha1" | "v1alpha2" => json!({ "matches": matches }),
        _ => json!({ "spec": { "matches": matches } }),
    })
}

pub fn port_route(kind: Kind, route: &PortRoute, version: &str) -> Result<Value, ConversionError> {
    check_version(kind, version)?;
    if version == "v1alpha4" {
        // A real API server requires `spec.matches.ports`, even when it is empty (all ports).
        return Ok(json!({ "spec": { "matches": { "ports": route.ports } } }));
    }
    if !route.ports.is_empty() {
        return Err(lossy(
            kind,
            version,
            format!("ports {:?} (only v1alpha4 limits ports)", route.ports),
        ));
    }
    Ok(json!({}))
}

pub fn traffic_split(split: &TrafficSplit, version: &str) -> Result<Value, ConversionError> {
    let kind = Kind::TrafficSplit;
    check_version(kind, version)?;
    if !split.matches.is_empty() && matches!(version, "v1alpha1" | "v1alpha2") {
        return Err(lossy(
            kind,
            version,
            format!(
                "matches {:?} (A/B splits need v1alpha3 or later)",
                split.matches
            ),
        ));
    }
    let backends: Vec<Value> = split
        .backends
        .iter()
        .map(|backend| {
            // v1alpha1 weights are Quantities; the model's weights are relative, so
            // thousandths keep every ratio.
            let weight = if version == "v1alpha1" {
                json!(format!("{}m", backend.weight))
            } else {
                json!(backend.weight)
            };
            json!({ "service": backend.service, "weight": weight })
        })
        .collect();
    let mut spec = json!({ "service": split.service, "backends": backends });
    if !split.matches.is_empty() {
        spec["matches"] = split
            .matches
            .iter()
            .map(|name| json!({ "kind": "HTTPRouteGroup", "name": name }))
            .collect();
    }
    Ok(json!({ "spec": spec }))
}

pub fn canary(canary: &Canary, version: &str) -> Result<Value, ConversionError> {
    check_version(Kind::Canary, version)?;
    let analysis = &canary.analysis;
    let mut analysis_value = json!({
        "minRequests": analysis.min_requests,
        "failureThreshold": analysis.failure_threshold,
    });
    if let Some(min) = analysis.success_rate_min {
        analysis_value["successRate"] = json!({ "min": min });
    }
    if let Some(max) = analysis.latency_p99_max {
        analysis_value["latencyP99"] = json!({ "max": format_duration(max) });
    }
    let mut spec = json!({
        "stable": canary.stable,
        "canary": canary.canary,
        "steps": { "weights": canary.weights },
        "interval": format_duration(canary.interval),
        "progressDeadline": format_duration(canary.progress_deadline),
        "analysis": analysis_value,
    });
    // `trafficSplit: name` or `httpRoute: {name, rule}`, as in the repository.
    if let (Value::Object(spec), Ok(Value::Object(target))) =
        (&mut spec, serde_json::to_value(&canary.target))
    {
        spec.extend(target);
    }
    Ok(json!({ "spec": spec }))
}

pub fn fault(fault: &Fault, version: &str) -> Result<Value, ConversionError> {
    check_version(Kind::Fault, version)?;
    let mut spec = json!({ "destination": { "kind": "Service", "name": fault.destination } });
    if !fault.sources.is_empty() {
        spec["sources"] = fault
            .sources
            .iter()
            .map(|source| {
                json!({
                    "kind": "ServiceAccount",
                    "name": source.service_account,
                    "namespace": source.namespace,
                })
            })
            .collect();
    }
    if !fault.routes.is_empty() {
        spec["routes"] = fault
            .routes
            .iter()
            .map(|rule| {
                let mut route = json!({ "kind": "HTTPRouteGroup", "name": rule.name });
                if let Some(matches) = &rule.matches {
                    route["matches"] = json!(matches);
                }
                route
            })
            .collect();
    }
    if let Some(abort) = &fault.abort {
        spec["abort"] = json!({ "percent": abort.percent, "httpStatus": abort.status });
    }
    if let Some(delay) = &fault.delay {
        spec["delay"] = json!({
            "percent": delay.percent,
            "fixedDelay": format_duration(delay.duration),
        });
    }
    Ok(json!({ "spec": spec }))
}

pub fn mesh(mesh: &Mesh, version: &str) -> Result<Value, ConversionError> {
    check_version(Kind::Mesh, version)?;
    let mut body = json!({
        "spec": {
            "trustDomain": mesh.trust_domain,
            "trafficPolicy": match mesh.traffic_policy {
                TrafficPolicy::Deny => "deny",
                TrafficPolicy::Permissive => "permissive",
            },
            "mtls": match mesh.mtls {
                MtlsMode::Strict => "strict",
                MtlsMode::Permissive => "permissive",
            },
            "pathNormalization": mesh.path_normalization.as_str(),
            "certificateLifetime": format_duration(mesh.certificate_lifetime),
            "faultInjection": if mesh.fault_injection { "allowed" } else { "denied" },
            "retryBudget": {
                "percent": mesh.retry_budget_percent,
                "minRetriesPerSecond": mesh.retry_budget_min_per_second,
            },
            "canaryDefaults": {
                "interval": format_duration(mesh.canary_interval),
                "failureThreshold": mesh.canary_failure_threshold,
            },
        }
    });
    // Left out when unset: its default follows the traffic policy.
    if let Some(allow) = mesh.egress {
        body["spec"]["egress"] = json!(if allow { "allow" } else { "deny" });
    }
    Ok(body)
}
