//! The internal model written back as the Kubernetes objects of a given served version.
//!
//! Pure. Every SMI version the repository may use is converted into one model on the way
//! in; on the way out the cluster decides the version. A conversion that would change
//! what an object means (split `matches` in a version without them, a destination port
//! in access v1alpha3, a TCPRoute's ports before v1alpha4) is an error on that object,
//! never a silent approximation.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, MESH_LABEL};
use crate::model::{
    Canary, Config, HttpRouteGroup, Identity, Mesh, MtlsMode, PortRoute, RouteKind, TrafficPolicy,
    TrafficSplit, TrafficTarget,
};

/// A kind meshcd applies to a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Mesh,
    HttpRouteGroup,
    TcpRoute,
    UdpRoute,
    TrafficTarget,
    TrafficSplit,
    Canary,
}

impl Kind {
    /// In apply order: routes before the targets and splits that name them.
    pub const ALL: [Kind; 7] = [
        Kind::Mesh,
        Kind::HttpRouteGroup,
        Kind::TcpRoute,
        Kind::UdpRoute,
        Kind::TrafficTarget,
        Kind::TrafficSplit,
        Kind::Canary,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Mesh => "Mesh",
            Kind::HttpRouteGroup => "HTTPRouteGroup",
            Kind::TcpRoute => "TCPRoute",
            Kind::UdpRoute => "UDPRoute",
            Kind::TrafficTarget => "TrafficTarget",
            Kind::TrafficSplit => "TrafficSplit",
            Kind::Canary => "Canary",
        }
    }

    pub fn group(self) -> &'static str {
        match self {
            Kind::Mesh | Kind::Canary => "meshcd.dev",
            Kind::HttpRouteGroup | Kind::TcpRoute | Kind::UdpRoute => "specs.smi-spec.io",
            Kind::TrafficTarget => "access.smi-spec.io",
            Kind::TrafficSplit => "split.smi-spec.io",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Kind::Mesh => "meshes",
            Kind::HttpRouteGroup => "httproutegroups",
            Kind::TcpRoute => "tcproutes",
            Kind::UdpRoute => "udproutes",
            Kind::TrafficTarget => "traffictargets",
            Kind::TrafficSplit => "trafficsplits",
            Kind::Canary => "canaries",
        }
    }

    pub fn namespaced(self) -> bool {
        self != Kind::Mesh
    }

    /// The versions meshcd can write, oldest first.
    pub fn versions(self) -> &'static [&'static str] {
        match self {
            Kind::Mesh | Kind::Canary => &["v1alpha1"],
            Kind::HttpRouteGroup | Kind::TcpRoute => {
                &["v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4"]
            }
            Kind::UdpRoute => &["v1alpha4"],
            Kind::TrafficTarget => &["v1alpha1", "v1alpha2", "v1alpha3"],
            Kind::TrafficSplit => &["v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4"],
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which object: kind, namespace (none for cluster-scoped kinds) and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub kind: Kind,
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{} {namespace}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// One object to server-side apply: the whole body, `apiVersion` included.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub key: ObjectKey,
    pub version: String,
    pub body: Value,
}

/// Why an object of the repository cannot be applied to this cluster.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversionError {
    #[error("the cluster serves no version of {kind} that meshcd writes (is its CRD installed?)")]
    NotServed { kind: Kind },
    #[error("{group}/{version} cannot express {what}")]
    Lossy {
        group: &'static str,
        version: String,
        what: String,
    },
    #[error("meshcd does not write {group}/{version}")]
    UnknownVersion {
        group: &'static str,
        version: String,
    },
}

/// What the applier should do, computed from the config and the versions the cluster
/// serves: the objects to apply and those that cannot be converted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub objects: Vec<Desired>,
    pub errors: Vec<(ObjectKey, ConversionError)>,
}

impl Plan {
    /// Every object of the repository, convertible or not: what pruning must keep.
    pub fn keys(&self) -> impl Iterator<Item = &ObjectKey> {
        self.objects
            .iter()
            .map(|object| &object.key)
            .chain(self.errors.iter().map(|(key, _)| key))
    }
}

/// The weights running canaries hold, by (namespace, split name) then backend service:
/// while a rollout runs they replace the split's weights from Git (design §6), so drift
/// correction never fights the canary controller.
pub type SplitWeights = BTreeMap<(String, String), BTreeMap<String, u64>>;

