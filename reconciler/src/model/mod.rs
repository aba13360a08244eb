//! The internal model of a config repository: one shape per kind, whatever the SMI
//! version it was written in. Plain data; `validate` builds it, `compile` and `diff` read it.

mod canary_target;
mod egress;
mod policies;
mod roots;
mod routes;

pub use canary_target::{CanaryTarget, WeightOverrides};
pub use egress::{Egress, EgressPort, EgressProtocol};
pub use policies::{
    Abort, Delay, Fault, IngressBackend, IngressBackendPort, IngressProtocol, IngressSource,
    OutlierDetection, RateLimit, RetryPolicy, RouteRateLimit, UpstreamTrafficSetting,
    retry_condition,
};
pub use roots::{MeshRootCertificate, RootRole, RootSource};
pub use routes::*;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

/// Where an object was defined, for reports after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
}

/// A model object with the place it came from. Equality of the model ignores origins
/// only through comparing `.value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    pub origin: Origin,
    pub value: T,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    pub mesh: Mesh,
    /// Onboarded namespaces.
    pub namespaces: BTreeSet<String>,
    pub traffic_targets: Vec<Located<TrafficTarget>>,
    pub http_route_groups: Vec<Located<HttpRouteGroup>>,
    pub tcp_routes: Vec<Located<PortRoute>>,
    pub udp_routes: Vec<Located<PortRoute>>,
    pub traffic_splits: Vec<Located<TrafficSplit>>,
    pub canaries: Vec<Located<Canary>>,
    /// Gateway API routes bound to Services (GAMMA), and the grants that will let them cross
    /// namespaces.
    pub http_routes: Vec<Located<HttpRoute>>,
    pub reference_grants: Vec<Located<ReferenceGrant>>,
    /// Faults calling proxies inject (only when the Mesh allows them).
    pub faults: Vec<Located<Fault>>,
    /// OSM Retry policies.
    pub retries: Vec<Located<RetryPolicy>>,
    /// OSM UpstreamTrafficSettings.
    pub upstream_settings: Vec<Located<UpstreamTrafficSetting>>,
    /// OSM Egress policies.
    pub egresses: Vec<Located<Egress>>,
    /// OSM MeshRootCertificates: none means the CA the mesh was started with.
    pub roots: Vec<Located<MeshRootCertificate>>,
    /// OSM IngressBackends: non-mesh callers let in to some Service ports.
    pub ingress_backends: Vec<Located<IngressBackend>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrafficPolicy {
    #[default]
    Deny,
    Permissive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MtlsMode {
    #[default]
    Strict,
    Permissive,
}

/// How proxies normalise request paths (`Mesh.spec.pathNormalization`, Istio's choices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PathNormalization {
    None,
    #[default]
    Base,
    MergeSlashes,
    DecodeAndMergeSlashes,
}

