//! The validation pipeline shared by the reconciler, `meshcd validate` and `meshcd diff`:
//! classify each document → JSON Schema → convert to the model → checks across documents.
//!
//! A config with any error yields no `Config`: nothing of an invalid revision is applied.

pub mod convert;
pub mod report;
pub mod schema;
pub mod semantic;

use serde_json::Value;

use crate::diagnostics::{Diagnostics, ObjectId, Severity};
use crate::load::{Document, Loaded};
use crate::model::{Config, Located};
use convert::Converted;
use report::{Object, Reporter};

/// API groups whose every kind and version meshcd must understand: a typo there is an error.
const OWNED_GROUPS: &[&str] = &[
    "access.smi-spec.io",
    "specs.smi-spec.io",
    "split.smi-spec.io",
    "meshcd.dev",
];

/// The result of validating a loaded tree.
#[derive(Debug)]
pub struct Validated {
    /// `Some` only when there is no error.
    pub config: Option<Config>,
    pub diagnostics: Diagnostics,
}

pub fn validate(loaded: &Loaded) -> Validated {
    let mut reporter = Reporter::new(loaded);
    reporter
        .diagnostics
        .0
        .extend(loaded.diagnostics.0.iter().cloned());
    let mut schemas = schema::Schemas::default();
    let mut objects = Vec::new();
    // Objects that exist but are reported invalid: references to them are not errors
    // too (one typo, one error).
    let mut invalid = semantic::Invalid::default();
    for document in &loaded.documents {
        let Some(mut object) = classify(document, document.value(), &mut reporter) else {
            continue;
        };
        if !schemas.check(&object, &mut reporter) {
            invalid.insert(&object.id);
            continue;
        }
        if let Some(converted) = convert::convert(&object, &mut reporter) {
            object.value = Value::Null;
            objects.push((object, converted));
        } else {
            invalid.insert(&object.id);
        }
    }
    semantic::check(&objects, &invalid, &mut reporter);
    let config = assemble(objects, &reporter);
    let mut diagnostics = reporter.diagnostics;
    diagnostics.sort();
    Validated {
        config: (!diagnostics.has_errors()).then_some(config),
        diagnostics,
    }
}

/// Sorts documents into the kinds meshcd reads; others are skipped with a note, and
/// unknown kinds in meshcd's own groups are errors.
fn classify<'a>(
    document: &'a Document,
    value: Value,
    reporter: &mut Reporter<'_>,
) -> Option<Object<'a>> {
    let api_version = value.get("apiVersion").and_then(Value::as_str);
    let kind = value.get("kind").and_then(Value::as_str);
    let name = value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let namespace = value.pointer("/metadata/namespace").and_then(Value::as_str);
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        let missing = if !value.is_object() {
            "the document is not a mapping".to_string()
        } else if api_version.is_none() {
            "the document has no `apiVersion`".to_string()
        } else {
            "the document has no `kind`".to_string()
        };
        reporter
            .at(Severity::Error, document, None, "", missing)
            .hint("every document needs `apiVersion` and `kind`; delete empty or stray documents");
        return None;
    };
    let id = ObjectId {
        kind: kind.to_string(),
        namespace: namespace.map(str::to_string),
        name: name.to_string(),
    };
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let known = match (group, kind) {
        ("", "Namespace") => version == "v1",
        ("access.smi-spec.io", "TrafficTarget") => {
            matches!(version, "v1alpha1" | "v1alpha2" | "v1alpha3")
        }
        ("specs.smi-spec.io", "HTTPRouteGroup" | "TCPRoute") => {
            matches!(version, "v1alpha1" | "v1alpha2" | "v1alpha3" | "v1alpha4")
        }
        ("specs.smi-spec.io", "UDPRoute") => version == "v1alpha4",
        ("split.smi-spec.io", "TrafficSplit") => {
            matches!(version, "v1alpha1" | "v1alpha2" | "v1alpha3" | "v1alpha4")
        }
        ("meshcd.dev", "Mesh" | "Canary" | "Fault") => version == "v1alpha1",
        (
            "policy.openservicemesh.io",
            "Retry" | "UpstreamTrafficSetting" | "Egress" | "IngressBackend",
        ) => version == "v1alpha1",
        ("config.openservicemesh.io", "MeshRootCertificate") => version == "v1alpha2",
        (GATEWAY_GROUP, "HTTPRoute" | "ReferenceGrant") => matches!(version, "v1" | "v1beta1"),
        (GATEWAY_GROUP, "GRPCRoute") => version == "v1",
        _ => false,
    };
    // A Gateway API kind is the mesh's when it is a ReferenceGrant or a route bound to a
    // Service; an ingress route (bound to a Gateway) is skipped like any other kind.
    let mesh_gateway_kind = group == GATEWAY_GROUP
        && known_kind_of_group(group, kind)
        && (kind == "ReferenceGrant" || binds_a_service(&value));
    if known && (group != GATEWAY_GROUP || mesh_gateway_kind) {
        return Some(Object {
            document,
            api_version: api_version.to_string(),
            version: version.to_string(),
            id,
            value,
        });
    }
    let owned =
        OWNED_GROUPS.contains(&group) || group.ends_with(".smi-spec.io") || mesh_gateway_kind;
    report_unread(
        document,
        &id,
        (api_version, group, version, kind),
        owned,
        reporter,
    );
    None
}

