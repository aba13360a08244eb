//! Compiles a protobuf `Snapshot` into the proxy's routing and authorization tables.
//!
//! This is a function with a context rather than a plain `TryFrom`: endpoint handles
//! come from the connection pool (so an endpoint present in the old and the new snapshot
//! keeps its connection, load and ejection state) and per-route metric handles from the
//! registry (so the hot path never looks labels up). The context-free parts are `TryFrom`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use http::uri::Authority;
use meshcd_schemas::proto;

mod service;

use service::{add_workload_addresses, compile_service};

use super::hosts::host_forms;
use super::matcher::{HttpMatch, InvalidMatch};
use super::{InboundPort, Mesh, MtlsMode, Protocol, Rule, Snapshot, TrafficPolicy, Workload};
use crate::http::path::PathNormalization;
use crate::metrics::Metrics;
use crate::upstream::endpoint::EndpointRegistry;

/// What a snapshot is compiled against.
pub struct CompileContext<'a> {
    pub endpoints: &'a EndpointRegistry,
    pub metrics: &'a Metrics,
}

#[derive(Debug, thiserror::Error)]
pub enum InvalidSnapshot {
    #[error("the snapshot names no workload")]
    MissingWorkload,
    #[error("{field}: unknown enum value {value}")]
    UnknownEnum { field: &'static str, value: i32 },
    #[error("{context}: port {port} is not between 1 and 65535")]
    Port { context: String, port: u32 },
    #[error("workload port {port}: app address {address:?} is not host:port")]
    AppAddress { port: u16, address: String },
    #[error("traffic target {traffic_target:?}")]
    Rule {
        traffic_target: String,
        source: Box<InvalidMatch>,
    },
    #[error("service {service}: cluster IP {address:?} is not an IP address")]
    ClusterIp { service: String, address: String },
    #[error("service {service}: traffic split {split:?}")]
    SplitMatch {
        service: String,
        split: String,
        source: Box<InvalidMatch>,
    },
    #[error("service {service}: traffic split {split:?} has no backend with a non-zero weight")]
    NoWeight { service: String, split: String },
    #[error("service {service}: routes")]
    Route {
        service: String,
        source: Box<super::routes::InvalidRoute>,
    },
    #[error(transparent)]
    Fault(#[from] super::fault::InvalidFault),
    #[error(transparent)]
    RateLimit(#[from] super::limits::InvalidRateLimit),
    #[error(transparent)]
    Egress(#[from] super::egress::InvalidEgress),
    #[error(transparent)]
    Ingress(#[from] super::ingress::InvalidIngress),
}

pub fn compile(
    snapshot: proto::Snapshot,
    context: &CompileContext<'_>,
) -> Result<Snapshot, InvalidSnapshot> {
    // Serialising a prost message with pbjson cannot fail; `Null` would only hide a bug
    // in the admin page, never in routing.
    let config_json = serde_json::to_value(&snapshot).unwrap_or(serde_json::Value::Null);
    let mesh_settings = snapshot.mesh.unwrap_or_default();
    let allow_egress = mesh_settings.egress == proto::EgressDefault::Allow as i32;
    let mesh = Mesh::try_from(mesh_settings)?;
    let egress = super::egress::Egress::compile(allow_egress, snapshot.egress)?;
    let workload = compile_workload(
        snapshot.workload.ok_or(InvalidSnapshot::MissingWorkload)?,
        &mesh,
    )?;
    let rules = snapshot
        .inbound_rules
        .into_iter()
        .map(Rule::try_from)
        .collect::<Result<Vec<_>, _>>()?;

    let mut services = Vec::with_capacity(snapshot.services.len());
    let mut hosts = HashMap::new();
    let mut cluster_ips = HashMap::new();
    let mut direct = HashMap::new();
    let mut direct_services = Vec::new();
    for service in snapshot.services {
        add_workload_addresses(
            &service,
            &workload,
            context,
            &mut direct,
            &mut direct_services,
        )?;
        let index = services.len();
        for form in host_forms(&service.name, &service.namespace, &workload.namespace) {
            hosts.entry(form.into_boxed_str()).or_insert(index);
        }
        for extra in &service.extra_hostnames {
            let extra = extra.trim_end_matches('.').to_ascii_lowercase();
            hosts.entry(extra.into_boxed_str()).or_insert(index);
        }
        let compiled = compile_service(service, &workload, context, &mut cluster_ips, index)?;
        services.push(compiled);
    }

    let mut client_policies = HashMap::new();
    for policy in snapshot.client_policies {
        let service = qualified(&policy.service, &policy.namespace);
        let compiled = super::ClientPolicy {
            fault: policy
                .fault
                .map(super::fault::Fault::try_from)
                .transpose()?,
            retry: policy.retry.map(super::RetryPolicy::compile),
            limits: policy.limits.map(super::limits::Limits::from),
        };
        client_policies.insert(service, compiled);
    }

    Ok(Snapshot {
        version: snapshot.version.into(),
        workload,
        mesh,
        rules,
        services,
        hosts,
        cluster_ips,
        direct,
        direct_services,
        client_policies,
        egress,
        config_json,
    })
}

fn port(context: impl FnOnce() -> String, port: u32) -> Result<u16, InvalidSnapshot> {
    match u16::try_from(port) {
        Ok(port) if port != 0 => Ok(port),
        _ => Err(InvalidSnapshot::Port {
            context: context(),
            port,
        }),
    }
}

fn protocol(value: i32) -> Result<Protocol, InvalidSnapshot> {
    match proto::Protocol::try_from(value) {
        Ok(proto::Protocol::Http) => Ok(Protocol::Http),
        Ok(proto::Protocol::Tcp) => Ok(Protocol::Tcp),
        Err(_) => Err(InvalidSnapshot::UnknownEnum {
            field: "protocol",
            value,
        }),
    }
}

impl TryFrom<proto::MeshSettings> for Mesh {
    type Error = InvalidSnapshot;

    fn try_from(value: proto::MeshSettings) -> Result<Self, Self::Error> {
        let traffic_policy = match proto::TrafficPolicy::try_from(value.traffic_policy) {
            Ok(proto::TrafficPolicy::Deny) => TrafficPolicy::Deny,
            Ok(proto::TrafficPolicy::Permissive) => TrafficPolicy::Permissive,
            Err(_) => {
                return Err(InvalidSnapshot::UnknownEnum {
                    field: "mesh.trafficPolicy",
                    value: value.traffic_policy,
                });
            }
        };
        let mtls = match proto::MtlsMode::try_from(value.mtls) {
            Ok(proto::MtlsMode::Strict) => MtlsMode::Strict,
            Ok(proto::MtlsMode::Permissive) => MtlsMode::Permissive,
            Err(_) => {
                return Err(InvalidSnapshot::UnknownEnum {
                    field: "mesh.mtls",
                    value: value.mtls,
                });
            }
        };
        let path_normalization = match proto::PathNormalization::try_from(value.path_normalization)
        {
            Ok(proto::PathNormalization::Base) => PathNormalization::Base,
            Ok(proto::PathNormalization::None) => PathNormalization::None,
            Ok(proto::PathNormalization::MergeSlashes) => PathNormalization::MergeSlashes,
            Ok(proto::PathNormalization::DecodeAndMergeSlashes) => {
                PathNormalization::DecodeAndMergeSlashes
            }
            Err(_) => {
                return Err(InvalidSnapshot::UnknownEnum {
                    field: "mesh.pathNormalization",
                    value: value.path_normalization,
                });
            }
        };
        let nonzero = |ms: u32| (ms > 0).then(|| Duration::from_millis(ms.into()));
        Ok(Self {
            name: non_empty(value.name, "meshcd").into(),
            trust_domain: non_empty(value.trust_domain, "cluster.local").into(),
            traffic_policy,
            mtls,
            connect_timeout: nonzero(value.connect_timeout_ms),
            request_timeout: nonzero(value.request_timeout_ms),
            path_normalization,
            retry_budget: value.retry_budget.map_or_else(Default::default, |budget| {
                super::BudgetSettings {
                    percent: budget.percent,
                    min_per_second: budget.min_per_second,
                }
            }),
        })
    }
}

fn non_empty(value: String, default: &str) -> String {
    if value.is_empty() {
        default.to_owned()
    } else {
        value
    }
}

fn compile_workload(value: proto::Workload, mesh: &Mesh) -> Result<Workload, InvalidSnapshot> {
    let service_account = non_empty(value.service_account, "default");
    let identity = if value.identity.is_empty() {
        format!(
            "spiffe://{}/ns/{}/sa/{service_account}",
            mesh.trust_domain, value.namespace
        )
    } else {
        value.identity
    };
    let namespace = value.namespace;
    let services = value
        .services
        .iter()
        .map(|name| qualified(name, &namespace))
        .collect();
    let mut ports = Vec::with_capacity(value.ports.len());
    for inbound in value.ports {
        let service_port = port(|| "workload port".to_owned(), inbound.service_port)?;
        let app_authority = inbound
            .app_address
            .parse::<Authority>()
            .ok()
            .filter(|authority| authority.port_u16().is_some())
            .ok_or_else(|| InvalidSnapshot::AppAddress {
                port: service_port,
                address: inbound.app_address.clone(),
            })?;
        ports.push(InboundPort {
            service_port,
            app_address: inbound.app_address.into(),
            app_authority,
            protocol: protocol(inbound.protocol)?,
        });
    }
    let mut rate_limits: HashMap<Arc<str>, super::limits::RateLimits> = HashMap::new();
    for limit in value.rate_limits {
        let service = qualified(&limit.service, &namespace);
        rate_limits
            .entry(service.clone())
            .or_default()
            .add(&service, limit)?;
    }
    let ingress = value
        .ingress
        .into_iter()
        .map(|rule| super::ingress::IngressRule::compile(rule, |name| qualified(name, &namespace)))
        .collect::<Result<_, _>>()?;
    Ok(Workload {
        namespace: namespace.into(),
        identity: identity.into(),
        services,
        ports,
        rate_limits,
        ingress,
    })
}

/// `name.namespace`, unless the name already carries a namespace.
fn qualified(name: &str, namespace: &str) -> Arc<str> {
    if name.contains('.') {
        name.into()
    } else {
        format!("{name}.{namespace}").into()
    }
}

impl TryFrom<proto::InboundRule> for Rule {
    type Error = InvalidSnapshot;

    fn try_from(value: proto::InboundRule) -> Result<Self, Self::Error> {
        let traffic_target = value.traffic_target;
        let ports = match value.ports {
            Some(ports) => Some(
                ports
                    .ports
                    .into_iter()
                    .map(|p| port(|| format!("traffic target {traffic_target:?}"), p))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        let http = match value.http {
            Some(http) => Some(
                http.matches
                    .into_iter()
                    .map(HttpMatch::try_from)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|source| InvalidSnapshot::Rule {
                        traffic_target: traffic_target.clone(),
                        source: Box::new(source),
                    })?,
            ),
            None => None,
        };
        Ok(Self {
            traffic_target: traffic_target.into(),
            sources: value
                .sources
                .into_iter()
                .map(String::into_boxed_str)
                .collect(),
            ports,
            http,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(address: &str) -> proto::Endpoint {
        proto::Endpoint {
            address: address.into(),
            identity: "spiffe://cluster.local/ns/shop/sa/api".into(),
            ..Default::default()
        }
    }

    fn split_snapshot(weights: &[u32], path_regex: &str) -> proto::Snapshot {
        proto::Snapshot {
            version: "v1".into(),
            workload: Some(proto::Workload {
                namespace: "shop".into(),
                service_account: "web".into(),
                ..Default::default()
            }),
            services: vec![proto::Service {
                name: "api".into(),
                namespace: "shop".into(),
                ports: vec![proto::ServicePort {
                    port: 80,
                    ..Default::default()
                }],
                endpoints: vec![endpoint("127.0.0.1:1")],
                split: Some(proto::Split {
                    traffic_split: "shop/api".into(),
                    backends: weights
                        .iter()
                        .enumerate()
                        .map(|(i, &weight)| proto::Backend {
                            service: format!("api-v{}", i + 1),
                            weight,
                            endpoints: vec![endpoint(&format!("127.0.0.1:{}", 10 + i))],
                            port: 0,
                            ..Default::default()
                        })
                        .collect(),
                    matches: vec![proto::HttpMatch {
                        name: "ab/canary".into(),
                        path_regex: path_regex.into(),
                        ..Default::default()
                    }],
                }),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn compiled(
        snapshot: proto::Snapshot,
        endpoints: &EndpointRegistry,
    ) -> Result<Snapshot, InvalidSnapshot> {
        compile(
            snapshot,
            &CompileContext {
                endpoints,
                metrics: &Metrics::new(),
            },
        )
    }

    #[test]
    fn a_recompiled_snapshot_keeps_the_endpoint_handles_of_unchanged_endpoints() {
        let registry = EndpointRegistry::default();
        let first = compiled(split_snapshot(&[90, 10], ""), &registry).unwrap();
        let second = compiled(split_snapshot(&[50, 50], ""), &registry).unwrap();
        let backends =
            |s: &Snapshot| s.services[0].split.as_ref().unwrap().backends[0].endpoints[0].clone();
        assert!(Arc::ptr_eq(&backends(&first), &backends(&second)));
        assert!(Arc::ptr_eq(
            &first.services[0].own.endpoints[0],
            &second.services[0].own.endpoints[0]
        ));
    }

    #[test]
    fn backends_are_qualified_with_the_split_namespace_and_identity_defaults() {
        let snapshot = compiled(split_snapshot(&[1, 0], ""), &EndpointRegistry::default()).unwrap();
        let split = snapshot.services[0].split.as_ref().unwrap();
        assert_eq!(&*split.backends[1].service, "api-v2.shop");
        assert_eq!(
            &*snapshot.workload.identity,
            "spiffe://cluster.local/ns/shop/sa/web"
        );
        assert_eq!(
            split.backends[0].metrics.len(),
            2,
            "default route and one match"
        );
    }

    #[test]
    fn a_split_whose_weights_are_all_zero_is_rejected() {
        let error =
            compiled(split_snapshot(&[0, 0], ""), &EndpointRegistry::default()).unwrap_err();
        assert!(matches!(error, InvalidSnapshot::NoWeight { .. }), "{error}");
    }

    #[test]
    fn an_invalid_regex_rejects_the_whole_snapshot_naming_the_split() {
        let error = compiled(
            split_snapshot(&[1], "(unclosed"),
            &EndpointRegistry::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("shop/api"), "{error}");
    }

    #[test]
    fn protobuf_json_snapshots_parse_with_enum_names() {
        let json = r#"{"version":"v9","workload":{"namespace":"shop","ports":[
            {"servicePort":5432,"appAddress":"127.0.0.1:5432","protocol":"PROTOCOL_TCP"}]},
            "mesh":{"trafficPolicy":"TRAFFIC_POLICY_PERMISSIVE","mtls":"MTLS_MODE_PERMISSIVE",
            "requestTimeoutMs":2500}}"#;
        let snapshot: proto::Snapshot = serde_json::from_str(json).unwrap();
        let snapshot = compiled(snapshot, &EndpointRegistry::default()).unwrap();
        assert_eq!(snapshot.workload.ports[0].protocol, Protocol::Tcp);
        assert_eq!(snapshot.mesh.traffic_policy, TrafficPolicy::Permissive);
        assert_eq!(snapshot.mesh.mtls, MtlsMode::Permissive);
        assert_eq!(
            snapshot.mesh.request_timeout,
            Some(Duration::from_millis(2500))
        );
        assert_eq!(snapshot.mesh.connect_timeout, None);
    }

    /// Service shop/api with a producer table on port 80 (to api-v1) and the consumer
    /// table of namespace `web` on port 80 (to ledger in `billing`), compiled for a client
    /// in `client_namespace`: the backend its port-80 rule sends to.
    fn routed_backend(client_namespace: &str) -> String {
        let table = |consumer: &str, backend: &str, namespace: &str| proto::RouteTable {
            port: 80,
            matches: vec![proto::RouteMatch::default()],
            rules: vec![proto::RouteRule {
                name: format!("{consumer}/r/0"),
                backends: vec![proto::Backend {
                    service: backend.into(),
                    namespace: namespace.into(),
                    weight: 1,
                    endpoints: vec![endpoint("127.0.0.1:20")],
                    port: 80,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            consumer_namespace: consumer.into(),
            grpc: false,
        };
        let snapshot = crate::snapshot::compile_for_tests(proto::Snapshot {
            workload: Some(proto::Workload {
                namespace: client_namespace.into(),
                service_account: "client".into(),
                ..Default::default()
            }),
            services: vec![proto::Service {
                name: "api".into(),
                namespace: "shop".into(),
                ports: vec![proto::ServicePort {
                    port: 80,
                    ..Default::default()
                }],
                routes: vec![table("", "api-v1", ""), table("web", "ledger", "billing")],
                ..Default::default()
            }],
            ..Default::default()
        });
        let routes = &snapshot.services[0].routes;
        assert_eq!(routes.len(), 1, "one table per port for a client");
        routes[0].rules[0].backends[0].service.to_string()
    }

    #[test]
    fn a_client_uses_its_namespaces_consumer_routes_else_the_producers() {
        assert_eq!(routed_backend("web"), "ledger.billing");
        assert_eq!(routed_backend("shop"), "api-v1.shop");
        assert_eq!(routed_backend("other"), "api-v1.shop");
    }
}
