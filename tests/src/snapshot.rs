//! Building proxy snapshots (`meshcd_schemas::proto::Snapshot`) in a few readable lines:
//! the workload a proxy fronts, who may call it, and the services it can call.

use std::net::SocketAddr;

/// The snapshot parts scenarios adjust with struct-update syntax.
pub use meshcd_schemas::proto::{
    Backend, Endpoint, HttpMatch, InboundRule, PathNormalization, Service, Snapshot, Split,
};
use meshcd_schemas::proto::{
    HeaderMatch, HttpMatches, InboundPort, MeshSettings, MtlsMode, PortMatch, Protocol,
    ServicePort, TrafficPolicy, Workload,
};

use crate::pki::{Identity, TRUST_DOMAIN};
use crate::proxy::Proxy;

/// The service port HTTP services use in scenarios (`http://api.shop/` means port 80).
pub const HTTP_PORT: u32 = 80;

/// A snapshot for the proxy of `identity`, built step by step.
#[derive(Clone, Debug)]
pub struct SnapshotBuilder {
    snapshot: Snapshot,
}

impl SnapshotBuilder {
    /// Version "1", deny-by-default, strict mTLS, no services, serving nothing.
    pub fn new(identity: &Identity) -> Self {
        Self {
            snapshot: Snapshot {
                version: "1".to_owned(),
                workload: Some(Workload {
                    namespace: identity.namespace.clone(),
                    service_account: identity.service_account.clone(),
                    identity: identity.spiffe_id.clone(),
                    services: Vec::new(),
                    ports: Vec::new(),
                    rate_limits: Vec::new(),
                    ingress: Vec::new(),
                }),
                mesh: Some(MeshSettings {
                    name: "meshcd".to_owned(),
                    trust_domain: TRUST_DOMAIN.to_owned(),
                    traffic_policy: TrafficPolicy::Deny as i32,
                    mtls: MtlsMode::Strict as i32,
                    connect_timeout_ms: 0,
                    request_timeout_ms: 0,
                    path_normalization: PathNormalization::Base as i32,
                    retry_budget: None,
                    ..MeshSettings::default()
                }),
                trust: None,
                inbound_rules: Vec::new(),
                services: Vec::new(),
                client_policies: Vec::new(),
                ..Snapshot::default()
            },
        }
    }

    /// The content-hash stand-in; every snapshot a proxy gets needs a new one.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.snapshot.version = version.into();
        self
    }

    /// The workload belongs to `service` and serves HTTP on service port 80 at `app`.
    pub fn serves_http(self, service: &str, app: SocketAddr) -> Self {
        self.serves(service, HTTP_PORT, app, Protocol::Http)
    }

    /// The workload belongs to `service` and serves raw TCP on `port` at `app`.
    pub fn serves_tcp(self, service: &str, port: u32, app: SocketAddr) -> Self {
        self.serves(service, port, app, Protocol::Tcp)
    }

    fn serves(mut self, service: &str, port: u32, app: SocketAddr, protocol: Protocol) -> Self {
        let workload = self.snapshot.workload.get_or_insert_with(Default::default);
        if !workload.services.iter().any(|existing| existing == service) {
            workload.services.push(service.to_owned());
        }
        workload.ports.push(InboundPort {
            service_port: port,
            app_address: app.to_string(),
            protocol: protocol as i32,
        });
        self
    }

    /// Admits what `rule` admits on the inbound side.
    pub fn allow(mut self, rule: InboundRule) -> Self {
        self.snapshot.inbound_rules.push(rule);
        self
    }

    /// Traffic policy `permissive`: every meshed peer is admitted.
    pub fn permissive(mut self) -> Self {
        self.mesh().traffic_policy = TrafficPolicy::Permissive as i32;
        self
    }

    /// mTLS `permissive`: the inbound side also serves plaintext clients, as
    /// "unauthenticated".
    pub fn permissive_mtls(mut self) -> Self {
        self.mesh().mtls = MtlsMode::Permissive as i32;
        self
    }

    /// The mesh-wide request timeout in the snapshot.
    pub fn request_timeout_ms(mut self, milliseconds: u32) -> Self {
        self.mesh().request_timeout_ms = milliseconds;
        self
    }

    /// The mesh's path normalisation (`Mesh.spec.pathNormalization`).
    pub fn path_normalization(mut self, mode: PathNormalization) -> Self {
        self.mesh().path_normalization = mode as i32;
        self
    }

    /// Lets the workload call `service`.
    pub fn service(mut self, service: Service) -> Self {
        self.snapshot.services.push(service);
        self
    }

    /// The finished snapshot.
    pub fn build(self) -> Snapshot {
        self.snapshot
    }

    fn mesh(&mut self) -> &mut MeshSettings {
        self.snapshot.mesh.get_or_insert_with(Default::default)
    }
}

