//! The mesh compiles once per revision and per change of the inventory, not per
//! connection.

use std::sync::Arc;

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::mesh::{MEMBERSHIP_SETTLE, Mesh};
use crate::compile::Compiled;
use crate::inventory::Workload;
use crate::model::{Config, Identity};

/// A revision that onboards `shop`.
fn shop() -> Config {
    Config {
        namespaces: ["shop".to_string()].into(),
        ..Config::default()
    }
}

fn workload(id: &str, service: &str) -> Workload {
    Workload {
        id: id.into(),
        identity: Identity {
            namespace: "shop".into(),
            service_account: service.into(),
        },
        services: vec![service.into()],
        ports: Vec::new(),
        inbound_address: format!("127.0.0.1:{}", 15000 + id.len()),
    }
}

async fn connect(mesh: &Arc<Mesh>, workload: Workload) -> mpsc::Receiver<impl Sized> {
    let (sender, receiver) = mpsc::channel(8);
    mesh.connect(workload.id.clone(), workload, None, sender)
        .await
        .expect("registered");
    receiver
}

/// The compilation once `current` holds of it, waiting for the publish that joins and
/// leaves schedule (within a deadline).
async fn compiled_when(mesh: &Mesh, current: impl Fn(&Arc<Compiled>) -> bool) -> Arc<Compiled> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(compiled) = mesh.compilation().await.filter(|c| current(c)) {
            return compiled;
        }
        assert!(Instant::now() < deadline, "no such compilation within 5 s");
        tokio::time::sleep(MEMBERSHIP_SETTLE / 5).await;
    }
}

#[tokio::test]
async fn a_proxy_that_reconnects_with_its_workload_reuses_the_compilation() {
    let mesh = Arc::new(Mesh::default());
    mesh.apply("r1".into(), shop()).await;
    let _api = connect(&mesh, workload("api-1", "api")).await;
    let first = compiled_when(&mesh, |c| c.proxies.contains_key("api-1")).await;

    let _again = connect(&mesh, workload("api-1", "api")).await;
    let after_reconnect = mesh.compilation().await.expect("compiled");
    assert!(
        Arc::ptr_eq(&first, &after_reconnect),
        "a reconnect with the same workload recompiled the mesh"
    );

    let _web = connect(&mesh, workload("web-1", "web")).await;
    let after_join = compiled_when(&mesh, |c| c.proxies.contains_key("web-1")).await;

    mesh.apply("r2".into(), shop()).await;
    let after_revision = mesh.compilation().await.expect("compiled");
    assert!(!Arc::ptr_eq(&after_join, &after_revision));
}

#[tokio::test]
async fn a_burst_of_joins_is_compiled_once() {
    let mesh = Arc::new(Mesh::default());
    mesh.apply("r1".into(), shop()).await;
    let before = mesh.compilations().await;
    let mut streams = Vec::new();
    for index in 0..100 {
        streams.push(connect(&mesh, workload(&format!("api-{index}"), "api")).await);
    }
    compiled_when(&mesh, |c| c.proxies.len() == 100).await;
    let compilations = mesh.compilations().await - before;
    // One per burst; a machine slow enough to spread the joins over several settle times
    // may take a few, never one per join.
    assert!(
        compilations <= 3,
        "100 joins took {compilations} compilations"
    );
}
