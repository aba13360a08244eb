use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::kubernetes::fixtures::{config_from, examples_config};
use crate::model::{Backend, CanaryTarget, PortRoute, TrafficSplit, WeightOverrides};
use crate::validate::convert::units::format_duration;

fn newest() -> BTreeMap<Kind, String> {
    Kind::ALL
        .iter()
        .map(|kind| (*kind, kind.versions().last().unwrap().to_string()))
        .collect()
}

fn served(pairs: &[(Kind, &str)]) -> BTreeMap<Kind, String> {
    let mut served = newest();
    for (kind, version) in pairs {
        served.insert(*kind, version.to_string());
    }
    served
}

const SHOP: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";

#[test]
fn examples_repo_becomes_the_newest_smi_objects_labelled_as_managed() {
    let plan = plan(&examples_config(), &newest(), &WeightOverrides::new());
    assert_eq!(plan.errors, vec![]);
    let keys: Vec<String> = plan.objects.iter().map(|o| o.key.to_string()).collect();
    assert_eq!(
        keys,
        [
            "Mesh meshcd",
            "HTTPRouteGroup osm-canary-deployment-sample-app/api-routes",
            "HTTPRouteGroup osm-simple-app/api-routes",
            "TrafficTarget osm-canary-deployment-sample-app/frontend-to-api",
            "TrafficTarget osm-simple-app/frontend-to-api",
            "TrafficSplit osm-canary-deployment-sample-app/api",
            "Canary osm-canary-deployment-sample-app/api",
        ]
    );
    let target = &plan.objects[4];
    assert_eq!(
        target.body,
        json!({
            "apiVersion": "access.smi-spec.io/v1alpha3",
            "kind": "TrafficTarget",
            "metadata": {
                "name": "frontend-to-api",
                "namespace": "osm-simple-app",
                "labels": {"app.kubernetes.io/managed-by": "meshcd", "meshcd.dev/mesh": "meshcd"},
            },
            "spec": {
                "destination": {"kind": "ServiceAccount", "name": "api", "namespace": "osm-simple-app"},
                "rules": [{"kind": "HTTPRouteGroup", "name": "api-routes", "matches": ["api-values"]}],
                "sources": [{"kind": "ServiceAccount", "name": "frontend", "namespace": "osm-simple-app"}],
            },
        })
    );
    let canary = &plan.objects[6];
    assert_eq!(
        canary.body["spec"],
        json!({
            "trafficSplit": "api", "stable": "api-v1", "canary": "api-v2",
            "steps": {"weights": [10, 20, 30, 40, 50]},
            "interval": "30s", "progressDeadline": "10m",
            "analysis": {"successRate": {"min": 99.0}, "latencyP99": {"max": "500ms"},
                         "minRequests": 20, "failureThreshold": 3},
        })
    );
}

#[test]
fn a_split_with_matches_cannot_be_written_as_split_v1alpha2() {
    let config = config_from(&[
        ("ns.yaml", SHOP),
        (
            "split.yaml",
            "apiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata: {name: beta, namespace: shop}\nspec:\n  matches: [{name: beta, headers: [{x-beta: '1'}]}]\n---\napiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: api, namespace: shop}\nspec:\n  service: api\n  matches: [{kind: HTTPRouteGroup, name: beta}]\n  backends: [{service: api-v1, weight: 1}, {service: api-v2, weight: 1}]\n",
        ),
    ]);
    let plan = plan(
        &config,
        &served(&[(Kind::TrafficSplit, "v1alpha2")]),
        &WeightOverrides::new(),
    );
    assert_eq!(plan.errors.len(), 1, "{:?}", plan.errors);
    let (key, error) = &plan.errors[0];
    assert_eq!(key.to_string(), "TrafficSplit shop/api");
    assert_eq!(
        error.to_string(),
        "split.smi-spec.io/v1alpha2 cannot express matches [\"beta\"] (A/B splits need v1alpha3 or later)"
    );
    assert!(
        plan.keys().any(|k| k == key),
        "a failed object is still kept from pruning"
    );
}

#[test]
fn a_destination_port_is_written_in_access_v1alpha2_but_not_v1alpha3() {
    let config = config_from(&[
        ("ns.yaml", SHOP),
        (
            "target.yaml",
            "apiVersion: access.smi-spec.io/v1alpha2\nkind: TrafficTarget\nmetadata: {name: t, namespace: shop}\nspec:\n  destination: {kind: ServiceAccount, name: api, port: 8080}\n  sources: [{kind: ServiceAccount, name: web}]\n",
        ),
    ]);
    let target = &config.traffic_targets[0].value;
    let error = traffic_target(target, "v1alpha3").unwrap_err();
    assert_eq!(
        error.to_string(),
        "access.smi-spec.io/v1alpha3 cannot express destination.port 8080 (list the port in a TCPRoute rule instead)"
    );
    let v1alpha2 = traffic_target(target, "v1alpha2").unwrap();
    assert_eq!(v1alpha2["spec"]["destination"]["port"], json!(8080));
}

