//! The contract between meshcd's reconciler and its proxies.
//!
//! This crate owns the control-plane protobuf (`proto`), the JSON Schemas of every config
//! kind the reconciler accepts, and the CRDs Kubernetes needs. Everything under
//! `src/generated/`, `json/` and `crds/` is produced by
//! `cargo run -p meshcd-schemas --example regenerate`; a test fails when it is stale.
//!
//! The JSON Schemas come from the upstream SMI and Gateway API CRDs (`upstream/`) and
//! hand-written overlays (`overlays/`); both the schemas and the CRDs are embedded in the
//! library, so neither binary reads them from disk.

/// The proxy's environment variables, one per flag, so deployments configure it without
/// a command line: the sidecar injector sets them, the proxy reads them.
pub mod proxy_env {
    pub const SNAPSHOT: &str = "MESHCD_PROXY_SNAPSHOT";
    pub const CERT: &str = "MESHCD_PROXY_CERT";
    pub const KEY: &str = "MESHCD_PROXY_KEY";
    pub const CA_BUNDLE: &str = "MESHCD_PROXY_CA_BUNDLE";
    pub const OUTBOUND: &str = "MESHCD_PROXY_OUTBOUND";
    pub const INBOUND: &str = "MESHCD_PROXY_INBOUND";
    pub const ADMIN: &str = "MESHCD_PROXY_ADMIN";
    pub const ACCESS_LOG: &str = "MESHCD_PROXY_ACCESS_LOG";
    pub const CONNECT_TIMEOUT: &str = "MESHCD_PROXY_CONNECT_TIMEOUT";
    pub const REQUEST_TIMEOUT: &str = "MESHCD_PROXY_REQUEST_TIMEOUT";
    pub const LOG: &str = "MESHCD_PROXY_LOG";
    pub const JOIN: &str = "MESHCD_PROXY_JOIN";
    pub const CONTROL_PLANE_NAME: &str = "MESHCD_PROXY_CONTROL_PLANE_NAME";
    pub const TOKEN: &str = "MESHCD_PROXY_TOKEN";
    pub const TOKEN_FILE: &str = "MESHCD_PROXY_TOKEN_FILE";
    pub const NAMESPACE: &str = "MESHCD_PROXY_NAMESPACE";
    pub const SERVICE_ACCOUNT: &str = "MESHCD_PROXY_SERVICE_ACCOUNT";
    pub const SERVICES: &str = "MESHCD_PROXY_SERVICES";
    pub const PORTS: &str = "MESHCD_PROXY_PORTS";
    pub const PROXY_ID: &str = "MESHCD_PROXY_ID";
    pub const ADVERTISE: &str = "MESHCD_PROXY_ADVERTISE";
    pub const MAX_CONNECTIONS: &str = "MESHCD_PROXY_MAX_CONNECTIONS";
    pub const APP_PROBES: &str = "MESHCD_PROXY_APP_PROBES";
}

/// Control-plane messages and service (`meshcd.v1`), with protobuf JSON mapping.
#[allow(clippy::all, missing_docs)]
pub mod proto {
    include!("generated/meshcd.v1.rs");
    include!("generated/meshcd.v1.serde.rs");
}

mod schema_index {
    include!("generated/schema_index.rs");
}

/// Every (apiVersion, kind) with a schema from [`json_schema`], sorted: SMI TrafficTarget
/// v1alpha1–v1alpha3, HTTPRouteGroup and TCPRoute v1alpha1–v1alpha4, UDPRoute v1alpha4,
/// TrafficSplit v1alpha1–v1alpha4, `v1` Namespace, `meshcd.dev/v1alpha1` Mesh and Canary, and
/// the Gateway API kinds of a mesh: HTTPRoute v1 and v1beta1, GRPCRoute v1, ReferenceGrant v1
/// and v1beta1 (standard channel of v1.6.1, plus HTTPRoute `retry`). The reconciler reads
/// the SMI and meshcd kinds; the Gateway API ones are the contract issue 18 builds on.
pub const CONFIG_KINDS: &[(&str, &str)] = schema_index::CONFIG_KINDS;

/// The JSON Schema (draft 2020-12, as JSON text) of a whole object of this `apiVersion` and
/// `kind`, or `None` when the kind is not one of [`CONFIG_KINDS`].
///
/// The schema covers `apiVersion`, `kind`, `metadata` (with `name` required, and `namespace`
/// for namespaced kinds) and the kind's fields. Objects are closed: a field the kind does not
/// define is an error, except inside `status` and the well-known fields of `metadata`. The
/// legacy shapes that meshcd accepts with a warning (top-level `matches` on HTTPRouteGroup
/// v1alpha3/v1alpha4, `spec.destination.port` on TrafficTarget v1alpha3) pass the schema, and so
/// do both forms of HTTPRouteGroup `headers` (a list of maps, or one map); it is for the
/// validator to warn and normalise. Cross-object rules (references, weights that are negative
/// or all zero, the order of canary steps) are not in the schemas either.
///
/// Durations (Mesh and Canary) match `^([0-9]+(ms|s|m|h))+$`: `500ms`, `30s`, `10m`, `24h`,
/// `1h30m`.
pub fn json_schema(api_version: &str, kind: &str) -> Option<&'static str> {
    schema_index::json_schema(api_version, kind)
}

/// The CustomResourceDefinitions (`apiextensions.k8s.io/v1` YAML) a cluster needs, as
/// (file name, YAML text): the SMI CRDs as upstream wrote them, and meshcd's Mesh and Canary
/// (Canary with a status subresource). File names are `<group>_<plural>.yaml`.
pub fn crds() -> &'static [(&'static str, &'static str)] {
    schema_index::CRDS
}

/// The Gateway API release whose standard-channel CRDs are vendored in `upstream/`.
pub const GATEWAY_API_BUNDLE_VERSION: &str = "v1.6.1";

/// The Gateway API CRDs (standard channel, [`GATEWAY_API_BUNDLE_VERSION`], as upstream
/// wrote them) of the kinds meshcd routes with, as (file name, YAML text). `meshcd install`
/// adds them to a cluster that lacks them or has older ones; they are not among [`crds`]:
/// a cluster's Gateway implementation may own newer ones.
pub fn gateway_api_crds() -> &'static [(&'static str, &'static str)] {
    &[
        (
            "gateway.networking.k8s.io_httproutes.yaml",
            include_str!(
                "../upstream/gateway-api/standard/gateway.networking.k8s.io_httproutes.yaml"
            ),
        ),
        (
            "gateway.networking.k8s.io_grpcroutes.yaml",
            include_str!(
                "../upstream/gateway-api/standard/gateway.networking.k8s.io_grpcroutes.yaml"
            ),
        ),
        (
            "gateway.networking.k8s.io_referencegrants.yaml",
            include_str!(
                "../upstream/gateway-api/standard/gateway.networking.k8s.io_referencegrants.yaml"
            ),
        ),
    ]
}
