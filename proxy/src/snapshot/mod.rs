//! The proxy's configuration in force: the control plane's snapshot compiled into routing
//! and authorization tables, swapped atomically as a whole.
//!
//! The generated protobuf types stop at `compile`; everything after it (the listeners)
//! sees only these domain types, with regexes compiled, hostnames indexed and endpoint
//! handles (which own the pooled connections) shared with earlier snapshots.

mod compile;
pub mod egress;
pub mod fault;
mod hosts;
pub mod ingress;
pub mod limits;
mod load;
mod matcher;
mod retry_policy;
pub mod route_filters;
pub mod routes;
mod store;

pub use retry_policy::{BudgetSettings, RetryPolicy};
pub use store::Reload;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use http::uri::Authority;

use crate::http::path::PathNormalization;
use crate::metrics::{PolicyEvent, RouteMetrics};
use crate::upstream::endpoint::Endpoint;
use crate::upstream::split::WeightedChoice;

pub use compile::{CompileContext, InvalidSnapshot, compile};
pub use hosts::{Authority as HostAuthority, parse_authority};
pub use load::{LoadError, read_snapshot};
pub use matcher::{HttpMatch, InvalidMatch};
pub use store::SnapshotStore;

/// One compiled snapshot. Immutable: a new file produces a new value.
#[derive(Debug)]
pub struct Snapshot {
    pub version: Arc<str>,
    pub workload: Workload,
    pub mesh: Mesh,
    /// Inbound authorization: a request is allowed when one rule admits it.
    pub rules: Vec<Rule>,
    pub services: Vec<Service>,
    /// Every host form (lower case, no trailing dot) → index into `services`.
    hosts: HashMap<Box<str>, usize>,
    /// ClusterIP:port → (index into `services`, service port), for transparent mode.
    cluster_ips: HashMap<SocketAddr, (usize, u16)>,
    /// A workload's own address (pod IP and app port) → (index into `direct_services`,
    /// service port): calls to it go to that workload alone, through no route or split.
    direct: HashMap<SocketAddr, (usize, u16)>,
    /// One single-endpoint service per workload address in `direct`.
    direct_services: Vec<Service>,
    /// What this proxy does to its calls to a Service (`name.namespace`, as
    /// [`Backend::service`]): Faults and OSM Retry policies; empty in a mesh without them,
    /// so calls look nothing up.
    pub client_policies: HashMap<Arc<str>, ClientPolicy>,
    /// Calls out of the mesh: the Egress rules of this identity and the Mesh's default.
    pub egress: egress::Egress,
    /// The snapshot as protobuf JSON, for the admin `/config` page.
    pub config_json: serde_json::Value,
}

/// The policies on this proxy's calls to one Service.
#[derive(Debug, Default)]
pub struct ClientPolicy {
    pub fault: Option<fault::Fault>,
    pub retry: Option<RetryPolicy>,
    pub limits: Option<limits::Limits>,
}

/// The policies one call gets, each from the backend's own policy, else the called
/// Service's.
#[derive(Debug, Default, Clone, Copy)]
pub struct CallPolicy<'s> {
    pub fault: Option<&'s fault::Fault>,
    pub retry: Option<&'s RetryPolicy>,
    pub limits: Option<&'s limits::Limits>,
}

#[derive(Debug)]
pub struct Workload {
    pub namespace: Arc<str>,
    pub identity: Arc<str>,
    /// The services this workload belongs to (`name.namespace`).
    pub services: Vec<Arc<str>>,
    pub ports: Vec<InboundPort>,
    /// Local rate limits on what it serves, by service (`name.namespace`).
    pub rate_limits: HashMap<Arc<str>, limits::RateLimits>,
    /// The IngressBackends naming its services: non-mesh callers it lets in.
    pub ingress: Vec<ingress::IngressRule>,
}

impl Workload {
    /// The local rate limits of `service` (`name.namespace`); a workload without any
    /// looks nothing up.
    #[inline]
    pub fn rate_limits_of(&self, service: &str) -> Option<&limits::RateLimits> {
        if self.rate_limits.is_empty() {
            return None;
        }
        self.rate_limits.get(service)
    }

    /// Whether some IngressBackend lets a plaintext caller at `address` in at all.
    pub fn lets_in(&self, address: std::net::IpAddr) -> bool {
        self.ingress.iter().any(|rule| rule.lets_in(address))
    }

    /// The AuthenticatedPrincipal of some IngressBackend among `names` (a verified
    /// certificate's SANs), if any.
    pub fn principal_among<'n>(&self, names: &'n [String]) -> Option<&'n str> {
        names.iter().map(String::as_str).find(|name| {
            self.ingress
                .iter()
                .any(|rule| rule.principals.iter().any(|p| &**p == *name))
        })
    }
}

