//! Unit tests of `compile`: plain config in, snapshots out.

use super::*;
use crate::inventory::{Inventory, Protocol, Workload, WorkloadPort};
use crate::test_support::config;

fn workload(
    id: &str,
    namespace: &str,
    service_account: &str,
    services: &[&str],
    inbound: &str,
) -> Workload {
    Workload {
        id: id.into(),
        identity: Identity {
            namespace: namespace.into(),
            service_account: service_account.into(),
        },
        services: services.iter().map(|s| s.to_string()).collect(),
        ports: vec![WorkloadPort {
            service_port: 80,
            app_address: format!("127.0.0.1:{}", 9000 + id.len()),
            protocol: Protocol::Http,
        }],
        inbound_address: inbound.into(),
    }
}

const SHOP: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: api-routes, namespace: shop}
spec:
  matches:
  - {name: values, pathRegex: /api/values, methods: [GET]}
  - {name: admin, pathRegex: /admin/.*}
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: frontend-to-api, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: api}
  rules:
  - {kind: HTTPRouteGroup, name: api-routes, matches: [values]}
  sources:
  - {kind: ServiceAccount, name: frontend}
---
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: {name: api, namespace: shop}
spec:
  service: api
  backends:
  - {service: api-v1, weight: 90}
  - {service: api-v2, weight: 10}
"#;

fn shop_inventory() -> Inventory {
    let mut inventory = Inventory::default();
    inventory.insert(workload(
        "fe",
        "shop",
        "frontend",
        &["frontend"],
        "127.0.0.1:1001",
    ));
    inventory.insert(workload(
        "v1",
        "shop",
        "api",
        &["api-v1", "api"],
        "127.0.0.1:1002",
    ));
    inventory.insert(workload(
        "v2",
        "shop",
        "api",
        &["api-v2", "api"],
        "127.0.0.1:1003",
    ));
    inventory
}

#[test]
fn the_destination_gets_the_rules_that_name_it_and_only_the_listed_matches() {
    let compiled = compile(&config(SHOP), &shop_inventory());
    let api = &compiled.snapshot("v1").unwrap();
    assert_eq!(api.inbound_rules.len(), 1);
    let rule = &api.inbound_rules[0];
    assert_eq!(
        rule.sources,
        vec!["spiffe://cluster.local/ns/shop/sa/frontend"]
    );
    assert!(rule.ports.is_none(), "no TCPRoute: HTTP on any port");
    let names: Vec<_> = rule
        .http
        .as_ref()
        .unwrap()
        .matches
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(names, vec!["api-routes/values"]);
    assert!(compiled.snapshot("fe").unwrap().inbound_rules.is_empty());
}

#[test]
fn a_split_root_routes_to_its_backends_endpoints_and_keeps_its_own() {
    let compiled = compile(&config(SHOP), &shop_inventory());
    let services = compiled.snapshot("fe").unwrap().services;
    let api = services.iter().find(|s| s.name == "api").unwrap();
    assert_eq!(api.endpoints.len(), 2, "both versions also serve the root");
    let split = api.split.as_ref().unwrap();
    let weights: Vec<_> = split
        .backends
        .iter()
        .map(|b| (b.service.as_str(), b.weight, b.endpoints.len()))
        .collect();
    assert_eq!(weights, vec![("api-v1", 90, 1), ("api-v2", 10, 1)]);
    assert_eq!(split.backends[0].endpoints[0].address, "127.0.0.1:1002");
    assert_eq!(
        split.backends[0].endpoints[0].identity,
        "spiffe://cluster.local/ns/shop/sa/api"
    );
}

#[test]
fn every_snapshot_carries_the_meshs_path_normalization_base_by_default() {
    let mode = |config_text: &str| {
        let compiled = compile(&config(config_text), &shop_inventory());
        compiled
            .snapshot("v1")
            .unwrap()
            .mesh
            .unwrap()
            .path_normalization
    };
    assert_eq!(mode(SHOP), proto::PathNormalization::Base as i32);
    let merging = format!(
        "{SHOP}---\napiVersion: meshcd.dev/v1alpha1\nkind: Mesh\nmetadata: {{name: meshcd}}\n\
         spec: {{pathNormalization: decode-and-merge-slashes}}\n"
    );
    assert_eq!(
        mode(&merging),
        proto::PathNormalization::DecodeAndMergeSlashes as i32
    );
}

