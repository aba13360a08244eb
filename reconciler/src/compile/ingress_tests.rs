//! IngressBackends compiled: each backend's workloads get the rule with their own ports
//! only, Service sources become their workloads' addresses, and what the inventory makes
//! questionable is warned about at the object.

use meshcd_schemas::proto;

use crate::compile::compile;
use crate::inventory::{Inventory, Protocol, Workload, WorkloadPort};
use crate::model::Identity;
use crate::test_support::config;

fn workload(id: &str, services: &[&str], inbound: &str, ports: &[(u16, Protocol)]) -> Workload {
    Workload {
        id: id.into(),
        identity: Identity {
            namespace: "shop".into(),
            service_account: id.into(),
        },
        services: services.iter().map(|s| s.to_string()).collect(),
        ports: ports
            .iter()
            .map(|&(service_port, protocol)| WorkloadPort {
                service_port,
                app_address: format!("127.0.0.1:{}", 9000 + service_port),
                protocol,
            })
            .collect(),
        inbound_address: inbound.into(),
    }
}

const EDGE: &str = "apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: IngressBackend
metadata: {name: edge, namespace: shop}
spec:
  backends:
  - {name: api, port: {number: 80, protocol: http}}
  - {name: web, port: {number: 80, protocol: http}}
  - {name: ghost, port: {number: 80, protocol: http}}
  - {name: api, port: {number: 9090, protocol: http}}
  - {name: db, port: {number: 5432, protocol: http}}
  sources:
  - {kind: IPRange, name: 10.0.0.0/8}
  - {kind: Service, name: gateway}
  - {kind: Service, name: nobody}
";

fn inventory() -> Inventory {
    let mut inventory = Inventory::default();
    let http = [(80, Protocol::Http)];
    inventory.insert(workload("api", &["api"], "10.1.0.5:15003", &http));
    inventory.insert(workload("web", &["web"], "10.1.0.6:15003", &http));
    inventory.insert(workload("other", &["other"], "10.1.0.7:15003", &http));
    inventory.insert(workload("gw-1", &["gateway"], "192.0.2.10:15003", &http));
    inventory.insert(workload("gw-2", &["gateway"], "192.0.2.11:15003", &http));
    inventory.insert(workload(
        "db",
        &["db"],
        "10.1.0.8:15003",
        &[(5432, Protocol::Tcp)],
    ));
    inventory
}

#[test]
fn each_backend_workload_gets_its_own_ports_and_the_sources_resolved() {
    let compiled = compile(&config(EDGE), &inventory());
    let ingress_of = |id: &str| compiled.snapshot(id).unwrap().workload.unwrap().ingress;
    let sources = vec![
        "10.0.0.0/8".to_string(),
        "192.0.2.10/32".to_string(),
        "192.0.2.11/32".to_string(),
    ];
    assert_eq!(
        ingress_of("api"),
        [proto::IngressRule {
            ingress_backend: "shop/edge".into(),
            backends: vec![
                proto::IngressBackendPort {
                    service: "api".into(),
                    port: 80,
                    protocol: proto::IngressProtocol::Http as i32,
                },
                proto::IngressBackendPort {
                    service: "api".into(),
                    port: 9090,
                    protocol: proto::IngressProtocol::Http as i32,
                },
            ],
            sources: sources.clone(),
            principals: Vec::new(),
        }]
    );
    assert_eq!(ingress_of("web")[0].backends.len(), 1);
    assert_eq!(ingress_of("web")[0].sources, sources);
    // A workload no backend names is not opened at all.
    assert!(ingress_of("other").is_empty());
    assert!(ingress_of("gw-1").is_empty());
}

#[test]
fn a_backend_or_source_the_inventory_lacks_is_warned_about_at_the_object() {
    let compiled = compile(&config(EDGE), &inventory());
    let warnings: Vec<String> = compiled
        .warnings
        .iter()
        .map(|w| {
            let origin = w.origin.as_ref().unwrap();
            format!("{}:{} {}", origin.file.display(), origin.line, w.message)
        })
        .collect();
    assert_eq!(
        warnings,
        [
            "repo.yaml:5 IngressBackend shop/edge: backend Service \"ghost\" has no workload: nothing is let in to it",
            "repo.yaml:5 IngressBackend shop/edge: backend Service \"api\" serves no port 9090: nothing is let in to it",
            "repo.yaml:5 IngressBackend shop/edge: port 5432 of backend Service \"db\" is TCP, and an ingress is let in to HTTP ports only",
            "repo.yaml:5 IngressBackend shop/edge: source Service shop/nobody has no endpoint: it lets no address in",
        ]
    );
}

#[test]
fn a_service_source_in_a_cluster_lets_in_its_endpoints_outside_the_mesh_too() {
    let mut inventory = inventory();
    // ingress-nginx is not injected: no workload, only its EndpointSlices' addresses.
    inventory.services.insert(
        ("shop".into(), "nobody".into()),
        crate::inventory::ServiceInfo {
            cluster_ips: Vec::new(),
            endpoint_addresses: vec!["10.244.3.7".into(), "fd00::7".into()],
        },
    );
    let compiled = compile(&config(EDGE), &inventory);
    let sources = &compiled.snapshot("api").unwrap().workload.unwrap().ingress[0].sources;
    assert!(
        sources.contains(&"10.244.3.7/32".to_string()),
        "{sources:?}"
    );
    assert!(sources.contains(&"fd00::7/128".to_string()), "{sources:?}");
    assert!(
        !compiled
            .warnings
            .iter()
            .any(|w| w.message.contains("shop/nobody")),
        "{:?}",
        compiled.warnings
    );
}