/// Where the local app serves one service port.
#[derive(Debug, Clone)]
pub struct InboundPort {
    pub service_port: u16,
    pub app_address: Arc<str>,
    /// `app_address` as a URI authority, to address the app without reparsing.
    pub app_authority: Authority,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Tcp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrafficPolicy {
    Deny,
    Permissive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtlsMode {
    Strict,
    Permissive,
}

#[derive(Debug, Clone)]
pub struct Mesh {
    pub name: Arc<str>,
    pub trust_domain: Arc<str>,
    pub traffic_policy: TrafficPolicy,
    pub mtls: MtlsMode,
    /// `None`: the proxy's command-line default applies.
    pub connect_timeout: Option<Duration>,
    pub request_timeout: Option<Duration>,
    /// How request paths are normalised before rules and split matches see them.
    pub path_normalization: PathNormalization,
    pub retry_budget: BudgetSettings,
}

/// One TrafficTarget as its destination sees it (see `InboundRule` in mesh.proto).
#[derive(Debug)]
pub struct Rule {
    pub traffic_target: Arc<str>,
    pub sources: Vec<Box<str>>,
    /// `Some`: only these service ports (empty: every port), TCP and HTTP alike.
    /// `None`: HTTP on every port and no TCP.
    pub ports: Option<Vec<u16>>,
    /// `Some`: HTTP requests must match one of these. `None`: every HTTP request.
    pub http: Option<Vec<HttpMatch>>,
}

/// A meshed service the local app can call.
#[derive(Debug)]
pub struct Service {
    /// `name.namespace`, as used in metrics, logs and error bodies.
    pub name: Arc<str>,
    pub ports: Vec<ServicePort>,
    /// The service's own endpoints (the destination when it is not split, and for
    /// requests a split's matches do not select).
    pub own: Backend,
    pub split: Option<Split>,
    /// Gateway API routes, per port that has them: they decide every request to that
    /// port (404 when none of their matches does).
    pub routes: Vec<routes::RouteTable>,
}

#[derive(Debug, Clone, Copy)]
pub struct ServicePort {
    pub port: u16,
    pub protocol: Protocol,
    /// Local outbound port for TCP services (0: pick a free one).
    pub local_port: u16,
}

/// A TrafficSplit rooted at a service.
#[derive(Debug)]
pub struct Split {
    pub name: Arc<str>,
    pub backends: Vec<Backend>,
    pub weights: WeightedChoice,
    /// Empty: every request is split. Otherwise only matching requests are.
    pub matches: Vec<HttpMatch>,
}

/// A set of endpoints requests can be sent to: a split backend or a service itself.
#[derive(Debug)]
pub struct Backend {
    /// `name.namespace` of the backend service.
    pub service: Arc<str>,
    pub endpoints: Vec<Arc<Endpoint>>,
    /// The value of the cross-hop destination header, per service port, for HTTP/1 and
    /// HTTP/2 callers (see `hop`), built once so requests do not format strings.
    pub destinations: Vec<Destination>,
    /// Metrics per route: index 0 is the default route, `i + 1` the split's match `i`.
    pub metrics: Vec<Arc<RouteMetrics>>,
}

#[derive(Debug)]
pub struct Destination {
    pub port: u16,
    pub http1: HeaderValue,
    pub http2: HeaderValue,
}

impl Snapshot {
    /// The policies on a call to `service` whose backend is `backend`.
    pub fn client_policy(&self, service: &Service, backend: &Backend) -> CallPolicy<'_> {
        // A mesh without client policies looks nothing up.
        if self.client_policies.is_empty() {
            return CallPolicy::default();
        }
        let own = self.client_policies.get(&backend.service);
        let called = self.client_policies.get(&service.name);
        fn pick<'s, T>(
            own: Option<&'s ClientPolicy>,
            called: Option<&'s ClientPolicy>,
            field: fn(&ClientPolicy) -> Option<&T>,
        ) -> Option<&'s T> {
            own.and_then(field).or_else(|| called.and_then(field))
        }
        CallPolicy {
            fault: pick(own, called, |p| p.fault.as_ref()),
            retry: pick(own, called, |p| p.retry.as_ref()),
            limits: pick(own, called, |p| p.limits.as_ref()),
        }
    }

    /// Whether `host` (lower case, no trailing dot) is a name of the mesh's own DNS, so
    /// that no meshed service answering to it makes it unknown rather than a call out of
    /// the mesh: `*.svc` and `*.svc.cluster.local`, and `name.namespace` of a namespace
    /// this proxy knows (its own, or one of a service it may call).
    pub fn is_mesh_name(&self, host: &str) -> bool {
        let in_cluster = host
            .strip_suffix(hosts::CLUSTER_DOMAIN)
            .and_then(|rest| rest.strip_suffix('.'))
            .unwrap_or(host);
        if in_cluster.ends_with(".svc") {
            return true;
        }
        let Some((_, namespace)) = host.split_once('.') else {
            return false;
        };
        !namespace.contains('.')
            && (*self.workload.namespace == *namespace
                || self.services.iter().any(|service| {
                    service
                        .name
                        .rsplit_once('.')
                        .is_some_and(|(_, ns)| ns == namespace)
                }))
    }

    /// The service a host (already lower case, without trailing dot) names.
    pub fn service_by_host(&self, host: &str) -> Option<&Service> {
        self.hosts.get(host).map(|&index| &self.services[index])
    }

    /// The service and port a ClusterIP:port identifies (transparent mode).
    pub fn service_by_cluster_ip(&self, address: &SocketAddr) -> Option<(&Service, u16)> {
        self.cluster_ips
            .get(address)
            .map(|&(index, port)| (&self.services[index], port))
    }

    /// The service `address` is: a ClusterIP and port, else a workload's own address.
    pub fn service_by_address(&self, address: &SocketAddr) -> Option<(&Service, u16)> {
        self.service_by_cluster_ip(address)
            .or_else(|| self.service_by_workload_address(address))
    }

    /// The workload `address` names (its pod IP and an app port), as a service of that
    /// one endpoint, and the service port to call it on.
    pub fn service_by_workload_address(&self, address: &SocketAddr) -> Option<(&Service, u16)> {
        self.direct
            .get(address)
            .map(|&(index, port)| (&self.direct_services[index], port))
    }

    /// The local app's address for a service port.
    pub fn inbound_port(&self, port: u16) -> Option<&InboundPort> {
        self.workload.ports.iter().find(|p| p.service_port == port)
    }

    pub fn connect_timeout(&self, default: Duration) -> Duration {
        self.mesh.connect_timeout.unwrap_or(default)
    }

    pub fn request_timeout(&self, default: Duration) -> Duration {
        self.mesh.request_timeout.unwrap_or(default)
    }

    /// Every TCP service port that gets a local outbound listener.
    pub fn tcp_ports(&self) -> impl Iterator<Item = (&Service, ServicePort)> {
        self.services.iter().flat_map(|service| {
            service
                .ports
                .iter()
                .filter(|port| port.protocol == Protocol::Tcp)
                .map(move |port| (service, *port))
        })
    }
}