#[test]
fn versions_are_content_hashes() {
    let a = compile(&config(SHOP), &shop_inventory());
    let b = compile(&config(SHOP), &shop_inventory());
    assert_eq!(a, b);
    let mut inventory = shop_inventory();
    inventory.remove("v2");
    let c = compile(&config(SHOP), &inventory);
    assert_ne!(a.version("fe"), c.version("fe"));
    assert_eq!(a.version("fe").unwrap().len(), 16);
}

#[test]
fn workloads_outside_onboarded_namespaces_get_no_snapshot() {
    let mut inventory = shop_inventory();
    inventory.insert(workload("x", "elsewhere", "x", &["x"], "127.0.0.1:1009"));
    let compiled = compile(&config(SHOP), &inventory);
    assert!(compiled.snapshot("x").is_none());
    assert!(
        compiled
            .snapshot("fe")
            .unwrap()
            .services
            .iter()
            .all(|s| s.namespace == "shop")
    );
}

#[test]
fn a_tcp_route_limits_ports_and_an_empty_one_admits_all() {
    let yaml = r#"
apiVersion: v1
kind: Namespace
metadata: {name: db}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata: {name: pg, namespace: db}
spec: {matches: {ports: [5432]}}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata: {name: any, namespace: db}
spec: {matches: {ports: []}}
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: pg-only, namespace: db}
spec:
  destination: {kind: ServiceAccount, name: postgres}
  rules: [{kind: TCPRoute, name: pg}]
  sources: [{kind: ServiceAccount, name: app}]
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: all-ports, namespace: db}
spec:
  destination: {kind: ServiceAccount, name: postgres}
  rules: [{kind: TCPRoute, name: any}]
  sources: [{kind: ServiceAccount, name: admin}]
"#;
    let mut inventory = Inventory::default();
    inventory.insert(workload(
        "pg",
        "db",
        "postgres",
        &["postgres"],
        "127.0.0.1:2000",
    ));
    let compiled = compile(&config(yaml), &inventory);
    let rules = compiled.snapshot("pg").unwrap().inbound_rules;
    assert_eq!(rules.len(), 2);
    let pg_only = rules
        .iter()
        .find(|r| r.traffic_target == "db/pg-only")
        .unwrap();
    assert_eq!(pg_only.ports.as_ref().unwrap().ports, vec![5432]);
    assert!(pg_only.http.is_none());
    let all = rules
        .iter()
        .find(|r| r.traffic_target == "db/all-ports")
        .unwrap();
    assert!(all.ports.as_ref().unwrap().ports.is_empty());
}

#[test]
fn under_deny_policy_a_proxy_gets_only_the_services_its_identity_may_call() {
    let compiled = compile(&config(SHOP), &shop_inventory());
    let names = |id: &str| -> Vec<String> {
        compiled
            .snapshot(id)
            .unwrap()
            .services
            .into_iter()
            .map(|s| s.name)
            .collect()
    };
    // frontend may call identity api, which serves api-v1, api-v2 and the split root.
    assert_eq!(names("fe"), ["api", "api-v1", "api-v2"]);
    // Nobody names api as a source, and nobody may call frontend.
    assert!(names("v1").is_empty());
    // Left out, a service is still found for the proxy that asks.
    assert_eq!(
        compiled
            .lookup("shop", "frontend", None)
            .map(|s| s.name.as_str()),
        Some("frontend")
    );
}

#[test]
fn under_permissive_policy_every_proxy_gets_every_service() {
    let permissive = format!(
        "{SHOP}---\napiVersion: meshcd.dev/v1alpha1\nkind: Mesh\nmetadata: {{name: meshcd}}\nspec: {{trafficPolicy: permissive}}\n"
    );
    let compiled = compile(&config(&permissive), &shop_inventory());
    assert_eq!(compiled.snapshot("v1").unwrap().services.len(), 4);
}

#[test]
fn a_service_with_a_tcp_port_goes_to_every_proxy_which_opens_its_local_listener() {
    let mut inventory = shop_inventory();
    let mut postgres = workload("pg", "shop", "postgres", &["postgres"], "127.0.0.1:2000");
    postgres.ports[0].protocol = Protocol::Tcp;
    postgres.ports[0].service_port = 5432;
    inventory.insert(postgres);
    let compiled = compile(&config(SHOP), &inventory);
    // Nobody may call postgres, yet a local-mode app connecting to its local port must
    // reach postgres's proxy and be denied there, not be refused by its own.
    let names: Vec<String> = compiled
        .snapshot("v1")
        .unwrap()
        .services
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["postgres"]);
}
