//! Tests of what a hello may register.

use super::*;

fn identity(service_account: &str) -> Identity {
    Identity {
        namespace: "shop".into(),
        service_account: service_account.into(),
    }
}

fn hello(proxy_id: &str, services: &[&str], inbound: &str) -> proto::Hello {
    proto::Hello {
        certificate_root: String::new(),
        proxy_id: proxy_id.into(),
        token: String::new(),
        workload: Some(proto::Workload {
            namespace: "shop".into(),
            service_account: "web".into(),
            identity: String::new(),
            services: services.iter().map(|s| s.to_string()).collect(),
            ports: Vec::new(),
            rate_limits: Vec::new(),
            ingress: Vec::new(),
        }),
        inbound_address: inbound.into(),
        version: String::new(),
    }
}

fn allowed(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_token_admits_the_services_it_names_and_refuses_any_other_naming_both() {
    let claimed = claimed(
        &hello("p", &["api", "api-v1"], "127.0.0.1:1"),
        identity("api"),
    )
    .unwrap();
    assert!(by_token(claimed.clone(), &allowed(&["api", "api-v1"])).is_ok());
    let refusal = by_token(claimed, &allowed(&["frontend"])).unwrap_err();
    assert_eq!(
        refusal,
        Refusal::NotEntitled("the token for shop/api may serve [frontend], not \"api\"".into())
    );
}

#[test]
fn proxy_ids_are_scoped_by_identity() {
    let victim = claimed(&hello("api-1", &["api"], "127.0.0.1:1"), identity("api")).unwrap();
    let intruder = claimed(&hello("api-1", &["web"], "127.0.0.1:2"), identity("web")).unwrap();
    assert_ne!(victim.id, intruder.id);
    let again = claimed(&hello("api-1", &["api"], "127.0.0.1:3"), identity("api")).unwrap();
    assert_eq!(victim.id, again.id, "the same identity replaces its own");
}

fn pod(uid: &str, service_account: &str, ip: &str, services: &[&str]) -> Workload {
    Workload {
        id: uid.into(),
        identity: identity(service_account),
        services: services.iter().map(|s| s.to_string()).collect(),
        ports: Vec::new(),
        inbound_address: format!("{ip}:15003"),
    }
}

fn cluster() -> Inventory {
    let mut inventory = Inventory::default();
    inventory.insert(pod("uid-api", "api", "10.0.0.1", &["api"]));
    inventory.insert(pod("uid-web", "web", "10.0.0.2", &["web"]));
    // Starting: its slice lists it, not ready yet.
    inventory.insert(pod("uid-new", "web", "10.0.0.3", &[]));
    inventory
        .backing
        .insert("uid-new".into(), allowed(&["web"]));
    for service in ["api", "web"] {
        inventory
            .services
            .insert(("shop".into(), service.into()), Default::default());
    }
    inventory
}

#[test]
fn in_a_cluster_the_pod_is_the_workload_and_its_services_the_slices() {
    let web = claimed(
        &hello("uid-web", &["web"], "10.0.0.2:15003"),
        identity("web"),
    )
    .unwrap();
    assert_eq!(by_pod(&web, &cluster()).unwrap().id, "uid-web");
    let starting = claimed(
        &hello("uid-new", &["web"], "10.0.0.3:15003"),
        identity("web"),
    )
    .unwrap();
    let admitted = by_pod(&starting, &cluster()).unwrap();
    assert_eq!(admitted.id, "uid-new");
    // Not ready yet, it serves web as soon as it is: what it serves is credited to web
    // (the canary judges a backend on it), not dropped for the stream's whole life.
    assert_eq!(admitted.services, vec!["web"]);
    // A hint naming no Service gives nothing and refuses nothing.
    let hinted = claimed(
        &hello("uid-web", &["web-app"], "10.0.0.2:15003"),
        identity("web"),
    )
    .unwrap();
    assert_eq!(by_pod(&hinted, &cluster()).unwrap().services, vec!["web"]);
}

#[test]
fn in_a_cluster_a_proxy_claiming_a_service_its_pod_does_not_back_is_refused() {
    let intruder = claimed(
        &hello("uid-web", &["api"], "10.0.0.2:15003"),
        identity("web"),
    )
    .unwrap();
    assert_eq!(
        by_pod(&intruder, &cluster()).unwrap_err(),
        Refusal::NotEntitled("the pod at 10.0.0.2 backs [web], not \"api\"".into())
    );
    let elsewhere = claimed(&hello("x", &["web"], "10.0.0.1:15003"), identity("web")).unwrap();
    assert!(matches!(
        by_pod(&elsewhere, &cluster()),
        Err(Refusal::NotEntitled(message)) if message.contains("runs as shop/api")
    ));
    let unknown = claimed(&hello("x", &["web"], "10.0.0.9:15003"), identity("web")).unwrap();
    assert!(matches!(
        by_pod(&unknown, &cluster()),
        Err(Refusal::NotYetDiscovered(_))
    ));
}