#[test]
fn a_tcp_route_v1alpha4_always_lists_its_ports_and_older_versions_cannot_limit_them() {
    let all_ports = PortRoute {
        name: "db".into(),
        namespace: "shop".into(),
        ports: vec![],
    };
    assert_eq!(
        port_route(Kind::TcpRoute, &all_ports, "v1alpha4").unwrap(),
        json!({"spec": {"matches": {"ports": []}}})
    );
    assert_eq!(
        port_route(Kind::TcpRoute, &all_ports, "v1alpha3").unwrap(),
        json!({})
    );
    let limited = PortRoute {
        ports: vec![5432],
        ..all_ports
    };
    assert!(matches!(
        port_route(Kind::TcpRoute, &limited, "v1alpha2"),
        Err(ConversionError::Lossy { .. })
    ));
}

#[test]
fn a_kind_the_cluster_does_not_serve_is_an_error_on_each_of_its_objects() {
    let mut served = newest();
    served.remove(&Kind::Canary);
    let plan = plan(&examples_config(), &served, &WeightOverrides::new());
    assert_eq!(plan.errors.len(), 1);
    assert_eq!(
        plan.errors[0].1.to_string(),
        "the cluster serves no version of Canary that meshcd writes (is its CRD installed?)"
    );
}

#[test]
fn a_running_canary_writes_its_own_weights_into_the_split() {
    let mut weights = WeightOverrides::new();
    weights.insert(
        (
            "osm-canary-deployment-sample-app".into(),
            CanaryTarget::TrafficSplit("api".into()),
        ),
        [("api-v1".to_string(), 70), ("api-v2".to_string(), 30)].into(),
    );
    let plan = plan(&examples_config(), &newest(), &weights);
    let split = plan
        .objects
        .iter()
        .find(|o| o.key.kind == Kind::TrafficSplit)
        .unwrap();
    assert_eq!(
        split.body["spec"]["backends"],
        json!([{"service": "api-v1", "weight": 70}, {"service": "api-v2", "weight": 30}])
    );
}