/// Converts the whole config for the versions in `served` (kind → the version to write).
pub fn plan(config: &Config, served: &BTreeMap<Kind, String>, weights: &SplitWeights) -> Plan {
    let mesh_name = config.mesh.name.as_str();
    let mut plan = Plan::default();
    let mut add = |key: ObjectKey, convert: &dyn Fn(&str) -> Result<Value, ConversionError>| {
        let Some(version) = served.get(&key.kind) else {
            plan.errors
                .push((key.clone(), ConversionError::NotServed { kind: key.kind }));
            return;
        };
        match convert(version) {
            Ok(body) => plan.objects.push(Desired {
                body: with_metadata(body, &key, version, mesh_name),
                key,
                version: version.clone(),
            }),
            Err(error) => plan.errors.push((key, error)),
        }
    };
    let key = |kind, namespace: &str, name: &str| ObjectKey {
        kind,
        namespace: Some(namespace.to_string()),
        name: name.to_string(),
    };

    add(
        ObjectKey {
            kind: Kind::Mesh,
            namespace: None,
            name: mesh_name.to_string(),
        },
        &|version| mesh(&config.mesh, version),
    );
    for group in &config.http_route_groups {
        let group = &group.value;
        add(
            key(Kind::HttpRouteGroup, &group.namespace, &group.name),
            &|version| http_route_group(group, version),
        );
    }
    for route in &config.tcp_routes {
        let route = &route.value;
        add(
            key(Kind::TcpRoute, &route.namespace, &route.name),
            &|version| port_route(Kind::TcpRoute, route, version),
        );
    }
    for route in &config.udp_routes {
        let route = &route.value;
        add(
            key(Kind::UdpRoute, &route.namespace, &route.name),
            &|version| port_route(Kind::UdpRoute, route, version),
        );
    }
    for target in &config.traffic_targets {
        let target = &target.value;
        add(
            key(Kind::TrafficTarget, &target.namespace, &target.name),
            &|version| traffic_target(target, version),
        );
    }
    for split in &config.traffic_splits {
        let split = &split.value;
        let mut split = split.clone();
        if let Some(weights) = weights.get(&(split.namespace.clone(), split.name.clone())) {
            for backend in &mut split.backends {
                if let Some(weight) = weights.get(&backend.service) {
                    backend.weight = *weight;
                }
            }
        }
        add(
            key(Kind::TrafficSplit, &split.namespace, &split.name),
            &|version| traffic_split(&split, version),
        );
    }
    for canary_object in &config.canaries {
        let value = &canary_object.value;
        add(
            key(Kind::Canary, &value.namespace, &value.name),
            &|version| canary(value, version),
        );
    }
    plan
}

/// Adds `apiVersion`, `kind` and the metadata every managed object carries.
fn with_metadata(mut body: Value, key: &ObjectKey, version: &str, mesh: &str) -> Value {
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(key.name));
    if let Some(namespace) = &key.namespace {
        metadata.insert("namespace".into(), json!(namespace));
    }
    metadata.insert(
        "labels".into(),
        json!({ MANAGED_BY_LABEL: MANAGED_BY_VALUE, MESH_LABEL: mesh }),
    );
    let object = body.as_object_mut().expect("converters build objects");
    object.insert(
        "apiVersion".into(),
        json!(format!("{}/{version}", key.kind.group())),
    );
    object.insert("kind".into(), json!(key.kind.name()));
    object.insert("metadata".into(), Value::Object(metadata));
    body
}

fn lossy(kind: Kind, version: &str, what: impl Into<String>) -> ConversionError {
    ConversionError::Lossy {
        group: kind.group(),
        version: version.to_string(),
        what: what.into(),
    }
}

fn check_version(kind: Kind, version: &str) -> Result<(), ConversionError> {
    if kind.versions().contains(&version) {
        Ok(())
    } else {
        Err(ConversionError::UnknownVersion {
            group: kind.group(),
            version: version.to_string(),
        })
    }
}

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
    Ok(json!({
        "spec": {
            "trafficSplit": canary.traffic_split,
            "stable": canary.stable,
            "canary": canary.canary,
            "steps": { "weights": canary.weights },
            "interval": format_duration(canary.interval),
            "progressDeadline": format_duration(canary.progress_deadline),
            "analysis": analysis_value,
        }
    }))
}

pub fn mesh(mesh: &Mesh, version: &str) -> Result<Value, ConversionError> {
    check_version(Kind::Mesh, version)?;
    Ok(json!({
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
            "canaryDefaults": {
                "interval": format_duration(mesh.canary_interval),
                "failureThreshold": mesh.canary_failure_threshold,
            },
        }
    }))
}

/// `1h30m`, `30s`, `500ms`: the duration syntax the schemas accept.
pub fn format_duration(duration: Duration) -> String {
    let mut millis = duration.as_millis();
    if millis == 0 {
        return "0s".into();
    }
    let mut text = String::new();
    for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
        if millis >= size {
            text.push_str(&format!("{}{unit}", millis / size));
            millis %= size;
        }
    }
    text
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