/// The endpoint a running proxy offers: its inbound address and identity.
pub fn endpoint(proxy: &Proxy) -> Endpoint {
    Endpoint {
        address: proxy.inbound.to_string(),
        identity: proxy.identity.spiffe_id.clone(),
        direct: Vec::new(),
    }
}

/// The endpoints of several proxies.
pub fn endpoints(proxies: &[&Proxy]) -> Vec<Endpoint> {
    proxies.iter().map(|proxy| endpoint(proxy)).collect()
}

/// An HTTP service on port 80 with `endpoints`.
pub fn http_service(name: &str, namespace: &str, endpoints: Vec<Endpoint>) -> Service {
    Service {
        name: name.to_owned(),
        namespace: namespace.to_owned(),
        ports: vec![ServicePort {
            port: HTTP_PORT,
            protocol: Protocol::Http as i32,
            local_port: 0,
        }],
        endpoints,
        ..Default::default()
    }
}

/// A TCP service on `port`; the proxy picks its local outbound port (listed as
/// `"<name>.<namespace>:<port>"`).
pub fn tcp_service(name: &str, namespace: &str, port: u32, endpoints: Vec<Endpoint>) -> Service {
    Service {
        name: name.to_owned(),
        namespace: namespace.to_owned(),
        ports: vec![ServicePort {
            port,
            protocol: Protocol::Tcp as i32,
            local_port: 0,
        }],
        endpoints,
        ..Default::default()
    }
}

/// A TrafficSplit `traffic_split` ("namespace/name") over `backends`, for every request.
pub fn split(traffic_split: &str, backends: Vec<Backend>) -> Split {
    Split {
        traffic_split: traffic_split.to_owned(),
        backends,
        matches: Vec::new(),
    }
}

/// One backend of a split.
pub fn backend(service: &str, weight: u32, endpoints: Vec<Endpoint>) -> Backend {
    Backend {
        service: service.to_owned(),
        weight,
        endpoints,
        ..Backend::default()
    }
}

/// A TrafficTarget admitting the SPIFFE IDs `sources` for HTTP requests matching one of
/// `matches`, on any port.
pub fn allow_http(traffic_target: &str, sources: &[&str], matches: Vec<HttpMatch>) -> InboundRule {
    InboundRule {
        traffic_target: traffic_target.to_owned(),
        sources: sources.iter().map(|source| (*source).to_owned()).collect(),
        ports: None,
        http: Some(HttpMatches { matches }),
    }
}

/// A TrafficTarget admitting `sources` for every HTTP request, on any port.
pub fn allow_all_http(traffic_target: &str, sources: &[&str]) -> InboundRule {
    InboundRule {
        traffic_target: traffic_target.to_owned(),
        sources: sources.iter().map(|source| (*source).to_owned()).collect(),
        ports: None,
        http: None,
    }
}

/// A TrafficTarget admitting `sources` on service `ports` (empty: all), TCP and HTTP.
pub fn allow_tcp(traffic_target: &str, sources: &[&str], ports: &[u32]) -> InboundRule {
    InboundRule {
        traffic_target: traffic_target.to_owned(),
        sources: sources.iter().map(|source| (*source).to_owned()).collect(),
        ports: Some(PortMatch {
            ports: ports.to_vec(),
        }),
        http: None,
    }
}

/// An HTTPRouteGroup match: full-match `path_regex` (empty: any), `methods` (empty or
/// "*": any).
pub fn http_match(name: &str, path_regex: &str, methods: &[&str]) -> HttpMatch {
    HttpMatch {
        name: name.to_owned(),
        path_regex: path_regex.to_owned(),
        methods: methods.iter().map(|method| (*method).to_owned()).collect(),
        headers: Vec::new(),
    }
}

/// A match on one header (name lower-case, value a full-match regex).
pub fn header_match(name: &str, header: &str, value_regex: &str) -> HttpMatch {
    HttpMatch {
        name: name.to_owned(),
        path_regex: String::new(),
        methods: Vec::new(),
        headers: vec![HeaderMatch {
            name: header.to_owned(),
            value_regex: value_regex.to_owned(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::TestPki;

    #[test]
    fn snapshot_serialises_in_protobuf_json_mapping() {
        let directory = tempfile::tempdir().unwrap();
        let identity = TestPki::generate(directory.path(), "main")
            .unwrap()
            .issue("shop", "api")
            .unwrap();
        let snapshot = SnapshotBuilder::new(&identity)
            .serves_tcp("echo", 7000, "127.0.0.1:9".parse().unwrap())
            .permissive()
            .build();
        let json = serde_json::to_value(&snapshot).unwrap();
        assert_eq!(json["workload"]["serviceAccount"], "api");
        assert_eq!(json["workload"]["ports"][0]["protocol"], "PROTOCOL_TCP");
        assert_eq!(json["mesh"]["trafficPolicy"], "TRAFFIC_POLICY_PERMISSIVE");
        let back: Snapshot = serde_json::from_value(json).unwrap();
        assert_eq!(back, snapshot);
    }
}