#[test]
fn a_running_canary_on_a_route_writes_its_weights_into_the_route_and_the_canary_names_it() {
    let config = config_from(&[(
        "routed.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: api, namespace: shop}\nspec:\n  parentRefs: [{group: '', kind: Service, name: api, port: 80}]\n  rules:\n  - name: pinned\n    matches: [{path: {type: PathPrefix, value: /v1}}]\n    backendRefs: [{name: api-v1, port: 80}]\n  - backendRefs: [{name: api-v1, port: 80, weight: 90}, {name: api-v2, port: 80, weight: 10}]\n---\napiVersion: meshcd.dev/v1alpha1\nkind: Canary\nmetadata: {name: api, namespace: shop}\nspec:\n  httpRoute: {name: api}\n  stable: api-v1\n  canary: api-v2\n  steps: {weights: [50]}\n",
    )]);
    let weights = WeightOverrides::from([(
        (
            "shop".to_string(),
            CanaryTarget::HttpRoute {
                name: "api".into(),
                rule: None,
            },
        ),
        [("api-v1".to_string(), 50), ("api-v2".to_string(), 50)].into(),
    )]);
    let plan = plan(&config, &newest(), &weights);
    let body = |kind: Kind| {
        &plan
            .objects
            .iter()
            .find(|o| o.key.kind == kind)
            .unwrap()
            .body
    };
    let rules = &body(Kind::HttpRoute)["spec"]["rules"];
    let weights_of = |rule: &serde_json::Value| -> Vec<serde_json::Value> {
        rule["backendRefs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|backend| backend["weight"].clone())
            .collect()
    };
    assert_eq!(
        weights_of(&rules[0]),
        [json!(1)],
        "the pinned rule is Git's"
    );
    assert_eq!(weights_of(&rules[1]), [json!(50), json!(50)]);
    let spec = &body(Kind::Canary)["spec"];
    assert_eq!(spec["httpRoute"], json!({"name": "api"}));
    assert!(spec.get("trafficSplit").is_none(), "{spec}");
}

#[test]
fn split_v1alpha1_weights_are_quantities_with_the_same_ratios() {
    let split = TrafficSplit {
        name: "api".into(),
        namespace: "shop".into(),
        service: "api".into(),
        backends: vec![
            Backend {
                service: "v1".into(),
                weight: 90,
            },
            Backend {
                service: "v2".into(),
                weight: 10,
            },
        ],
        matches: vec![],
    };
    assert_eq!(
        traffic_split(&split, "v1alpha1").unwrap()["spec"]["backends"],
        json!([{"service": "v1", "weight": "90m"}, {"service": "v2", "weight": "10m"}])
    );
}

#[test]
fn durations_are_written_in_the_schema_syntax() {
    assert_eq!(format_duration(Duration::from_secs(30)), "30s");
    assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
    assert_eq!(format_duration(Duration::from_millis(1500)), "1s500ms");
    assert_eq!(format_duration(Duration::ZERO), "0s");
}

/// Every version meshcd writes reads back, through the validator, into the same model:
/// the conversion loses nothing it does not refuse.
#[test]
fn every_written_version_reads_back_into_the_same_model() {
    let source = config_from(&[
        ("ns.yaml", SHOP),
        (
            "objects.yaml",
            "apiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata: {name: routes, namespace: shop}\nspec:\n  matches:\n  - {name: read, pathRegex: '/items/.*', methods: [GET, HEAD], headers: [{X-Tenant: 'a|b'}]}\n  - {name: any}\n---\napiVersion: specs.smi-spec.io/v1alpha4\nkind: TCPRoute\nmetadata: {name: all-ports, namespace: shop}\nspec: {matches: {ports: []}}\n---\napiVersion: access.smi-spec.io/v1alpha3\nkind: TrafficTarget\nmetadata: {name: web-to-api, namespace: shop}\nspec:\n  destination: {kind: ServiceAccount, name: api}\n  rules: [{kind: HTTPRouteGroup, name: routes, matches: [read]}, {kind: TCPRoute, name: all-ports}]\n  sources: [{kind: ServiceAccount, name: web}, {kind: ServiceAccount, name: batch, namespace: jobs}]\n---\napiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\nmetadata: {name: api, namespace: shop}\nspec:\n  service: api.shop.svc.cluster.local\n  backends: [{service: api-v1, weight: 3}, {service: api-v2, weight: 1}]\n",
        ),
    ]);
    let versions = |kind: Kind| kind.versions().iter().copied();
    for route_version in versions(Kind::HttpRouteGroup) {
        for target_version in versions(Kind::TrafficTarget) {
            for split_version in versions(Kind::TrafficSplit) {
                let served = served(&[
                    (Kind::HttpRouteGroup, route_version),
                    (Kind::TcpRoute, route_version),
                    (Kind::TrafficTarget, target_version),
                    (Kind::TrafficSplit, split_version),
                ]);
                let plan = plan(&source, &served, &WeightOverrides::new());
                assert_eq!(plan.errors, vec![]);
                let mut files = vec![("ns.yaml".to_string(), SHOP.to_string())];
                for (index, object) in plan.objects.iter().enumerate() {
                    files.push((format!("{index}.yaml"), object.body.to_string()));
                }
                let files: Vec<(&str, &str)> = files
                    .iter()
                    .map(|(p, t)| (p.as_str(), t.as_str()))
                    .collect();
                let read_back = config_from(&files);
                let context = format!("{route_version}/{target_version}/{split_version}");
                let values = |config: &Config| {
                    (
                        config
                            .http_route_groups
                            .iter()
                            .map(|o| o.value.clone())
                            .collect::<Vec<_>>(),
                        config
                            .tcp_routes
                            .iter()
                            .map(|o| o.value.clone())
                            .collect::<Vec<_>>(),
                        config
                            .traffic_targets
                            .iter()
                            .map(|o| o.value.clone())
                            .collect::<Vec<_>>(),
                        config
                            .traffic_splits
                            .iter()
                            .map(|o| o.value.clone())
                            .collect::<Vec<_>>(),
                    )
                };
                // Split v1alpha1 weights are written in thousandths (`3m`) and read back
                // as the same numbers.
                let (groups, routes, targets, splits) = values(&read_back);
                let (want_groups, want_routes, want_targets, want_splits) = values(&source);
                assert_eq!(groups, want_groups, "{context}");
                assert_eq!(routes, want_routes, "{context}");
                assert_eq!(targets, want_targets, "{context}");
                assert_eq!(splits, want_splits, "{context}");
                assert_eq!(read_back.mesh, source.mesh, "{context}");
            }
        }
    }
}

/// The Gateway API routes of the Mesh conformance tests and one of every filter, as every
/// version meshcd writes, read back through the validator into the same model. One
/// manifest at a time: upstream's reuse names across tests.
#[test]
fn gateway_routes_written_in_every_version_read_back_into_the_same_model() {
    let conformance = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas/tests/gateway-conformance");
    let mut manifests: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(&conformance).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .is_some_and(|name| name != "manifests.yaml")
        {
            manifests.push(std::fs::read_to_string(&path).unwrap());
        }
    }
    assert!(manifests.len() >= 20, "upstream's manifests are read");
    manifests.push(EVERY_FILTER.to_string());
    for manifest in &manifests {
        round_trip(manifest);
    }
}