impl Service {
    pub fn port(&self, port: u16) -> Option<&ServicePort> {
        self.ports.iter().find(|p| p.port == port)
    }

    /// The port a Host without a port means: 80 when the service has it, else its only
    /// HTTP port.
    pub fn default_http_port(&self) -> Option<u16> {
        if self
            .ports
            .iter()
            .any(|p| p.port == 80 && p.protocol == Protocol::Http)
        {
            return Some(80);
        }
        let mut http = self.ports.iter().filter(|p| p.protocol == Protocol::Http);
        match (http.next(), http.next()) {
            (Some(only), None) => Some(only.port),
            _ => None,
        }
    }
}

impl Backend {
    pub fn destination(&self, port: u16) -> Option<&Destination> {
        self.destinations.iter().find(|d| d.port == port)
    }

    /// The destination header of a request to service port `port`: the peer's app is
    /// spoken to over HTTP/2 when the request is gRPC (`grpc`).
    pub fn destination_header(&self, port: u16, grpc: bool) -> Option<&HeaderValue> {
        let destination = self.destination(port)?;
        Some(if grpc {
            &destination.http2
        } else {
            &destination.http1
        })
    }

    /// Counts what a policy did to a call to this backend. On its first route's handle:
    /// the reports sum a backend's routes, and the layers that retry or refuse a call
    /// need not be told which route chose it.
    pub fn count(&self, event: PolicyEvent) {
        if let Some(metrics) = self.metrics.first() {
            metrics.count(event);
        }
    }
}

/// Compiles a snapshot against a fresh registry, for tests of the modules that read one.
#[cfg(test)]
pub(crate) fn compile_for_tests(snapshot: meshcd_schemas::proto::Snapshot) -> Snapshot {
    compile(
        snapshot,
        &CompileContext {
            endpoints: &crate::upstream::endpoint::EndpointRegistry::default(),
            metrics: &crate::metrics::Metrics::new(),
        },
    )
    .expect("test snapshot compiles")
}
