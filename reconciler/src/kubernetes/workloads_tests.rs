use k8s_openapi::api::core::v1::{Pod, Service, ServicePort};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::json;

use super::*;

fn service_port(name: Option<&str>, app_protocol: Option<&str>) -> ServicePort {
    ServicePort {
        name: name.map(str::to_string),
        app_protocol: app_protocol.map(str::to_string),
        port: 80,
        ..ServicePort::default()
    }
}

#[test]
fn the_protocol_comes_from_app_protocol_then_the_port_name_then_defaults_to_http() {
    let cases = [
        (Some("tcp-db"), Some("http"), Protocol::Http),
        (Some("http"), Some("tcp"), Protocol::Tcp),
        (None, Some("kubernetes.io/h2c"), Protocol::Http),
        (None, Some("mysql"), Protocol::Tcp),
        (Some("tcp"), None, Protocol::Tcp),
        (Some("tcp-postgres"), None, Protocol::Tcp),
        (Some("grpc-api"), None, Protocol::Http),
        (Some("http-metrics"), None, Protocol::Http),
        (Some("tcpish"), None, Protocol::Http),
        (None, None, Protocol::Http),
    ];
    for (name, app_protocol, expected) in cases {
        assert_eq!(
            protocol(&service_port(name, app_protocol)),
            expected,
            "{name:?} {app_protocol:?}"
        );
    }
}

/// What `kubectl get -o json` shows for the demo's api Service (two versions behind one
/// root Service), trimmed to the fields the mapping reads and a few it must ignore.
fn cluster() -> (Vec<Service>, Vec<EndpointSlice>, Vec<Pod>) {
    let services = vec![
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "api", "namespace": "shop", "uid": "s1"},
               "spec": {"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "selector": {"app": "api"},
                        "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "web"},
                                  {"name": "tcp-admin", "port": 9000, "protocol": "TCP", "targetPort": 9000},
                                  {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53}]}}),
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "api-v2", "namespace": "shop"},
               "spec": {"clusterIP": "10.96.0.11", "selector": {"app": "api", "version": "v2"},
                        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080, "appProtocol": "http"}]}}),
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "headless", "namespace": "shop"},
               "spec": {"clusterIP": "None", "ports": [{"port": 80}]}}),
    ];
    let slices = vec![
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
               "metadata": {"name": "api-abcde", "namespace": "shop", "labels": {"kubernetes.io/service-name": "api"}},
               "endpoints": [
                   {"addresses": ["10.244.1.5"], "conditions": {"ready": true},
                    "targetRef": {"kind": "Pod", "name": "api-v2-7d9f", "namespace": "shop", "uid": "pod-uid-2"}},
                   {"addresses": ["10.244.1.6"], "conditions": {"ready": false},
                    "targetRef": {"kind": "Pod", "name": "api-v1-starting", "namespace": "shop", "uid": "pod-uid-3"}},
                   {"addresses": ["10.244.1.7"], "conditions": {"ready": true},
                    "targetRef": {"kind": "Pod", "name": "not-injected", "namespace": "shop", "uid": "pod-uid-4"}}],
               "ports": [{"name": "http", "port": 8080, "protocol": "TCP"},
                         {"name": "tcp-admin", "port": 9000, "protocol": "TCP"},
                         {"name": "dns", "port": 53, "protocol": "UDP"}]}),
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
               "metadata": {"name": "api-v2-xyz", "namespace": "shop", "labels": {"kubernetes.io/service-name": "api-v2"}},
               "endpoints": [{"addresses": ["10.244.1.5"], "conditions": {"ready": true},
                              "targetRef": {"kind": "Pod", "name": "api-v2-7d9f", "namespace": "shop"}}],
               "ports": [{"name": "", "port": 8080, "protocol": "TCP"}]}),
    ];
    let injected = json!({"meshcd.dev/injected": "true"});
    let pods = vec![
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "api-v2-7d9f", "namespace": "shop", "uid": "pod-uid-2", "annotations": injected},
               "spec": {"serviceAccountName": "api", "containers": []},
               "status": {"podIP": "10.244.1.5"}}),
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "api-v1-starting", "namespace": "shop", "uid": "pod-uid-3", "annotations": injected},
               "spec": {"containers": []},
               "status": {"podIP": "10.244.1.6"}}),
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "not-injected", "namespace": "shop", "uid": "pod-uid-4"},
               "spec": {"serviceAccountName": "api", "containers": []},
               "status": {"podIP": "10.244.1.7"}}),
    ];
    (
        services
            .into_iter()
            .map(|s| serde_json::from_value(s).unwrap())
            .collect(),
        slices
            .into_iter()
            .map(|s| serde_json::from_value(s).unwrap())
            .collect(),
        pods.into_iter()
            .map(|p| serde_json::from_value(p).unwrap())
            .collect(),
    )
}

#[test]
fn an_injected_ready_pod_is_a_workload_of_every_service_whose_slices_list_it() {
    let (services, slices, pods) = cluster();
    let inventory = inventory(&services, &slices, &pods);
    let workload = &inventory.workloads["pod-uid-2"];
    assert_eq!(
        workload,
        &Workload {
            id: "pod-uid-2".into(),
            identity: Identity {
                namespace: "shop".into(),
                service_account: "api".into(),
            },
            services: vec!["api".into(), "api-v2".into()],
            ports: vec![
                WorkloadPort {
                    service_port: 80,
                    app_address: "127.0.0.1:8080".into(),
                    protocol: Protocol::Http,
                },
                WorkloadPort {
                    service_port: 9000,
                    app_address: "127.0.0.1:9000".into(),
                    protocol: Protocol::Tcp,
                },
            ],
            inbound_address: "10.244.1.5:15003".into(),
        }
    );
}

#[test]
fn a_pod_that_is_not_ready_serves_no_service_and_one_without_a_proxy_is_no_workload() {
    let (services, slices, pods) = cluster();
    let inventory = inventory(&services, &slices, &pods);
    let starting = &inventory.workloads["pod-uid-3"];
    assert_eq!(starting.services, Vec::<String>::new());
    assert_eq!(starting.identity.service_account, "default");
    assert!(!inventory.workloads.contains_key("pod-uid-4"));
}

#[test]
fn services_keep_their_cluster_ips_and_headless_services_have_none() {
    let (services, slices, pods) = cluster();
    let inventory = inventory(&services, &slices, &pods);
    let ips = |name: &str| {
        inventory.services[&("shop".to_string(), name.to_string())]
            .cluster_ips
            .clone()
    };
    assert_eq!(ips("api"), ["10.96.0.10"]);
    assert_eq!(ips("api-v2"), ["10.96.0.11"]);
    assert_eq!(ips("headless"), Vec::<String>::new());
}

/// What an IngressBackend's `Service` source lets in: every ready endpoint's address,
/// injected or not (an ingress controller is usually outside the mesh), never a starting one.
#[test]
fn a_services_ready_endpoints_are_known_injected_or_not() {
    let (services, slices, pods) = cluster();
    let inventory = inventory(&services, &slices, &pods);
    let addresses = |name: &str| {
        inventory.services[&("shop".to_string(), name.to_string())]
            .endpoint_addresses
            .clone()
    };
    assert_eq!(addresses("api"), ["10.244.1.5", "10.244.1.7"]);
    assert_eq!(addresses("api-v2"), ["10.244.1.5"]);
    assert_eq!(addresses("headless"), Vec::<String>::new());
}