const GATEWAY_NAMESPACES: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: gateway-conformance-mesh}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: gateway-conformance-mesh-consumer}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: billing}\n";

const EVERY_FILTER: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: every-filter, namespace: gateway-conformance-mesh}
spec:
  parentRefs: [{group: '', kind: Service, name: shop, port: 80}]
  rules:
  - name: mirrored
    matches: [{path: {type: PathPrefix, value: /m}, queryParams: [{name: q, value: '1'}], method: PUT}]
    filters:
    - {type: RequestMirror, requestMirror: {backendRef: {name: audit, port: 80}, percent: 10}}
    - {type: RequestMirror, requestMirror: {backendRef: {name: ledger, namespace: billing, port: 80}, fraction: {numerator: 1, denominator: 4}}}
    - {type: URLRewrite, urlRewrite: {hostname: internal, path: {type: ReplacePrefixMatch, replacePrefixMatch: /n}}}
    backendRefs: [{name: echo-v1, port: 80, weight: 3, filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {remove: [x-a]}}]}]
    timeouts: {request: 1m30s, backendRequest: 500ms}
    retry: {codes: [503], attempts: 2, backoff: 10ms}
  - matches: [{path: {type: Exact, value: /r}}]
    filters: [{type: RequestRedirect, requestRedirect: {scheme: https, port: 8443, statusCode: 308, path: {type: ReplaceFullPath, replaceFullPath: /s}}}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: mesh-routes, namespace: billing}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: gateway-conformance-mesh}]
  to: [{group: '', kind: Service, name: ledger}]
";

/// `manifest` written in each version meshcd writes reads back into the same routes and
/// grants.
fn round_trip(manifest: &str) {
    let source = config_from(&[("ns.yaml", GATEWAY_NAMESPACES), ("routes.yaml", manifest)]);
    for route_version in Kind::HttpRoute.versions() {
        for grant_version in Kind::ReferenceGrant.versions() {
            let served = served(&[
                (Kind::HttpRoute, route_version),
                (Kind::ReferenceGrant, grant_version),
            ]);
            let plan = plan(&source, &served, &WeightOverrides::new());
            assert_eq!(plan.errors, vec![]);
            let written: Vec<(String, String)> = plan
                .objects
                .iter()
                .enumerate()
                .filter(|(_, object)| object.key.kind.group() == "gateway.networking.k8s.io")
                .map(|(index, object)| (format!("{index}.yaml"), object.body.to_string()))
                .collect();
            let mut files = vec![("ns.yaml", GATEWAY_NAMESPACES)];
            files.extend(written.iter().map(|(p, t)| (p.as_str(), t.as_str())));
            let read_back = config_from(&files);
            let values = |config: &Config| {
                (
                    config
                        .http_routes
                        .iter()
                        .map(|o| o.value.clone())
                        .collect::<Vec<_>>(),
                    config
                        .reference_grants
                        .iter()
                        .map(|o| o.value.clone())
                        .collect::<Vec<_>>(),
                )
            };
            assert_eq!(
                values(&read_back),
                values(&source),
                "HTTPRoute {route_version}, ReferenceGrant {grant_version}: {manifest}"
            );
        }
    }
}

/// Issue 19's kinds, as the cluster is sent them, read back by meshcd's own validator: the
/// same policies (nothing lost or changed on the way to the API server).
#[test]
fn fault_retry_and_upstream_traffic_setting_bodies_read_back_as_the_same_policies() {
    let repo = "apiVersion: meshcd.dev/v1alpha1
kind: Mesh
metadata: {name: meshcd}
spec: {faultInjection: allowed}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: api-routes, namespace: shop}
spec:
  matches: [{name: orders, pathRegex: /orders/.*}]