/// A document meshcd does not read: in a group meshcd owns, an error that points at the
/// wrong version, kind or group; elsewhere, a note that it was skipped.
fn report_unread(
    document: &Document,
    id: &ObjectId,
    (api_version, group, version, kind): (&str, &str, &str, &str),
    owned: bool,
    reporter: &mut Reporter<'_>,
) {
    if owned {
        // Point at the field that is wrong: the version or the group is in `apiVersion`.
        let (pointer, message) = if known_kind_of_group(group, kind) {
            (
                "/apiVersion",
                format!("{kind} has no version {version} in {group}"),
            )
        } else if OWNED_GROUPS.contains(&group) {
            ("/kind", format!("unknown kind {kind} in {group}"))
        } else {
            (
                "/apiVersion",
                format!("unknown API group {group} (kind {kind})"),
            )
        };
        reporter
            .at(Severity::Error, document, Some(id), pointer, message)
            .hint(supported_hint(group));
    } else {
        reporter.at(
            Severity::Note,
            document,
            Some(id),
            "/kind",
            format!("skipped {api_version} {kind}: not mesh configuration"),
        );
    }
}

fn known_kind_of_group(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("access.smi-spec.io", "TrafficTarget")
            | (
                "specs.smi-spec.io",
                "HTTPRouteGroup" | "TCPRoute" | "UDPRoute"
            )
            | ("split.smi-spec.io", "TrafficSplit")
            | ("meshcd.dev", "Mesh" | "Canary" | "Fault")
            | (
                "policy.openservicemesh.io",
                "Retry" | "UpstreamTrafficSetting" | "Egress" | "IngressBackend"
            )
            | ("config.openservicemesh.io", "MeshRootCertificate")
            | (GATEWAY_GROUP, "HTTPRoute" | "GRPCRoute" | "ReferenceGrant")
    )
}

/// Gateway API's group: its route kinds are mesh configuration when bound to a Service
/// (GAMMA); the others (Gateway, GatewayClass, TLSRoute, …) configure ingress.
pub(in crate::validate) const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// Whether a route names a Service among its parents (a mesh route, not an ingress one).
fn binds_a_service(value: &Value) -> bool {
    value
        .pointer("/spec/parentRefs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|parent| convert::is_service(parent, GATEWAY_GROUP, "Gateway"))
}

fn supported_hint(group: &str) -> String {
    match group {
        "access.smi-spec.io" => "supported: access.smi-spec.io/v1alpha1..v1alpha3 TrafficTarget".into(),
        "specs.smi-spec.io" => {
            "supported: specs.smi-spec.io/v1alpha1..v1alpha4 HTTPRouteGroup and TCPRoute, v1alpha4 UDPRoute".into()
        }
        "split.smi-spec.io" => "supported: split.smi-spec.io/v1alpha1..v1alpha4 TrafficSplit".into(),
        "meshcd.dev" => "supported: meshcd.dev/v1alpha1 Mesh and Canary".into(),
        GATEWAY_GROUP => {
            "supported: gateway.networking.k8s.io/v1 and v1beta1 HTTPRoute and ReferenceGrant, v1 GRPCRoute".into()
        }
        "spec.smi-spec.io" => "the route group is specs.smi-spec.io (with an s)".into(),
        _ => format!("meshcd does not read {group}"),
    }
}

/// Gathers converted objects into the model and applies Mesh defaults to canaries.
fn assemble(objects: Vec<(Object<'_>, Converted)>, reporter: &Reporter<'_>) -> Config {
    let mut config = Config::default();
    let mut canaries = Vec::new();
    let mut mesh_seen = false;
    for (object, converted) in objects {
        let origin = reporter.origin(object.document);
        match converted {
            Converted::Namespace(name) => {
                config.namespaces.insert(name);
            }
            // A second Mesh is an error reported by `semantic`, so the first one wins here.
            Converted::Mesh(mesh) => {
                if !mesh_seen {
                    mesh_seen = true;
                    config.mesh = mesh;
                }
            }
            Converted::TrafficTarget(value) => {
                config.traffic_targets.push(Located { origin, value })
            }
            Converted::HttpRouteGroup(value) => {
                config.http_route_groups.push(Located { origin, value })
            }
            Converted::TcpRoute(value) => config.tcp_routes.push(Located { origin, value }),
            Converted::UdpRoute(value) => config.udp_routes.push(Located { origin, value }),
            Converted::TrafficSplit(value) => config.traffic_splits.push(Located { origin, value }),
            Converted::Canary(draft) => canaries.push((origin, draft)),
            Converted::HttpRoute(value) => config.http_routes.push(Located { origin, value }),
            Converted::ReferenceGrant(value) => {
                config.reference_grants.push(Located { origin, value })
            }
            Converted::Fault(value) => config.faults.push(Located { origin, value }),
            Converted::Retry(value) => config.retries.push(Located { origin, value }),
            Converted::UpstreamTrafficSetting(value) => {
                config.upstream_settings.push(Located { origin, value })
            }
            Converted::Egress(value) => config.egresses.push(Located { origin, value }),
            Converted::MeshRootCertificate(value) => config.roots.push(Located { origin, value }),
            Converted::IngressBackend(value) => {
                config.ingress_backends.push(Located { origin, value })
            }
        }
    }
    config.canaries = canaries
        .into_iter()
        .map(|(origin, draft)| Located {
            origin,
            value: draft.finish(&config.mesh),
        })
        .collect();
    config
}
