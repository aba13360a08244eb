//! The internal model written back as the Kubernetes objects of a given served version.
//!
//! Pure. Every SMI version the repository may use is converted into one model on the way
//! in; on the way out the cluster decides the version. A conversion that would change
//! what an object means (split `matches` in a version without them, a destination port
//! in access v1alpha3, a TCPRoute's ports before v1alpha4) is an error on that object,
//! never a silent approximation.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value, json};

mod bodies;
mod gateway;
mod osm_bodies;

pub use bodies::*;
pub use osm_bodies::*;

use super::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, MESH_LABEL};
use crate::model::{Config, WeightOverrides};

/// A kind meshcd applies to a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Mesh,
    HttpRouteGroup,
    TcpRoute,
    UdpRoute,
    TrafficTarget,
    TrafficSplit,
    ReferenceGrant,
    HttpRoute,
    GrpcRoute,
    Canary,
    Fault,
    Retry,
    UpstreamTrafficSetting,
    Egress,
    IngressBackend,
}

impl Kind {
    /// In apply order: routes before the targets and splits that name them, grants before
    /// the Gateway API routes they let refer across namespaces.
    pub const ALL: [Kind; 15] = [
        Kind::Mesh,
        Kind::HttpRouteGroup,
        Kind::TcpRoute,
        Kind::UdpRoute,
        Kind::TrafficTarget,
        Kind::TrafficSplit,
        Kind::ReferenceGrant,
        Kind::HttpRoute,
        Kind::GrpcRoute,
        Kind::Canary,
        Kind::Fault,
        Kind::Retry,
        Kind::UpstreamTrafficSetting,
        Kind::Egress,
        Kind::IngressBackend,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Mesh => "Mesh",
            Kind::HttpRouteGroup => "HTTPRouteGroup",
            Kind::TcpRoute => "TCPRoute",
            Kind::UdpRoute => "UDPRoute",
            Kind::TrafficTarget => "TrafficTarget",
            Kind::TrafficSplit => "TrafficSplit",
            Kind::ReferenceGrant => "ReferenceGrant",
            Kind::HttpRoute => "HTTPRoute",
            Kind::GrpcRoute => "GRPCRoute",
            Kind::Canary => "Canary",
            Kind::Fault => "Fault",
            Kind::Retry => "Retry",
            Kind::UpstreamTrafficSetting => "UpstreamTrafficSetting",
            Kind::Egress => "Egress",
            Kind::IngressBackend => "IngressBackend",
        }
    }

    pub fn group(self) -> &'static str {
        match self {
            Kind::Mesh | Kind::Canary | Kind::Fault => "meshcd.dev",
            Kind::Retry | Kind::UpstreamTrafficSetting | Kind::Egress | Kind::IngressBackend => {
                "policy.openservicemesh.io"
            }
            Kind::HttpRouteGroup | Kind::TcpRoute | Kind::UdpRoute => "specs.smi-spec.io",
            Kind::TrafficTarget => "access.smi-spec.io",
            Kind::TrafficSplit => "split.smi-spec.io",
            Kind::ReferenceGrant | Kind::HttpRoute | Kind::GrpcRoute => "gateway.networking.k8s.io",
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
            Kind::ReferenceGrant => "referencegrants",
            Kind::HttpRoute => "httproutes",
            Kind::GrpcRoute => "grpcroutes",
            Kind::Canary => "canaries",
            Kind::Fault => "faults",
            Kind::Retry => "retries",
            Kind::UpstreamTrafficSetting => "upstreamtrafficsettings",
            Kind::Egress => "egresses",
            Kind::IngressBackend => "ingressbackends",
        }
    }

    pub fn namespaced(self) -> bool {
        self != Kind::Mesh
    }

    /// The versions meshcd can write, oldest first.
    pub fn versions(self) -> &'static [&'static str] {
        match self {
            Kind::Mesh
            | Kind::Canary
            | Kind::Fault
            | Kind::Retry
            | Kind::UpstreamTrafficSetting
            | Kind::Egress
            | Kind::IngressBackend => &["v1alpha1"],
            Kind::HttpRouteGroup | Kind::TcpRoute => {
                &["v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4"]
            }
            Kind::UdpRoute => &["v1alpha4"],
            Kind::TrafficTarget => &["v1alpha1", "v1alpha2", "v1alpha3"],
            Kind::TrafficSplit => &["v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4"],
            Kind::ReferenceGrant | Kind::HttpRoute => &["v1beta1", "v1"],
            Kind::GrpcRoute => &["v1"],
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

impl ObjectKey {
    /// An object of a namespaced kind.
    pub fn namespaced(kind: Kind, namespace: &str, name: &str) -> ObjectKey {
        ObjectKey {
            kind,
            namespace: Some(namespace.to_string()),
            name: name.to_string(),
        }
    }
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

/// Converts the whole config for the versions in `served` (kind → the version to write).
///
/// Long because it is a list: one loop per kind, in apply order.
/// `weights`: what running canaries hold; while a rollout runs they replace the split's
/// (or route's) weights from Git (design §6), so drift correction never fights the
/// canary controller.
pub fn plan(config: &Config, served: &BTreeMap<Kind, String>, weights: &WeightOverrides) -> Plan {
    let config = &*config.with_weights(weights);
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
    let key = ObjectKey::namespaced;

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
        add(
            key(Kind::TrafficSplit, &split.namespace, &split.name),
            &|version| traffic_split(split, version),
        );
    }
    gateway::add_objects(config, &mut add);
    for canary_object in &config.canaries {
        let value = &canary_object.value;
        add(
            key(Kind::Canary, &value.namespace, &value.name),
            &|version| canary(value, version),
        );
    }
    for retry_object in &config.retries {
        let value = &retry_object.value;
        add(
            key(Kind::Retry, &value.namespace, &value.name),
            &|version| retry(value, version),
        );
    }
    for setting in &config.upstream_settings {
        let value = &setting.value;
        add(
            key(Kind::UpstreamTrafficSetting, &value.namespace, &value.name),
            &|version| upstream_traffic_setting(value, version),
        );
    }
    for egress_object in &config.egresses {
        let value = &egress_object.value;
        add(
            key(Kind::Egress, &value.namespace, &value.name),
            &|version| egress(value, version),
        );
    }
    for ingress in &config.ingress_backends {
        let value = &ingress.value;
        add(
            key(Kind::IngressBackend, &value.namespace, &value.name),
            &|version| ingress_backend(value, version),
        );
    }
    for fault_object in &config.faults {
        let value = &fault_object.value;
        add(
            key(Kind::Fault, &value.namespace, &value.name),
            &|version| fault(value, version),
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

#[cfg(test)]
mod tests;