---
apiVersion: meshcd.dev/v1alpha1
kind: Fault
metadata: {name: chaos, namespace: shop}
spec:
  destination: {kind: Service, name: api}
  sources: [{kind: ServiceAccount, name: frontend}]
  routes: [{kind: HTTPRouteGroup, name: api-routes, matches: [orders]}, {kind: HTTPRouteGroup, name: api-routes}]
  abort: {percent: 12.5, httpStatus: 503}
  delay: {percent: 50, fixedDelay: 200ms}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: Retry
metadata: {name: retry, namespace: shop}
spec:
  source: {kind: ServiceAccount, name: frontend, namespace: shop}
  destinations: [{kind: Service, name: api, namespace: shop}]
  retryPolicy: {retryOn: '503,reset', perTryTimeout: 1s, numRetries: 2, retryBackoffBaseInterval: 25ms}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: {name: limits, namespace: shop}
spec:
  host: api
  connectionSettings:
    tcp: {connectTimeout: 500ms, maxConnections: 8}
    http: {maxRequests: 10, maxPendingRequests: 5, maxRequestsPerConnection: 100, maxRetries: 3}
  rateLimit:
    local:
      http:
        requests: 20
        unit: minute
        burst: 5
        responseStatusCode: 503
        responseHeadersToAdd: [{name: x-limited, value: 'yes'}]
      tcp: {connections: 10, unit: second, burst: 2}
  httpRoutes:
  - path: /orders/.*
    rateLimit: {local: {requests: 5, unit: hour, responseStatusCode: 503}}
  outlierDetection: {consecutiveFailures: 3, interval: 20s, baseEjectionTime: 2s, maxEjectionPercent: 50}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: Egress
metadata: {name: payments, namespace: shop}
spec:
  sources: [{kind: ServiceAccount, name: frontend, namespace: shop}]
  hosts: [api.payments.example, '*.cdn.example']
  ipAddresses: [203.0.113.0/24]
  ports: [{number: 80, protocol: http}, {number: 443, protocol: https}]
  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: api-routes}]
";
    let config = config_from(&[("repo.yaml", repo)]);
    let plan = plan(&config, &newest(), &WeightOverrides::new());
    assert_eq!(plan.errors, vec![]);
    // The Mesh and the Namespace, then what the cluster is sent.
    let fault_at = repo
        .find("---\napiVersion: meshcd.dev/v1alpha1\nkind: Fault")
        .unwrap();
    let mut sent = repo[..fault_at].to_string();
    for kind in [
        Kind::Fault,
        Kind::Retry,
        Kind::UpstreamTrafficSetting,
        Kind::Egress,
    ] {
        let body = &plan
            .objects
            .iter()
            .find(|o| o.key.kind == kind)
            .unwrap()
            .body;
        let mut body = body.clone();
        // What the cluster adds (labels) is not the repository's concern.
        body["metadata"].as_object_mut().unwrap().remove("labels");
        sent.push_str("---\n");
        sent.push_str(&serde_yaml::to_string(&body).unwrap());
    }
    let read_back = config_from(&[("sent.yaml", &sent)]);
    assert_eq!(read_back.faults[0].value, config.faults[0].value);
    assert_eq!(read_back.retries[0].value, config.retries[0].value);
    assert_eq!(
        read_back.upstream_settings[0].value,
        config.upstream_settings[0].value
    );
    assert_eq!(read_back.egresses[0].value, config.egresses[0].value);
}

/// Issue 20's IngressBackend, as the cluster is sent it, read back as the same policy.
#[test]
fn an_ingress_backend_body_reads_back_as_the_same_policy() {
    let repo = "apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: IngressBackend
metadata: {name: edge, namespace: shop}
spec:
  backends: [{name: api, port: {number: 80, protocol: http}}, {name: web, port: {number: 8443, protocol: https}}]
  sources: [{kind: IPRange, name: 10.0.0.0/8}, {kind: Service, name: ingress-nginx, namespace: ingress}, {kind: AuthenticatedPrincipal, name: ingress.example.com}]
";
    let config = config_from(&[("repo.yaml", repo)]);
    let plan = plan(&config, &newest(), &WeightOverrides::new());
    assert_eq!(plan.errors, vec![]);
    let at = repo.find("---\n").unwrap();
    let mut body = plan
        .objects
        .iter()
        .find(|o| o.key.kind == Kind::IngressBackend)
        .unwrap()
        .body
        .clone();
    body["metadata"].as_object_mut().unwrap().remove("labels");
    let sent = format!(
        "{}---\n{}",
        &repo[..at],
        serde_yaml::to_string(&body).unwrap()
    );
    let read_back = config_from(&[("sent.yaml", &sent)]);
    assert_eq!(
        read_back.ingress_backends[0].value,
        config.ingress_backends[0].value
    );
}