impl PathNormalization {
    /// The spelling of the config repository (`merge-slashes`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Base => "base",
            Self::MergeSlashes => "merge-slashes",
            Self::DecodeAndMergeSlashes => "decode-and-merge-slashes",
        }
    }

    /// Parses the config repository's spelling; the JSON Schema admits no other.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::None,
            Self::Base,
            Self::MergeSlashes,
            Self::DecodeAndMergeSlashes,
        ]
        .into_iter()
        .find(|mode| mode.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mesh {
    pub name: String,
    pub trust_domain: String,
    pub traffic_policy: TrafficPolicy,
    pub mtls: MtlsMode,
    pub path_normalization: PathNormalization,
    pub certificate_lifetime: Duration,
    pub canary_interval: Duration,
    pub canary_failure_threshold: u32,
    /// `faultInjection: allowed`: Faults may be committed (refused otherwise).
    pub fault_injection: bool,
    /// `retryBudget`: retries to a destination add at most this share of its calls, in
    /// percent, plus `retry_budget_min_per_second`.
    pub retry_budget_percent: f64,
    pub retry_budget_min_per_second: u32,
    /// `egress`: calls out of the mesh no Egress allows are forwarded (`Some(true)`) or
    /// refused; `None`: as the traffic policy (see [`Mesh::allows_egress`]).
    pub egress: Option<bool>,
}

impl Mesh {
    /// Whether calls out of the mesh that no Egress allows are forwarded: the Mesh's
    /// `egress`, else only under permissive traffic policy.
    pub fn allows_egress(&self) -> bool {
        self.egress
            .unwrap_or(self.traffic_policy == TrafficPolicy::Permissive)
    }
}

impl Default for Mesh {
    fn default() -> Self {
        Mesh {
            name: "meshcd".into(),
            trust_domain: "cluster.local".into(),
            traffic_policy: TrafficPolicy::Deny,
            mtls: MtlsMode::Strict,
            path_normalization: PathNormalization::Base,
            certificate_lifetime: Duration::from_secs(24 * 3600),
            canary_interval: Duration::from_secs(30),
            canary_failure_threshold: 3,
            fault_injection: false,
            retry_budget_percent: 20.0,
            retry_budget_min_per_second: 10,
            egress: None,
        }
    }
}

/// A service-account identity.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub namespace: String,
    pub service_account: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteKind {
    Http,
    Tcp,
    Udp,
}

impl RouteKind {
    pub fn kind_name(self) -> &'static str {
        match self {
            RouteKind::Http => "HTTPRouteGroup",
            RouteKind::Tcp => "TCPRoute",
            RouteKind::Udp => "UDPRoute",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub kind: RouteKind,
    pub name: String,
    /// Match names of an HTTPRouteGroup; `None` means every match of the group.
    pub matches: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficTarget {
    pub name: String,
    pub namespace: String,
    pub destination: Identity,
    /// `destination.port` of access v1alpha1/v1alpha2: limits the ports like a TCPRoute.
    pub destination_port: Option<u16>,
    pub sources: Vec<Identity>,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRouteGroup {
    pub name: String,
    pub namespace: String,
    pub matches: Vec<HttpMatch>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpMatch {
    pub name: String,
    /// Full match of the path, query excluded; `None` matches any path.
    pub path_regex: Option<String>,
    /// Upper-case methods; empty or containing `*` means every method.
    pub methods: Vec<String>,
    /// Lower-case header names with full-match value regexes, sorted by name (both
    /// `headers` forms give the same model; the filters are all required, so order is moot).
    pub headers: Vec<(String, String)>,
}

/// A TCPRoute or UDPRoute: the destination ports it admits (empty: all of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRoute {
    pub name: String,
    pub namespace: String,
    pub ports: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficSplit {
    pub name: String,
    pub namespace: String,
    /// The root service's name (normalised from any accepted host form).
    pub service: String,
    pub backends: Vec<Backend>,
    /// HTTPRouteGroup names (A/B); empty splits every request.
    pub matches: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub service: String,
    /// Relative weight. Split v1alpha1 Quantities are in thousandths (`1` = 1000, `500m` = 500).
    pub weight: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Canary {
    pub name: String,
    pub namespace: String,
    pub target: CanaryTarget,
    /// The backend (Service) that serves now, and the one the rollout moves traffic to.
    pub stable: String,
    pub canary: String,
    /// The canary backend's weight at each step, increasing; the last step promotes.
    pub weights: Vec<u32>,
    pub interval: Duration,
    pub progress_deadline: Duration,
    pub analysis: Analysis,
    pub status: Option<serde_json::Value>,
}

#[cfg(test)]
impl Canary {
    /// For unit tests: `shop/api` taking split `api` from api-v1 to api-v2 through
    /// `weights`, every 10 s within a 60 s deadline, judged on a success rate of 99 % over
    /// at least 20 requests, 3 failures allowed. Tests change what they need.
    pub fn example(weights: &[u32]) -> Canary {
        Canary {
            name: "api".into(),
            namespace: "shop".into(),
            target: CanaryTarget::TrafficSplit("api".into()),
            stable: "api-v1".into(),
            canary: "api-v2".into(),
            weights: weights.to_vec(),
            interval: Duration::from_secs(10),
            progress_deadline: Duration::from_secs(60),
            analysis: Analysis {
                success_rate_min: Some(99.0),
                latency_p99_max: None,
                min_requests: 20,
                failure_threshold: 3,
            },
            status: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Minimum percentage of non-5xx responses.
    pub success_rate_min: Option<f64>,
    pub latency_p99_max: Option<Duration>,
    pub min_requests: u64,
    pub failure_threshold: u32,
}
