//! Converts schema-valid documents of every accepted version into the internal model.
//!
//! Legacy shapes (fields of an older version inside a newer `apiVersion`) are normalised
//! with a warning that names the canonical shape.

mod access;
mod egress;
mod gateway;
mod gateway_checks;
mod gateway_filters;
mod ingress;
mod meshcd;
mod osm;
mod roots;
mod specs;
mod split;
pub mod units;

use std::time::Duration;

use serde_json::Value;
use units::parse_duration;

use super::report::{Object, Reporter};
use crate::model::{
    Egress, Fault, HttpRoute, HttpRouteGroup, IngressBackend, Mesh, MeshRootCertificate, PortRoute,
    ReferenceGrant, RetryPolicy, TrafficSplit, TrafficTarget, UpstreamTrafficSetting,
};

pub(super) use gateway::is_service;
pub use meshcd::CanaryDraft;

/// One converted object.
#[derive(Debug)]
pub enum Converted {
    Namespace(String),
    Mesh(Mesh),
    TrafficTarget(TrafficTarget),
    HttpRouteGroup(HttpRouteGroup),
    TcpRoute(PortRoute),
    UdpRoute(PortRoute),
    TrafficSplit(TrafficSplit),
    /// Canary defaults come from the Mesh, so they are applied once all documents are read.
    Canary(CanaryDraft),
    HttpRoute(HttpRoute),
    ReferenceGrant(ReferenceGrant),
    Fault(Fault),
    Retry(RetryPolicy),
    UpstreamTrafficSetting(UpstreamTrafficSetting),
    Egress(Egress),
    MeshRootCertificate(MeshRootCertificate),
    IngressBackend(IngressBackend),
}

/// `None` when the document had errors (already reported).
pub fn convert(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<Converted> {
    let value = &object.value;
    let before = reporter
        .diagnostics
        .count(crate::diagnostics::Severity::Error);
    let converted = match object.id.kind.as_str() {
        "Namespace" => Some(Converted::Namespace(object.id.name.clone())),
        "Mesh" => meshcd::mesh(object, reporter).map(Converted::Mesh),
        "Canary" => meshcd::canary(object, reporter).map(Converted::Canary),
        "Fault" => meshcd::fault(object, reporter).map(Converted::Fault),
        "Retry" => osm::retry(object, reporter).map(Converted::Retry),
        "UpstreamTrafficSetting" => {
            osm::upstream_traffic_setting(object, reporter).map(Converted::UpstreamTrafficSetting)
        }
        "Egress" => egress::egress(object, reporter).map(Converted::Egress),
        "MeshRootCertificate" => {
            roots::mesh_root_certificate(object, reporter).map(Converted::MeshRootCertificate)
        }
        "IngressBackend" => {
            ingress::ingress_backend(object, reporter).map(Converted::IngressBackend)
        }
        "TrafficTarget" => access::traffic_target(object, reporter).map(Converted::TrafficTarget),
        "HTTPRouteGroup" => {
            specs::http_route_group(object, reporter).map(Converted::HttpRouteGroup)
        }
        "TCPRoute" => Some(Converted::TcpRoute(specs::port_route(object, value))),
        "UDPRoute" => Some(Converted::UdpRoute(specs::port_route(object, value))),
        "TrafficSplit" => split::traffic_split(object, reporter).map(Converted::TrafficSplit),
        "HTTPRoute" => gateway::http_route(object, reporter).map(Converted::HttpRoute),
        "GRPCRoute" => gateway::grpc_route(object, reporter).map(Converted::HttpRoute),
        "ReferenceGrant" => Some(Converted::ReferenceGrant(gateway::reference_grant(object))),
        _ => None,
    };
    let after = reporter
        .diagnostics
        .count(crate::diagnostics::Severity::Error);
    if after > before { None } else { converted }
}

pub(super) fn string(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// `Some(None)` when the field is absent; `None` when it is malformed (reported).
pub(super) fn duration(
    object: &Object<'_>,
    reporter: &mut Reporter<'_>,
    pointer: &str,
) -> Option<Option<Duration>> {
    match object.value.pointer(pointer) {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(text)) => match parse_duration(text) {
            Ok(duration) => Some(Some(duration)),
            Err(message) => {
                reporter
                    .error(object, pointer, message)
                    .hint("durations look like 500ms, 30s, 10m or 24h");
                None
            }
        },
        Some(other) => {
            reporter
                .error(object, pointer, format!("{other} is not a duration"))
                .hint("write it as a string such as 30s");
            None
        }
    }
}

pub(super) fn array<'v>(value: &'v Value, pointer: &str) -> &'v [Value] {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}
